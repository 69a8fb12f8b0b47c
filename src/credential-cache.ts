import { LRUCache } from 'lru-cache';
import { toStsError, type StsError } from './sts-error';
import type { CacheEntryInfo, CacheEvent } from './sts-events';
import type { TemporaryCredentials } from './temporary-credentials';

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
  /** Entries dropped for capacity (least recently used), expiry, or a non-retryable refresh failure. */
  evictions: number;
  /** STS fetches running now. */
  inflight: number;
}

/** The settings the cache runs on (see `CredentialCacheOptions` for what they mean). */
export interface CredentialCacheSettings {
  maxEntries: number;
  refreshWindowSeconds?: number;
  mandatoryWindowSeconds: number;
}

/** Time and randomness, injectable so tests and benchmarks can drive them. */
export interface CacheClock {
  now(): number;
  random(): number;
}

/** One lookup: the key, how to fetch on a miss, and what to tell events about it. */
export interface CacheLookup {
  key: string;
  /** Fetches fresh credentials; `isRefresh` is true when the key held credentials before. */
  load: (isRefresh: boolean) => Promise<TemporaryCredentials>;
  /** Non-secret facts for events and `invalidateWhere`, asked only on a miss. */
  describe: () => Omit<CacheEntryInfo, 'key' | 'expiration'>;
  /** False when credentials cannot be fetched again without the caller (a fixed MFA code). Default: true. */
  refreshAhead?: boolean;
}

interface Entry {
  info: CacheEntryInfo;
  credentials: TemporaryCredentials;
  /** From here on one background refresh may run (ms since epoch). */
  refreshAt: number;
  /** From here on the credentials are never handed out. */
  mandatoryAt: number;
  refreshAhead: boolean;
  /** Consecutive failed refreshes. */
  failures: number;
  /** No refresh before this time (backoff after a failure). */
  retryAt: number;
}

const MINUTE = 60_000;
/** Retryable refresh failures back off 1 s, 2 s, 4 s… up to this, with jitter (ms). */
const MAX_BACKOFF_MS = 5 * MINUTE;
/** A non-retryable failure is remembered this long, plus up to as much again of jitter (ms). */
const REJECTION_MEMORY_MS = 2_000;
/** The advisory window is widened by up to this fraction at random, so tenants do not refresh together. */
const JITTER_FRACTION = 0.25;

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
 * - A retryable failure keeps the entry (served until the mandatory window) and backs off before the next try;
 *   a non-retryable one evicts it, reaches the waiting callers and is remembered briefly.
 * - There are no timers: every transition happens on a lookup, so nothing keeps the process alive.
 */
export class CredentialCache {
  private readonly entries: LRUCache<string, Entry>;
  private readonly rejections: LRUCache<string, { error: StsError; until: number }>;
  private readonly inflight = new Map<string, Promise<TemporaryCredentials>>();
  private counters = { hits: 0, misses: 0, refreshes: 0, refreshFailures: 0, staleServed: 0, evictions: 0 };

  constructor(
    private readonly settings: CredentialCacheSettings,
    private readonly emit: (event: CacheEvent) => void,
    private readonly clock: CacheClock = { now: () => Date.now(), random: () => Math.random() },
  ) {
    this.entries = new LRUCache<string, Entry>({
      max: settings.maxEntries,
      dispose: (entry, _key, reason) => {
        if (reason === 'evict') this.evicted(entry, 'capacity');
      },
    });
    this.rejections = new LRUCache({ max: settings.maxEntries });
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
    const rejection = this.rejections.get(lookup.key);
    if (rejection !== undefined && now < rejection.until) return Promise.reject(rejection.error);
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
    for (const [key, entry] of this.entries.entries()) {
      if (entry.credentials.accessKeyId === credentials.accessKeyId) return this.invalidate(key);
    }
    return false;
  }

  /** Drops everything: entries, remembered failures, and the results of fetches still running. */
  clear(): void {
    this.entries.clear();
    this.rejections.clear();
    this.inflight.clear();
  }

  stats(): CredentialCacheStats {
    return { size: this.entries.size, ...this.counters, inflight: this.inflight.size };
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.rejections.delete(key);
    this.inflight.delete(key);
  }

  private fetch(lookup: CacheLookup, previous: Entry | undefined, background: boolean): Promise<TemporaryCredentials> {
    const { key } = lookup;
    const info = previous?.info ?? { key, ...lookup.describe() };
    if (previous !== undefined) this.counters.refreshes++;
    this.emit({ type: 'refresh-started', ...info, background });
    // A fetch dropped by invalidate() or clear() meanwhile is no longer the key's: its outcome must not touch the cache.
    const current = () => this.inflight.get(key) === promise;
    const promise: Promise<TemporaryCredentials> = lookup
      .load(previous !== undefined)
      .then((credentials) => this.store(lookup, info, credentials, current()))
      .catch((error: unknown) => {
        throw this.failed(info, toStsError(error, 'AssumeRole'), background, current());
      })
      .finally(() => {
        if (current()) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  private store(lookup: CacheLookup, info: CacheEntryInfo, credentials: TemporaryCredentials, current: boolean): TemporaryCredentials {
    const now = this.clock.now();
    const expiresAt = credentials.expiration.getTime();
    const mandatoryAt = expiresAt - this.settings.mandatoryWindowSeconds * 1000;
    if (mandatoryAt <= now) {
      throw toStsError(
        Object.assign(new Error(`STS returned credentials that expire within the ${this.settings.mandatoryWindowSeconds}s mandatory window`), { name: 'CredentialsExpireTooSoon' }),
        'AssumeRole',
      );
    }
    const lifetimeMs = expiresAt - now;
    const windowMs = (this.settings.refreshWindowSeconds ?? defaultRefreshWindowSeconds(lifetimeMs / 1000)) * 1000 * (1 + JITTER_FRACTION * this.clock.random());
    // A window wider than half the usable lifetime would refresh on (nearly) every call: cut it to half.
    const refreshAt = Math.max(expiresAt - windowMs, now + (mandatoryAt - now) / 2);
    const stored: CacheEntryInfo = { ...info, expiration: credentials.expiration };
    if (current) {
      this.entries.set(lookup.key, { info: stored, credentials, refreshAt, mandatoryAt, refreshAhead: lookup.refreshAhead ?? true, failures: 0, retryAt: 0 });
      this.rejections.delete(lookup.key);
    }
    this.emit({ type: 'refresh-succeeded', ...stored });
    return credentials;
  }

  private failed(info: CacheEntryInfo, error: StsError, background: boolean, current: boolean): StsError {
    const now = this.clock.now();
    this.counters.refreshFailures++;
    this.emit({ type: 'refresh-failed', ...info, background, errorCode: error.code });
    if (!current) return error;
    const entry = this.entries.peek(info.key);
    if (!error.retryable) {
      if (entry !== undefined) {
        this.entries.delete(info.key);
        this.evicted(entry, 'error');
      }
      this.rejections.set(info.key, { error, until: now + REJECTION_MEMORY_MS * (1 + this.clock.random()) });
    } else if (entry !== undefined && now < entry.mandatoryAt) {
      entry.failures++;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (entry.failures - 1)) * (0.5 + 0.5 * this.clock.random());
      entry.retryAt = Math.min(now + backoff, entry.mandatoryAt);
    } else if (entry !== undefined && now >= entry.info.expiration!.getTime()) {
      this.entries.delete(info.key);
      this.evicted(entry, 'expired');
    }
    return error;
  }

  private evicted(entry: Entry, reason: string): void {
    this.counters.evictions++;
    this.emit({ type: 'eviction', ...entry.info, reason });
  }
}
