// What the cache reports of the shared tier behind it (`CredentialCacheStats.shared`). Declared on the cache's side:
// the shared tier depends on the cache, never the reverse.

/** Where the shared tier's Redis stands, for health checks and metrics. Never carries a message or a key. */
export interface RedisOutageState {
  /** Outages since start: each begins with a failed command and ends with one that succeeds. */
  outages: number;
  /** Since when (ms since epoch) the outage under way has lasted; undefined while Redis answers. */
  outageSince?: number;
  /** The code of the last failure (`ECONNREFUSED`, `TimeoutError`, `OOM`…), kept after Redis recovers. */
  lastErrorCode?: string;
}

/** Counters of the shared tier since start, and where its Redis stands (`RedisOutageState`). */
export interface SharedTierStats extends RedisOutageState {
  /** Local misses and refreshes answered from Redis, with no STS call. */
  hits: number;
  /** Fetches this instance made for the fleet, holding the key's lock. */
  fills: number;
  /** Loads that waited for another instance's fetch (once each, however many times they looked). */
  waits: number;
  /** Fetches made without the tier: Redis failed or was backing off, or a holder took too long. */
  bypassed: number;
  /** Invalidations of a Redis key this instance set out to tell the fleet (its own, and relays to its other keys). */
  invalidationsQueued: number;
  /** …of those, the ones Redis took: the value deleted, its generation bumped, the fleet's log told. */
  invalidationsPropagated: number;
  /**
   * …of those, the ones Redis has not taken yet (sent again every second; the rest were dropped past the bound), and
   * invalidations made before the base principal was known (queued once STS says it).
   */
  invalidationsPending: number;
}
