import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import type { ClientPoolStats } from './client-pool.js';
import { hashKey, PreparedRequestIndex } from './cache-key.js';
import { CredentialCache, type CacheClock, type CacheLookup, type CredentialCacheStats } from './credential-cache.js';
import { signWithCachedCredentials } from './fresh-credentials.middleware.js';
import type { PreparedAssumeRole } from './role-request.js';
import type { ResolvedStsConfig } from './server-aws-sts.config.js';
import { StsValidationError } from './sts-error.js';
import type { CacheEntryInfo, CacheEvent } from './sts-events.js';
import type { AssumeRoleRequest } from './sts-request.types.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

/** Control of the credential cache, on `StsService.cache`. */
export interface CredentialCacheControl {
  /** Drops the cached credentials of this request; returns whether there were any. */
  invalidate(request: AssumeRoleRequest): boolean;
  /** Drops every entry the predicate selects from non-secret facts (`roleArn`, `accountId`, `sessionName`, `expiration`); returns how many. */
  invalidateWhere(predicate: (entry: CacheEntryInfo) => boolean): number;
  /**
   * Drops the entry only if it still holds these credentials: call it when a service rejects them
   * (`ExpiredToken`, `InvalidClientTokenId`), so the next call fetches fresh ones. Returns whether it dropped one.
   * Clients from `createClient` do this on their own.
   */
  invalidateIfCurrent(credentials: { accessKeyId: string }): boolean;
  /** Drops everything. */
  clear(): void;
  /** Hit, miss, refresh and eviction counters, and the current size. */
  stats(): CredentialCacheStats;
  clientStats(): ClientPoolStats;
}

/** The shape of every AWS SDK v3 client constructor. */
export type AwsClientClass<Client, Config> = new (...args: [] | [Config]) => Client;

/** A provider the SDK calls on every request instead of memoizing what it returns: the cache is the memo. */
type UnmemoizedProvider = AwsCredentialIdentityProvider & { memoized: true };

/** A cache lookup and the prepared request it loads. */
type PreparedLookup = CacheLookup & { prepared: PreparedAssumeRole };

const EMPTY_STATS: CredentialCacheStats = { size: 0, hits: 0, misses: 0, refreshes: 0, refreshFailures: 0, staleServed: 0, evictions: 0, inflight: 0 };

/**
 * Cached role credentials: requests in, through the index of prepared requests and their keys, to the credential
 * cache, and out as credentials, providers and clients. With `cache: false` every call goes to STS.
 */
export class CachedCredentials {
  readonly #index: PreparedRequestIndex<PreparedLookup>;
  readonly #cache?: CredentialCache;
  readonly control: CredentialCacheControl;

  constructor(
    private readonly config: ResolvedStsConfig,
    /** Tags keys with this service's base identity: two module configurations never share credentials. */
    baseIdentityTag: string,
    emit: (event: CacheEvent) => void,
    clock: CacheClock,
    /** Assumes a prepared request at STS: `StsOperations.assumeRole`. */
    private readonly assume: (prepared: PreparedAssumeRole) => Promise<TemporaryCredentials>,
  ) {
    const settings = config.cache;
    this.#index = new PreparedRequestIndex(config, 2 * (settings ? settings.maxEntries : 1), (prepared) => this.lookupOf(prepared, hashKey(baseIdentityTag, prepared)));
    if (settings) this.#cache = new CredentialCache(settings, emit, clock);
    const cache = this.#cache;
    this.control = {
      invalidate: (request) => {
        const key = cache && this.#keyOf(request);
        return key !== undefined && cache!.invalidate(key);
      },
      invalidateWhere: (predicate) => cache?.invalidateWhere(predicate) ?? 0,
      invalidateIfCurrent: (credentials) => cache?.invalidateIfCurrent(credentials) ?? false,
      clear: () => {
        cache?.clear();
        this.#index.clear();
      },
      stats: () => cache?.stats() ?? { ...EMPTY_STATS },
      clientStats: () => ({ size: 0, hits: 0, created: 0, unpooled: 0, destroyed: 0, draining: 0 }),
    };
  }

  /** Cached credentials for a request, validated first (a bad one rejects with `StsValidationError`, sending nothing). */
  get(request: AssumeRoleRequest): Promise<TemporaryCredentials> {
    let lookup: PreparedLookup;
    try {
      lookup = this.#index.resolve(request);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#cache ? this.#cache.get(lookup) : this.assume(lookup.prepared);
  }

  /** Cached credentials for a request already prepared (a role-chaining hop). */
  getPrepared(prepared: PreparedAssumeRole): Promise<TemporaryCredentials> {
    return this.#cache ? this.#cache.get(this.#index.resolvePrepared(prepared)) : this.assume(prepared);
  }

  /**
   * A provider for any AWS SDK v3 client. The request is validated and prepared now, once; the SDK then calls the
   * provider on every request (it is marked `memoized`), so refreshes and invalidations reach the client at once.
   */
  provider(request: AssumeRoleRequest): UnmemoizedProvider {
    let resolved: () => Promise<TemporaryCredentials>;
    try {
      const lookup = this.#index.resolve(request);
      resolved = this.#cache ? () => this.#cache!.get(lookup) : () => this.assume(lookup.prepared);
    } catch (error) {
      resolved = () => Promise.reject(error);
    }
    return Object.assign(() => resolved(), { memoized: true as const });
  }

  /** An SDK client acting as the role, signing each attempt with what the cache holds now (see `signWithCachedCredentials`). */
  createClient<Client, Config extends object>(ClientClass: AwsClientClass<Client, Config>, request: AssumeRoleRequest, clientConfig?: Omit<Config, 'credentials'>): Client {
    const credentials = this.provider(request);
    const client = new ClientClass({ region: this.config.region, ...clientConfig, credentials } as unknown as Config);
    signWithCachedCredentials(client as never, credentials, (used) => this.control.invalidateIfCurrent(used));
    return client;
  }

  /** Credential sets not yet expired at `now`, and when the soonest of them expires (ms since epoch). */
  unexpired(now: number): { entries: number; soonestExpiration?: number } {
    return this.#cache?.unexpired(now) ?? { entries: 0 };
  }

  /** Drops everything; called on module destroy. */
  clear(): void {
    this.control.clear();
  }

  /** The key of a request, or undefined for one STS would refuse (nothing can be cached for it). */
  #keyOf(request: AssumeRoleRequest): string | undefined {
    try {
      return this.#index.resolve(request).key;
    } catch {
      return undefined;
    }
  }

  private lookupOf(prepared: PreparedAssumeRole, key: string): PreparedLookup {
    const fixedMfaCode = typeof prepared.tokenCode === 'string';
    return {
      key,
      prepared,
      info: { roleArn: prepared.input.RoleArn, accountId: prepared.accountId, sessionName: prepared.input.RoleSessionName },
      refreshAhead: !fixedMfaCode,
      rememberRefusals: prepared.tokenCode === undefined,
      load: (isRefresh) => {
        if (isRefresh && fixedMfaCode) {
          return Promise.reject(new StsValidationError('AssumeRole', 'mfa.tokenCode', 'a fixed MFA code serves the first fetch only: pass a function returning the current code so the cache can refresh'));
        }
        return this.assume(prepared);
      },
    };
  }
}
