import { LRUCache } from 'lru-cache';
import { Entry, Era, expiryOf, infoOf, unexpiredIn, WarmEntry, type CachedValue, type CacheLookup } from './cache-entry.js';
import type { CredentialCacheStats } from './credential-cache-stats.js';
import { Evictions } from './evictions.js';
import { HeldKeys } from './held-keys.js';
import { lruHit } from './lru-hit.js';
import { KeepWarm, type KeepWarmTimers } from './keep-warm.js';
import { judgeInSlices } from './sliced-walk.js';
import { backoffAfter, refreshTime } from './refresh-timing.js';
import type { CredentialCacheSettings } from '../config/cache-options.js';
import { REFUSAL_CODES } from '../errors/error-codes.js';
import { toStsError, type StsError } from '../errors/sts-error.js';
import type { CacheEntryInfo, CacheEvent } from '../observability/sts-events.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/**
 * Time and randomness, injectable so specs and benchmarks can drive them. `now()` is STS's time: the service
 * passes the host clock corrected by the offset the SDK learned from STS's answers.
 */
export interface CacheClock {
  now(): number;
  random(): number;
  /** Keep-warm's timer. Default: `setTimeout`, unref'ed. */
  timers?: KeepWarmTimers;
}

/** A refusal is remembered this long, plus up to as much again of jitter (ms). */
const REFUSAL_MEMORY_MS = 2_000;
/** Refusals remembered at once: a short-lived storm breaker needs no more, whatever `maxEntries` is. */
const REFUSAL_MEMORY_ENTRIES = 1_000;

/**
 * Refresh-ahead, single-flight, stale-if-error storage for temporary credentials.
 *
 * - Outside the advisory window a call is a plain lookup.
 * - In the advisory window the first caller starts one background refresh; everyone keeps the cached credentials.
 * - Inside the mandatory window (or with nothing cached) callers wait, and all of them share one fetch.
 * - A refusal (`REFUSAL_CODES`) evicts the entry, reaches the waiting callers and is remembered briefly. Any other
 *   failure (throttling, timeouts, the base identity…) keeps the entry in service until the mandatory window and
 *   backs off before the next try.
 * - Without keep-warm there are no timers: every transition happens on a lookup. With it, one unref'ed timer
 *   refreshes entries used within `idleSeconds` as their advisory window opens, even if no caller comes.
 */
export class CredentialCache<Value extends CachedValue = TemporaryCredentials> {
  /** What the cache holds before its first store: empty, never stored into (`store` replaces it first). */
  private readonly nothingHeld = new LRUCache<string, Entry<Value>>({ max: 1 });
  /** Sized for `maxEntries` at the first store (`entriesFor`); replaced whole by `clear()` (one by one: ~60 ms per 100,000). */
  private entries = this.nothingHeld;
  private readonly refusals = new LRUCache<string, { error: StsError; until: number }>({ max: REFUSAL_MEMORY_ENTRIES });
  private readonly inflight = new Map<string, Promise<Value>>();
  /** The keys holding an entry, by access key id, in the order `invalidateWhere` walks them (`HeldKeys`). */
  private heldKeys = new HeldKeys();
  /** The time origin of the entries stored lately. */
  private era?: Era;
  private counters = { hits: 0, misses: 0, refreshes: 0, refreshFailures: 0, staleServed: 0 };
  private readonly evictions: Evictions;
  private readonly keepWarm?: KeepWarm;

  constructor(
    private readonly settings: CredentialCacheSettings,
    private readonly emit: (event: CacheEvent) => void,
    private readonly clock: CacheClock = { now: () => Date.now(), random: () => Math.random() },
  ) {
    this.evictions = new Evictions(settings, emit);
    if (settings.keepWarm)
      this.keepWarm = new KeepWarm(settings.keepWarm, {
        now: () => this.clock.now(),
        refresh: (key) => this.warm(key),
        timers: clock.timers,
      });
  }

  /** Cached credentials for `lookup.key`, fetching (once, for all concurrent callers) when needed. */
  get(lookup: CacheLookup<Value>): Promise<Value> {
    const now = this.clock.now();
    const entry = lruHit(this.entries, lookup.key);
    if (entry !== undefined && now < entry.mandatoryAt) {
      this.counters.hits++;
      if (this.keepWarm !== undefined) (entry as WarmEntry<Value>).usedAt = now; // only keep-warm asks when an entry was last used
      if (entry.failures > 0) this.counters.staleServed++;
      if (this.refreshDue(entry, now)) {
        this.fetch(lookup, entry, true).catch(() => undefined); // callers keep the cached credentials; failures are counted and emitted
      }
      return entry.settled;
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
    if (entry !== undefined) this.emit(infoOf(entry, 'invalidation'));
    return entry !== undefined;
  }

  /**
   * Drops every entry the predicate selects (it sees only non-secret facts, on a copy); resolves to how many.
   *
   * The keys are judged in the order their credentials were stored (a refresh moves a key last), in slices of at most
   * `INVALIDATION_SLICE` keys and about `SLICE_BUDGET_MS` of work: the first one at once, one slice per turn of the
   * event loop after it, so a large cache (or a slow predicate) never holds the loop. Each key is judged on what it
   * holds when its turn comes, and dropped then, with any fetch of it still running (whose result is then not stored):
   * once selected it is never served again, until a later call fetches it anew. Keys stored while it runs are judged
   * too, last (a key refreshed after its turn, again, on its new credentials). A predicate that throws rejects the
   * promise; what earlier slices dropped stays dropped.
   */
  invalidateWhere(predicate: (entry: CacheEntryInfo) => boolean): Promise<number> {
    return judgeInSlices(this.heldKeys.keys(), (key) => {
      const entry = this.entries.peek(key);
      return entry !== undefined && predicate(infoOf(entry)) && this.invalidate(key);
    });
  }

  /**
   * Drops the entry holding these credentials, and only if it still holds them: for a downstream
   * `ExpiredToken` / `InvalidClientTokenId`, without throwing away credentials a refresh already replaced.
   */
  invalidateIfCurrent(credentials: { accessKeyId: string }): boolean {
    const key = this.keyHolding(credentials);
    return key !== undefined && this.invalidate(key);
  }

  /**
   * Drops everything: entries, remembered refusals, and the results of fetches still running. In constant time
   * whatever the size: the entries and their index are replaced, not emptied one by one (dropping emits nothing).
   */
  clear(): void {
    this.entries = this.nothingHeld;
    this.heldKeys = new HeldKeys();
    this.refusals.clear();
    this.inflight.clear();
    this.keepWarm?.clear();
  }

  /** Stops keep-warm's timer for good (module destroy). */
  stop(): void {
    this.keepWarm?.stop();
  }

  /** When the credentials held under `key` expire (ms since epoch), if it holds any. */
  expirationOf(key: string): number | undefined {
    const entry = this.entries.peek(key);
    return entry && expiryOf(entry, this.settings);
  }

  /** The access key id of the credentials held under `key`, if it holds any. */
  accessKeyIdOf(key: string): string | undefined {
    return this.entries.peek(key)?.credentials.accessKeyId;
  }

  /** The lookup whose credentials `key` holds, if it holds any. */
  lookupOf(key: string): CacheLookup<Value> | undefined {
    return this.entries.peek(key)?.lookup;
  }

  /** The lookups of every entry held now, least recently used last. */
  *heldLookups(): IterableIterator<CacheLookup<Value>> {
    for (const entry of this.entries.values()) yield entry.lookup;
  }

  /** The key holding credentials with this access key id, if any. */
  keyHolding(credentials: { accessKeyId: string }): string | undefined {
    const accessKeyId = credentials?.accessKeyId;
    if (typeof accessKeyId !== 'string') return undefined;
    const key = this.heldKeys.filedUnder(accessKeyId);
    return key !== undefined && this.entries.peek(key)?.credentials.accessKeyId === accessKeyId ? key : undefined;
  }

  stats(): CredentialCacheStats {
    return { size: this.entries.size, ...this.counters, evictions: this.evictions.count, inflight: this.inflight.size };
  }

  /** Credential sets not yet expired at `now`, and when the soonest of them expires (ms since epoch). */
  unexpired(now: number): { entries: number; soonestExpiration?: number } {
    return unexpiredIn(this.entries.values(), this.settings, now);
  }

  /**
   * The LRU that holds entries. `max` reserves lru-cache's tables for `maxEntries` (~22 B a slot: 220 KB at 10,000)
   * when made, on the first store, and needs no more: ~57 B less per entry at 10,000 than a `maxSize` of one per entry,
   * whose tables grow as plain arrays. A cache that never stores (a service's web identity tokens, mostly) reserves
   * nothing.
   */
  private entriesFor(): LRUCache<string, Entry<Value>> {
    return new LRUCache<string, Entry<Value>>({
      max: this.settings.maxEntries,
      dispose: (entry, key, reason) => {
        this.heldKeys.release(key, entry.credentials);
        if (reason !== 'set') this.keepWarm?.forget(key);
        if (reason === 'evict') this.evictions.forCapacity(entry, this.clock.now());
      },
    });
  }

  /** Keep-warm's refresh of `key`: started only for an entry due, used within `idleSeconds`, and not refreshing already. */
  private warm(key: string): Promise<Value> | undefined {
    const entry = this.entries.peek(key);
    const now = this.clock.now();
    if (entry === undefined || now >= entry.mandatoryAt || !this.refreshDue(entry, now)) return undefined;
    if (now - (entry as WarmEntry<Value>).usedAt > this.settings.keepWarm!.idleSeconds * 1000) return undefined;
    return this.fetch(entry.lookup, entry, true);
  }

  /** Whether a background refresh of a servable entry may start now: in its advisory window, past any backoff, none running. */
  private refreshDue(entry: Entry<Value>, now: number): boolean {
    return now >= entry.refreshAt && entry.lookup.refreshAhead && !this.inflight.has(entry.lookup.key);
  }

  private forget(key: string): void {
    this.entries.delete(key);
    this.refusals.delete(key);
    this.inflight.delete(key);
  }

  private fetch(lookup: CacheLookup<Value>, previous: Entry<Value> | undefined, background: boolean): Promise<Value> {
    const { key } = lookup;
    const info: CacheEntryInfo = previous === undefined ? { key, ...lookup.info } : infoOf(previous);
    if (previous !== undefined) this.counters.refreshes++;
    this.emit({ type: 'refresh-started', ...info, background });
    // A fetch dropped by invalidate() or clear() meanwhile is no longer the key's: its outcome must not touch the cache.
    const current = () => this.inflight.get(key) === promise;
    const promise: Promise<Value> = lookup
      .load(previous?.credentials)
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

  private store(lookup: CacheLookup<Value>, info: CacheEntryInfo, credentials: Value, background: boolean, current: boolean): Value {
    const now = this.clock.now();
    const expiresAt = credentials.expiration.getTime();
    const mandatoryAt = expiresAt - this.settings.mandatoryWindowSeconds * 1000;
    if (mandatoryAt <= now) {
      throw toStsError(
        Object.assign(
          new Error(`STS returned credentials that expire within the ${this.settings.mandatoryWindowSeconds}s mandatory window`),
          { name: 'CredentialsExpireTooSoon' },
        ),
        'AssumeRole',
      );
    }
    if (current) {
      // Adopted credentials may be halfway through their life already: their windows run from when STS issued them.
      const issuedAt = Math.min(now, lookup.issuedAt?.(credentials) ?? now);
      const refreshAt = refreshTime(this.settings, issuedAt, expiresAt, mandatoryAt, this.clock.random());
      this.era = Era.at(now, this.era);
      if (this.entries === this.nothingHeld) this.entries = this.entriesFor();
      const times = { mandatoryAt, refreshAt };
      // With keep-warm, an entry knows when it was last served (a background refresh keeps that time).
      const previous = background ? (this.entries.peek(lookup.key) as WarmEntry<Value> | undefined) : undefined;
      const entry = this.keepWarm
        ? new WarmEntry(lookup, credentials, this.era, { ...times, usedAt: previous?.usedAt ?? now })
        : new Entry(lookup, credentials, this.era, times);
      this.entries.set(lookup.key, entry);
      if (lookup.refreshAhead) this.keepWarm?.schedule(lookup.key, refreshAt);
      this.heldKeys.hold(lookup.key, credentials);
      this.refusals.delete(lookup.key);
    }
    this.emit({ type: 'refresh-succeeded', ...info, expiration: credentials.expiration, background });
    return credentials;
  }

  private failed(lookup: CacheLookup<Value>, info: CacheEntryInfo, error: StsError, background: boolean, current: boolean): StsError {
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
      entry.refreshAt = Math.min(now + backoffAfter(entry.failures, this.clock.random()), entry.mandatoryAt);
      if (entry.lookup.refreshAhead && entry.refreshAt < entry.mandatoryAt) this.keepWarm?.schedule(info.key, entry.refreshAt);
    } else if (entry !== undefined && now >= expiryOf(entry, this.settings)) {
      this.evict(entry, 'expired');
    }
    return error;
  }

  private evict(entry: Entry<Value>, reason: 'error' | 'expired'): void {
    this.entries.delete(entry.lookup.key);
    this.evictions.evicted(entry, reason);
  }
}
