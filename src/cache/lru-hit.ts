import type { LRUCache } from 'lru-cache';

/**
 * One options object for every hit's `get`: without one, lru-cache makes an object per call and adds `status` to it
 * (~25 ns and a map transition each time). One shape for every cache, so `get` stays monomorphic on it.
 */
const HIT_OPTIONS: { status?: LRUCache.Status<never, never> } = { status: undefined };

/** `cache.get(key)` (the entry made most recently used), without garbage; `status` reset for the next call. */
export function lruHit<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(cache: LRUCache<K, V>, key: K): V | undefined {
  const value = cache.get(key, HIT_OPTIONS as LRUCache.GetOptions<K, V, unknown>);
  HIT_OPTIONS.status = undefined;
  return value;
}
