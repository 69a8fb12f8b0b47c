import type { LRUCache } from 'lru-cache';

/**
 * One options object for every hit's `get`: without one, lru-cache makes an object per call and adds `status` to it
 * (~25 ns and a map transition each time). One shape for every cache, so `get` stays monomorphic on it.
 */
const HIT_OPTIONS: { status?: LRUCache.Status<never, never> } = { status: undefined };

/**
 * `cache.get(key)` (the entry made most recently used), without garbage. `status` is cleared before the call, not
 * only after: a subscriber of lru-cache's `metrics` channel that reads a cache while a status is published (from
 * within the outer `get`) would otherwise be handed that same status, rewritten. Cleared after, so no status (and
 * the value it holds) is kept alive here.
 */
export function lruHit<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(cache: LRUCache<K, V>, key: K): V | undefined {
  HIT_OPTIONS.status = undefined;
  const value = cache.get(key, HIT_OPTIONS as LRUCache.GetOptions<K, V, unknown>);
  HIT_OPTIONS.status = undefined;
  return value;
}
