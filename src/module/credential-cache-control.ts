import type { PreparedRequestIndex } from '../cache/cache-key.js';
import type { CredentialCache } from '../cache/credential-cache.js';
import type { CredentialCacheStats } from '../cache/credential-cache-stats.js';
import type { SharedTier } from '../cache/shared/shared-tier.js';
import type { ClientPool, ClientPoolStats } from '../clients/client-pool.js';
import type { RejectionMemory } from '../clients/rejection-memory.js';
import type { CacheEntryInfo } from '../observability/sts-events.js';
import { canonicalOf, hasTokenCode } from '../sts/role-request.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import { sharedRequestOf, type RoleLookup } from './role-lookup.js';

/** Control of the credential cache, on `StsService.cache`. */
export interface CredentialCacheControl {
  /**
   * Drops the cached credentials of this request, and the clients `clientFor` pooled for it (destroyed once idle);
   * returns whether there were credentials.
   */
  invalidate(request: AssumeRoleRequest): boolean;
  /**
   * Drops every entry the predicate selects from non-secret facts (`roleArn`, `accountId`, `sessionName`, `expiration`),
   * and the `clientFor` clients of the requests it selects (those of requests with no cached credentials are shown
   * to it without `expiration`); resolves to how many credential entries it dropped.
   *
   * Never holds the event loop long, however many entries: it judges them in slices of at most 1,000 or about 4 ms
   * of work (a slow predicate makes them smaller), one per turn of the loop, the first at once; each on what it
   * holds when its turn comes, and drops a selected one then (here, in the shared tier, and its clients): from then
   * on it is not served, and a fetch of it still running does not bring it back. Entries stored while it runs are
   * judged too, last (one refreshed after its turn, again, on its new credentials); the pooled clients of requests
   * with no cached credentials once the entries are done. A predicate that throws rejects the promise; what it
   * selected before stays dropped.
   */
  invalidateWhere(predicate: (entry: CacheEntryInfo) => boolean): Promise<number>;
  /**
   * Drops the entry only if it still holds these credentials: call it when a service rejects them
   * (`ExpiredToken`, `InvalidClientTokenId`), so the next call fetches fresh ones, and the `clientFor` clients of its
   * request. Returns whether it dropped one. Clients from `createClient` and `clientFor` handle rejections on their
   * own, and more sparingly: once per service and region, keeping the pooled clients, and when the fresh credentials
   * are rejected too they remember it with a backoff instead of dropping again (see `StsService.createClient`).
   */
  invalidateIfCurrent(credentials: { accessKeyId: string }): boolean;
  /** Drops everything: credentials and `clientFor`'s clients; in constant time for the credentials, whatever their number. */
  clear(): void;
  /** Hit, miss, refresh and eviction counters, and the current size. */
  stats(): CredentialCacheStats;
  /** The clients `clientFor` holds (`size`), has built, reused and destroyed, and those draining their last sends. */
  clientStats(): ClientPoolStats;
}

/** What the control acts on: the parts `CachedCredentials` wired together (`cache` and `shared` as configured). */
export interface CacheControlParts {
  cache?: CredentialCache;
  shared?: SharedTier;
  clients: ClientPool;
  /** Rejections by services of the credentials clients signed with (with the cache only). */
  rejections?: RejectionMemory;
  index: PreparedRequestIndex<RoleLookup>;
  /** The lookup of a request, or undefined for one STS would refuse (nothing can be cached for it). */
  lookupOf: (request: AssumeRoleRequest) => RoleLookup | undefined;
}

const EMPTY_STATS: CredentialCacheStats = {
  size: 0,
  hits: 0,
  misses: 0,
  refreshes: 0,
  refreshFailures: 0,
  staleServed: 0,
  evictions: 0,
  inflight: 0,
};

/** The control of the cache on `StsService.cache`: each invalidation reaches the cache, the shared tier and the pool. */
export function credentialCacheControl({ cache, shared, clients, rejections, index, lookupOf }: CacheControlParts): CredentialCacheControl {
  return {
    invalidate: (request) => {
      const lookup = lookupOf(request);
      if (lookup === undefined) return false;
      const expiration = cache?.expirationOf(lookup.key);
      const dropped = cache?.invalidate(lookup.key) ?? false;
      clients.dropRequest(lookup.key); // also when nothing was cached (never fetched, expired, or cache: false)
      // Also when this instance held nothing: others may.
      if (!hasTokenCode(lookup.prepared)) shared?.invalidate({ localKey: lookup.key, canonical: canonicalOf(lookup.prepared) }, expiration);
      return dropped;
    },
    invalidateWhere: async (predicate) => {
      const decided = new Set<string>();
      const dropped =
        (await cache?.invalidateWhere((entry) => {
          decided.add(entry.key);
          const selected = predicate(entry);
          const request = selected ? sharedRequestOf(cache, entry.key) : undefined;
          if (request !== undefined) shared?.invalidate(request, entry.expiration?.getTime());
          return selected;
        })) ?? 0;
      clients.dropWhere(predicate, decided);
      return dropped;
    },
    invalidateIfCurrent: (credentials) => {
      const key = cache?.keyHolding(credentials);
      const request = key === undefined ? undefined : sharedRequestOf(cache, key);
      const expiration = key === undefined ? undefined : cache?.expirationOf(key);
      const dropped = cache?.invalidateIfCurrent(credentials) ?? false;
      if (dropped && request !== undefined) shared?.invalidateIfHolding(request, credentials.accessKeyId, expiration);
      return dropped;
    },
    clear: () => {
      cache?.clear();
      rejections?.clear();
      index.clear();
      clients.clear();
    },
    stats: () => {
      const stats = cache?.stats() ?? { ...EMPTY_STATS };
      return shared ? { ...stats, shared: shared.stats() } : stats;
    },
    clientStats: () => clients.stats(),
  };
}
