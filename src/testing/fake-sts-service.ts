/**
 * A typed fake of `StsService`, for `Test.createTestingModule(...).overrideProvider(StsService).useValue(fake)`:
 * every method answers at once with well-formed credentials (see `stsAnswer`), records what it was asked, and can
 * be told to refuse a role. No STS client, cache or validation runs: to test those, fake one level lower
 * (`fakeStsClient`, `stsClientMockAnswers`) or use the local STS (`startLocalSts`).
 */
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { Subject, type Observable } from 'rxjs';
import type { FanOutOptions } from '../account-checks/account-checks.js';
import type { AwsClientClass } from '../module/cached-credentials.js';
import type { CredentialCacheControl } from '../module/credential-cache-control.js';
import { StsError } from '../errors/sts-error.js';
import type { StsErrorCode } from '../errors/error-codes.js';
import { principalTypeOf } from '../sts/identity-operations.js';
import type { StsEvent } from '../observability/sts-events.js';
import { explainDecodedMessage } from '../sts/authorization-message.js';
import type {
  AccessCheckResult,
  AccessKeyInfo,
  AuthorizationFailureExplanation,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  AssumeRootRequest,
  CallerIdentity,
  ExpirationStatus,
  GetFederationTokenRequest,
  GetSessionTokenRequest,
  GetWebIdentityTokenRequest,
} from '../sts/sts-request.types.js';
import { WebIdentityToken } from '../sts/web-identity-token.js';
import type { StsService } from '../module/sts.service.js';
import { CurrentTenant } from '../tenant/current-tenant.js';
import { TemporaryCredentials, type TemporaryCredentialsDetails } from '../sts/temporary-credentials.js';
import { fakeStsClient } from './fake-sts-client.js';
import { FakeCredentialCache } from './fake-credential-cache.js';
import { accountOf, fakeIdentity, stsAnswer, type FakedStsOperation, type FakeStsOptions } from './sts-answers.js';

/** The public members of `StsService`: what a fake must have to stand in for it. */
export type StsServiceShape = { [Member in keyof StsService]: StsService[Member] };

/** One call a `FakeStsService` answered or refused (never with a secret, token or ExternalId). */
export interface FakeStsCall {
  /** The `StsService` method called. */
  method: string;
  /** The role asked for, for the role methods. */
  roleArn?: string;
}

type Answer = Record<string, unknown> & {
  Credentials: Record<string, string | Date>;
  AssumedRoleUser?: { Arn: string; AssumedRoleId: string };
};

/** See the file comment. Make one with `fakeStsService(options)`; spy on or replace any method as usual. */
export class FakeStsService implements StsServiceShape {
  /** Every call, oldest first. */
  readonly calls: FakeStsCall[] = [];
  readonly #events = new Subject<StsEvent>();
  /** Emits nothing (the fake makes no STS call); completes on module destroy. */
  readonly events$: Observable<StsEvent> = this.#events.asObservable();
  /** An `STSClient` answering in process (`fakeStsClient`): the fake never uses it itself. */
  readonly stsClient: STSClient;
  /** The credentials `getCredentials` handed out, by request, until invalidated; and the clients of `clientFor`. */
  readonly cache: CredentialCacheControl;
  /** The tenant of the running request, from `options.tenant`, answered by this fake's `getCredentials` and `clientFor`. */
  readonly current: CurrentTenant;

  readonly #options: FakeStsOptions;
  readonly #refusals = new Map<string, string>();
  readonly #cache = new FakeCredentialCache();

  constructor(options: FakeStsOptions = {}) {
    this.#options = options;
    this.stsClient = fakeStsClient(options);
    this.cache = this.#cache.control;
    // Durations as the module's defaults; nestjs-cls is not looked for: bind requests with StsTenantMiddleware.
    const defaults = { defaultSessionDuration: 3600, maxSessionDuration: 43_200, defaultExternalId: () => undefined };
    this.current = new CurrentTenant(this, options.tenant, defaults, () => undefined);
  }

  /** Nothing to look for at module init (the real service finds nestjs-cls there). */
  async onModuleInit(): Promise<void> {}

  /**
   * From now on, every call for `roleArn` rejects with an `StsError` of this code, as STS refusing it would
   * (`AccessDenied` for a wrong ExternalId or a trust policy that does not name you; `Throttling` is retryable).
   */
  refuseRole(roleArn: string, code: StsErrorCode | (string & {}) = 'AccessDenied'): void {
    this.#refusals.set(roleArn, code);
  }

  /** Undoes `refuseRole`. */
  acceptRole(roleArn: string): void {
    this.#refusals.delete(roleArn);
  }

  async getCallerIdentity(): Promise<CallerIdentity> {
    this.calls.push({ method: 'getCallerIdentity' });
    const { account, arn, userId } = fakeIdentity(this.#options);
    return { account, arn, userId, type: principalTypeOf(arn) };
  }

  async getAccountId(): Promise<string> {
    return (await this.getCallerIdentity()).account;
  }

  async assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    const { sessionName, sourceIdentity, durationSeconds } = request;
    const input = { RoleSessionName: sessionName, SourceIdentity: sourceIdentity, DurationSeconds: durationSeconds };
    return this.#role('assumeRole', 'AssumeRole', request.roleArn, input);
  }

  /** Answers the same request with the same credentials until they expire or are invalidated (`cache`). */
  getCredentials(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    const held = this.#refusals.has(request.roleArn) ? undefined : this.#cache.held(request);
    if (held) {
      this.calls.push({ method: 'getCredentials', roleArn: request.roleArn });
      return held;
    }
    const input = { RoleSessionName: request.sessionName, DurationSeconds: request.durationSeconds };
    return this.#cache.hold(request, this.#role('getCredentials', 'AssumeRole', request.roleArn, input));
  }

  credentialProvider(request: AssumeRoleRequest): AwsCredentialIdentityProvider {
    const copy = structuredClone(request);
    return () => this.getCredentials(copy);
  }

  /** A real client of `ClientClass` (region `us-east-1` unless given) signing with `getCredentials`' answers. */
  createClient<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    return new ClientClass({ region: 'us-east-1', ...clientConfig, credentials: this.credentialProvider(request) } as unknown as Config);
  }

  /** As `createClient`, one client per (client class, request, client config), destroyed on module destroy. */
  clientFor<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    return this.#cache.clientFor(ClientClass, request, clientConfig, () => this.createClient(ClientClass, request, clientConfig));
  }

  /** `{ ok: true, …, externalIdEnforced: true }` when the request has an ExternalId, `{ ok: false }` for a refused role. */
  async validateAccess(request: AssumeRoleRequest): Promise<AccessCheckResult> {
    try {
      const credentials = await this.assumeRole(request);
      const arn = credentials.assumedRoleUser?.arn ?? '';
      const externalIdEnforced = request.externalId !== undefined;
      return { ok: true, accountId: accountOf(request.roleArn), arn, expiration: credentials.expiration, externalIdEnforced };
    } catch (error) {
      return { ok: false, error: error as StsError };
    }
  }

  async trustPrincipal(): Promise<string> {
    return (await this.getCallerIdentity()).arn;
  }

  async assumeRoleInAccounts(requests: AssumeRoleRequest[], _options?: FanOutOptions): Promise<AccountAssumeResult[]> {
    return Promise.all(
      requests.map((request) =>
        this.getCredentials(request).then(
          (credentials) => ({ ok: true as const, accountId: accountOf(request.roleArn), credentials }),
          (error: StsError) => ({ ok: false as const, accountId: accountOf(request.roleArn), error }),
        ),
      ),
    );
  }

  assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    const input = { RoleSessionName: request.sessionName, DurationSeconds: request.durationSeconds };
    return this.#role('assumeRoleWithWebIdentity', 'AssumeRoleWithWebIdentity', request.roleArn, input);
  }

  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    return this.#role('assumeRoleWithSaml', 'AssumeRoleWithSAML', request.roleArn, { DurationSeconds: request.durationSeconds });
  }

  async getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    this.calls.push({ method: 'getSessionToken' });
    const answer = stsAnswer('GetSessionToken', { DurationSeconds: request.durationSeconds }, this.#options);
    return this.#credentials(answer as Answer, undefined);
  }

  async getFederationToken(request: GetFederationTokenRequest): Promise<TemporaryCredentials> {
    this.calls.push({ method: 'getFederationToken' });
    const answer = stsAnswer('GetFederationToken', { Name: request.name, DurationSeconds: request.durationSeconds }, this.#options);
    const { Arn, FederatedUserId } = answer.FederatedUser as { Arn: string; FederatedUserId: string };
    return this.#credentials(answer as Answer, fakeIdentity(this.#options).account, {
      federatedUser: { arn: Arn, federatedUserId: FederatedUserId },
    });
  }

  /** A root session of `targetPrincipal`, valid for `durationSeconds` (default 900). */
  async assumeRoot(request: AssumeRootRequest): Promise<TemporaryCredentials> {
    this.calls.push({ method: 'assumeRoot' });
    const answer = stsAnswer('AssumeRoot', { DurationSeconds: request.durationSeconds }, this.#options);
    return this.#credentials(answer as Answer, request.targetPrincipal);
  }

  /** Credentials of a fake delegated role, whatever the token. */
  async getDelegatedAccessToken(_tradeInToken: string): Promise<TemporaryCredentials> {
    this.calls.push({ method: 'getDelegatedAccessToken' });
    const answer = stsAnswer('GetDelegatedAccessToken', {}, this.#options);
    const assumedPrincipal = String(answer.AssumedPrincipal);
    return this.#credentials(answer as Answer, accountOf(assumedPrincipal), { assumedPrincipal });
  }

  /** A fresh fake JWT per call (not a real signature), valid for `durationSeconds` (default 300). */
  async getWebIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    this.calls.push({ method: 'getWebIdentityToken' });
    const answer = stsAnswer(
      'GetWebIdentityToken',
      { Audience: request.audience, DurationSeconds: request.durationSeconds },
      this.#options,
    );
    return new WebIdentityToken(String(answer.WebIdentityToken), answer.Expiration as Date);
  }

  /** Uncached in the fake: a fresh token per call. */
  webIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    return this.getWebIdentityToken(request);
  }

  webIdentityTokenProvider(request: GetWebIdentityTokenRequest): () => Promise<string> {
    return async () => (await this.getWebIdentityToken(request)).token;
  }

  /** Answers an implicit deny of the fake identity, whatever the message. */
  async explainAuthorizationFailure(_encodedMessageOrError: string | Error): Promise<AuthorizationFailureExplanation> {
    this.calls.push({ method: 'explainAuthorizationFailure' });
    const answer = stsAnswer('DecodeAuthorizationMessage', {}, this.#options);
    return explainDecodedMessage(String(answer.DecodedMessage)) as AuthorizationFailureExplanation;
  }

  /** Answers the fake identity's account, whatever the key. */
  async getAccessKeyInfo(_accessKeyId: string): Promise<AccessKeyInfo> {
    this.calls.push({ method: 'getAccessKeyInfo' });
    return { account: fakeIdentity(this.#options).account };
  }

  checkExpiration(credentials: { expiration: Date }, bufferSeconds = 300): ExpirationStatus {
    const expiration = new Date(credentials.expiration);
    const remainingMs = expiration.getTime() - (this.#options.now ?? Date.now)();
    const remainingSeconds = Math.max(0, Math.floor(remainingMs / 1000));
    return { isExpired: remainingMs <= 0, isNearExpiration: remainingMs < bufferSeconds * 1000, remainingSeconds, expiration };
  }

  /** Completes `events$` and destroys the clients of `clientFor`. */
  async onModuleDestroy(): Promise<void> {
    this.#events.complete();
    this.cache.clear();
  }

  /** A role operation: refused as `refuseRole` says, else answered. */
  async #role(method: string, operation: FakedStsOperation, roleArn: string, input: object): Promise<TemporaryCredentials> {
    this.calls.push({ method, roleArn });
    const refusal = this.#refusals.get(roleArn);
    if (refusal) {
      const throttled = refusal === 'Throttling';
      const details = { code: refusal, operation, retryable: throttled, httpStatusCode: throttled ? 400 : 403 };
      throw new StsError(`${operation} refused (FakeStsService.refuseRole)`, details);
    }
    return this.#credentials(stsAnswer(operation, { ...input, RoleArn: roleArn }, this.#options) as Answer, accountOf(roleArn));
  }

  #credentials(answer: Answer, accountId: string | undefined, details: TemporaryCredentialsDetails = {}): TemporaryCredentials {
    const { AccessKeyId, SecretAccessKey, SessionToken, Expiration } = answer.Credentials;
    const user = answer.AssumedRoleUser;
    return new TemporaryCredentials(
      {
        accessKeyId: String(AccessKeyId),
        secretAccessKey: String(SecretAccessKey),
        sessionToken: String(SessionToken),
        expiration: Expiration as Date,
      },
      { accountId, assumedRoleUser: user && { arn: user.Arn, assumedRoleId: user.AssumedRoleId }, ...details },
    );
  }
}

/** A `FakeStsService` (see the class): `overrideProvider(StsService).useValue(fakeStsService())`. */
export function fakeStsService(options: FakeStsOptions = {}): FakeStsService {
  return new FakeStsService(options);
}
