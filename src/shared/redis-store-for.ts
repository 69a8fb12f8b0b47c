import { IoredisStore, isIoredisLike } from './ioredis-store.js';
import type { RedisStore } from './redis-store.js';

/** The Redis clients `cache.shared.redis` takes, as named in the bootstrap error for anything else. */
export const SUPPORTED_REDIS_CLIENTS = 'an ioredis or iovalkey client (or Cluster)';

/** The tier's store over the app's client, or undefined for a client the tier cannot talk to. */
export function redisStoreFor(client: unknown): RedisStore | undefined {
  if (isIoredisLike(client)) return new IoredisStore(client);
  return undefined;
}
