/**
 * Keep-warm: one timer for the soonest due key starts background refreshes when their window opens, at most
 * `concurrency` in flight and at most `maxCallsPerSecond` started per second, so a restart cannot storm STS.
 */
import { KEEP_WARM_DEFAULTS, KeepWarm, type KeepWarmSettings, type KeepWarmTimers } from '../../../src/cache/keep-warm';
import { eventually } from '../../support/async-helpers';

const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const SECOND = 1000;

/** Lets promise callbacks (a settling refresh) run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A hand-moved clock with timers on it, counting how many are pending at once. */
class VirtualTime {
  now = T0;
  readonly pending = new Map<number, { at: number; callback: () => void }>();
  sets = 0;
  maxPending = 0;
  readonly timers: KeepWarmTimers = {
    set: (callback, delayMs) => {
      const id = ++this.sets;
      this.pending.set(id, { at: this.now + delayMs, callback });
      this.maxPending = Math.max(this.maxPending, this.pending.size);
      return id;
    },
    clear: (handle) => void this.pending.delete(handle as number),
  };

  /** When the pending timer fires, if one is. */
  get timerAt(): number | undefined {
    return [...this.pending.values()][0]?.at;
  }

  /** Moves the clock to `to`, firing each timer at its time and letting what it started settle. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      const [id, timer] = [...this.pending].sort(([, a], [, b]) => a.at - b.at)[0] ?? [];
      if (timer === undefined || timer.at > to) break;
      this.pending.delete(id!);
      this.now = Math.max(this.now, timer.at);
      timer.callback();
      await flush();
    }
    this.now = to;
    await flush();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.now + ms);
  }
}

const everyClock: VirtualTime[] = [];
afterEach(() => {
  for (const time of everyClock.splice(0)) expect(time.maxPending).toBeLessThanOrEqual(1);
});

/**
 * A keep-warm on virtual time whose refreshes are recorded and answered as `answer` decides: 'hold' settles when the
 * test calls `settle` (never, if it does not), 'resolve' at once, 'reject' fails at once, 'decline' starts nothing.
 */
function keepWarmOn(
  settings: Partial<KeepWarmSettings> = {},
  answer: (key: string) => 'hold' | 'resolve' | 'decline' | 'reject' = () => 'hold',
) {
  const time = new VirtualTime();
  everyClock.push(time);
  const starts: Array<{ key: string; at: number }> = [];
  const held = new Map<string, () => void>();
  let mostInFlight = 0;
  let inFlight = 0;
  const keepWarm = new KeepWarm(
    { ...KEEP_WARM_DEFAULTS, ...settings },
    {
      now: () => time.now,
      timers: time.timers,
      refresh: (key) => {
        const how = answer(key);
        if (how === 'decline') return undefined;
        starts.push({ key, at: time.now });
        mostInFlight = Math.max(mostInFlight, ++inFlight);
        const done = () => inFlight--;
        if (how === 'reject') return Promise.reject(new Error(`refresh of ${key} failed`)).finally(done);
        if (how === 'resolve') return Promise.resolve().then(done);
        return new Promise<void>((resolve) => held.set(key, resolve)).then(done);
      },
    },
  );
  /** Settles held refreshes (all by default). */
  const settle = (keys = [...held.keys()]) => {
    for (const key of keys) {
      held.get(key)?.();
      held.delete(key);
    }
    return flush();
  };
  return { time, keepWarm, starts, held, settle, keys: () => starts.map((start) => start.key), mostInFlight: () => mostInFlight };
}

describe('keep-warm timing', () => {
  it('starts a refresh within the tick its entry becomes due, not earlier', async () => {
    const { time, keepWarm, starts } = keepWarmOn();
    keepWarm.schedule('tenant-a', T0 + 5 * SECOND);
    expect(keepWarm.size).toBe(1);
    await time.advanceTo(T0 + 5 * SECOND - 1);
    expect(starts).toEqual([]);
    await time.advance(1);
    expect(starts).toEqual([{ key: 'tenant-a', at: T0 + 5 * SECOND }]);
    expect(keepWarm.size).toBe(0); // started: the cache schedules it again once it holds fresh credentials
  });

  it('keeps one timer for many keys, set for the soonest, and starts each key when it is due', async () => {
    const { time, keepWarm, starts } = keepWarmOn({}, () => 'resolve');
    // In an order where a sooner key keeps arriving (50 s, 87 s, 24 s, …, 9 s, …), each re-arming the timer.
    const dueAt = Array.from({ length: 100 }, (_, i) => T0 + ((i * 37 + 50) % 100) * SECOND + 500);
    dueAt.forEach((at, i) => keepWarm.schedule(`tenant-${i}`, at));
    expect(time.pending.size).toBe(1);
    expect(time.timerAt).toBe(Math.min(...dueAt));
    await time.advance(200 * SECOND);
    expect(starts).toHaveLength(100);
    for (const { key, at } of starts) expect(at).toBe(dueAt[Number(key.split('-')[1])]);
    expect(time.pending.size).toBe(0);
  });

  it('re-arms for a sooner schedule, and a re-scheduled key runs only at its latest due time', async () => {
    const { time, keepWarm, starts } = keepWarmOn({}, () => 'resolve');
    keepWarm.schedule('later', T0 + 60 * SECOND);
    keepWarm.schedule('sooner', T0 + 10 * SECOND);
    expect(time.timerAt).toBe(T0 + 10 * SECOND);
    keepWarm.schedule('later', T0 + 5 * SECOND);
    expect(time.timerAt).toBe(T0 + 5 * SECOND);
    keepWarm.schedule('sooner', T0 + 30 * SECOND);
    expect(time.pending.size).toBe(1);
    await time.advance(120 * SECOND);
    expect(starts).toEqual([
      { key: 'later', at: T0 + 5 * SECOND },
      { key: 'sooner', at: T0 + 30 * SECOND },
    ]);
  });

  it('reaches a due time beyond the longest setTimeout delay', async () => {
    const { time, keepWarm, starts } = keepWarmOn();
    const dueAt = T0 + 40 * 24 * 3600 * SECOND; // 40 days
    keepWarm.schedule('far', dueAt);
    expect(time.timerAt! - T0).toBeLessThanOrEqual(2 ** 31 - 1);
    await time.advanceTo(dueAt - 1);
    expect(starts).toEqual([]);
    await time.advanceTo(dueAt);
    expect(starts).toEqual([{ key: 'far', at: dueAt }]);
  });
});

describe('keep-warm limits', () => {
  it('starts 1,000 keys due at once at most `concurrency` at a time and `maxCallsPerSecond` per second', async () => {
    const { time, keepWarm, starts, held, settle, mostInFlight } = keepWarmOn(); // defaults: 4 at once, 10 per second
    for (let i = 0; i < 1000; i++) keepWarm.schedule(`tenant-${i}`, T0);
    const startedAt = new Map<string, number>();
    while (starts.length < 1000) {
      await time.advance(10);
      for (const { key, at } of starts) if (!startedAt.has(key)) startedAt.set(key, at);
      // Each refresh takes 300 ms: four slots could start ~13 per second, so the rate is what binds.
      await settle([...held.keys()].filter((key) => time.now - startedAt.get(key)! >= 300));
    }
    expect(new Set(starts.map((start) => start.key)).size).toBe(1000);
    expect(mostInFlight()).toBe(4);
    // A token bucket of 10: 10 per second on average, plus at most one bucketful saved up over a quiet spell (or while
    // the slots were busy), so no window of W seconds sees more than 10 + 10 × W starts.
    const times = starts.map((start) => start.at);
    const mostWithin = (ms: number) => Math.max(...times.map((from) => times.filter((at) => at >= from && at < from + ms).length));
    expect(mostWithin(SECOND)).toBeLessThanOrEqual(10 + 10);
    expect(mostWithin(10 * SECOND)).toBeLessThanOrEqual(10 + 100);
    // Sustained at the rate, not slower: 1,000 starts take about 100 s.
    expect((times.at(-1)! - T0) / SECOND).toBeGreaterThanOrEqual(99);
    expect((times.at(-1)! - T0) / SECOND).toBeLessThan(105);
    expect(keepWarm.size).toBe(0);
  });

  it('with quick refreshes, starts a burst of `maxCallsPerSecond` and then one every 1/maxCallsPerSecond s', async () => {
    const { time, keepWarm, starts } = keepWarmOn({ concurrency: 100, maxCallsPerSecond: 5 }, () => 'resolve');
    for (let i = 0; i < 20; i++) keepWarm.schedule(`tenant-${i}`, T0);
    await time.advance(0);
    expect(starts).toHaveLength(5);
    await time.advance(199);
    expect(starts).toHaveLength(5);
    await time.advance(1);
    expect(starts).toHaveLength(6);
    await time.advance(3 * SECOND);
    expect(starts.map((start) => start.at - T0)).toEqual([0, 0, 0, 0, 0, ...Array.from({ length: 15 }, (_, i) => (i + 1) * 200)]);
  });

  it('has a full bucket again after a quiet spell: a newly due key starts at once', async () => {
    const { time, keepWarm, starts } = keepWarmOn({ maxCallsPerSecond: 1 }, () => 'resolve');
    keepWarm.schedule('first', T0);
    await time.advance(0);
    await time.advance(10 * SECOND);
    keepWarm.schedule('second', time.now);
    await time.advance(0);
    expect(starts).toEqual([
      { key: 'first', at: T0 },
      { key: 'second', at: T0 + 10 * SECOND },
    ]);
  });

  it('keeps a slot for a hanging refresh while the other slots carry on', async () => {
    const { time, keepWarm, keys, mostInFlight } = keepWarmOn({ concurrency: 2 }, (key) => (key === 'hangs' ? 'hold' : 'resolve'));
    ['hangs', 'b', 'c', 'd'].forEach((key, i) => keepWarm.schedule(key, T0 + SECOND + i));
    await time.advance(2 * SECOND);
    expect(keys()).toEqual(['hangs', 'b', 'c', 'd']);
    keepWarm.schedule('e', T0 + 3 * SECOND);
    await time.advance(SECOND);
    expect(keys()).toEqual(['hangs', 'b', 'c', 'd', 'e']);
    expect(mostInFlight()).toBe(2);
  });

  it('holds due keys while every slot is busy, with no timer spinning, and starts them as slots free', async () => {
    const { time, keepWarm, keys, settle } = keepWarmOn({ concurrency: 2 });
    ['a', 'b', 'c'].forEach((key, i) => keepWarm.schedule(key, T0 + i));
    await time.advance(2);
    expect(keys()).toEqual(['a', 'b']);
    expect(time.pending.size).toBe(0); // waiting on a slot, not on time
    await time.advance(10 * SECOND);
    expect(keys()).toEqual(['a', 'b']);
    await settle(['a']);
    expect(keys()).toEqual(['a', 'b', 'c']);
  });

  it('handles a rejecting refresh (no unhandled rejection) and frees its slot', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const { time, keepWarm, keys } = keepWarmOn({ concurrency: 1 }, (key) => (key === 'fails' ? 'reject' : 'resolve'));
      keepWarm.schedule('fails', T0);
      keepWarm.schedule('next', T0);
      await time.advance(0);
      await flush();
      expect(keys()).toEqual(['fails', 'next']);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('survives a refresh callback that throws, and starts the keys after it', async () => {
    const started: string[] = [];
    const time = new VirtualTime();
    everyClock.push(time);
    const keepWarm = new KeepWarm(KEEP_WARM_DEFAULTS, {
      now: () => time.now,
      timers: time.timers,
      refresh: (key) => {
        if (key === 'throws') throw new Error('bug in the cache');
        started.push(key);
        return Promise.resolve();
      },
    });
    keepWarm.schedule('throws', T0);
    keepWarm.schedule('next', T0 + 1);
    await time.advance(1);
    expect(started).toEqual(['next']);
    expect(keepWarm.size).toBe(0);
  });

  it('spends no rate budget on keys the cache declines, and drops them from the schedule', async () => {
    const { time, keepWarm, starts } = keepWarmOn({ maxCallsPerSecond: 1 }, (key) => (key.startsWith('idle') ? 'decline' : 'resolve'));
    // One call per second: had the declines spent it, 'used' would wait a second.
    ['idle-1', 'idle-2', 'idle-3', 'used'].forEach((key, i) => keepWarm.schedule(key, T0 + i));
    await time.advance(3);
    expect(starts).toEqual([{ key: 'used', at: T0 + 3 }]);
    expect(keepWarm.size).toBe(0);
    expect(time.pending.size).toBe(0);
  });
});

describe('keep-warm lifecycle', () => {
  it('forget() drops a key, and with the last key the timer', async () => {
    const { time, keepWarm, keys } = keepWarmOn({}, () => 'resolve');
    keepWarm.schedule('a', T0 + SECOND);
    keepWarm.schedule('b', T0 + 2 * SECOND);
    keepWarm.forget('a');
    expect(keepWarm.size).toBe(1);
    await time.advance(5 * SECOND);
    expect(keys()).toEqual(['b']);
    keepWarm.schedule('c', T0 + 10 * SECOND);
    keepWarm.forget('c');
    expect(time.pending.size).toBe(0);
    keepWarm.forget('never-scheduled');
  });

  it('clear() drops every schedule and the timer; scheduling works again afterwards', async () => {
    const { time, keepWarm, keys } = keepWarmOn({}, () => 'resolve');
    for (let i = 0; i < 10; i++) keepWarm.schedule(`tenant-${i}`, T0 + SECOND);
    keepWarm.clear();
    expect(keepWarm.size).toBe(0);
    expect(time.pending.size).toBe(0);
    await time.advance(5 * SECOND);
    expect(keys()).toEqual([]);
    keepWarm.schedule('again', T0 + 6 * SECOND);
    await time.advance(SECOND);
    expect(keys()).toEqual(['again']);
  });

  it('stop() clears the timer, ignores later schedules, and starts nothing when in-flight refreshes settle', async () => {
    const { time, keepWarm, keys, settle } = keepWarmOn({ concurrency: 1 });
    keepWarm.schedule('running', T0);
    keepWarm.schedule('queued', T0);
    keepWarm.schedule('later', T0 + SECOND);
    await time.advance(0);
    expect(keys()).toEqual(['running']);
    keepWarm.stop();
    expect(time.pending.size).toBe(0);
    keepWarm.schedule('after-stop', T0 + 2 * SECOND);
    expect(keepWarm.size).toBe(0);
    await settle();
    await time.advance(10 * SECOND);
    expect(keys()).toEqual(['running']);
    expect(time.pending.size).toBe(0);
  });

  it('stays bounded when 10 keys are re-scheduled 100,000 times, and runs each once at its last due time', async () => {
    const { time, keepWarm, starts } = keepWarmOn({}, () => 'resolve');
    for (let i = 0; i < 100_000; i++) {
      // Alternately later and sooner, so some schedules re-arm the timer and most leave a stale heap item.
      keepWarm.schedule(`tenant-${i % 10}`, T0 + SECOND + (i % 2 === 0 ? i : 100_000 - i));
    }
    expect(keepWarm.size).toBe(10);
    // The heap is internal; its length is the memory this test is about.
    expect((keepWarm as unknown as { heap: unknown[] }).heap.length).toBeLessThanOrEqual(3 * 10 + 1);
    expect(time.pending.size).toBe(1);
    await time.advance(200 * SECOND);
    expect(starts.map((start) => start.key).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `tenant-${i}`).sort());
    for (const { key, at } of starts) {
      const last = 99_990 + Number(key.split('-')[1]);
      expect(at).toBe(T0 + SECOND + (last % 2 === 0 ? last : 100_000 - last));
    }
  });
});

describe('keep-warm settings', () => {
  it('defaults to 1 h idle, 4 at once, 10 per second, and exposes its settings read-only', () => {
    expect(KEEP_WARM_DEFAULTS).toEqual({ idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 });
    const settings = { idleSeconds: 600, concurrency: 2, maxCallsPerSecond: 3 };
    const keepWarm = new KeepWarm(settings, { now: () => T0, refresh: () => undefined });
    expect(keepWarm.settings).toEqual(settings);
    expect(Object.isFrozen(keepWarm.settings)).toBe(true);
    settings.concurrency = 99;
    expect(keepWarm.settings.concurrency).toBe(2);
  });

  it('refuses limits that would never start a refresh', () => {
    const deps = { now: () => T0, refresh: () => undefined };
    expect(() => new KeepWarm({ ...KEEP_WARM_DEFAULTS, concurrency: 0 }, deps)).toThrow(RangeError);
    expect(() => new KeepWarm({ ...KEEP_WARM_DEFAULTS, maxCallsPerSecond: 0 }, deps)).toThrow(RangeError);
  });
});

describe('keep-warm on Node timers', () => {
  afterEach(() => jest.restoreAllMocks());

  it('refreshes on a real, unref-ed timer, and stop() clears it', async () => {
    const setTimeoutSpy = jest.spyOn(global, 'setTimeout');
    const clearTimeoutSpy = jest.spyOn(global, 'clearTimeout');
    const refreshed: string[] = [];
    const keepWarm = new KeepWarm(KEEP_WARM_DEFAULTS, {
      now: () => Date.now(),
      refresh: (key) => {
        refreshed.push(key);
        return Promise.resolve();
      },
    });
    keepWarm.schedule('soon', Date.now() + 20);
    const first = setTimeoutSpy.mock.results.at(-1)!.value as NodeJS.Timeout;
    expect(first.hasRef()).toBe(false); // never keeps the process alive
    await eventually(() => refreshed.length > 0);
    expect(refreshed).toEqual(['soon']);

    keepWarm.schedule('stopped', Date.now() + 20);
    const second = setTimeoutSpy.mock.results.at(-1)!.value as NodeJS.Timeout;
    keepWarm.stop();
    expect(clearTimeoutSpy).toHaveBeenCalledWith(second);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(refreshed).toEqual(['soon']);
  });
});
