/**
 * `lruHit`: lru-cache's `get` through one shared options object. With a subscriber on lru-cache's `metrics`
 * diagnostics channel, lru-cache puts a status object on that options object and publishes it; each call must
 * publish a status of its own, even when the subscriber itself reads a cache while the status is published.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { LRUCache } from 'lru-cache';
import { lruHit } from '../../../src/cache/lru-hit';

type Status = LRUCache.Status<string, string> & { op?: string; key?: string; cache?: unknown };

/** Runs `body` with `onStatus` subscribed to lru-cache's metrics channel. */
function withMetrics(onStatus: (status: Status) => void, body: () => void): void {
  const listener = (message: unknown) => onStatus(message as Status);
  subscribe('lru-cache:metrics', listener);
  try {
    body();
  } finally {
    unsubscribe('lru-cache:metrics', listener);
  }
}

describe('lruHit', () => {
  it('returns the value and makes it the most recently used, as get does', () => {
    const cache = new LRUCache<string, string>({ max: 2 });
    cache.set('a', 'A').set('b', 'B');
    expect(lruHit(cache, 'a')).toBe('A');
    cache.set('c', 'C'); // evicts the least recently used: 'b'
    expect([...cache.keys()].sort()).toEqual(['a', 'c']);
    expect(lruHit(cache, 'missing')).toBeUndefined();
  });

  it('publishes a status object of its own per call to a metrics subscriber', () => {
    const cache = new LRUCache<string, string>({ max: 10 });
    cache.set('a', 'A').set('b', 'B');
    const published: Status[] = [];
    withMetrics(
      (status) => status.op === 'get' && published.push(status),
      () => {
        lruHit(cache, 'a');
        lruHit(cache, 'b');
      },
    );
    expect(published).toHaveLength(2);
    expect(published[0]).not.toBe(published[1]);
    expect(published.map(({ key, value }) => [key, value])).toEqual([
      ['a', 'A'],
      ['b', 'B'],
    ]);
  });

  it("a subscriber that reads another cache while a status is published gets that read's own status, and the first one is left as it was", () => {
    const tenants = new LRUCache<string, string>({ max: 10 });
    tenants.set('tenant-a', 'credentials of tenant a');
    const other = new LRUCache<string, string>({ max: 10 });
    const published: Array<{ status: Status; seen: Pick<Status, 'key' | 'cache' | 'get' | 'value'> }> = [];
    withMetrics(
      (status) => {
        if (status.op !== 'get') return;
        const { key, cache, get, value } = status;
        published.push({ status, seen: { key, cache, get, value } });
        if (status.cache === tenants) lruHit(other, 'tenant-b'); // a miss, in another cache
      },
      () => expect(lruHit(tenants, 'tenant-a')).toBe('credentials of tenant a'),
    );
    expect(published).toHaveLength(2);
    const [outer, inner] = published;
    // The nested read's status says what happened to it: a miss of its key in its cache, with no value of another's.
    expect(inner.seen).toEqual({ key: 'tenant-b', cache: other, get: 'miss', value: undefined });
    expect(inner.status).not.toBe(outer.status);
    // And the status the subscriber was handed first still describes the first read.
    expect(outer.status).toMatchObject({ key: 'tenant-a', cache: tenants, get: 'hit', value: 'credentials of tenant a' });
  });
});
