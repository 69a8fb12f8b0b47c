/**
 * Entries `invalidateWhere` judges per turn of the event loop: at 100,000 entries one pass held the loop ~200 ms;
 * a slice of this many holds it a few ms, even with the shared tier and the client pool told per dropped entry.
 */
export const INVALIDATION_SLICE = 1_000;

/** Resolves on the event loop's next turn, after the I/O and timers waiting now. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The keys one `invalidateWhere` judges: those held when it started, in the order given (the cache's least recently
 * used first), then those first stored while it runs, in the order stored. The cache tells it of each key it starts
 * holding (`stored`) and stops holding (`dropped`) meanwhile: a key dropped and stored again before its turn is
 * judged once, with the keys stored meanwhile; one stored again after its turn is judged again, on what it holds then.
 * Nothing is kept per entry: the snapshot lives as long as the walk.
 */
export class KeyWalk {
  /** Keys first stored since the walk started and held still, in the order stored. */
  private readonly storedMeanwhile = new Set<string>();

  constructor(private readonly heldAtStart: readonly string[]) {}

  stored(key: string): void {
    this.storedMeanwhile.add(key);
  }

  dropped(key: string): void {
    this.storedMeanwhile.delete(key);
  }

  *keys(): IterableIterator<string> {
    for (const key of this.heldAtStart) if (!this.storedMeanwhile.has(key)) yield key;
    // A Set's iteration reaches the keys added while it runs, and skips those deleted before their turn.
    yield* this.storedMeanwhile;
  }
}

/**
 * Judges every key, in `INVALIDATION_SLICE`s: the first one at once, one slice per turn of the event loop after it;
 * resolves to how many `judge` dropped. Keys `keys` yields meanwhile are judged too.
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
