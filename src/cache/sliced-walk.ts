/**
 * Entries `invalidateWhere` judges per turn of the event loop: at 100,000 entries one pass held the loop ~200 ms;
 * a slice of this many holds it a few ms, even with the shared tier and the client pool told per dropped entry.
 */
export const INVALIDATION_SLICE = 1_000;

/** Resolves on the event loop's next turn, after the I/O and timers waiting now. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Judges every key, in `INVALIDATION_SLICE`s: the first one at once, one slice per turn of the event loop after it;
 * resolves to how many `judge` dropped. Keys added to `keys` meanwhile are judged too, if its iteration reaches them.
 */
export async function judgeInSlices(keys: Iterable<string>, judge: (key: string) => boolean): Promise<number> {
  let judged = 0;
  let dropped = 0;
  for (const key of keys) {
    if (judged > 0 && judged % INVALIDATION_SLICE === 0) await nextTurn();
    judged++;
    if (judge(key)) dropped++;
  }
  return dropped;
}
