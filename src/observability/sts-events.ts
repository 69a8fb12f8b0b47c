import type { StsOperation } from '../errors/sts-error.js';

/** One STS call the service made. Carries no secret. */
export interface StsCallEvent {
  /** Always `sts-call`: tells these apart from cache events. */
  type: 'sts-call';
  /** The STS operation called. */
  operation: StsOperation;
  /** The role asked for (AssumeRole*, not GetSessionToken / GetCallerIdentity). */
  roleArn?: string;
  /** The account of `roleArn`. */
  accountId?: string;
  /** The role session's name (a request's own, or the generated one). */
  sessionName?: string;
  /** The SourceIdentity the request set. */
  sourceIdentity?: string;
  /** Whether STS answered with credentials or the call failed. */
  outcome: 'success' | 'error';
  /** The `StsError` code when `outcome` is `'error'`. */
  errorCode?: string;
  /** Wall time of the call, retries included, in milliseconds. */
  durationMs: number;
}

/** Non-secret facts about a cached credential set. */
export interface CacheEntryInfo {
  /** The cache key: a SHA-256 hash (its first 128 bits) of every credential-affecting input (no secret or ExternalId in it). */
  key: string;
  /** The role the credentials are for. */
  roleArn: string;
  /** The account of `roleArn`. */
  accountId: string;
  /** The session name the request gave, if it gave one. */
  sessionName?: string;
  /** When the cached credentials expire (absent before the first fetch succeeded). */
  expiration?: Date;
}

/** A transition of the credential cache. */
export interface CacheEvent extends CacheEntryInfo {
  /** What happened: a fetch started, succeeded or failed; an entry was evicted or invalidated. */
  type: 'refresh-started' | 'refresh-succeeded' | 'refresh-failed' | 'eviction' | 'invalidation';
  /** `refresh-*`: true when callers kept cached credentials meanwhile (refresh ahead), false when they waited. */
  background?: boolean;
  /** `refresh-failed`: the `StsError` code. */
  errorCode?: string;
  /** `eviction`: why the entry left (`capacity`, `expired`, `error`; an invalidation is its own event type). */
  reason?: string;
}

/** The shared tier (`cache.shared`) stopped or started using Redis: one event per outage and one per recovery. */
export interface SharedTierEvent {
  /** Always `shared-tier`. */
  type: 'shared-tier';
  /**
   * `unavailable`: Redis failed and the tier is skipped (backing off); `available`: Redis answers again.
   * `invalidation-pending`: invalidations this instance made could not reach Redis yet (they are retried every
   * second, and until then reach no other instance); `invalidations-propagated`: Redis took them all.
   */
  state: 'unavailable' | 'available' | 'invalidation-pending' | 'invalidations-propagated';
  /**
   * `unavailable`: the failure's code, never its message: the socket's (`ECONNREFUSED`), `TimeoutError`, or Redis's own
   * (`OOM`, `READONLY`, `NOSCRIPT`, `WRONGPASS`…, the word its reply begins with).
   */
  errorCode?: string;
  /** `invalidation-pending`: how many Redis keys wait to be invalidated. */
  pending?: number;
}

/** Everything `StsService.events$` emits. */
export type StsEvent = StsCallEvent | CacheEvent | SharedTierEvent;
