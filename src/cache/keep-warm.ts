/** Timer functions, injectable so a benchmark can run on virtual time. */
export interface KeepWarmTimers {
  /** Calls `callback` once after `delayMs` (ms); returns a handle for `clear`. Default: `setTimeout(...).unref()`. */
  set(callback: () => void, delayMs: number): unknown;
  /** Cancels a pending `set`. Default: `clearTimeout`. */
  clear(handle: unknown): void;
}

/** How keep-warm refreshes cached credentials in the background. */
export interface KeepWarmSettings {
  /** Only entries used within this many seconds are refreshed; checked by the `refresh` callback (s, default 3600). */
  idleSeconds: number;
  /** At most this many background refreshes in flight at once (default 4). */
  concurrency: number;
  /**
   * Background refreshes started per second, on average (default 10). A token bucket holding as many lets that many
   * through at once after a quiet spell, so no one second sees twice this.
   */
  maxCallsPerSecond: number;
}

/** The defaults of `KeepWarmSettings`. */
export const KEEP_WARM_DEFAULTS: KeepWarmSettings = { idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 };

/** What `KeepWarm` drives: the cache's clock and refresh, and optionally the timers. */
export interface KeepWarmDeps {
  /** The cache's clock, ms since epoch (may be virtual). */
  now(): number;
  /**
   * Starts a background refresh of `key` if it should run now (entry present, used within idleSeconds, due, none in
   * flight); returns its promise, or undefined when it decided not to (no call made, no rate budget spent).
   */
  refresh(key: string): Promise<unknown> | undefined;
  /** Default: Node's `setTimeout` (unref'ed, so it never keeps the process alive) and `clearTimeout`. */
  timers?: KeepWarmTimers;
}

/** Node's timers, unref'ed. */
const NODE_TIMERS: KeepWarmTimers = {
  set: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A heap item: `key` was scheduled for `at`. */
type Item = { at: number; key: string };

/** The longest delay `setTimeout` honours (ms); a later due time is reached by re-arming when it fires. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Refreshes cache entries when their refresh window opens, even if no caller comes: one timer, set for the soonest
 * due key, starts refreshes with at most `concurrency` in flight and `maxCallsPerSecond` started per second (a token
 * bucket holding as many), so a deploy or restart cannot storm STS.
 */
export class KeepWarm {
  /** The settings, read-only (the `refresh` callback reads `idleSeconds`). */
  readonly settings: Readonly<KeepWarmSettings>;
  private readonly timers: KeepWarmTimers;
  /** Each scheduled key's due time; heap items that no longer match it are stale, skipped when they reach the top. */
  private readonly due = new Map<string, number>();
  private heap: Item[] = []; // a min-heap on `at`
  private timer: unknown;
  private timerAt = Infinity;
  private running = 0;
  /** The token bucket: its size (a fractional rate still needs room for one whole call), tokens, and last refill. */
  private readonly capacity: number;
  private tokens: number;
  private refilledAt: number;
  private stopped = false;

  constructor(
    settings: KeepWarmSettings,
    private readonly deps: KeepWarmDeps,
  ) {
    if (!(settings.concurrency >= 1 && settings.maxCallsPerSecond > 0))
      throw new RangeError('keep-warm needs concurrency >= 1 and maxCallsPerSecond > 0');
    this.settings = Object.freeze({ ...settings });
    this.timers = deps.timers ?? NODE_TIMERS;
    this.tokens = this.capacity = Math.max(1, settings.maxCallsPerSecond);
    this.refilledAt = deps.now();
  }

  /** `key` is due at `dueAt` (ms on deps.now's clock); replaces any earlier schedule of key. */
  schedule(key: string, dueAt: number): void {
    if (this.stopped || this.due.get(key) === dueAt) return;
    this.due.set(key, dueAt);
    this.push({ at: dueAt, key });
    this.compact();
    if (dueAt < this.timerAt) this.arm(this.deps.now());
  }

  /** Forget `key` (evicted / invalidated). */
  forget(key: string): void {
    this.due.delete(key);
    this.compact();
    if (this.due.size === 0) this.disarm();
  }

  /** Drops every schedule (cache cleared), timer included; schedule() works again afterwards. */
  clear(): void {
    this.due.clear();
    this.heap = [];
    this.disarm();
  }

  /** Stops for good (module destroy): clears the timer; later schedule() calls are ignored. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  /** Keys scheduled now (for stats/tests). */
  get size(): number {
    return this.due.size;
  }

  /** Starts every due refresh the limits allow, then sets the timer for what remains. */
  private pump(): void {
    if (this.stopped) return;
    const now = this.deps.now();
    const elapsed = now - this.refilledAt;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.settings.maxCallsPerSecond) / 1000);
      this.refilledAt = now;
    }
    // At most one pass over the queue: a callback re-scheduling its key as due right away cannot spin this loop.
    for (let pass = this.heap.length; pass > 0 && this.running < this.settings.concurrency && this.tokens >= 1; pass--) {
      const key = this.popDue(now);
      if (key === undefined) break;
      let started: Promise<unknown> | undefined;
      try {
        started = this.deps.refresh(key);
      } catch {
        continue; // thrown out of a timer callback, it would take the process down
      }
      if (started === undefined) continue;
      this.tokens -= 1;
      this.running += 1;
      started.then(this.settled, this.settled); // a failure is the cache's to report; it must not go unhandled here
    }
    this.arm(now);
  }

  /** A started refresh settled, either way: its slot is free for a queued due key. */
  private readonly settled = (): void => {
    this.running -= 1;
    this.pump();
  };

  /** Sets the one timer for when work can next start; none while every slot is busy (a settling refresh pumps). */
  private arm(now: number): void {
    const next = this.peek();
    if (next === undefined || (next <= now && this.running >= this.settings.concurrency)) return this.disarm();
    // Due now: when the bucket, as of its last refill, holds a whole token again (now, if it already does).
    const tokenAt = this.refilledAt + Math.ceil(((1 - this.tokens) * 1000) / this.settings.maxCallsPerSecond);
    const at = next > now ? next : Math.max(now, tokenAt);
    if (at === this.timerAt) return;
    this.disarm();
    this.timerAt = at;
    this.timer = this.timers.set(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.min(at - now, MAX_DELAY_MS),
    );
  }

  private disarm(): void {
    if (this.timer !== undefined) this.timers.clear(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Rebuilds the heap from `due` once stale items outnumber live ones 2 to 1, so re-scheduling cannot grow it. */
  private compact(): void {
    if (this.heap.length <= 3 * this.due.size) return;
    // A sorted array is a valid min-heap.
    this.heap = [...this.due].map(([key, at]) => ({ at, key })).sort((a, b) => a.at - b.at);
  }

  /** The soonest live due time, dropping stale items on the way. */
  private peek(): number | undefined {
    while (this.heap.length > 0 && this.due.get(this.heap[0].key) !== this.heap[0].at) this.pop();
    return this.heap[0]?.at;
  }

  /** Removes and returns the soonest key if it is due at `now`. */
  private popDue(now: number): string | undefined {
    const next = this.peek();
    if (next === undefined || next > now) return undefined;
    const { key } = this.pop();
    this.due.delete(key);
    return key;
  }

  private push(item: Item): void {
    const heap = this.heap;
    let i = heap.push(item) - 1;
    while (i > 0 && heap[(i - 1) >> 1].at > item.at) {
      heap[i] = heap[(i - 1) >> 1];
      i = (i - 1) >> 1;
    }
    heap[i] = item;
  }

  private pop(): Item {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (let child = 1; child < heap.length; i = child, child = 2 * i + 1) {
      if (child + 1 < heap.length && heap[child + 1].at < heap[child].at) child += 1;
      if (heap[child].at >= last.at) break;
      heap[i] = heap[child];
    }
    heap[i] = last;
    return top;
  }
}
