import type { SharedTierStats } from './shared-tier-stats.js';

/** Counters of the credential cache since start (or the last `clear()`, for `size` and `inflight`). */
export interface CredentialCacheStats {
  /** Cached credential sets now held. */
  size: number;
  /** Calls answered from the cache without waiting for STS. */
  hits: number;
  /** Calls that waited for STS (nothing cached, or inside the mandatory window), including joined ones. */
  misses: number;
  /** Fetches started for a key that already had credentials (background or blocking). */
  refreshes: number;
  /** Fetches that failed, first fetches included. */
  refreshFailures: number;
  /** Hits served from an entry whose last refresh failed (stale-if-error). */
  staleServed: number;
  /** Entries dropped: for capacity while still valid, once expired, on a refusal, or invalidated by a client. */
  evictions: number;
  /** STS fetches running now. */
  inflight: number;
  /** With `cache.shared`: what the shared tier answered, fetched for the fleet, waited for and bypassed. */
  shared?: SharedTierStats;
}
