import type { CachedValue } from './cache-entry.js';

/**
 * Every key holding an entry, by its value's access key id: how `invalidateIfCurrent` finds its entry without a scan,
 * and the order `invalidateWhere` walks across turns of the event loop (a Map's iteration survives additions and
 * deletions; the LRU's order changes with every hit). A value without an access key id, or whose access key id
 * another key holds already (a test's fixed answer), is filed by its own key. A key moves last when its value is
 * replaced. One index for both: a second one cost ~30 B per entry, and a snapshot of the LRU's keys instead held the
 * loop ~15 ms per 100,000 keys (lru-cache's generator).
 */
export class HeldKeys {
  readonly #byAccessKey = new Map<string, string>();

  /** Files `key`, just stored with `value` (last: it was released when its previous value left). */
  hold(key: string, value: CachedValue): void {
    const { accessKeyId } = value;
    const taken = accessKeyId !== undefined && this.#byAccessKey.has(accessKeyId);
    this.#byAccessKey.set(accessKeyId === undefined || taken ? key : accessKeyId, key);
  }

  /** Takes `key`, whose `value` is leaving, out, wherever `hold` filed it. */
  release(key: string, value: CachedValue): void {
    const { accessKeyId } = value;
    if (accessKeyId !== undefined && this.#byAccessKey.get(accessKeyId) === key) this.#byAccessKey.delete(accessKeyId);
    else if (this.#byAccessKey.get(key) === key) this.#byAccessKey.delete(key);
  }

  /**
   * The key filed under this access key id, if any: the caller checks it still holds it (a value without an access key
   * id is filed under its own key, which an access key id could spell).
   */
  filedUnder(accessKeyId: string): string | undefined {
    return this.#byAccessKey.get(accessKeyId);
  }

  /** Every key, in the order filed; the iteration goes on through keys filed while it runs. */
  keys(): IterableIterator<string> {
    return this.#byAccessKey.values();
  }
}
