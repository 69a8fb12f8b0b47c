import { readFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
  type AssumeRoleCommandOutput,
  type AssumeRoleWithSAMLCommandOutput,
  type AssumeRoleWithWebIdentityCommandOutput,
  type Credentials,
  type GetCallerIdentityCommandOutput,
  type GetSessionTokenCommandOutput,
} from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { Observable, Subject } from 'rxjs';
import { CacheKeyIndex, snapshotRequest } from './cache-key';
import { CredentialCache, type CacheLookup, type CredentialCacheStats } from './credential-cache';
import type { ResolvedStsConfig } from './server-aws-sts.config';
import { STS_CLIENT, STS_LIMITS, STS_RESOLVED_CONFIG } from './sts.constants';
import { StsError, StsValidationError, toStsError, type StsOperation } from './sts-error';
import type { CacheEntryInfo, StsEvent } from './sts-events';
import type {
  AccessCheckResult,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  CallerIdentity,
  ExpirationStatus,
  GetSessionTokenRequest,
  MfaInput,
} from './sts-request.types';
import { RequestValidator, parseIamArn } from './sts-validation';
import { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials';

/** Non-secret facts of a call, for events and logs. */
interface CallContext {
  roleArn?: string;
  accountId?: string;
  sessionName?: string;
  sourceIdentity?: string;
  /** Request inputs that must never show in an error or a log. */
  secrets: string[];
}

/** What each STS operation answers. */
interface StsOutputs {
  AssumeRole: AssumeRoleCommandOutput;
  AssumeRoleWithWebIdentity: AssumeRoleWithWebIdentityCommandOutput;
  AssumeRoleWithSAML: AssumeRoleWithSAMLCommandOutput;
  GetSessionToken: GetSessionTokenCommandOutput;
  GetCallerIdentity: GetCallerIdentityCommandOutput;
}

type StsCommand = AssumeRoleCommand | AssumeRoleWithWebIdentityCommand | AssumeRoleWithSAMLCommand | GetSessionTokenCommand | GetCallerIdentityCommand;

/** Control of the credential cache, on `StsService.cache`. */
export interface CredentialCacheControl {
  /** Drops the cached credentials of this request; returns whether there were any. */
  invalidate(request: AssumeRoleRequest): boolean;
  /** Drops every entry the predicate selects from non-secret facts (`roleArn`, `accountId`, `sessionName`, `expiration`); returns how many. */
  invalidateWhere(predicate: (entry: CacheEntryInfo) => boolean): number;
  /**
   * Drops the entry only if it still holds these credentials: call it when a service rejects them
   * (`ExpiredToken`, `InvalidClientTokenId`), so the next call fetches fresh ones. Returns whether it dropped one.
   */
  invalidateIfCurrent(credentials: { accessKeyId: string }): boolean;
  /** Drops everything. */
  clear(): void;
  /** Hit, miss, refresh and eviction counters, and the current size. */
  stats(): CredentialCacheStats;
}

/** Options of `StsService.assumeRoleInAccounts`. */
export interface FanOutOptions {
  /** Requests in flight at once. Default: 10. */
  concurrency?: number;
}

/** The shape of every AWS SDK v3 client constructor. */
type AwsClientClass<Client, Config> = new (...args: [] | [Config]) => Client;

const PRINCIPAL_TYPES: ReadonlyArray<[RegExp, CallerIdentity['type']]> = [
  [/^arn:[^:]+:iam::\d{12}:root$/, 'root'],
  [/^arn:[^:]+:iam::\d{12}:user\//, 'user'],
  [/^arn:[^:]+:iam::\d{12}:role\//, 'role'],
  [/^arn:[^:]+:sts::\d{12}:assumed-role\//, 'assumed-role'],
  [/^arn:[^:]+:sts::\d{12}:federated-user\//, 'federated-user'],
];

/**
 * Every STS operation, validated against the STS limits before anything is sent, with failures mapped to
 * `StsError` (code, retryable, requestId and an actionable hint). Never logs or throws a secret.
 */
@Injectable()
export class StsService implements OnModuleDestroy {
  private readonly logger = new Logger('StsService');
  private readonly events = new Subject<StsEvent>();
  private accountId?: Promise<string>;
  private readonly credentialCache?: CredentialCache;
  private readonly keys: CacheKeyIndex;

  /** One event per STS call and per cache transition (refresh, eviction, invalidation). Never carries a secret. */
  readonly events$: Observable<StsEvent> = this.events.asObservable();

  /** The credential cache behind `getCredentials`, `credentialProvider` and `createClient`. */
  readonly cache: CredentialCacheControl;

  constructor(
    @Inject(STS_RESOLVED_CONFIG) private readonly config: ResolvedStsConfig,
    /** The `STSClient` of the module (token `STS_CLIENT`), signed by the base identity. */
    @Inject(STS_CLIENT) readonly stsClient: STSClient,
  ) {
    // Keys name the base identity: each service (each module configuration) has its own provider.
    const defaults = {
      externalId: config.externalId,
      defaultSessionDuration: config.defaultSessionDuration,
      maxSessionDuration: config.maxSessionDuration,
      chainingMaxDuration: STS_LIMITS.roleChainingMaxDuration,
    };
    this.keys = new CacheKeyIndex(defaults, `b${JSON.stringify(randomUUID())}`, 2 * (config.cache ? config.cache.maxEntries : 0));
    if (config.cache) this.credentialCache = new CredentialCache(config.cache, (event) => this.events.next(event));
    const cache = this.credentialCache;
    this.cache = {
      invalidate: (request) => cache?.invalidate(this.keys.keyOf(request)) ?? false,
      invalidateWhere: (predicate) => cache?.invalidateWhere(predicate) ?? 0,
      invalidateIfCurrent: (credentials) => cache?.invalidateIfCurrent(credentials) ?? false,
      clear: () => {
        cache?.clear();
        this.keys.clear();
      },
      stats: () => cache?.stats() ?? { size: 0, hits: 0, misses: 0, refreshes: 0, refreshFailures: 0, staleServed: 0, evictions: 0, inflight: 0 },
    };
  }

  /** Who the base identity is. GetCallerIdentity needs no IAM permission. */
  async getCallerIdentity(): Promise<CallerIdentity> {
    const output = await this.send('GetCallerIdentity', new GetCallerIdentityCommand({}), { secrets: [] });
    const arn = output.Arn ?? '';
    const type = PRINCIPAL_TYPES.find(([pattern]) => pattern.test(arn))?.[1] ?? 'unknown';
    return { account: output.Account ?? '', arn, userId: output.UserId ?? '', type };
  }

  /** The base identity's 12-digit account id, asked of STS once and remembered (a failure is not). */
  getAccountId(): Promise<string> {
    this.accountId ??= this.getCallerIdentity().then(
      (identity) => identity.account,
      (error: unknown) => {
        this.accountId = undefined;
        throw error;
      },
    );
    return this.accountId;
  }

  /**
   * AssumeRole, uncached: every call goes to STS. For repeated use prefer the cached `getCredentials`.
   * Validates every field first; with `requireExternalId`, refuses a cross-account request without an ExternalId.
   */
  async assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    const validate = new RequestValidator('AssumeRole');
    validate.require(typeof request === 'object' && request !== null, 'request', 'must be an object');
    const roleArn = validate.roleArn(request.roleArn);
    const externalId = request.externalId ?? this.config.externalId;
    validate.externalId(externalId);
    validate.sessionName(request.sessionName);
    validate.sourceIdentity(request.sourceIdentity);
    validate.mfaSerial(request.mfa);
    const policy = validate.policy(request.policy);
    validate.policyArns(request.policyArns);
    validate.tags(request.tags, request.transitiveTagKeys);
    if (request.via !== undefined) validate.roleArn(request.via?.roleArn, 'via.roleArn');
    const durationSeconds = this.durationFor(validate, request.durationSeconds, request.via !== undefined);
    if (this.config.requireExternalId && externalId === undefined) {
      const callerAccount = request.via ? parseIamArn(request.via.roleArn, 'role')?.accountId : await this.getAccountId();
      validate.require(callerAccount === roleArn.accountId, 'externalId', 'is required to assume a role in another account (requireExternalId is on)');
    }
    // Last, so a one-time code is not spent on a request refused above.
    const tokenCode = await this.resolveTokenCode(validate, request.mfa);

    const sessionName = request.sessionName ?? this.generateSessionName();
    const command = new AssumeRoleCommand({
      RoleArn: request.roleArn,
      RoleSessionName: sessionName,
      DurationSeconds: durationSeconds,
      ExternalId: externalId,
      Policy: policy,
      PolicyArns: request.policyArns?.map((arn) => ({ arn })),
      Tags: request.tags ? Object.entries(request.tags).map(([Key, Value]) => ({ Key, Value })) : undefined,
      TransitiveTagKeys: request.transitiveTagKeys,
      SourceIdentity: request.sourceIdentity,
      SerialNumber: request.mfa?.serialNumber,
      TokenCode: tokenCode,
    });
    const context: CallContext = {
      roleArn: request.roleArn,
      accountId: roleArn.accountId,
      sessionName,
      sourceIdentity: request.sourceIdentity,
      secrets: [externalId, tokenCode].filter((secret): secret is string => secret !== undefined),
    };
    const output = request.via
      ? await this.sendChained(request.via, command, context)
      : await this.send('AssumeRole', command, context);
    return this.toCredentials('AssumeRole', output, roleArn.accountId);
  }

  /**
   * Cached AssumeRole (what multi-tenant apps call getOrAssumeRole): the same request shape and result as
   * `assumeRole`, served from the credential cache with refresh-ahead, single-flight and stale-if-error.
   * With `cache: false` every call goes to STS.
   */
  getCredentials(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    const lookup = this.cacheLookup(request);
    return lookup ? this.credentialCache!.get(lookup) : this.assumeRole(request);
  }

  /**
   * A credential provider backed by the cache, for any AWS SDK v3 client:
   * `new S3Client({ credentials: sts.credentialProvider({ roleArn, externalId }) })`.
   * The request is copied when the provider is made; later changes to the object do not reach it.
   */
  credentialProvider(request: AssumeRoleRequest): AwsCredentialIdentityProvider {
    const snapshot = snapshotRequest(request);
    const lookup = this.cacheLookup(snapshot);
    return lookup ? () => this.credentialCache!.get(lookup) : () => this.assumeRole(snapshot);
  }

  /**
   * An AWS SDK v3 client acting as the role: `createClient(S3Client, { roleArn, externalId }, { region })`.
   * Its credentials come from `credentialProvider(request)`; the region defaults to `AWS_REGION`.
   */
  createClient<Client, Config extends object>(ClientClass: AwsClientClass<Client, Config>, request: AssumeRoleRequest, clientConfig?: Omit<Config, 'credentials'>): Client {
    const config = { region: this.config.region, ...clientConfig, credentials: this.credentialProvider(request) } as unknown as Config;
    return new ClientClass(config);
  }

  /**
   * Checks that a role can be assumed and really lands in its account: assumes it uncached for the shortest
   * session (900 s), calls GetCallerIdentity with the result, and compares accounts. Never throws for an access
   * failure: it returns `{ ok: false, error }` with the `StsError` (and its hint).
   */
  async validateAccess(request: AssumeRoleRequest): Promise<AccessCheckResult> {
    try {
      const credentials = await this.assumeRole({ ...request, durationSeconds: STS_LIMITS.roleDuration.min });
      const identity = await this.withClient(credentials, (client) =>
        this.send('GetCallerIdentity', new GetCallerIdentityCommand({}), { roleArn: request.roleArn, accountId: credentials.accountId, secrets: [] }, client),
      );
      const accountId = credentials.accountId ?? '';
      if (identity.Account !== accountId) {
        const error = new StsError(`The role ${request.roleArn} resolved to account ${identity.Account}, not ${accountId}`, {
          code: 'AccountMismatch',
          operation: 'GetCallerIdentity',
          hint: 'The credentials act in another account than the role ARN names: check the ARN you stored for this tenant.',
        });
        return { ok: false, error };
      }
      return { ok: true, accountId, arn: identity.Arn ?? '', expiration: credentials.expiration };
    } catch (error) {
      return { ok: false, error: toStsError(error, 'AssumeRole') };
    }
  }

  /**
   * Cached credentials for many accounts at once, at most `concurrency` STS calls in flight. Never rejects as a
   * whole: one result per request, in order, `{ ok: true, accountId, credentials }` or `{ ok: false, accountId, error }`.
   */
  async assumeRoleInAccounts(requests: AssumeRoleRequest[], options: FanOutOptions = {}): Promise<AccountAssumeResult[]> {
    const concurrency = options.concurrency ?? 10;
    new RequestValidator('AssumeRole').require(Number.isInteger(concurrency) && concurrency >= 1, 'concurrency', 'must be an integer of at least 1');
    const results: AccountAssumeResult[] = new Array(requests.length);
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const accountId = parseIamArn(requests[index]?.roleArn, 'role')?.accountId ?? '';
        try {
          results[index] = { ok: true, accountId, credentials: await this.getCredentials(requests[index]) };
        } catch (error) {
          results[index] = { ok: false, accountId, error: toStsError(error, 'AssumeRole') };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
    return results;
  }

  /**
   * AssumeRoleWithWebIdentity (OIDC, EKS service accounts): an unsigned call. A `webIdentityTokenFile` is read
   * at each call, so a rotated token is always the one sent.
   */
  async assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithWebIdentity';
    const validate = new RequestValidator(operation);
    validate.require(typeof request === 'object' && request !== null, 'request', 'must be an object');
    const roleArn = validate.roleArn(request.roleArn);
    validate.require((request.webIdentityToken === undefined) !== (request.webIdentityTokenFile === undefined), 'webIdentityToken', 'give exactly one of webIdentityToken or webIdentityTokenFile');
    if (request.webIdentityTokenFile !== undefined) validate.text(request.webIdentityTokenFile, 'webIdentityTokenFile', { max: 4_096 }, 'characters of a file path,');
    validate.optionalText(request.providerId, 'providerId', STS_LIMITS.providerId);
    validate.sessionName(request.sessionName);
    const policy = validate.policy(request.policy);
    validate.policyArns(request.policyArns);
    const durationSeconds = this.durationFor(validate, request.durationSeconds, false);
    const token = request.webIdentityToken ?? (await this.readTokenFile(request.webIdentityTokenFile as string));
    validate.text(token, 'webIdentityToken', STS_LIMITS.webIdentityToken);

    const sessionName = request.sessionName ?? this.generateSessionName();
    const output = await this.send(
      operation,
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: request.roleArn,
        RoleSessionName: sessionName,
        WebIdentityToken: token,
        ProviderId: request.providerId,
        DurationSeconds: durationSeconds,
        Policy: policy,
        PolicyArns: request.policyArns?.map((arn) => ({ arn })),
      }),
      { roleArn: request.roleArn, accountId: roleArn.accountId, sessionName, secrets: [token] },
    );
    return this.toCredentials(operation, output, roleArn.accountId, {
      subjectFromWebIdentityToken: output.SubjectFromWebIdentityToken,
      audience: output.Audience,
      provider: output.Provider,
    });
  }

  /** AssumeRoleWithSAML: an unsigned call with the identity provider's base64 SAML response. */
  async assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    const operation = 'AssumeRoleWithSAML';
    const validate = new RequestValidator(operation);
    validate.require(typeof request === 'object' && request !== null, 'request', 'must be an object');
    const roleArn = validate.roleArn(request.roleArn);
    validate.samlProviderArn(request.principalArn);
    validate.text(request.samlAssertion, 'samlAssertion', STS_LIMITS.samlAssertion);
    const policy = validate.policy(request.policy);
    validate.policyArns(request.policyArns);
    const durationSeconds = this.durationFor(validate, request.durationSeconds, false);

    const output = await this.send(
      operation,
      new AssumeRoleWithSAMLCommand({
        RoleArn: request.roleArn,
        PrincipalArn: request.principalArn,
        SAMLAssertion: request.samlAssertion,
        DurationSeconds: durationSeconds,
        Policy: policy,
        PolicyArns: request.policyArns?.map((arn) => ({ arn })),
      }),
      { roleArn: request.roleArn, accountId: roleArn.accountId, secrets: [request.samlAssertion] },
    );
    return this.toCredentials(operation, output, roleArn.accountId, {
      subject: output.Subject,
      subjectType: output.SubjectType,
      issuer: output.Issuer,
      audience: output.Audience,
      nameQualifier: output.NameQualifier,
    });
  }

  /** GetSessionToken: temporary credentials for the base IAM user, optionally MFA-authenticated. */
  async getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    const operation = 'GetSessionToken';
    const validate = new RequestValidator(operation);
    validate.require(typeof request === 'object' && request !== null, 'request', 'must be an object');
    const { min, max } = STS_LIMITS.sessionTokenDuration;
    if (request.durationSeconds !== undefined) validate.integer(request.durationSeconds, 'durationSeconds', min, max);
    validate.mfaSerial(request.mfa);
    const tokenCode = await this.resolveTokenCode(validate, request.mfa);

    const output = await this.send(
      operation,
      new GetSessionTokenCommand({ DurationSeconds: request.durationSeconds, SerialNumber: request.mfa?.serialNumber, TokenCode: tokenCode }),
      { secrets: tokenCode ? [tokenCode] : [] },
    );
    return this.toCredentials(operation, output, undefined);
  }

  /**
   * How long credentials have left.
   * @param bufferSeconds `isNearExpiration` is true when fewer than this many seconds remain. Default: 300.
   */
  checkExpiration(credentials: { expiration: Date }, bufferSeconds = 300): ExpirationStatus {
    const expiration = new Date(credentials.expiration);
    const remainingMs = expiration.getTime() - Date.now();
    const remainingSeconds = Math.max(0, Math.floor(remainingMs / 1000));
    return { isExpired: remainingMs <= 0, isNearExpiration: remainingMs < bufferSeconds * 1000, remainingSeconds, expiration };
  }

  /** Drops cached credentials, completes `events$` and closes the STS client's sockets. */
  onModuleDestroy(): void {
    this.credentialCache?.clear();
    this.events.complete();
    this.stsClient.destroy();
  }

  /**
   * How the cache keys, fetches and describes a request's credentials. Undefined with `cache: false`, and for a
   * request that cannot even be keyed (not an object, values JSON cannot encode): `assumeRole` rejects those.
   */
  private cacheLookup(request: AssumeRoleRequest): CacheLookup | undefined {
    if (this.credentialCache === undefined) return undefined;
    let key: string;
    try {
      key = this.keys.keyOf(request);
    } catch {
      return undefined;
    }
    const fixedMfaCode = typeof request.mfa?.tokenCode === 'string';
    return {
      key,
      refreshAhead: !fixedMfaCode,
      describe: () => ({ roleArn: request.roleArn, accountId: parseIamArn(request.roleArn, 'role')?.accountId ?? '', sessionName: request.sessionName }),
      load: (isRefresh) => {
        if (isRefresh && fixedMfaCode) {
          return Promise.reject(new StsValidationError('AssumeRole', 'mfa.tokenCode', 'a fixed MFA code serves the first fetch only: pass a function returning the current code so the cache can refresh'));
        }
        return this.assumeRole(request);
      },
    };
  }

  /** Runs `action` with an STS client signed by `credentials`, closed afterwards. */
  private async withClient<T>(credentials: TemporaryCredentials, action: (client: STSClient) => Promise<T>): Promise<T> {
    const client = new STSClient({ ...this.config.clientConfig, region: this.config.region ?? this.config.clientConfig.region, credentials });
    try {
      return await action(client);
    } finally {
      client.destroy();
    }
  }

  /** Checks a requested duration against STS, `MAX_SESSION_DURATION` and the role-chaining cap. */
  private durationFor(validate: RequestValidator, requested: number | undefined, chained: boolean): number {
    const { min, max } = STS_LIMITS.roleDuration;
    const ceiling = Math.min(max, this.config.maxSessionDuration);
    if (requested !== undefined) validate.integer(requested, 'durationSeconds', min, ceiling, ceiling < max ? ' (MAX_SESSION_DURATION)' : '');
    if (chained) {
      const cap = STS_LIMITS.roleChainingMaxDuration;
      if (requested !== undefined) validate.integer(requested, 'durationSeconds', min, cap, ' (role chaining limits sessions to one hour)');
      return Math.min(requested ?? this.config.defaultSessionDuration, cap);
    }
    return requested ?? Math.min(this.config.defaultSessionDuration, ceiling);
  }

  private async resolveTokenCode(validate: RequestValidator, mfa: MfaInput | undefined): Promise<string | undefined> {
    if (mfa === undefined) return undefined;
    let code: unknown = mfa.tokenCode;
    if (typeof mfa.tokenCode === 'function') {
      try {
        code = await mfa.tokenCode();
      } catch (error) {
        throw new StsError('The mfa.tokenCode function failed', { code: 'MfaTokenCodeError', operation: validate.operation, cause: error, hint: 'Check the function that supplies the current MFA code.' });
      }
    }
    validate.mfaTokenCode(code);
    return code as string;
  }

  private async readTokenFile(path: string): Promise<string> {
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw new StsError(`Could not read the web identity token file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
        code: 'WebIdentityTokenFileError',
        operation: 'AssumeRoleWithWebIdentity',
        hint: 'Check the path (on EKS: AWS_WEB_IDENTITY_TOKEN_FILE) and that this process may read it.',
        cause: error,
      });
    }
  }

  /** A valid, unique RoleSessionName: `<prefix>-<epoch ms>-<6 hex>`, at most 53 characters. */
  private generateSessionName(): string {
    return `${this.config.sessionNamePrefix}-${Date.now()}-${randomBytes(3).toString('hex')}`;
  }

  /** Role chaining: calls AssumeRole with the (cached) credentials of `via`. */
  private async sendChained(via: AssumeRoleRequest, command: AssumeRoleCommand, context: CallContext) {
    const hopCredentials = await this.getCredentials(via);
    return this.withClient(hopCredentials, (client) => this.send('AssumeRole', command, context, client));
  }

  /** Sends one command, emits its event, and maps a failure to a scrubbed `StsError`. */
  private async send<Operation extends keyof StsOutputs>(
    operation: Operation,
    command: StsCommand,
    context: CallContext,
    client: STSClient = this.stsClient,
  ): Promise<StsOutputs[Operation]> {
    const started = performance.now();
    const { secrets, ...facts } = context;
    try {
      const output = (await client.send(command as never)) as StsOutputs[Operation];
      this.events.next({ type: 'sts-call', operation, ...facts, outcome: 'success', durationMs: performance.now() - started });
      return output;
    } catch (error) {
      const stsError = toStsError(error, operation, secrets);
      this.events.next({ type: 'sts-call', operation, ...facts, outcome: 'error', errorCode: stsError.code, durationMs: performance.now() - started });
      this.logger.warn(`${stsError.message}${facts.roleArn ? ` [role ${facts.roleArn}]` : ''}${stsError.requestId ? ` [request ${stsError.requestId}]` : ''}`);
      throw stsError;
    }
  }

  /** Builds `TemporaryCredentials` from an answer, with the session facts every role operation returns. */
  private toCredentials(
    operation: StsOperation,
    output: { Credentials?: Credentials; AssumedRoleUser?: { Arn?: string; AssumedRoleId?: string }; SourceIdentity?: string; PackedPolicySize?: number },
    accountId: string | undefined,
    details: TemporaryCredentialsDetails = {},
  ): TemporaryCredentials {
    const credentials = output.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
      throw new StsError(`${operation} returned no credentials`, { code: 'InvalidResponse', operation, retryable: true });
    }
    const user = output.AssumedRoleUser;
    return new TemporaryCredentials(
      { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, sessionToken: credentials.SessionToken, expiration: new Date(credentials.Expiration) },
      {
        accountId,
        assumedRoleUser: user && { arn: user.Arn ?? '', assumedRoleId: user.AssumedRoleId ?? '' },
        sourceIdentity: output.SourceIdentity,
        packedPolicySize: output.PackedPolicySize,
        ...details,
      },
    );
  }

}
