/**
 * At most `max` STS calls in flight at once; the others wait their turn, first come first served. A caller whose
 * operation deadline passes while it waits leaves the queue at once (its `AbortSignal` fires) and never takes a turn.
 */
export class StsCallLimit {
  #running = 0;
  /** Callers waiting for a turn, in arrival order (a Set keeps it, and drops an aborted one in O(1)). */
  readonly #waiting = new Set<() => void>();

  constructor(private readonly max: number) {}

  /** Runs `call` in a turn of its own; rejects with the signal's reason if it fires before the turn comes. */
  async run<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    await this.#take(signal);
    try {
      return await call();
    } finally {
      this.#give();
    }
  }

  #take(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (this.#running < this.max) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#waiting.delete(granted);
        reject(signal.reason);
      };
      // The turn passes straight from the caller that gives it up: `#running` stays the same.
      const granted = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      this.#waiting.add(granted);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #give(): void {
    const next = this.#waiting.values().next();
    if (next.done) {
      this.#running--;
      return;
    }
    this.#waiting.delete(next.value);
    next.value();
  }
}
