import type { CredentialCacheSettings } from '../config/cache-options.js';
import type { CacheEntryInfo } from '../observability/sts-events.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/**
 * What the cache holds: a secret value with an expiry — credentials (indexed by their access key id too, for
 * `invalidateIfCurrent`), or a web identity token.
 */
export interface CachedValue {
  readonly expiration: Date;
  readonly accessKeyId?: string;
}

/** One lookup: the key, how to fetch on a miss, and what to tell events about it. */
export interface CacheLookup<Value extends CachedValue = TemporaryCredentials> {
  key: string;
  /** Fetches fresh credentials; `current` is what the key holds now (undefined on its first fetch). */
  load: (current: Value | undefined) => Promise<Value>;
  /** Non-secret facts for events and `invalidateWhere`. */
  info: Omit<CacheEntryInfo, 'key' | 'expiration'>;
  /** False when credentials cannot be fetched again without the caller (a fixed MFA code). */
  refreshAhead: boolean;
  /**
   * When STS issued credentials this instance did not fetch itself (adopted from the shared tier), so their windows
   * run from then, not from their arrival here; undefined for credentials fetched here (timed from now).
   */
  issuedAt?: (credentials: Value) => number | undefined;
  /**
   * False when the caller's next try may succeed where this one was refused (a request with an MFA code: the next
   * code is another input), so a refusal is never answered from memory.
   */
  rememberRefusals: boolean;
}

/** Entries stored within this long of one another share a time origin (ms; 2^29, about 6 days). */
const ERA_MS = 2 ** 29;

/**
 * A time origin shared by the entries stored in one stretch of time (ms since epoch). An entry keeps its times as
 * whole milliseconds from it: small integers V8 stores in the entry itself, where times since 1970 would each be a
 * heap number of their own (16 bytes). An entry's times stay within its lifetime of its era's start, far inside the
 * ±2^30 of a small integer.
 */
export class Era {
  private constructor(readonly epoch: number) {}

  /** The era `current` if it started within `ERA_MS` of `now`, else a new one starting at `now`. */
  static at(now: number, current?: Era): Era {
    return current !== undefined && now - current.epoch < ERA_MS && now >= current.epoch ? current : new Era(Math.floor(now));
  }
}

/**
 * `time` as whole ms from `epoch`, rounded down. `| 0` makes it a small integer in every tier of V8 (the
 * interpreter's subtraction of two heap numbers gives a heap number, even an integral one) when it fits 32 bits.
 */
function offset(time: number, epoch: number): number {
  const ms = Math.floor(time) - epoch;
  return (ms | 0) === ms ? ms | 0 : ms;
}

/**
 * What a hit, a refresh and an invalidation need, and nothing derived: the entry's facts for events and
 * `invalidateWhere` are made when asked (`infoOf`), its expiry derived from `mandatoryAt` (`expiryOf`). Its times
 * (STS time, ms since epoch) are read and written as such, and kept as offsets from its era, rounded down to the
 * millisecond (a refresh or a retry allowed up to 1 ms early; the credentials never handed out later).
 */
export class Entry<Value extends CachedValue> {
  /** Consecutive failed refreshes. */
  failures = 0;
  /**
   * `credentials` as a settled promise, made once: what every hit returns. Not frozen: async_hooks (AsyncLocalStorage,
   * so nestjs-cls and OpenTelemetry's context) tag a promise when it is first awaited, and a frozen one then throws.
   */
  readonly settled: Promise<Value>;
  private readonly mandatoryIn: number;
  private refreshIn: number;

  constructor(
    readonly lookup: CacheLookup<Value>,
    readonly credentials: Value,
    protected readonly era: Era,
    times: { mandatoryAt: number; refreshAt: number },
  ) {
    this.mandatoryIn = offset(times.mandatoryAt, era.epoch);
    this.refreshIn = offset(times.refreshAt, era.epoch);
    this.settled = Promise.resolve(credentials);
  }

  /** From here on the credentials are never handed out. */
  get mandatoryAt(): number {
    return this.era.epoch + this.mandatoryIn;
  }

  /**
   * From here on one background refresh may run: the advisory window's start, then, after a failed refresh, the end
   * of its backoff (always later: a refresh runs only once due).
   */
  get refreshAt(): number {
    return this.era.epoch + this.refreshIn;
  }

  set refreshAt(time: number) {
    this.refreshIn = offset(time, this.era.epoch);
  }
}

/** An entry of a cache with keep-warm, which refreshes only the entries used lately: it knows when it last was. */
export class WarmEntry<Value extends CachedValue> extends Entry<Value> {
  private usedIn: number;

  constructor(lookup: CacheLookup<Value>, credentials: Value, era: Era, times: { mandatoryAt: number; refreshAt: number; usedAt: number }) {
    super(lookup, credentials, era, times);
    this.usedIn = offset(times.usedAt, era.epoch);
  }

  /** The last lookup that was served it. */
  get usedAt(): number {
    return this.era.epoch + this.usedIn;
  }

  set usedAt(time: number) {
    this.usedIn = offset(time, this.era.epoch);
  }
}

/**
 * The non-secret facts of an entry, as events and `invalidateWhere` see them (a new object each time); with `type`,
 * as an event of that type, built in one object (`invalidateWhere` may drop 100,000 at once).
 */
export function infoOf<Value extends CachedValue>(entry: Entry<Value>): CacheEntryInfo;
export function infoOf<Value extends CachedValue, Type extends string>(entry: Entry<Value>, type: Type): CacheEntryInfo & { type: Type };
export function infoOf<Value extends CachedValue>(
  { lookup, credentials }: Entry<Value>,
  type?: string,
): CacheEntryInfo & { type?: string } {
  if (type === undefined) return { key: lookup.key, ...lookup.info, expiration: credentials.expiration };
  return { type, key: lookup.key, ...lookup.info, expiration: credentials.expiration };
}

/**
 * When an entry's credentials expire (ms since epoch), as STS issued them: from the number stored, never from the
 * credentials' `Date`, which every caller was handed and may change in place.
 */
export function expiryOf<Value extends CachedValue>(
  entry: Entry<Value>,
  settings: Pick<CredentialCacheSettings, 'mandatoryWindowSeconds'>,
): number {
  return entry.mandatoryAt + settings.mandatoryWindowSeconds * 1000;
}

/** Of these entries, those not yet expired at `now`, and when the soonest of them expires (ms since epoch). */
export function unexpiredIn<Value extends CachedValue>(
  entries: Iterable<Entry<Value>>,
  settings: Pick<CredentialCacheSettings, 'mandatoryWindowSeconds'>,
  now: number,
): { entries: number; soonestExpiration?: number } {
  let count = 0;
  let soonestExpiration: number | undefined;
  for (const entry of entries) {
    const expiry = expiryOf(entry, settings);
    if (expiry <= now) continue;
    count++;
    if (soonestExpiration === undefined || expiry < soonestExpiration) soonestExpiration = expiry;
  }
  return { entries: count, soonestExpiration };
}
