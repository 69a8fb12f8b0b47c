import { LRUCache } from 'lru-cache';
import type { CacheClock } from '../cache/credential-cache.js';

/** A rejection of fresh credentials is remembered this long, doubling on each one in a row, plus up to as much again of jitter (ms). */
const REJECTION_MEMORY_MS = 2_000;
/** The longest a rejection is remembered, before jitter (ms). */
const MAX_REJECTION_MEMORY_MS = 5 * 60_000;
/**
 * How long after replacing rejected credentials a rejection of other credentials counts as the fresh ones rejected too
 * (ms). The retry and the requests running meanwhile come within it; a first rejection of the fresh credentials later
 * than that (they were answered otherwise, or not used) is staleness again: at most one replacement per this long.
 */
const REPLACEMENT_TRIAL_MS = 60_000;
/** Scopes remembered at once: a storm breaker needs no more, whatever the cache size is. */
const REJECTION_MEMORY_ENTRIES = 1_000;

/** What one scope (a request's credentials at one service and region) has seen of rejections. */
interface Rejections {
  /** The access key id this scope saw rejected and asked to replace: credentials signed with any other are fresh. */
  replacing?: string;
  /** When `replacing` was set (clock time, ms). */
  replacedAt: number;
  /** Rejections of fresh credentials in a row. */
  inARow: number;
  /** Until when a rejection is let through as the service answered (clock time, ms). */
  until: number;
}

/** What to do with a service's rejection of the credentials an attempt was signed with. */
export type RejectionVerdict = 'replace' | 'let-through';

/**
 * Tells apart credentials that went stale from a service that rejects whatever the role's credentials are (a key
 * not yet propagated, an opt-in region the customer has not enabled). The first rejection in a scope replaces the
 * credentials once; when the credentials fetched after it are rejected too, the scope lets rejections through, as
 * the service answered, for 2–4 s, then 4–8 s… up to 5–10 min, each time trying fresh credentials once more when
 * that runs out. An accepted request ends it, and so does a minute in which the fresh credentials were not rejected
 * (the service answered them otherwise, or they were not used): their first rejection after that is staleness. A
 * scope is a cache key at one service and region, so one region that rejects a tenant costs the tenant nothing
 * elsewhere.
 */
export class RejectionMemory {
  readonly #scopes = new LRUCache<string, Rejections>({ max: REJECTION_MEMORY_ENTRIES });

  constructor(private readonly clock: CacheClock) {}

  /** A service rejected the credentials with this access key id in this scope. */
  rejected(scope: string, accessKeyId: string): RejectionVerdict {
    const now = this.clock.now();
    const seen = this.#scopes.get(scope) ?? { inARow: 0, until: -Infinity, replacedAt: -Infinity };
    this.#scopes.set(scope, seen);
    if (now < seen.until) return 'let-through';
    if (seen.replacing === undefined || now - seen.replacedAt >= REPLACEMENT_TRIAL_MS) {
      // The first rejection, or one long after the last replacement, whose credentials served meanwhile: staleness.
      seen.replacing = accessKeyId;
      seen.replacedAt = now;
      return 'replace';
    }
    // Another attempt signed with the same credentials before they were replaced.
    if (seen.replacing === accessKeyId) return 'replace';
    // Credentials fetched after a rejection were rejected too: staleness was not the fault.
    seen.inARow++;
    seen.until = now + Math.min(MAX_REJECTION_MEMORY_MS, REJECTION_MEMORY_MS * 2 ** (seen.inARow - 1)) * (1 + this.clock.random());
    seen.replacing = undefined;
    return 'let-through';
  }

  /** The service accepted credentials in this scope: the next rejection is staleness again. */
  accepted(scope: string): void {
    this.#scopes.delete(scope);
  }

  /** Forgets every scope (the cache was cleared). */
  clear(): void {
    this.#scopes.clear();
  }
}
