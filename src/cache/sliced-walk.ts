/**
 * At most this many entries are judged per turn of the event loop: at 100,000 entries one pass held the loop
 * ~200 ms; a slice of this many holds it ~1 ms, even with the shared tier and the client pool told per dropped entry.
 */
export const INVALIDATION_SLICE = 1_000;

/**
 * A slice also ends once it has run this long (ms, checked every `CLOCK_EVERY` keys): after a slow predicate or
 * listener, or a collection that landed in it, the loop gets its turn back instead of waiting for 1,000 keys.
 */
export const SLICE_BUDGET_MS = 4;

/** Keys judged between two readings of the clock (a reading costs about as much as judging a key). */
const CLOCK_EVERY = 16;

/** Resolves on the event loop's next turn, after the I/O and timers waiting now. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Judges every key, in slices of at most `INVALIDATION_SLICE` keys and about `SLICE_BUDGET_MS`: the first one at
 * once, one slice per turn of the event loop after it; resolves to how many `judge` dropped. Keys added to `keys`
 * meanwhile are judged too, if its iteration reaches them.
 */
export async function judgeInSlices(keys: Iterable<string>, judge: (key: string) => boolean): Promise<number> {
  let dropped = 0;
  let inSlice = 0;
  let sliceStarted = performance.now();
  for (const key of keys) {
    if (
      inSlice === INVALIDATION_SLICE ||
      (inSlice > 0 && inSlice % CLOCK_EVERY === 0 && performance.now() - sliceStarted >= SLICE_BUDGET_MS)
    ) {
      await nextTurn();
      inSlice = 0;
      sliceStarted = performance.now();
    }
    inSlice++;
    if (judge(key)) dropped++;
  }
  return dropped;
}
