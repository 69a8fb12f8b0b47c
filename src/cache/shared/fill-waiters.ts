/**
 * Loads waiting for another instance to fill a request's address: woken by its `fill` message, or by a timeout
 * (pub/sub may lose the message, so a waiter looks again anyway).
 */
export class FillWaiters {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Resolves at the next `fill` of `address`, or after `ms`. */
  nextFill(address: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(address) ?? new Set();
      this.#waiters.set(address, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(address) === waiters) this.#waiters.delete(address);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** Another instance filled `address`: its waiters look now. */
  filled(address: string): void {
    this.#waiters.get(address)?.forEach((wake) => wake());
  }

  /** Wakes every waiter (the tier closes). */
  wakeAll(): void {
    for (const wake of [...this.#waiters.values()].flatMap((waiters) => [...waiters])) wake();
  }
}
