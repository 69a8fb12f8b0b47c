import { IoredisStore, isIoredisLike } from './ioredis-store.js';
import { isNodeRedisLike, isNodeRedisSentinel, looksLikeNodeRedis, NodeRedisStore } from './node-redis-store.js';
import type { RedisStore } from './redis-store.js';

/** The Redis clients `cache.shared.redis` takes, as named in the bootstrap error for anything else. */
export const SUPPORTED_REDIS_CLIENTS = 'an ioredis or iovalkey client (or Cluster), or a node-redis v5/v6 client or cluster client';

/** The tier's store over the app's client, or undefined for a client the tier cannot talk to. */
export function redisStoreFor(client: unknown): RedisStore | undefined {
  if (isNodeRedisLike(client)) return new NodeRedisStore(client);
  // Any other node-redis (a Sentinel client, v4) has get, set, eval… too, with other arguments: not ioredis.
  if (looksLikeNodeRedis(client)) return undefined;
  if (isIoredisLike(client)) return new IoredisStore(client);
  return undefined;
}

/** The methods the tier looks for, named first when the bootstrap error lists what an object has. */
const KNOWN_METHODS = ['get', 'set', 'del', 'eval', 'publish', 'duplicate', 'sendCommand', 'connect', 'getSlotRandomNode'];
/** Other method names fill the bootstrap error's list up to this many names. */
const MAX_LISTED = 4;

/**
 * What was given as `cache.shared.redis`, for the bootstrap error: its type, or an object's class and method names —
 * never a value (a client's options may hold a password).
 */
export function describeRedisOption(value: unknown): string {
  if (value === null || value === undefined) return `got ${value}`;
  if (Array.isArray(value)) return 'got an array';
  if (typeof value !== 'object') return `got a ${typeof value}`; // string, number, boolean, bigint, symbol, function
  if (isNodeRedisSentinel(value)) return 'got a node-redis Sentinel client, which the tier does not support (ioredis through Sentinel is)';
  if (looksLikeNodeRedis(value) && !isNodeRedisLike(value)) return 'got a node-redis client older than v5';
  const names = new Set<string>();
  for (let level: object | null = value; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
    // Descriptors, not values: reading a getter could run the client's code.
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(level))) {
      if (name !== 'constructor' && typeof descriptor.value === 'function') names.add(name);
    }
  }
  const className: unknown = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  const named = typeof className === 'string' && /^\w{1,64}$/.test(className) && !['Object', 'Class'].includes(className);
  const what = named ? `a ${className}` : 'an object';
  if (names.size === 0) return `got ${what} with no methods`;
  const known = KNOWN_METHODS.filter((name) => names.has(name));
  const others = [...names].filter((name) => !KNOWN_METHODS.includes(name)).sort();
  const listed = [...known, ...others.slice(0, Math.max(0, MAX_LISTED - known.length))];
  const more = names.size > listed.length ? ` and ${names.size - listed.length} more` : '';
  return `got ${what} with methods ${listed.join(', ')}${more}`;
}
