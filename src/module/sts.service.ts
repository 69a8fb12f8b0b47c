import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { Observable, Subject } from 'rxjs';
import { AccountChecks, type FanOutOptions } from '../account-checks/account-checks.js';
import { CachedCredentials, type AwsClientClass, type CredentialCacheControl } from './cached-credentials.js';
import { CachedWebIdentityTokens } from './cached-web-identity-tokens.js';
import type { WebIdentityToken } from '../sts/web-identity-token.js';
import { prepareAssumeRole } from '../sts/role-request.js';
import { RequestValidator, validateWebIdentityTokenRequest } from '../sts/sts-validation.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { StsMetrics } from '../observability/sts-metrics.js';
import { StsOperations } from '../sts/sts-operations.js';
import { STS_RESOLVED_CONFIG } from './sts.constants.js';
import { InjectStsClient } from './sts.decorators.js';
import type { StsEvent } from '../observability/sts-events.js';
import { findClsContext, type ClsContext } from '../tenant/cls-context.js';
import { CurrentTenant } from '../tenant/current-tenant.js';
import type {
  AccessCheckOptions,
  AccessKeyInfo,
  AuthorizationFailureExplanation,
  AccessCheckResult,
  AccountAssumeResult,
  AssumeRoleRequest,
  AssumeRoleWithSamlRequest,
  AssumeRoleWithWebIdentityRequest,
  CallerIdentity,
  ExpirationStatus,
  GetFederationTokenRequest,
  AssumeRootRequest,
  GetSessionTokenRequest,
  GetWebIdentityTokenRequest,
} from '../sts/sts-request.types.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';
import { sharingPrincipalOf, trustPrincipalOf } from '../sts/trust-principal.js';

/**
 * Every STS operation, validated against the STS limits before anything is sent, with failures mapped to
 * `StsError` (code, retryable, requestId and an actionable hint), and a credential cache for many tenants.
 * Never logs or throws a secret, and every call settles within `operationTimeoutSeconds`.
 *
 * The facade users inject; the work is done by `StsOperations` (the STS calls), `CachedCredentials` (the cache,
 * providers and clients) and `AccountChecks` (access checks and fan-out), wired together here once.
 */
@Injectable()
export class StsService implements OnModuleInit, OnModuleDestroy {
  readonly #events = new Subject<StsEvent>();
  readonly #operations: StsOperations;
  readonly #cached: CachedCredentials;
  readonly #accounts: AccountChecks;
  readonly #tokens: CachedWebIdentityTokens;
  readonly #config: ResolvedStsConfig;
  readonly #metrics?: StsMetrics;
  readonly #moduleRef?: ModuleRef;
  /** The app's nestjs-cls context, found at module init, for `current`. */
  #cls?: ClsContext;

  /** One event per STS call and per cache transition (refresh, eviction, invalidation). Never carries a secret. */
  readonly events$: Observable<StsEvent> = this.#events.asObservable();

  /** The credential cache behind `getCredentials`, `credentialProvider` and `createClient`. */
  readonly cache: CredentialCacheControl;

  /**
   * The tenant of the running request (from the `tenant` option): `sts.current.clientFor(S3Client)`,
   * `getCredentials()`, `credentialProvider()`, `role()`. Refuses with `NoRequestTenant` outside a request.
   */
  readonly current: CurrentTenant;

  constructor(
    @Inject(STS_RESOLVED_CONFIG) config: ResolvedStsConfig,
    /** The `STSClient` of the module (token `STS_CLIENT`), signed by the base identity. */
    @InjectStsClient() readonly stsClient: STSClient,
    /** Finds the app's nestjs-cls `ClsService`, if any, for `current`. */
    @Optional() moduleRef?: ModuleRef,
  ) {
    this.#config = config;
    this.#moduleRef = moduleRef;
    const emit = (event: StsEvent) => {
      this.#metrics?.record(event);
      this.#events.next(event);
    };
    // The loop of role chaining, wired once: assumeRole → via → cached credentials → assumeRole.
    this.#operations = new StsOperations(config, stsClient, emit, (via) => this.#cached.getPrepared(via));
    const clock = { now: () => this.#operations.now(), random: () => Math.random() };
    // Keys name the base identity: each service (each module configuration) has its own provider.
    const baseIdentityTag = `b${JSON.stringify(randomUUID())}`;
    this.#tokens = new CachedWebIdentityTokens(
      config,
      baseIdentityTag,
      (request) => this.#operations.outbound.getWebIdentityToken(request),
      clock,
    );
    this.#cached = new CachedCredentials(config, {
      baseIdentityTag,
      emit,
      clock,
      assume: (prepared) => this.#operations.roles.assumeRole(prepared),
      principal: () => this.#operations.identity.getCallerIdentity().then(sharingPrincipalOf),
      sharedWaited: (ms, result) => this.#metrics?.recordSharedWait(ms, result),
    });
    this.#accounts = new AccountChecks(config, this.#operations, (request) => this.#cached.get(request));
    this.cache = this.#cached.control;
    this.current = new CurrentTenant(this, config.tenant, config, () => this.#cls);
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

  /** With a `tenant` option, lets `current` read nestjs-cls's request contexts when the app set up `ClsModule`. */
  async onModuleInit(): Promise<void> {
    if (this.#config.tenant !== undefined && this.#moduleRef !== undefined) this.#cls = await findClsContext(this.#moduleRef);
  }

  /** Who the base identity is. GetCallerIdentity needs no IAM permission. */
  getCallerIdentity(): Promise<CallerIdentity> {
    return this.#operations.identity.getCallerIdentity();
  }

  /** The base identity's 12-digit account id, asked of STS once and remembered (a failure is not). */
  getAccountId(): Promise<string> {
    return this.#operations.identity.getAccountId();
  }

  /**
   * AssumeRole, uncached: every call goes to STS. For repeated use prefer the cached `getCredentials`.
   * Validates every field first; with `requireExternalId`, refuses a cross-account request without its own ExternalId.
   */
  assumeRole(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    try {
      return this.#operations.roles.assumeRole(prepareAssumeRole(request, this.#config));
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
   * Region defaults to `AWS_REGION`; request handler options default to `connectionTimeout` 3000 ms, `requestTimeout`
   * 60000 ms (of silence) and `throwOnRequestTimeout`, yours merged over them; a handler instance you pass
   * is left as it is. Each request is signed with what the cache holds when it starts, its credentials resolved once
   * for all its attempts (with `cache: false`, one AssumeRole per request, retries included).
   *
   * When the service answers that the credentials expired or are unknown (`ExpiredToken`, `InvalidAccessKeyId`,
   * `UnrecognizedClientException`…), they are dropped from the cache (if still current) and the request is sent again
   * at once, signed with fresh ones, within the same attempt (not spending the SDK's retry quota; a streamed body is
   * not sent twice: its error is marked retryable). When the credentials fetched after a rejection are rejected too,
   * staleness is not the fault: that rejection is remembered for 2–4 s, doubling up to 5–10 min while it goes on,
   * during which the error is let through as the service answered (not retried, nothing dropped); then fresh
   * credentials are tried once more. An accepted request ends it, and so does a minute in which the fresh credentials
   * were not rejected. All this is per service and region of the request's credentials: one region that
   * rejects a tenant leaves the tenant's credentials and clients elsewhere alone. Without the cache nothing is dropped
   * or retried.
   */
  createClient<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    return this.#cached.createClient(ClientClass, request, clientConfig);
  }

  /**
   * The AWS SDK v3 client acting as the role, for use per request: `clientFor(S3Client, tenant).send(...)`.
   * One client per (client class, request, client config), built as `createClient` builds one (region defaults to
   * `AWS_REGION`, request handler timeouts default as there; each request signed with what the cache holds
   * when it starts, rejections answered as there) and kept in a pool of at most `clients.maxEntries` (default 100),
   * least recently used out first. Requests and configs are compared by value: a new object meaning the same gets
   * the same client; the config is read once, into the key and the copy the client is built from. Ask again per
   * request rather than keeping the client.
   *
   * A pooled client is destroyed (its sockets closed) when it leaves the pool: evicted for room, invalidated with
   * its credentials (`cache.invalidate`, `invalidateWhere`, `invalidateIfCurrent`, `clear`; not when a client drops
   * credentials a service rejected, which the clients of the request then sign with fresh), or on module destroy —
   * at once when idle, otherwise once the sends it is serving, and the streams their outputs hold, have settled: a
   * `Readable` body read or destroyed, a web `ReadableStream` ended or cancelled, an event stream's `for await`
   * ended or left (`break`). On module destroy that wait lasts `operationTimeoutSeconds` at most; then the client is
   * destroyed and its sends fail.
   *
   * Not pooled, and so yours to destroy like a `createClient` client, a new client each call: a config that cannot be
   * compared by value (a function, a symbol, a class instance such as a request handler or an agent — which stays
   * yours and is never destroyed), a request with an MFA code, or a request STS would refuse (its sends reject with
   * `StsValidationError`, sending nothing).
   */
  clientFor<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    return this.#cached.clientFor(ClientClass, request, clientConfig);
  }

  /**
   * Checks that a role can be assumed safely and really lands in its account: assumes it uncached for the shortest
   * session (900 s), calls GetCallerIdentity with the result and compares accounts, then probes with two wrong
   * ExternalIds — a random one, then the customer's own with its last character changed — to learn whether its trust
   * policy demands the customer's own (`externalIdEnforced: true` when STS refused both; the probes' expected
   * refusals are not logged, and nothing is cached; a request with MFA is not probed). A probe that fails for another
   * reason (throttling, a timeout) leaves `externalIdEnforced: undefined`. With `requireExternalIdEnforced`, a role
   * that lets the app in with a wrong ExternalId fails with the code `ExternalIdNotEnforced`, and one not checked with
   * `ExternalIdNotChecked` (its `cause` is the probe's error, if one failed). Never throws for an access failure: it
   * returns `{ ok: false, error }` with the `StsError` (and its hint).
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
    return trustPrincipalOf(await this.#operations.identity.getCallerIdentity(), process.env.AWS_ROLE_ARN);
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
    return this.#operations.roles.assumeRoleWithWebIdentity(request);
  }

  /** AssumeRoleWithSAML: an unsigned call with the identity provider's base64 SAML response. */
  assumeRoleWithSaml(request: AssumeRoleWithSamlRequest): Promise<TemporaryCredentials> {
    return this.#operations.roles.assumeRoleWithSaml(request);
  }

  /** GetSessionToken: temporary credentials for the base IAM user, optionally MFA-authenticated. */
  getSessionToken(request: GetSessionTokenRequest = {}): Promise<TemporaryCredentials> {
    return this.#operations.sessions.getSessionToken(request);
  }

  /**
   * GetWebIdentityToken (outbound identity federation), uncached: a JWT STS signs for the base identity, to
   * authenticate to a service outside AWS (GCP, Azure, Snowflake, an API) with no stored secret. The account must
   * have enabled outbound federation in IAM (`OutboundWebIdentityFederationDisabled` otherwise); the token cannot
   * outlive the calling session (`SessionDurationEscalation`). Not on the global endpoint: use a regional one.
   * For repeated use prefer the cached `webIdentityToken` or `webIdentityTokenProvider`.
   */
  getWebIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    return this.#operations.outbound.getWebIdentityToken(request);
  }

  /**
   * Cached GetWebIdentityToken: the same request and result, served from a token cache of its own (keyed by every
   * input that shapes the token, refreshed ahead of expiry by one STS call for all callers, never handed out in its
   * last 10 s). With `cache: false` every call goes to STS.
   */
  webIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    return this.#tokens.get(request);
  }

  /**
   * A bearer-token provider for an HTTP client, called per request:
   * `const tokenFor = sts.webIdentityTokenProvider({ audience })`, then per request `'Bearer ' + (await tokenFor())`. Validates and copies the request when made
   * (throws `StsValidationError` at once); each call returns a current token from the cache (`webIdentityToken`).
   */
  webIdentityTokenProvider(request: GetWebIdentityTokenRequest): () => Promise<string> {
    validateWebIdentityTokenRequest(new RequestValidator('GetWebIdentityToken'), request);
    const copy: GetWebIdentityTokenRequest = structuredClone(request);
    return async () => (await this.#tokens.get(copy)).token;
  }

  /**
   * GetFederationToken, uncached: a session for a federated user (`name`) of the base IAM user, whose permissions
   * are what both the session policy (`policy`, `policyArns`) and the IAM user's policies allow — without a session
   * policy it has none. For a proxy that hands its own users scoped AWS access (a console sign-in link, a broker).
   * Needs the long-term keys of an IAM user (a role or a session is refused with AccessDenied). The credentials carry
   * `federatedUser` and `accountId`.
   */
  getFederationToken(request: GetFederationTokenRequest): Promise<TemporaryCredentials> {
    return this.#operations.sessions.getFederationToken(request);
  }

  /**
   * AssumeRoot, uncached: a session of a member account's root user for one privileged task (Organizations centralized
   * root access), for an admin tool of the management account or of the delegated administrator account for IAM.
   * `taskPolicyArn` names one of the five AWS managed root-task policies; at most 900 s. Refused before sending
   * (`InvalidConfiguration`) when the STS client resolves the global endpoint, which does not serve it.
   * `AccessDenied` when centralized root access is not enabled, the caller may not, or the target is not a member.
   */
  assumeRoot(request: AssumeRootRequest): Promise<TemporaryCredentials> {
    return this.#operations.rootAndDelegated.assumeRoot(request);
  }

  /**
   * GetDelegatedAccessToken, uncached: the exchange step of IAM temporary delegation — a partner app turns the
   * trade-in token of a customer's approved delegation into credentials of the customer's principal (`assumedPrincipal`,
   * `accountId`). `ExpiredTradeInToken` once the token has expired. The token is never logged nor put in an event.
   */
  getDelegatedAccessToken(tradeInToken: string): Promise<TemporaryCredentials> {
    return this.#operations.rootAndDelegated.getDelegatedAccessToken(tradeInToken);
  }

  /**
   * DecodeAuthorizationMessage: why AWS denied a request. Pass the encoded message an AWS service appended to its
   * AccessDenied (`Encoded authorization failure message: …`), or the error itself — an `StsError` whose hint
   * says it carries one, or the service's own error. Returns the decoded document, its lists flattened: allowed,
   * explicitDeny, the matched statements, the principal, action, resource and condition keys. The base identity
   * needs `sts:DecodeAuthorizationMessage`. The encoded message is never logged, nor put in an event or error.
   */
  explainAuthorizationFailure(encodedMessageOrError: string | Error): Promise<AuthorizationFailureExplanation> {
    return this.#operations.identity.explainAuthorizationFailure(encodedMessageOrError);
  }

  /**
   * GetAccessKeyInfo: the account that owns an access key id (`AKIA…` or `ASIA…`; 16–128 characters of `[\w]`),
   * for support's "whose key is this?". Needs no permission on the key's account; the key id is not logged.
   */
  getAccessKeyInfo(accessKeyId: string): Promise<AccessKeyInfo> {
    return this.#operations.identity.getAccessKeyInfo(accessKeyId);
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

  /**
   * Drops cached credentials, completes `events$`, waits for the `clientFor` clients still serving sends (streams
   * included) — `operationTimeoutSeconds` at most, after which they are destroyed and their sends fail — and then
   * closes the STS client's sockets (unless its handler or agents are yours), which those sends may still need.
   */
  async onModuleDestroy(): Promise<void> {
    const drained = this.#cached.close();
    this.#tokens.stop();
    this.#tokens.clear();
    this.#metrics?.close();
    this.#events.complete();
    await drained;
    if (this.#config.ownsRequestHandler) this.stsClient.destroy();
  }
}
