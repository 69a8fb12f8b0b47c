import { IoredisStore, isIoredisLike } from './ioredis-store.js';
import { isNodeRedisLike, NodeRedisStore } from './node-redis-store.js';
import type { RedisStore } from './redis-store.js';

/** The Redis clients `cache.shared.redis` takes, as named in the bootstrap error for anything else. */
export const SUPPORTED_REDIS_CLIENTS = 'an ioredis or iovalkey client (or Cluster), or a node-redis v5/v6 client or cluster client';

/** The tier's store over the app's client, or undefined for a client the tier cannot talk to. */
export function redisStoreFor(client: unknown): RedisStore | undefined {
  // node-redis first: its clients have get, set, eval… too, with other arguments.
  if (isNodeRedisLike(client)) return new NodeRedisStore(client);
  if (isIoredisLike(client)) return new IoredisStore(client);
  return undefined;
}

/** Most method names `describeRedisOption` lists. */
const MAX_NAMES = 8;

/**
 * What was given as `cache.shared.redis`, for the bootstrap error: its type, or an object's class and method names —
 * never a value (a client's options may hold a password).
 */
export function describeRedisOption(value: unknown): string {
  if (value === null || value === undefined) return `got ${value}`;
  if (Array.isArray(value)) return 'got an array';
  if (typeof value !== 'object') return `got a ${typeof value}`; // string, number, boolean, bigint, symbol, function
  const names = new Set<string>();
  for (let level: object | null = value; level !== null && level !== Object.prototype; level = Object.getPrototypeOf(level)) {
    // Descriptors, not values: reading a getter could run the client's code.
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(level))) {
      if (name !== 'constructor' && typeof descriptor.value === 'function') names.add(name);
    }
  }
  const className: unknown = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  const what = typeof className === 'string' && /^\w{1,64}$/.test(className) && className !== 'Object' ? `a ${className}` : 'an object';
  const sorted = [...names].sort();
  if (sorted.length === 0) return `got ${what} with no methods`;
  const more = sorted.length > MAX_NAMES ? ` and ${sorted.length - MAX_NAMES} more` : '';
  return `got ${what} with methods ${sorted.slice(0, MAX_NAMES).join(', ')}${more}`;
}
