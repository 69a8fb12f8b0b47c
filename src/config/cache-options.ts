import { defaultKeyId, keyBytes, type SharedEncryptionKey } from '../cache/shared/credential-envelope.js';
import type { SharedRedisClient } from '../cache/shared/ioredis-store.js';
import type { SharedNodeRedisClient, SharedNodeRedisCluster } from '../cache/shared/node-redis-store.js';
import { describeRedisOption, redisStoreFor, SUPPORTED_REDIS_CLIENTS } from '../cache/shared/redis-store-for.js';
import type { RedisStore } from '../cache/shared/redis-store.js';
import type { SharedTierSettings } from '../cache/shared/shared-tier.js';
import { STS_LIMITS } from '../sts/sts-limits.js';
import type { RequestValidator } from '../sts/sts-validation.js';
import type { KeepWarmSettings } from '../cache/keep-warm.js';

/** Options of the credential cache behind `getCredentials`, `credentialProvider`, `createClient` and `clientFor`. */
export interface CredentialCacheOptions {
  /**
   * Most cached credential sets; the least recently used goes first. Each costs about 2.0 KB of heap at 10,000
   * entries and 1.9 KB at 100,000, measured (`npm run bench -- memory [count]`) with credentials the SDK parsed from
   * STS's XML answer (a session token of about 1 KB) and the request strings the cache keeps counted; the same
   * credentials in a plain `Map` take about 1.4 KB. At its first entry a cache reserves lru-cache's tables for
   * `maxEntries` (~22 B a slot: 220 KB at 10,000, 28 MB at 1,000,000); the rest comes as entries arrive: 10,000
   * entries ≈ 19 MB. 1–1,000,000. Default: 10,000.
   * When entries still valid are evicted to make room, the cache emits `eviction` events with reason `capacity`
   * and warns (at most once a minute) that `maxEntries` is too small.
   */
  maxEntries?: number;
  /**
   * Seconds before expiry at which one background refresh starts while callers keep the cached credentials.
   * Default: scaled by lifetime — under 20 min → 300, under 90 min → 900, else 3600 — with jitter.
   * The refresh always starts at least 30 s before the mandatory window (so a window not wider than the mandatory
   * one still refreshes ahead), and never in the first half of the usable lifetime (so it never runs on every call).
   */
  refreshWindowSeconds?: number;
  /**
   * Seconds before expiry inside which cached credentials are never handed out: callers wait for (one shared)
   * fresh fetch. Default: 60. At most 600.
   */
  mandatoryWindowSeconds?: number;
  /**
   * Refreshes entries used lately in the background as their advisory window opens, even if no caller comes, so a
   * tenant active an hour ago never waits on its next request. `true` for the defaults. Default: off.
   */
  keepWarm?: boolean | KeepWarmOptions;
  /**
   * A second tier on the app's Redis (or Valkey), shared by every instance with the same encryption key and base
   * principal: one STS call per request across the fleet, encrypted at rest. Default: none (each instance alone).
   */
  shared?: SharedCacheOptions;
}

/** Options of keep-warm (`cache.keepWarm`). */
export interface KeepWarmOptions {
  /** Only entries a caller used within this many seconds are kept warm. 60–43,200. Default: 3600. */
  idleSeconds?: number;
  /** Most keep-warm refreshes running at once. 1–100. Default: 4. */
  concurrency?: number;
  /** Most keep-warm refreshes started per second, so a deploy or restart cannot storm STS. 1–1,000. Default: 10. */
  maxCallsPerSecond?: number;
}

/** Options of the shared tier (`cache.shared`). */
export interface SharedCacheOptions {
  /**
   * The app's Redis client: ioredis or iovalkey (a `Cluster`, or a client through Sentinel, too), or node-redis v5/v6
   * (`createClient()` or `createCluster()` of the `redis` package, connected by the app with `await client.connect()`).
   * The library never closes it; it opens one connection of its own with `duplicate()`, to subscribe to the fleet's
   * invalidations, and closes that on module destroy.
   */
  redis: SharedRedisClient | SharedNodeRedisClient | SharedNodeRedisCluster;
  /**
   * 32 random bytes (`openssl rand -base64 32`), as their base64 text or a Buffer; or, to rotate, a list of
   * `{ id, key }` (id: 1–64 of `[A-Za-z0-9_-]`) whose first key encrypts and every key decrypts. Keys of Redis entries are derived from it too.
   */
  encryptionKey: string | Buffer | SharedEncryptionKey[];
  /** Prefix of every Redis key and of the pub/sub channel (1–100 printable characters, no space). Default: `nestjs-aws-sts:`. */
  keyPrefix?: string;
  /** Each Redis command is given up after this many milliseconds, and Redis is skipped for a backoff. 10–5000. Default: 200. */
  commandTimeoutMs?: number;
}

/** The cache options with their defaults applied. */
export interface CredentialCacheSettings {
  maxEntries: number;
  mandatoryWindowSeconds: number;
  refreshWindowSeconds?: number;
  keepWarm?: KeepWarmSettings;
  shared?: SharedTierSettings;
}

const BASE64_32_BYTES = /^[A-Za-z0-9+/]{43}=$/;
/** No dot: the stored value's parts are separated by dots. */
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const KEY_PREFIX = /^[\x21-\x7e]{1,100}$/;

const isKey = (key: unknown): key is string | Buffer =>
  (typeof key === 'string' && BASE64_32_BYTES.test(key)) || (key instanceof Uint8Array && key.length === 32);

/** The encryption keys of a checked `encryptionKey`, first the one that encrypts. Never shows a key in a message. */
function encryptionKeysOf(value: SharedCacheOptions['encryptionKey'], validate: RequestValidator): SharedEncryptionKey[] {
  const field = 'cache.shared.encryptionKey';
  if (!Array.isArray(value)) {
    validate.require(isKey(value), field, 'must be 32 bytes: a Buffer, or their base64 text (openssl rand -base64 32)');
    return [{ id: defaultKeyId(value as string | Buffer), key: keyBytes(value as string | Buffer) }];
  }
  validate.require(value.length > 0, field, 'must name at least one key');
  value.forEach((entry, index) => {
    validate.require(
      typeof entry === 'object' && entry !== null && typeof entry.id === 'string' && KEY_ID.test(entry.id),
      `${field}[${index}].id`,
      'must be 1-64 characters of [A-Za-z0-9_-]',
    );
    validate.require(isKey(entry.key), `${field}[${index}].key`, 'must be 32 bytes: a Buffer, or their base64 text');
  });
  validate.require(new Set(value.map(({ id }) => id)).size === value.length, field, 'must not name one id twice');
  return value.map(({ id, key }) => ({ id, key: keyBytes(key) }));
}

/** Applies the cache defaults; each failed rule goes to `check`, which collects the config's problems. */
export function resolveCacheOptions(
  options: CredentialCacheOptions,
  validate: RequestValidator,
  check: (rule: () => void) => void,
): CredentialCacheSettings {
  const settings: CredentialCacheSettings = {
    maxEntries: options.maxEntries ?? 10_000,
    mandatoryWindowSeconds: options.mandatoryWindowSeconds ?? 60,
    refreshWindowSeconds: options.refreshWindowSeconds,
  };
  check(() => validate.integer(settings.maxEntries, 'cache.maxEntries', 1, 1_000_000, { unit: '' }));
  check(() => validate.integer(settings.mandatoryWindowSeconds, 'cache.mandatoryWindowSeconds', 0, 600, { unit: '' }));
  check(
    () =>
      settings.refreshWindowSeconds === undefined ||
      validate.integer(settings.refreshWindowSeconds, 'cache.refreshWindowSeconds', 0, STS_LIMITS.roleDuration.max, { unit: '' }),
  );

  const keepWarmOk =
    options.keepWarm === undefined ||
    typeof options.keepWarm === 'boolean' ||
    (typeof options.keepWarm === 'object' && options.keepWarm !== null);
  check(() => validate.require(keepWarmOk, 'cache.keepWarm', 'must be true, false or { idleSeconds?, concurrency?, maxCallsPerSecond? }'));
  if (keepWarmOk && options.keepWarm !== undefined && options.keepWarm !== false) {
    const keepWarm = options.keepWarm === true ? {} : options.keepWarm;
    const resolved = {
      idleSeconds: keepWarm.idleSeconds ?? 3600,
      concurrency: keepWarm.concurrency ?? 4,
      maxCallsPerSecond: keepWarm.maxCallsPerSecond ?? 10,
    };
    check(() => validate.integer(resolved.idleSeconds, 'cache.keepWarm.idleSeconds', 60, 43_200, { unit: '' }));
    check(() => validate.integer(resolved.concurrency, 'cache.keepWarm.concurrency', 1, 100, { unit: '' }));
    check(() => validate.integer(resolved.maxCallsPerSecond, 'cache.keepWarm.maxCallsPerSecond', 1, 1_000, { unit: '' }));
    settings.keepWarm = resolved;
  }

  if (options.shared !== undefined) {
    const { redis, encryptionKey, keyPrefix = 'nestjs-aws-sts:', commandTimeoutMs = 200 } = options.shared ?? ({} as SharedCacheOptions);
    const store: RedisStore | undefined = redisStoreFor(redis);
    check(() =>
      validate.require(store !== undefined, 'cache.shared.redis', `must be ${SUPPORTED_REDIS_CLIENTS} (${describeRedisOption(redis)})`),
    );
    let encryptionKeys: SharedEncryptionKey[] = [];
    check(() => (encryptionKeys = encryptionKeysOf(encryptionKey, validate)));
    check(() =>
      validate.require(
        typeof keyPrefix === 'string' && KEY_PREFIX.test(keyPrefix),
        'cache.shared.keyPrefix',
        'must be 1-100 printable characters without spaces',
      ),
    );
    check(() => validate.integer(commandTimeoutMs, 'cache.shared.commandTimeoutMs', 10, 5_000, { unit: '' }));
    // Behind functions, like EXTERNAL_ID: inspecting or serialising the resolved config shows neither the keys nor
    // the client (whose options may hold a Redis password).
    settings.shared = { store: () => store!, encryptionKeys: () => encryptionKeys, keyPrefix, commandTimeoutMs };
  }
  return settings;
}
