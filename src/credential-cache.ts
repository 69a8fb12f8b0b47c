import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CredentialCacheSettings } from './server-aws-sts.config.js';
import { REFUSAL_CODES, toStsError, type StsError } from './sts-error.js';
import type { CacheEntryInfo, CacheEvent } from './sts-events.js';
import type { TemporaryCredentials } from './temporary-credentials.js';

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
}

/**
 * Time and randomness, injectable so specs and benchmarks can drive them. `now()` is STS's time: the service
 * passes the host clock corrected by the offset the SDK learned from STS's answers.
 */
export interface CacheClock {
  now(): number;
  random(): number;
}

/** One lookup: the key, how to fetch on a miss, and what to tell events about it. */
export interface CacheLookup {
  key: string;
  /** Fetches fresh credentials; `isRefresh` is true when the key held credentials before. */
  load: (isRefresh: boolean) => Promise<TemporaryCredentials>;
  /** Non-secret facts for events and `invalidateWhere`. */
  info: Omit<CacheEntryInfo, 'key' | 'expiration'>;
  /** False when credentials cannot be fetched again without the caller (a fixed MFA code). */
  refreshAhead: boolean;
  /**
   * False when the caller's next try may succeed where this one was refused (a request with an MFA code: the next
   * code is another input), so a refusal is never answered from memory.
   */
  rememberRefusals: boolean;
}

interface Entry {
  info: CacheEntryInfo;
  credentials: TemporaryCredentials;
  /** From here on one background refresh may run (STS time, ms since epoch). */
  refreshAt: number;
  /** From here on the credentials are never handed out. */
  mandatoryAt: number;
  /** When the credentials expire. */
  expiresAt: number;
  refreshAhead: boolean;
  /** Consecutive failed refreshes. */
  failures: number;
  /** No refresh before this time (backoff after a failure). */
  retryAt: number;
}

const MINUTE = 60_000;
/** Failed refreshes back off 1 s, 2 s, 4 s… up to this, with jitter (ms). */
const MAX_BACKOFF_MS = 5 * MINUTE;
/** A refusal is remembered this long, plus up to as much again of jitter (ms). */
const REFUSAL_MEMORY_MS = 2_000;
/** Refusals remembered at once: a short-lived storm breaker needs no more, whatever `maxEntries` is. */
const REFUSAL_MEMORY_ENTRIES = 1_000;
/** The advisory window is widened by up to this fraction at random, so tenants do not refresh together. */
const JITTER_FRACTION = 0.25;
/** A background refresh starts at least this long before the mandatory window, whatever the windows are (ms). */
const MIN_REFRESH_LEAD_MS = 30_000;
/** At most one warning per this long that valid entries are evicted for capacity (ms). */
const CAPACITY_WARNING_INTERVAL_MS = MINUTE;

/**
 * The default advisory window for credentials of a given lifetime (AWS's converging SDK behaviour):
 * under 20 min → 5 min before expiry, under 90 min → 15 min, else 60 min.
 */
export function defaultRefreshWindowSeconds(lifetimeSeconds: number): number {
  if (lifetimeSeconds < 20 * 60) return 5 * 60;
  if (lifetimeSeconds < 90 * 60) return 15 * 60;
  return 60 * 60;
}

/**
 * Refresh-ahead, single-flight, stale-if-error storage for temporary credentials.
 *
 * - Outside the advisory window a call is a plain lookup.
 * - In the advisory window the first caller starts one background refresh; everyone keeps the cached credentials.
 * - Inside the mandatory window (or with nothing cached) callers wait, and all of them share one fetch.
 * - A refusal (`REFUSAL_CODES`) evicts the entry, reaches the waiting callers and is remembered briefly. Any other
 *   failure (throttling, timeouts, the base identity…) keeps the entry in service until the mandatory window and
 *   backs off before the next try.
 * - There are no timers: every transition happens on a lookup, so nothing keeps the process alive.
 */
export class CredentialCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly refusals = new LRUCache<string, { error: StsError; until: number }>({ max: REFUSAL_MEMORY_ENTRIES });
  private readonly inflight = new Map<string, Promise<TemporaryCredentials>>();
  /** Access key id → cache key, so `invalidateIfCurrent` finds its entry without a scan. */
  private readonly keysByAccessKey = new Map<string, string>();
  private readonly logger = new Logger('StsCredentialCache');
  private counters = { hits: 0, misses: 0, refreshes: 0, refreshFailures: 0, staleServed: 0, evictions: 0 };
  private capacityWarning = { at: -Infinity, evictedSince: 0 };

  constructor(
    private readonly settings: CredentialCacheSettings,
    private readonly emit: (event: CacheEvent) => void,
    private readonly clock: CacheClock = { now: () => Date.now(), random: () => Math.random() },
  ) {
    // `maxSize` with a size of 1 per entry bounds the count like `max`, without reserving memory for `max` up front.
    this.entries = new LRUCache<string, Entry>({
      maxSize: settings.maxEntries,
      sizeCalculation: () => 1,
      dispose: (entry, key, reason) => {
        if (this.keysByAccessKey.get(entry.credentials.accessKeyId) === key) this.keysByAccessKey.delete(entry.credentials.accessKeyId);
        if (reason === 'evict') this.evictedForCapacity(entry);
      },
    });
  }

  /** Cached credentials for `lookup.key`, fetching (once, for all concurrent callers) when needed. */
  get(lookup: CacheLookup): Promise<TemporaryCredentials> {
    const now = this.clock.now();
    const entry = this.entries.get(lookup.key);
    if (entry !== undefined && now < entry.mandatoryAt) {
      this.counters.hits++;
      if (entry.failures > 0) this.counters.staleServed++;
      if (entry.refreshAhead && now >= entry.refreshAt && now >= entry.retryAt && !this.inflight.has(lookup.key)) {
        this.fetch(lookup, entry, true).catch(() => undefined); // callers keep the cached credentials; failures are counted and emitted
      }
      return Promise.resolve(entry.credentials);
    }
    this.counters.misses++;
    const pending = this.inflight.get(lookup.key);
    if (pending !== undefined) return pending;
    const refusal = lookup.rememberRefusals ? this.refusals.get(lookup.key) : undefined;
    if (refusal !== undefined && now < refusal.until) return Promise.reject(refusal.error);
    return this.fetch(lookup, entry, false);
  }

  /** Drops one key; returns whether it held credentials. */
  invalidate(key: string): boolean {
    const entry = this.entries.peek(key);
    this.forget(key);
    if (entry !== undefined) this.emit({ type: 'invalidation', ...entry.info });
    return entry !== undefined;
  }

  /** Drops every entry the predicate selects (it sees only non-secret facts); returns how many. */
  invalidateWhere(predicate: (entry: CacheEntryInfo) => boolean): number {
    const keys = [...this.entries.entries()].filter(([, entry]) => predicate({ ...entry.info })).map(([key]) => key);
    keys.forEach((key) => this.invalidate(key));
    return keys.length;
  }

  /**
   * Drops the entry holding these credentials, and only if it still holds them: for a downstream
   * `ExpiredToken` / `InvalidClientTokenId`, without throwing away credentials a refresh already replaced.
   */
  invalidateIfCurrent(credentials: { accessKeyId: string }): boolean {
    const key = this.keysByAccessKey.get(credentials?.accessKeyId);
    return key !== undefined && this.invalidate(key);
  }

  /** Drops everything: entries, remembered refusals, and the results of fetches still running. */
  clear(): void {
    this.entries.clear();
    this.refusals.clear();
    this.inflight.clear();
    this.keysByAccessKey.clear();
  }

  stats(): CredentialCacheStats {
    return { size: this.entries.size, ...this.counters, inflight: this.inflight.size };
  }

  /** Credential sets not yet expired at `now`, and when the soonest of them expires (ms since epoch). */
  unexpired(now: number): { entries: number; soonestExpiration?: number } {
    let entries = 0;
    let soonestExpiration: number | undefined;
    for (const entry of this.entries.values()) {
      if (entry.expiresAt <= now) continue;
      entries++;
      if (soonestExpiration === undefined || entry.expiresAt < soonestExpiration) soonestExpiration = entry.expiresAt;
    }
    return { entries, soonestExpiration };
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.refusals.delete(key);
    this.inflight.delete(key);
  }

  private fetch(lookup: CacheLookup, previous: Entry | undefined, background: boolean): Promise<TemporaryCredentials> {
    const { key } = lookup;
    const info: CacheEntryInfo = previous?.info ?? { key, ...lookup.info };
    if (previous !== undefined) this.counters.refreshes++;
    this.emit({ type: 'refresh-started', ...info, background });
    // A fetch dropped by invalidate() or clear() meanwhile is no longer the key's: its outcome must not touch the cache.
    const current = () => this.inflight.get(key) === promise;
    const promise: Promise<TemporaryCredentials> = lookup
      .load(previous !== undefined)
      .then((credentials) => this.store(lookup, info, credentials, background, current()))
      .catch((error: unknown) => {
        throw this.failed(lookup, info, toStsError(error, 'AssumeRole'), background, current());
      })
      .finally(() => {
        if (current()) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  private store(lookup: CacheLookup, info: CacheEntryInfo, credentials: TemporaryCredentials, background: boolean, current: boolean): TemporaryCredentials {
    const now = this.clock.now();
    const expiresAt = credentials.expiration.getTime();
    const mandatoryAt = expiresAt - this.settings.mandatoryWindowSeconds * 1000;
    if (mandatoryAt <= now) {
      throw toStsError(
        Object.assign(new Error(`STS returned credentials that expire within the ${this.settings.mandatoryWindowSeconds}s mandatory window`), { name: 'CredentialsExpireTooSoon' }),
        'AssumeRole',
      );
    }
    const stored: CacheEntryInfo = { ...info, expiration: credentials.expiration };
    if (current) {
      const refreshAt = this.refreshTime(now, expiresAt, mandatoryAt);
      this.entries.set(lookup.key, { info: stored, credentials, refreshAt, mandatoryAt, expiresAt, refreshAhead: lookup.refreshAhead, failures: 0, retryAt: 0 });
      this.keysByAccessKey.set(credentials.accessKeyId, lookup.key);
      this.refusals.delete(lookup.key);
    }
    this.emit({ type: 'refresh-succeeded', ...stored, background });
    return credentials;
  }

  /**
   * When the background refresh may start: `refreshWindowSeconds` (or the lifetime-scaled default, jittered)
   * before expiry, but at least `MIN_REFRESH_LEAD_MS` before the mandatory window so it runs while callers keep
   * their credentials, and not in the first half of the usable lifetime so it never runs on every call.
   */
  private refreshTime(now: number, expiresAt: number, mandatoryAt: number): number {
    const windowMs = (this.settings.refreshWindowSeconds ?? defaultRefreshWindowSeconds((expiresAt - now) / 1000)) * 1000 * (1 + JITTER_FRACTION * this.clock.random());
    const beforeMandatory = Math.min(expiresAt - windowMs, mandatoryAt - MIN_REFRESH_LEAD_MS);
    return Math.max(beforeMandatory, now + (mandatoryAt - now) / 2);
  }

  private failed(lookup: CacheLookup, info: CacheEntryInfo, error: StsError, background: boolean, current: boolean): StsError {
    const now = this.clock.now();
    this.counters.refreshFailures++;
    this.emit({ type: 'refresh-failed', ...info, background, errorCode: error.code });
    if (!current) return error;
    const entry = this.entries.peek(info.key);
    if (!error.retryable && REFUSAL_CODES.has(error.code)) {
      if (entry !== undefined) this.evict(entry, 'error');
      if (lookup.rememberRefusals) this.refusals.set(info.key, { error, until: now + REFUSAL_MEMORY_MS * (1 + this.clock.random()) });
    } else if (entry !== undefined && now < entry.mandatoryAt) {
      entry.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (entry.failures - 1)) * (0.5 + 0.5 * this.clock.random());
      entry.retryAt = Math.min(now + backoff, entry.mandatoryAt);
    } else if (entry !== undefined && now >= entry.expiresAt) {
      this.evict(entry, 'expired');
    }
    return error;
  }

  private evict(entry: Entry, reason: 'error' | 'expired'): void {
    this.entries.delete(entry.info.key);
    this.evicted(entry, reason);
  }

  /** The LRU made room: say so loudly when what left could still have been handed out. */
  private evictedForCapacity(entry: Entry): void {
    const now = this.clock.now();
    if (now >= entry.mandatoryAt) return this.evicted(entry, 'expired');
    this.evicted(entry, 'capacity');
    this.capacityWarning.evictedSince++;
    if (now - this.capacityWarning.at >= CAPACITY_WARNING_INTERVAL_MS) {
      this.logger.warn(
        `Evicted ${this.capacityWarning.evictedSince} cached credential set(s) that were still valid to make room: cache.maxEntries (${this.settings.maxEntries}) is smaller than the set of active tenants, so they are assumed again and again. Raise cache.maxEntries.`,
      );
      this.capacityWarning = { at: now, evictedSince: 0 };
    }
  }

  private evicted(entry: Entry, reason: string): void {
    this.counters.evictions++;
    this.emit({ type: 'eviction', ...entry.info, reason });
  }
}
