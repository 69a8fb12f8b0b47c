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

/**
 * What a hit, a refresh and an invalidation need, and nothing derived: the entry's facts for events and
 * `invalidateWhere` are made when asked (`infoOf`), its expiry derived from `mandatoryAt` (`expiryOf`).
 */
export interface Entry<Value extends CachedValue> {
  lookup: CacheLookup<Value>;
  credentials: Value;
  /**
   * `credentials` as a settled promise, made once: what every hit returns. Not frozen: async_hooks (AsyncLocalStorage,
   * so nestjs-cls and OpenTelemetry's context) tag a promise when it is first awaited, and a frozen one then throws.
   */
  settled: Promise<Value>;
  /** From here on one background refresh may run (STS time, ms since epoch). */
  refreshAt: number;
  /** From here on the credentials are never handed out. */
  mandatoryAt: number;
  /** Consecutive failed refreshes. */
  failures: number;
  /** No refresh before this time (backoff after a failure). */
  retryAt: number;
  /** The last lookup that was served it (keep-warm refreshes only entries used lately). */
  usedAt: number;
}

/** The non-secret facts of an entry, as events and `invalidateWhere` see them (a new object each time). */
export function infoOf<Value extends CachedValue>({ lookup, credentials }: Entry<Value>): CacheEntryInfo {
  return { key: lookup.key, ...lookup.info, expiration: credentials.expiration };
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
