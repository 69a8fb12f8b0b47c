import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { Observable } from 'rxjs';
import type { FanOutOptions } from '../account-checks/account-checks.js';
import type { AwsClientClass } from './cached-credentials.js';
import type { CredentialCacheControl } from './credential-cache-control.js';
import type { WebIdentityToken } from '../sts/web-identity-token.js';
import { RequestValidator, validateWebIdentityTokenRequest } from '../sts/sts-validation.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { StsServiceParts } from './sts-service-parts.js';
import { UncachedStsCalls } from './uncached-sts-calls.js';
import { STS_RESOLVED_CONFIG } from './sts.constants.js';
import { InjectStsClient } from './sts.decorators.js';
import type { StsEvent } from '../observability/sts-events.js';
import { findClsContext, type ClsContext } from '../tenant/cls-context.js';
import { CurrentTenant } from '../tenant/current-tenant.js';
import type {
  AccessCheckOptions,
  AccessCheckResult,
  AccountAssumeResult,
  AssumeRoleRequest,
  ExpirationStatus,
  GetWebIdentityTokenRequest,
} from '../sts/sts-request.types.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';
import { trustPrincipalOf } from '../sts/trust-principal.js';

/**
 * Every STS operation, validated against the STS limits before anything is sent, with failures mapped to
 * `StsError` (code, retryable, requestId and an actionable hint), and a credential cache for many tenants.
 * Never logs or throws a secret, and every call settles within `operationTimeoutSeconds`.
 *
 * The facade users inject; the work is done by `StsOperations` (the STS calls), `CachedCredentials` (the cache,
 * providers and clients) and `AccountChecks` (access checks and fan-out), wired together once by `StsServiceParts`.
 * The uncached STS calls (`assumeRole`, `getSessionToken`, …) are declared, with their docs, in `UncachedStsCalls`.
 */
@Injectable()
export class StsService extends UncachedStsCalls implements OnModuleInit, OnModuleDestroy {
  readonly #parts: StsServiceParts;
  readonly #config: ResolvedStsConfig;
  readonly #moduleRef?: ModuleRef;
  /** The app's nestjs-cls context, found at module init, for `current`. */
  #cls?: ClsContext;

  /** One event per STS call and per cache transition (refresh, eviction, invalidation). Never carries a secret. */
  readonly events$: Observable<StsEvent>;

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
    const parts = new StsServiceParts(config, stsClient);
    super(parts.operations, config);
    this.#parts = parts;
    this.#config = config;
    this.#moduleRef = moduleRef;
    this.events$ = this.#parts.events.asObservable();
    this.cache = this.#parts.cached.control;
    this.current = new CurrentTenant(this, config.tenant, config, () => this.#cls);
  }

  /** With a `tenant` option, lets `current` read nestjs-cls's request contexts when the app set up `ClsModule`. */
  async onModuleInit(): Promise<void> {
    if (this.#config.tenant !== undefined && this.#moduleRef !== undefined) this.#cls = await findClsContext(this.#moduleRef);
  }

  /**
   * Cached AssumeRole (what multi-tenant apps call getOrAssumeRole): the same request shape and result as
   * `assumeRole`, served from the credential cache with refresh-ahead, single-flight and stale-if-error.
   * With `cache: false` every call goes to STS.
   */
  getCredentials(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    return this.#parts.cached.get(request);
  }

  /**
   * A credential provider backed by the cache, for any AWS SDK v3 client:
   * `new S3Client({ credentials: sts.credentialProvider({ roleArn, externalId }) })`.
   * The request is validated and copied when the provider is made; later changes to the object do not reach it.
   * The SDK asks it on every request, so a refresh or an invalidation reaches the client at its next request.
   */
  credentialProvider(request: AssumeRoleRequest): AwsCredentialIdentityProvider {
    return this.#parts.cached.provider(request);
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
    return this.#parts.cached.createClient(ClientClass, request, clientConfig);
  }

  /**
   * The AWS SDK v3 client acting as the role, for use per request: `clientFor(S3Client, tenant).send(...)`.
   * One client per (client class, request, client config), built as `createClient` builds one (region defaults to
   * `AWS_REGION`, request handler timeouts default as there; each request signed with what the cache holds
   * when it starts, rejections answered as there) and kept in a pool of at most `clients.maxEntries` (default 100),
   * least recently used out first. Requests and configs are compared by value: a new object meaning the same gets
   * the same client; the config is read once, into the key and the copy the client is built from (an object's own
   * enumerable string keys: a symbol key is neither compared nor passed on). Ask again per request rather than keeping
   * the client.
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
    return this.#parts.cached.clientFor(ClientClass, request, clientConfig);
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
    return this.#parts.accounts.validateAccess(request, options);
  }

  /**
   * The principal a customer's trust policy must name for this app's base identity (asked of STS): a user or role
   * ARN as is, an assumed-role session as its role (with the path of `AWS_ROLE_ARN` when that names the same role),
   * and root or a federated user as the account root.
   */
  async trustPrincipal(): Promise<string> {
    return trustPrincipalOf(await this.#parts.operations.identity.getCallerIdentity(), process.env.AWS_ROLE_ARN);
  }

  /**
   * Cached credentials for many accounts at once, at most `concurrency` STS calls in flight. Never rejects as a
   * whole: one result per request, in order, `{ ok: true, accountId, credentials }` or `{ ok: false, accountId, error }`.
   */
  assumeRoleInAccounts(requests: AssumeRoleRequest[], options: FanOutOptions = {}): Promise<AccountAssumeResult[]> {
    return this.#parts.accounts.assumeRoleInAccounts(requests, options);
  }

  /**
   * Cached GetWebIdentityToken: the same request and result, served from a token cache of its own (keyed by every
   * input that shapes the token, refreshed ahead of expiry by one STS call for all callers, never handed out in its
   * last 10 s). With `cache: false` every call goes to STS.
   */
  webIdentityToken(request: GetWebIdentityTokenRequest): Promise<WebIdentityToken> {
    return this.#parts.tokens.get(request);
  }

  /**
   * A bearer-token provider for an HTTP client, called per request:
   * `const tokenFor = sts.webIdentityTokenProvider({ audience })`, then per request `'Bearer ' + (await tokenFor())`. Validates and copies the request when made
   * (throws `StsValidationError` at once); each call returns a current token from the cache (`webIdentityToken`).
   */
  webIdentityTokenProvider(request: GetWebIdentityTokenRequest): () => Promise<string> {
    validateWebIdentityTokenRequest(new RequestValidator('GetWebIdentityToken'), request);
    const copy: GetWebIdentityTokenRequest = structuredClone(request);
    return async () => (await this.#parts.tokens.get(copy)).token;
  }

  /**
   * How long credentials have left, judged by STS's clock (the host clock corrected by the offset the SDK learned).
   * @param bufferSeconds `isNearExpiration` is true when fewer than this many seconds remain. Default: 300.
   */
  checkExpiration(credentials: { expiration: Date }, bufferSeconds = 300): ExpirationStatus {
    const expiration = new Date(credentials.expiration);
    const remainingMs = expiration.getTime() - this.#parts.operations.now();
    const remainingSeconds = Math.max(0, Math.floor(remainingMs / 1000));
    return { isExpired: remainingMs <= 0, isNearExpiration: remainingMs < bufferSeconds * 1000, remainingSeconds, expiration };
  }

  /**
   * Drops cached credentials, completes `events$`, waits for the `clientFor` clients still serving sends (streams
   * included) — `operationTimeoutSeconds` at most, after which they are destroyed and their sends fail — and then
   * closes the STS client's sockets (unless its handler or agents are yours), which those sends may still need.
   */
  onModuleDestroy(): Promise<void> {
    return this.#parts.close();
  }
}
