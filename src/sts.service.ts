import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { Observable, Subject } from 'rxjs';
import { AccountChecks, type FanOutOptions } from './account-checks.js';
import { CachedCredentials, type AwsClientClass, type CredentialCacheControl } from './cached-credentials.js';
import { prepareAssumeRole } from './role-request.js';
import type { ResolvedStsConfig } from './server-aws-sts.config.js';
import { StsMetrics } from './sts-metrics.js';
import { StsOperations } from './sts-operations.js';
import { STS_RESOLVED_CONFIG } from './sts.constants.js';
import { InjectStsClient } from './sts.decorators.js';
import type { StsEvent } from './sts-events.js';
import type {
  AccessCheckOptions,
  AccessCheckResult,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  CallerIdentity,
  ExpirationStatus,
  GetSessionTokenRequest,
} from './sts-request.types.js';
import type { TemporaryCredentials } from './temporary-credentials.js';
import { sharingPrincipalOf, trustPrincipalOf } from './trust-principal.js';

/**
 * Every STS operation, validated against the STS limits before anything is sent, with failures mapped to
 * `StsError` (code, retryable, requestId and an actionable hint), and a credential cache for many tenants.
 * Never logs or throws a secret, and every call settles within `operationTimeoutSeconds`.
 *
 * The facade users inject; the work is done by `StsOperations` (the STS calls), `CachedCredentials` (the cache,
 * providers and clients) and `AccountChecks` (access checks and fan-out), wired together here once.
 */
@Injectable()
export class StsService implements OnModuleDestroy {
  readonly #events = new Subject<StsEvent>();
  readonly #operations: StsOperations;
  readonly #cached: CachedCredentials;
  readonly #accounts: AccountChecks;
  readonly #config: ResolvedStsConfig;
  readonly #metrics?: StsMetrics;

  /** One event per STS call and per cache transition (refresh, eviction, invalidation). Never carries a secret. */
  readonly events$: Observable<StsEvent> = this.#events.asObservable();

  /** The credential cache behind `getCredentials`, `credentialProvider` and `createClient`. */
  readonly cache: CredentialCacheControl;

  constructor(
    @Inject(STS_RESOLVED_CONFIG) config: ResolvedStsConfig,
    /** The `STSClient` of the module (token `STS_CLIENT`), signed by the base identity. */
    @InjectStsClient() readonly stsClient: STSClient,
  ) {
    this.#config = config;
    const emit = (event: StsEvent) => {
      this.#metrics?.record(event);
      this.#events.next(event);
    };
    // The loop of role chaining, wired once: assumeRole → via → cached credentials → assumeRole.
    this.#operations = new StsOperations(config, stsClient, emit, (via) => this.#cached.getPrepared(via));
    const clock = { now: () => this.#operations.now(), random: () => Math.random() };
    // Keys name the base identity: each service (each module configuration) has its own provider.
    this.#cached = new CachedCredentials(config, {
      baseIdentityTag: `b${JSON.stringify(randomUUID())}`,
      emit,
      clock,
      assume: (prepared) => this.#operations.assumeRole(prepared),
      principal: () => this.#operations.getCallerIdentity().then(sharingPrincipalOf),
      sharedWaited: (ms, result) => this.#metrics?.recordSharedWait(ms, result),
    });
    this.#accounts = new AccountChecks(config, this.#operations, (request) => this.#cached.get(request));
    this.cache = this.#cached.control;
    if (config.meterProvider) {
      this.#metrics = new StsMetrics(config.meterProvider, {
        stats: () => this.cache.stats(),
        unexpired: () => {
          const now = this.#operations.now();
          const { entries, soonestExpiration } = this.#cached.unexpired(now);
          return { entries, secondsToSoonestExpiry: soonestExpiration === undefined ? undefined : (soonestExpiration - now) / 1000 };
        },
      });
    }
  }

  /** Who the base identity is. GetCallerIdentity needs no IAM permission. */
  getCallerIdentity(): Promise<CallerIdentity> {
    return this.#operations.getCallerIdentity();
  }

  /** The base identity's 12-digit account id, asked of STS once and remembered (a failure is not). */
  getAccountId(): Promise<string> {
    return this.#operations.getAccountId();
  }

  /**
   * AssumeRole, uncached: every call goes to STS. For repeated use prefer the cached `getCredentials`.
   * Validates every field first; with `requireExternalId`, refuses a cross-account request without its own ExternalId.
   */
  assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    try {
      return this.#operations.assumeRole(prepareAssumeRole(request, this.#config));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Cached AssumeRole (what multi-tenant apps call getOrAssumeRole): the same request shape and result as
   * `assumeRole`, served from the credential cache with refresh-ahead, single-flight and stale-if-error.
   * With `cache: false` every call goes to STS.
   */
  getCredentials(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    return this.#cached.get(request);
  }

  /**
   * A credential provider backed by the cache, for any AWS SDK v3 client:
   * `new S3Client({ credentials: sts.credentialProvider({ roleArn, externalId }) })`.
   * The request is validated and copied when the provider is made; later changes to the object do not reach it.
   * The SDK asks it on every request, so a refresh or an invalidation reaches the client at its next request.
   */
  credentialProvider(request: AssumeRoleRequest): AwsCredentialIdentityProvider {
    return this.#cached.provider(request);
  }

  /**
   * An AWS SDK v3 client acting as the role: `createClient(S3Client, { roleArn, externalId }, { region })`.
   * Every attempt is signed with what the cache holds now; when the service answers that the credentials expired or
   * are unknown, they are dropped from the cache and the SDK's retry signs with fresh ones. Region defaults to `AWS_REGION`.
   */
  createClient<Client, Config extends object>(ClientClass: AwsClientClass<Client, Config>, request: AssumeRoleRequest, clientConfig?: Omit<Config, 'credentials'>): Client {
    return this.#cached.createClient(ClientClass, request, clientConfig);
  }

  /**
   * The AWS SDK v3 client acting as the role, for use per request: `clientFor(S3Client, tenant).send(...)`.
   * One client per (client class, request, client config), built as `createClient` builds one (region defaults to
   * `AWS_REGION`; every attempt signed with what the cache holds now) and kept in a pool of at most
   * `clients.maxEntries` (default 100), least recently used out first. Requests and configs are compared by value:
   * a new object meaning the same gets the same client. Ask again per request rather than keeping the client.
   *
   * A pooled client is destroyed (its sockets closed) when it leaves the pool: evicted for room, invalidated with
   * its credentials (`cache.invalidate`, `invalidateWhere`, `invalidateIfCurrent`, `clear`), or on module destroy —
   * at once when idle, otherwise once the sends it is serving, and the response bodies they stream, have settled.
   *
   * Not pooled, and so yours to destroy like a `createClient` client, a new client each call: a config that cannot be
   * compared by value (a function, a symbol, a class instance such as a request handler or an agent — which stays
   * yours and is never destroyed), a request with an MFA code, or a request STS would refuse (its sends reject with
   * `StsValidationError`, sending nothing).
   */
  clientFor<Client, Config extends object>(ClientClass: AwsClientClass<Client, Config>, request: AssumeRoleRequest, clientConfig?: Omit<Config, 'credentials'>): Client {
    return this.#cached.clientFor(ClientClass, request, clientConfig);
  }

  /**
   * Checks that a role can be assumed safely and really lands in its account: assumes it uncached for the shortest
   * session (900 s), calls GetCallerIdentity with the result and compares accounts, then assumes it once more with a
   * random wrong ExternalId to learn whether its trust policy demands the customer's own (`externalIdEnforced`; the
   * probe's expected refusal is not logged, and nothing is cached; a request with MFA is not probed). With
   * `requireExternalIdEnforced`, a role that lets the app in with a wrong ExternalId fails with the code
   * `ExternalIdNotEnforced`. Never throws for an access failure: it returns
   * `{ ok: false, error }` with the `StsError` (and its hint).
   */
  validateAccess(request: AssumeRoleRequest, options: AccessCheckOptions = {}): Promise<AccessCheckResult> {
    return this.#accounts.validateAccess(request, options);
  }

  /**
   * The principal a customer's trust policy must name for this app's base identity (asked of STS): a user or role
   * ARN as is, an assumed-role session as its role (with the path of `AWS_ROLE_ARN` when that names the same role),
   * and root or a federated user as the account root.
   */
  async trustPrincipal(): Promise<string> {
    return trustPrincipalOf(await this.#operations.getCallerIdentity(), process.env.AWS_ROLE_ARN);
  }

  /**
   * Cached credentials for many accounts at once, at most `concurrency` STS calls in flight. Never rejects as a
   * whole: one result per request, in order, `{ ok: true, accountId, credentials }` or `{ ok: false, accountId, error }`.
   */
  assumeRoleInAccounts(requests: AssumeRoleRequest[], options: FanOutOptions = {}): Promise<AccountAssumeResult[]> {
    return this.#accounts.assumeRoleInAccounts(requests, options);
  }

  /**
   * AssumeRoleWithWebIdentity (OIDC, EKS service accounts): an unsigned call. A `webIdentityTokenFile` is read
   * at each call, so a rotated token is always the one sent.
   */
  assumeRoleWithWebIdentity(request: AssumeRoleWithWebIdentityRequest): Promise<TemporaryCredentials> {
    return this.#operations.assumeRoleWithWebIdentity(request);
  }

  /** AssumeRoleWithSAML: an unsigned call with the identity provider's base64 SAML response. */
  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    return this.#operations.assumeRoleWithSaml(request);
  }

  /** GetSessionToken: temporary credentials for the base IAM user, optionally MFA-authenticated. */
  getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    return this.#operations.getSessionToken(request);
  }

  /**
   * How long credentials have left, judged by STS's clock (the host clock corrected by the offset the SDK learned).
   * @param bufferSeconds `isNearExpiration` is true when fewer than this many seconds remain. Default: 300.
   */
  checkExpiration(credentials: { expiration: Date }, bufferSeconds = 300): ExpirationStatus {
    const expiration = new Date(credentials.expiration);
    const remainingMs = expiration.getTime() - this.#operations.now();
    const remainingSeconds = Math.max(0, Math.floor(remainingMs / 1000));
    return { isExpired: remainingMs <= 0, isNearExpiration: remainingMs < bufferSeconds * 1000, remainingSeconds, expiration };
  }

  /** Drops cached credentials, completes `events$` and closes the STS client's sockets (unless its handler or agents are yours). */
  onModuleDestroy(): void {
    this.#cached.close();
    this.#metrics?.close();
    this.#events.complete();
    if (this.#config.ownsRequestHandler) this.stsClient.destroy();
  }
}
