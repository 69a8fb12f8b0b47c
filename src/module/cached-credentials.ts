import { Logger } from '@nestjs/common';
import { hashKey, PreparedRequestIndex } from '../cache/cache-key.js';
import { canonicalConfig } from '../clients/canonical-config.js';
import { ClientPool } from '../clients/client-pool.js';
import { CredentialCache, type CacheClock } from '../cache/credential-cache.js';
import { credentialCacheControl, type CredentialCacheControl } from './credential-cache-control.js';
import { lookupsOf, sharedRequestOf, type LookupContext, type RoleLookup } from './role-lookup.js';
import { signWithCachedCredentials, type CredentialVerdicts } from '../clients/fresh-credentials.middleware.js';
import { RejectionMemory } from '../clients/rejection-memory.js';
import { RequestCredentials, type UnmemoizedProvider } from '../clients/request-credentials.js';
import { SharedTier, type SharedTierContext } from '../cache/shared/shared-tier.js';
import { sharingScope } from '../cache/shared/sharing-scope.js';
import { hasTokenCode, type PreparedAssumeRole } from '../sts/role-request.js';
import type { ResolvedStsConfig } from '../config/server-aws-sts.config.js';
import { TENANT_REQUEST_HANDLER_DEFAULTS, withRequestHandlerDefaults } from '../config/request-handler-defaults.js';
import type { CacheEvent, SharedTierEvent } from '../observability/sts-events.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/** The shape of every AWS SDK v3 client constructor. */
export type AwsClientClass<Client, Config> = new (...args: [] | [Config]) => Client;

/** What the cache needs from the service around it. */
export interface CachedCredentialsContext {
  /** Tags keys with this service's base identity: two module configurations never share credentials. */
  baseIdentityTag: string;
  emit: (event: CacheEvent | SharedTierEvent) => void;
  clock: CacheClock;
  /** Assumes a prepared request at STS: `StsOperations.assumeRole`. */
  assume: (prepared: PreparedAssumeRole) => Promise<TemporaryCredentials>;
  /** The base principal, whose instances share entries in the shared tier (an assumed-role session as its role). */
  principal: () => Promise<string>;
  /** With `cache.shared`: a load that waited on another instance's fetch has its answer (for the wait histogram). */
  sharedWaited?: SharedTierContext['waited'];
}

/** A cache lookup and the prepared request it loads. */
type PreparedLookup = RoleLookup;

/** A request STS would refuse, and why: nothing can be cached or sent for it. */
interface Refusal {
  refusal: unknown;
}

/** A provider for a request STS would refuse: every resolution rejects with the validation error, sending nothing. */
const rejectingProvider = (error: unknown): UnmemoizedProvider => Object.assign(() => Promise.reject(error), { memoized: true as const });

/**
 * Cached role credentials: requests in, through the index of prepared requests and their keys, to the credential
 * cache, and out as credentials, providers and clients. With `cache: false` every call goes to STS.
 */
export class CachedCredentials {
  readonly #index: PreparedRequestIndex<PreparedLookup>;
  readonly #cache?: CredentialCache;
  readonly #shared?: SharedTier;
  readonly #assume: CachedCredentialsContext['assume'];
  readonly #clients: ClientPool;
  /** Rejections by services of the credentials clients signed with (with the cache only). */
  readonly #rejections?: RejectionMemory;
  /**
   * The request key whose credentials a client is dropping, as a service rejected them: its pooled clients stay, they
   * sign with fresh ones. Only that key: an invalidation a listener makes meanwhile takes its clients as usual.
   */
  #keepingClientsOf?: string;
  readonly #logger = new Logger('StsService');
  #loggedUnpooledConfig = false;
  #closed = false;
  readonly control: CredentialCacheControl;

  constructor(
    private readonly config: ResolvedStsConfig,
    { baseIdentityTag, emit, clock, assume, principal, sharedWaited }: CachedCredentialsContext,
  ) {
    const settings = config.cache;
    this.#assume = assume;
    const lookupContext: LookupContext = {
      assume: (prepared) => this.#assume(prepared),
      shared: () => this.#shared,
      operationTimeoutMs: config.operationTimeoutMs,
    };
    const ServiceLookup = lookupsOf(lookupContext);
    this.#index = new PreparedRequestIndex(
      config,
      2 * (settings ? settings.maxEntries : 1),
      (prepared) => hashKey(baseIdentityTag, prepared),
      (prepared, key) => new ServiceLookup(key, prepared),
    );
    const clients = (this.#clients = new ClientPool(config.clients.maxEntries));
    // Every invalidation of credentials (invalidate, invalidateWhere, invalidateIfCurrent) takes the request's
    // pooled clients with it, before anyone hears of it: a listener that asks clientFor again gets a new client.
    // Not a client's own drop of credentials a service rejected: its clients sign their next attempt with fresh ones.
    const emitAndDropClients = (event: CacheEvent) => {
      if (event.type === 'invalidation' && event.key !== this.#keepingClientsOf) clients.dropRequest(event.key);
      emit(event);
    };
    if (settings) {
      this.#cache = new CredentialCache(settings, emitAndDropClients, clock);
      this.#rejections = new RejectionMemory(clock);
    }
    const cache = this.#cache;
    if (settings && settings.shared) {
      this.#shared = new SharedTier(settings.shared, {
        // Whatever shapes the credentials STS returns, or how their use is audited, is part of the scope: only
        // instances that would have fetched the same credentials share them.
        principal: () => principal().then((arn) => JSON.stringify([arn, sharingScope(config)])),
        now: () => clock.now(),
        mandatoryWindowMs: settings.mandatoryWindowSeconds * 1000,
        operationTimeoutMs: config.operationTimeoutMs,
        maxEntries: 2 * settings.maxEntries,
        emit,
        waited: (ms, result) => sharedWaited?.(ms, result),
        // Dropped here without telling the fleet again: the instance that invalidated told everyone.
        onRemoteInvalidation: (key, onlyIf) => {
          const accessKeyId = cache?.accessKeyIdOf(key);
          const expiration = cache?.expirationOf(key);
          if (onlyIf !== undefined && (accessKeyId === undefined || !onlyIf(accessKeyId))) return undefined;
          cache?.invalidate(key);
          return accessKeyId === undefined || expiration === undefined ? undefined : { accessKeyId, expiration };
        },
        held: function* () {
          for (const lookup of cache?.heldLookups() ?? []) {
            const request = sharedRequestOf(cache, lookup.key);
            if (request !== undefined) yield request;
          }
        },
      });
    }
    const shared = this.#shared;
    this.control = credentialCacheControl({
      cache,
      shared,
      clients,
      rejections: this.#rejections,
      index: this.#index,
      lookupOf: (request) => this.#lookupOf(request),
    });
  }

  /** Cached credentials for a request, validated first (a bad one rejects with `StsValidationError`, sending nothing). */
  get(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    let lookup: PreparedLookup;
    try {
      lookup = this.#index.resolve(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#cache ? this.#cache.get(lookup) : this.#assume(lookup.prepared);
  }

  /** Cached credentials for a request already prepared (a role-chaining hop). */
  getPrepared(prepared: PreparedAssumeRole): Promise<TemporaryCredentials> {
    return this.#cache ? this.#cache.get(this.#index.resolvePrepared(prepared)) : this.#assume(prepared);
  }

  /**
   * A provider for any AWS SDK v3 client. The request is validated and prepared now, once; the SDK then calls the
   * provider on every request (it is marked `memoized`), so refreshes and invalidations reach the client at once.
   */
  provider(request: AssumeRoleRequest): UnmemoizedProvider {
    return this.#providerOf(this.#lookupOrRefusal(request));
  }

  /** An SDK client acting as the role, signing each request with what the cache holds when it starts (see `#clientOf`). */
  createClient<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    return this.#clientOf(ClientClass, this.#lookupOrRefusal(request), clientConfig);
  }

  /**
   * The pooled client for (client class, request, config), built as `createClient` builds one the first time, from
   * the copy of the config read with its key (`canonicalConfig`).
   * Not pooled, and so the caller's like a `createClient` client: one for a config `canonicalConfig` cannot compare,
   * for a request with an MFA code (sent, not keyed), or for a request STS would refuse (its provider rejects).
   */
  clientFor<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    request: AssumeRoleRequest,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    const lookup = this.#lookupOrRefusal(request);
    if ('refusal' in lookup) {
      this.#clients.countUnpooled();
      return this.#clientOf(ClientClass, lookup, clientConfig);
    }
    // The client this request was given lately for an equal flat config: found without making the config's key. A
    // request with an MFA code is never pooled (below), and only pooling remembers a client on a lookup: its lookup
    // (made anew at each call) holds none.
    const recent = this.#closed ? undefined : this.#clients.recent<Client>(lookup, ClientClass, clientConfig);
    if (recent !== undefined) return recent;
    const withMfaCode = hasTokenCode(lookup.prepared);
    // After module destroy nothing is pooled: no one would destroy the client any more.
    const plain = withMfaCode || this.#closed ? undefined : canonicalConfig(clientConfig);
    if (plain === undefined) {
      this.#clients.countUnpooled();
      if (!withMfaCode && !this.#closed && !this.#loggedUnpooledConfig) {
        this.#loggedUnpooledConfig = true;
        this.#logger.debug(
          'clientFor was given a client config that is not plain data (a function, a handler or agent instance…): each such call builds a client that is not pooled, and is yours to destroy',
        );
      }
      return this.#clientOf(ClientClass, lookup, clientConfig);
    }
    // Built from the copy read with the key: neither a later change to the caller's objects nor a getter that answers
    // differently the next time reaches a client keyed by what was read.
    const build = () => this.#clientOf(ClientClass, lookup, plain.config as Omit<Config, 'credentials'>);
    return this.#clients.get(ClientClass, lookup, plain, build);
  }

  /** Credential sets not yet expired at `now`, and when the soonest of them expires (ms since epoch). */
  unexpired(now: number): { entries: number; soonestExpiration?: number } {
    return this.#cache?.unexpired(now) ?? { entries: 0 };
  }

  /**
   * Drops everything, pools no client from now on, stops keep-warm and the shared tier; called on module destroy.
   * Resolves once the pooled clients still serving sends have settled, or at `operationTimeoutSeconds` at the latest,
   * when they are destroyed (see `ClientPool.close`).
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#cache?.stop();
    this.#shared?.close();
    this.control.clear();
    return this.#clients.close(this.config.operationTimeoutMs);
  }

  /**
   * A provider of the lookup's credentials, asked by the SDK at every request (the cache is the memo); for a refused
   * request, one that rejects with the refusal, sending nothing.
   */
  #providerOf(lookup: PreparedLookup | Refusal): UnmemoizedProvider {
    if ('refusal' in lookup) return rejectingProvider(lookup.refusal);
    const resolve = this.#cache ? () => this.#cache!.get(lookup) : () => this.#assume(lookup.prepared);
    return Object.assign(() => resolve(), { memoized: true as const });
  }

  /**
   * A client acting as the lookup's role; for a refused request, one whose sends reject with the refusal. Each SDK
   * request resolves its credentials once (one STS call at most without the cache, retries included); with the
   * cache, a rejection is judged per place and may replace them once (see `RejectionMemory`).
   */
  #clientOf<Client, Config extends object>(
    ClientClass: AwsClientClass<Client, Config>,
    lookup: PreparedLookup | Refusal,
    clientConfig?: Omit<Config, 'credentials'>,
  ): Client {
    const credentials = new RequestCredentials(this.#providerOf(lookup));
    const client = new ClientClass({
      region: this.config.region,
      ...withRequestHandlerDefaults(clientConfig, TENANT_REQUEST_HANDLER_DEFAULTS).clientConfig,
      credentials: credentials.provider,
    } as unknown as Config);
    credentials.install(client as never);
    if (!('refusal' in lookup) && this.#rejections !== undefined) {
      signWithCachedCredentials(client as never, credentials, this.#verdictsOn(lookup.key, this.#rejections));
    }
    return client;
  }

  /**
   * How a client of the request under `key` answers a service's verdicts, per (key, service, region): the first
   * rejection drops the credentials (its pooled clients stay) so a retry gets fresh ones; a rejection of those fresh
   * ones is remembered with a backoff and let through; an accepted request ends it.
   */
  #verdictsOn(key: string, rejections: RejectionMemory): CredentialVerdicts {
    return {
      rejected: (where, used) => {
        if (rejections.rejected(`${key}\n${where}`, used.accessKeyId) === 'let-through') return false;
        this.#keepingClientsOf = key;
        try {
          this.control.invalidateIfCurrent(used);
        } finally {
          this.#keepingClientsOf = undefined;
        }
        return true;
      },
      accepted: (where) => rejections.accepted(`${key}\n${where}`),
    };
  }

  /** The lookup of a request, or why STS would refuse it. */
  #lookupOrRefusal(request: AssumeRoleRequest): PreparedLookup | Refusal {
    try {
      return this.#index.resolve(request);
    } catch (refusal) {
      return { refusal };
    }
  }

  /** The lookup of a request, or undefined for one STS would refuse (nothing can be cached for it). */
  #lookupOf(request: AssumeRoleRequest): PreparedLookup | undefined {
    const lookup = this.#lookupOrRefusal(request);
    return 'refusal' in lookup ? undefined : lookup;
  }
}
