import { Logger } from '@nestjs/common';
import { StsError, TemporaryCredentials, type CacheEvent } from '../../../src';
import type { CacheLookup } from '../../../src/cache/cache-entry';
import { CredentialCache, type CacheClock } from '../../../src/cache/credential-cache';
import type { CredentialCacheSettings } from '../../../src/config/cache-options';

// Unit specs of CredentialCache alone: a clock the spec moves by hand and a stub `load`, so every window of an
// entry's life is walked exactly, with no STS, no SDK and no timers.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 0, 1);

/** A clock standing still until the spec moves it; `random()` returns what the spec sets (0: no jitter). */
class ManualClock implements CacheClock {
  time = T0;
  randomValue = 0;
  now = () => this.time;
  random = () => this.randomValue;
  /** Keep-warm's timers, on this clock: `advance` fires those due. */
  private pending: Array<{ at: number; callback: () => void }> = [];
  timers = {
    set: (callback: () => void, delayMs: number) => {
      const timer = { at: this.time + delayMs, callback };
      this.pending.push(timer);
      return timer;
    },
    clear: (handle: unknown) => {
      this.pending = this.pending.filter((timer) => timer !== handle);
    },
  };
  /** Timers armed now. */
  get armed(): number {
    return this.pending.length;
  }
  /** Moves to T0 + `ms`, firing the timers due on the way, each at its time. */
  advance(ms: number): void {
    for (;;) {
      const due = this.pending.filter((timer) => timer.at <= T0 + ms).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = T0 + ms;
  }
  /** Moves to T0 + `ms`. */
  at(ms: number): void {
    this.time = T0 + ms;
  }
}

/** A stub STS: each load issues credentials numbered 1, 2, 3… valid for `lifetimeMs` from the clock's now. */
class StubLoad {
  calls = 0;
  lifetimeMs = HOUR;
  /** What the next loads do instead of issuing; reset to issuing by `succeed()`. */
  private outcome: { fail: unknown } | { hang: Promise<never> } | undefined;
  private pending: Array<() => void> = [];

  constructor(private readonly clock: ManualClock) {}

  load = (): Promise<TemporaryCredentials> => {
    const number = ++this.calls;
    if (this.outcome && 'fail' in this.outcome) return Promise.reject(this.outcome.fail);
    const issue = () =>
      new TemporaryCredentials({
        accessKeyId: `ASIA${number}`,
        secretAccessKey: 'secret',
        sessionToken: 'token',
        expiration: new Date(this.clock.now() + this.lifetimeMs),
      });
    if (this.outcome && 'hang' in this.outcome) return new Promise((resolve) => this.pending.push(() => resolve(issue())));
    return Promise.resolve(issue());
  };

  fail(error: unknown): void {
    this.outcome = { fail: error };
  }
  /** Loads wait until `release()`. */
  hold(): void {
    this.outcome = { hang: new Promise<never>(() => undefined) };
  }
  release(): void {
    this.outcome = undefined;
    this.pending.splice(0).forEach((resolve) => resolve());
  }
  succeed(): void {
    this.outcome = undefined;
  }
}

const throttled = () => new StsError('Rate exceeded', { code: 'Throttling', operation: 'AssumeRole', retryable: true });
const denied = () => new StsError('not authorized', { code: 'AccessDenied', operation: 'AssumeRole', retryable: false });
const settle = () => new Promise((resolve) => setImmediate(resolve));

function setUp(settings: Partial<CredentialCacheSettings> = {}) {
  const clock = new ManualClock();
  const stub = new StubLoad(clock);
  const events: CacheEvent[] = [];
  const cache = new CredentialCache({ maxEntries: 100, mandatoryWindowSeconds: 60, ...settings }, (event) => events.push(event), clock);
  const lookup = (key = 'k1', extra: Partial<CacheLookup> = {}): CacheLookup => ({
    key,
    load: stub.load,
    info: { roleArn: 'arn:aws:iam::123456789012:role/R', accountId: '123456789012' },
    refreshAhead: true,
    rememberRefusals: true,
    ...extra,
  });
  const get = (key?: string, extra?: Partial<CacheLookup>) => cache.get(lookup(key, extra));
  return { clock, stub, events, cache, lookup, get };
}

describe('CredentialCache: keep-warm', () => {
  const keepWarm = { idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 };

  it('refreshes an entry used within idleSeconds as its advisory window opens, with no caller, on one timer', async () => {
    const { clock, stub, get, events } = setUp({ keepWarm });
    const first = await get();
    await get('k2');
    expect(clock.armed).toBe(1); // one timer for the cache, however many entries
    const filled = events.length;
    clock.advance(45 * MINUTE); // the advisory window of both opens (no jitter)
    await settle();
    expect(stub.calls).toBe(4);
    const warmed = events.slice(filled).filter((event) => event.type === 'refresh-started');
    expect(warmed.map((event) => event.background)).toEqual([true, true]);
    const next = await get();
    expect(next).not.toBe(first);
    expect(stub.calls).toBe(4); // the caller found it warm
  });

  it('leaves alone an entry nobody used within idleSeconds, and stops on stop()', async () => {
    const { clock, stub, get, cache } = setUp({ keepWarm: { ...keepWarm, idleSeconds: 600 } });
    await get(); // used at 0, not after: idle for 45 minutes when its window opens
    clock.advance(45 * MINUTE);
    await settle();
    expect(stub.calls).toBe(1);
    clock.at(46 * MINUTE);
    await get(); // a caller refreshes it (in the background) and uses it
    await settle();
    expect(stub.calls).toBe(2);
    cache.stop();
    expect(clock.armed).toBe(0);
    clock.advance(3 * HOUR);
    await settle();
    expect(stub.calls).toBe(2);
  });

  it('a failed keep-warm refresh backs off and tries again, keeping the entry in service', async () => {
    const { clock, stub, get } = setUp({ keepWarm });
    const first = await get();
    stub.fail(throttled());
    clock.advance(45 * MINUTE);
    await settle();
    expect(stub.calls).toBe(2);
    stub.succeed();
    clock.advance(46 * MINUTE);
    await settle();
    expect(stub.calls).toBe(3);
    expect(await get()).not.toBe(first);
  });
});

describe('CredentialCache: credentials issued elsewhere (adopted from the shared tier)', () => {
  // A one-hour session adopted 50 minutes into its life: 10 minutes left, already inside its 15-minute advisory window.
  const adoptedLate = (stub: StubLoad) => (stub.lifetimeMs = 10 * MINUTE);

  it('timed from when STS issued it, an adopted set already in its advisory window refreshes on the next call', async () => {
    const { stub, get } = setUp();
    adoptedLate(stub);
    const issuedAt = (credentials: TemporaryCredentials) => credentials.expiration.getTime() - HOUR;
    const adopted = await get('k1', { issuedAt });
    expect(await get('k1', { issuedAt })).toBe(adopted);
    await settle();
    expect(stub.calls).toBe(2);
  });

  it('timed from its arrival instead, it would wait out half its remaining life (what issuedAt prevents)', async () => {
    const { stub, get } = setUp();
    adoptedLate(stub);
    await get();
    await get();
    await settle();
    expect(stub.calls).toBe(1);
  });
});

describe('CredentialCache: the windows of a one-hour entry (mandatory 60 s, default advisory 15 min, no jitter)', () => {
  it('is a plain lookup until the advisory window: one load for any number of calls', async () => {
    const { clock, stub, get } = setUp();
    const first = await get();
    clock.at(45 * MINUTE - 1);
    expect(await get()).toBe(first);
    await settle();
    expect(stub.calls).toBe(1);
  });

  it('in the advisory window, the first call starts one background refresh; every caller keeps the cached set until it lands', async () => {
    const { clock, stub, get, events } = setUp();
    const first = await get();
    clock.at(45 * MINUTE);
    stub.hold();
    const during = await Promise.all([get(), get(), get()]);
    expect(during.every((credentials) => credentials === first)).toBe(true);
    expect(stub.calls).toBe(2);
    stub.release();
    await settle();
    const after = await get();
    expect(after.accessKeyId).toBe('ASIA2');
    expect(stub.calls).toBe(2);
    expect(events.filter((event) => event.type === 'refresh-started').map((event) => event.background)).toEqual([false, true]);
  });

  it('widens the advisory window by up to 25% at random, so tenants do not refresh together', async () => {
    const { clock, stub, get } = setUp();
    clock.randomValue = 1;
    await get();
    clock.at(HOUR - 1.25 * 15 * MINUTE - 1);
    await get();
    expect(stub.calls).toBe(1);
    clock.at(HOUR - 1.25 * 15 * MINUTE);
    await get();
    expect(stub.calls).toBe(2);
  });

  it('honours refreshWindowSeconds, but starts at least 30 s before the mandatory window and never in the first half of the usable lifetime', async () => {
    const narrow = setUp({ refreshWindowSeconds: 0 });
    await narrow.get();
    narrow.clock.at(HOUR - 60 * SECOND - 30 * SECOND);
    await narrow.get();
    expect(narrow.stub.calls).toBe(2); // a window of 0 s still refreshes ahead, 30 s before the mandatory window

    const wide = setUp({ refreshWindowSeconds: 3600 });
    await wide.get();
    const halfUsable = (HOUR - 60 * SECOND) / 2;
    wide.clock.at(halfUsable - 1);
    await wide.get();
    expect(wide.stub.calls).toBe(1);
    wide.clock.at(halfUsable);
    await wide.get();
    expect(wide.stub.calls).toBe(2);
  });

  it('inside the mandatory window, never hands out the cached set: every caller waits for one shared load', async () => {
    const { clock, stub, get } = setUp();
    const first = await get();
    clock.at(HOUR - 60 * SECOND);
    const waiting = await Promise.all(Array.from({ length: 50 }, () => get()));
    expect(stub.calls).toBe(2);
    expect(waiting.every((credentials) => credentials !== first && credentials.accessKeyId === 'ASIA2')).toBe(true);
  });

  it('with refreshAhead false (a fixed MFA code), never refreshes in the background', async () => {
    const { clock, stub, get } = setUp();
    await get('k1', { refreshAhead: false });
    clock.at(59 * MINUTE - 1);
    await get('k1', { refreshAhead: false });
    expect(stub.calls).toBe(1);
  });

  it('refuses credentials issued already inside the mandatory window, and stores nothing', async () => {
    const { stub, get, cache } = setUp();
    stub.lifetimeMs = 60 * SECOND;
    await expect(get()).rejects.toMatchObject({ code: 'CredentialsExpireTooSoon' });
    expect(cache.stats().size).toBe(0);
  });
});

describe('CredentialCache: failures', () => {
  it('serves the cached set through a retryable failure (stale-if-error) and backs off 1 s, 2 s, 4 s… before trying again', async () => {
    const { clock, stub, get, cache } = setUp();
    const first = await get();
    stub.fail(throttled());
    clock.randomValue = 1; // backoff × (0.5 + 0.5 × random): the full step
    clock.at(45 * MINUTE);
    expect(await get()).toBe(first);
    await settle();
    expect(stub.calls).toBe(2);
    clock.at(45 * MINUTE + SECOND - 1);
    await get();
    await settle();
    expect(stub.calls).toBe(2);
    clock.at(45 * MINUTE + SECOND);
    await get();
    await settle();
    expect(stub.calls).toBe(3);
    clock.at(45 * MINUTE + 3 * SECOND - 1);
    await get();
    await settle();
    expect(stub.calls).toBe(3);
    expect(cache.stats()).toMatchObject({ refreshFailures: 2, staleServed: 3, size: 1 });
  });

  it('keeps serving the cached set through repeated failures until the mandatory window, where callers wait and see the failure', async () => {
    const { clock, stub, get } = setUp({ refreshWindowSeconds: 3600 });
    const first = await get();
    stub.fail(throttled());
    for (let minute = 30; minute < 59; minute += 5) {
      clock.at(minute * MINUTE);
      expect(await get()).toBe(first);
      await settle();
    }
    expect(stub.calls).toBe(7);
    clock.at(HOUR - MINUTE);
    await expect(get()).rejects.toMatchObject({ code: 'Throttling' });
  });

  it('evicts on a refusal, reaches every waiting caller, and remembers it for 2–4 s', async () => {
    const { clock, stub, get, cache, events } = setUp();
    await get();
    stub.fail(denied());
    clock.at(HOUR - MINUTE);
    const results = await Promise.allSettled([get(), get()]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(cache.stats().size).toBe(0);
    expect(events.filter((event) => event.type === 'eviction').map((event) => event.reason)).toEqual(['error']);
    const calls = stub.calls;
    clock.at(HOUR - MINUTE + 2 * SECOND - 1);
    await expect(get()).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(stub.calls).toBe(calls);
    stub.succeed();
    clock.at(HOUR - MINUTE + 2 * SECOND);
    await expect(get()).resolves.toBeInstanceOf(TemporaryCredentials);
    expect(stub.calls).toBe(calls + 1);
  });

  it('never answers a lookup that does not remember refusals (an MFA code) from a remembered refusal', async () => {
    const { stub, get } = setUp();
    stub.fail(denied());
    await expect(get('k1', { rememberRefusals: false })).rejects.toMatchObject({ code: 'AccessDenied' });
    stub.succeed();
    await expect(get('k1', { rememberRefusals: false })).resolves.toBeInstanceOf(TemporaryCredentials);
    expect(stub.calls).toBe(2);
  });

  it('drops an entry that expired while its refreshes failed, as expired', async () => {
    const { clock, stub, get, events, cache } = setUp();
    await get();
    stub.fail(throttled());
    clock.at(HOUR);
    await expect(get()).rejects.toMatchObject({ code: 'Throttling' });
    expect(cache.stats().size).toBe(0);
    expect(events.filter((event) => event.type === 'eviction').map((event) => event.reason)).toEqual(['expired']);
  });
});

describe('CredentialCache: the expiry it goes by is the one STS issued (perf review)', () => {
  it('a caller moving the Date of credentials it was handed changes neither the expiry reported nor what is counted or evicted', async () => {
    const { clock, stub, get, cache, events } = setUp();
    const credentials = await get();
    const issued = credentials.expiration.getTime();
    // A caller's date arithmetic done in place (the SDK and loggers hand the same object around).
    credentials.expiration.setTime(T0);
    expect(cache.expirationOf('k1')).toBe(issued); // what an invalidation tells the shared tier: "none as old again"
    expect(cache.unexpired(clock.now())).toEqual({ entries: 1, soonestExpiration: issued });
    credentials.expiration.setTime(issued + 10 * HOUR);
    clock.at(HOUR + MINUTE); // past the real expiry
    expect(cache.unexpired(clock.now())).toEqual({ entries: 0 });
    stub.fail(throttled());
    await expect(get()).rejects.toMatchObject({ code: 'Throttling' });
    expect(events.filter((event) => event.type === 'eviction').map((event) => event.reason)).toEqual(['expired']);
    expect(cache.expirationOf('k1')).toBeUndefined();
  });
});

describe('CredentialCache: the facts of an entry, made when asked (perf review)', () => {
  it("events and invalidateWhere see each entry's facts, in main's fields and order, as a copy of their own", async () => {
    const { clock, stub, get, cache, events } = setUp();
    const info = { roleArn: 'arn:aws:iam::123456789012:role/R', accountId: '123456789012', sessionName: 's' };
    const first = await get('k1', { info });
    clock.at(46 * MINUTE);
    stub.fail(throttled());
    await get('k1', { info });
    await settle();
    stub.succeed();
    clock.at(47 * MINUTE);
    await get('k1', { info });
    await settle();
    const second = await get('k1', { info });
    expect(second).not.toBe(first);
    const seen: unknown[] = [];
    await cache.invalidateWhere((entry) => {
      seen.push({ ...entry });
      (entry as { roleArn: string }).roleArn = 'changed by a predicate';
      return false;
    });
    cache.invalidate('k1');
    const facts = { key: 'k1', ...info };
    const shapes = events.map((event) => ({ ...event }));
    expect(shapes).toEqual([
      { type: 'refresh-started', ...facts, background: false },
      { type: 'refresh-succeeded', ...facts, expiration: first.expiration, background: false },
      { type: 'refresh-started', ...facts, expiration: first.expiration, background: true },
      { type: 'refresh-failed', ...facts, expiration: first.expiration, background: true, errorCode: 'Throttling' },
      { type: 'refresh-started', ...facts, expiration: first.expiration, background: true },
      { type: 'refresh-succeeded', ...facts, expiration: second.expiration, background: true },
      { type: 'invalidation', ...facts, expiration: second.expiration },
    ]);
    expect(shapes.map((event) => Object.keys(event).join())).toEqual([
      'type,key,roleArn,accountId,sessionName,background',
      'type,key,roleArn,accountId,sessionName,expiration,background',
      'type,key,roleArn,accountId,sessionName,expiration,background',
      'type,key,roleArn,accountId,sessionName,expiration,background,errorCode',
      'type,key,roleArn,accountId,sessionName,expiration,background',
      'type,key,roleArn,accountId,sessionName,expiration,background',
      'type,key,roleArn,accountId,sessionName,expiration',
    ]);
    expect(seen).toEqual([{ ...facts, expiration: second.expiration }]);
  });
});

describe('CredentialCache: capacity and control', () => {
  it('evicts the least recently used at capacity: reason capacity while still valid (with a warning), expired once past the mandatory window', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const { clock, get, events } = setUp({ maxEntries: 2 });
    await get('a');
    await get('b');
    await get('c');
    clock.at(HOUR - 30 * SECOND);
    await get('d');
    expect(events.filter((event) => event.type === 'eviction').map((event) => [event.key, event.reason])).toEqual([
      ['a', 'capacity'],
      ['b', 'expired'],
    ]);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
  });

  it('a load that was running when its key was invalidated does not refill the cache', async () => {
    const { stub, get, cache } = setUp();
    stub.hold();
    const running = get();
    expect(cache.invalidate('k1')).toBe(false);
    stub.release();
    await running;
    expect(cache.stats().size).toBe(0);
  });

  it('invalidateIfCurrent drops the entry only while it still holds those credentials', async () => {
    const { clock, get, cache } = setUp();
    const first = await get();
    clock.at(HOUR - MINUTE);
    const second = await get();
    expect(cache.invalidateIfCurrent(first)).toBe(false);
    expect(cache.invalidateIfCurrent(second)).toBe(true);
    expect(cache.stats().size).toBe(0);
  });
});

describe('CredentialCache: invalidateWhere and clear at 20,000 entries (20 slices; npm run bench -- invalidation times 100,000)', () => {
  const ENTRIES = 20_000;
  const keyOf = (index: number) => `k${index}`;
  const selected = (index: number) => index % 10 === 7;

  /** Counts the turns of the event loop until `stop()`: a probe that re-arms itself on each, running `onTurn`. */
  function turnCounter(onTurn: () => void = () => undefined) {
    let turns = 0;
    let running = true;
    const probe = () => {
      if (!running) return;
      turns++;
      onTurn();
      setImmediate(probe);
    };
    setImmediate(probe);
    return {
      stop: () => {
        running = false;
        return turns;
      },
    };
  }

  async function filled(settings: Partial<CredentialCacheSettings> = {}) {
    const setup = setUp({ maxEntries: ENTRIES, ...settings });
    const lookups = Array.from({ length: ENTRIES }, (_, index) =>
      setup.lookup(keyOf(index), { info: { roleArn: `arn:aws:iam::123456789012:role/R${index}`, accountId: '123456789012' } }),
    );
    const credentials = await Promise.all(lookups.map((lookup) => setup.cache.get(lookup)));
    return { ...setup, lookups, credentials };
  }

  it('invalidateWhere judges them across many turns of the event loop, and drops exactly what one pass would', async () => {
    const { cache, lookups, credentials, events } = await filled();
    const FIRST = 7; // selected, and in the first slice: the first stored come first
    const servedAfterSelection: string[] = [];
    const turns = turnCounter(() => {
      // Asked between slices: the first slice dropped it, so it is fetched anew.
      void cache.get(lookups[FIRST]).then(({ accessKeyId }) => {
        if (accessKeyId === credentials[FIRST].accessKeyId) servedAfterSelection.push(accessKeyId);
      });
    });
    let counted: number;
    let dropped: number;
    try {
      const dropping = cache.invalidateWhere(({ roleArn }) => selected(Number(roleArn.split('/R')[1])));
      expect(cache.expirationOf(lookups[FIRST].key)).toBeUndefined(); // the first slice, at once
      dropped = await dropping;
    } finally {
      counted = turns.stop();
    }
    await settle();

    // The first selected key, fetched anew between slices, was stored again while it ran: judged, last, and dropped.
    expect(dropped).toBe(ENTRIES / 10 + 1);
    expect(counted).toBeGreaterThanOrEqual(10); // 20 slices of 1,000, one per turn
    expect(servedAfterSelection).toEqual([]);
    const held = lookups.map((lookup) => cache.expirationOf(lookup.key) !== undefined);
    expect(held.filter((isHeld, index) => isHeld === selected(index)).length).toBe(0); // selected gone, others kept
    expect(events.filter((event) => event.type === 'invalidation')).toHaveLength(ENTRIES / 10 + 1);
  }, 60_000);

  it('a refresh of a selected key running when its turn comes does not bring it back', async () => {
    const { cache, clock, stub, lookups, credentials } = await filled();
    const last = lookups[7]; // selected
    clock.at(46 * MINUTE); // every entry in its advisory window
    stub.hold();
    await expect(cache.get(last)).resolves.toBe(credentials[7]); // served before its turn; refresh started
    const dropping = cache.invalidateWhere(({ roleArn }) => selected(Number(roleArn.split('/R')[1])));
    await dropping;
    stub.release();
    await settle();
    expect(cache.expirationOf(last.key)).toBeUndefined();
    const callsBefore = stub.calls;
    expect((await cache.get(last)).accessKeyId).not.toBe(credentials[7].accessKeyId);
    expect(stub.calls).toBe(callsBefore + 1);
  }, 60_000);

  it('judges a key first stored while it runs too, and a predicate that throws rejects', async () => {
    const { cache, get, stub } = await filled();
    const dropping = cache.invalidateWhere(() => true);
    await get('stored-meanwhile');
    await expect(dropping).resolves.toBe(ENTRIES + 1);
    expect(cache.stats().size).toBe(0);
    await get('stored-meanwhile');
    await expect(
      cache.invalidateWhere(() => {
        throw new Error('bad predicate');
      }),
    ).rejects.toThrow('bad predicate');
    expect(stub.calls).toBe(ENTRIES + 2);
  }, 60_000);

  it('clear() drops them all at once: no entry, access key, schedule or running fetch survives', async () => {
    const { cache, clock, stub, lookups, credentials, get } = await filled({
      keepWarm: { idleSeconds: 3600, concurrency: 4, maxCallsPerSecond: 10 },
    });
    expect(clock.armed).toBe(1);
    clock.at(46 * MINUTE);
    stub.hold();
    void get(lookups[1].key); // a background refresh, running across the clear
    cache.clear();
    stub.release();
    await settle();
    expect(cache.stats()).toMatchObject({ size: 0, inflight: 0 });
    expect(clock.armed).toBe(0);
    expect(cache.keyHolding(credentials[1])).toBeUndefined();
    expect(cache.invalidateIfCurrent(credentials[2])).toBe(false);
    expect(cache.expirationOf(lookups[1].key)).toBeUndefined();
    const callsBefore = stub.calls;
    await get(lookups[3].key);
    expect(stub.calls).toBe(callsBefore + 1);
    expect(cache.keyHolding(await get(lookups[3].key))).toBe(lookups[3].key); // the new index works
  }, 60_000);
});

describe('CredentialCache: which keys invalidateWhere judges, and in what order (perf review)', () => {
  const KEYS = 2_500;
  /** The predicate's own work: long enough that the walk spans several turns of the event loop. */
  const spin = (microseconds: number) => {
    const until = performance.now() + microseconds / 1000;
    while (performance.now() < until);
  };

  it('judges them in the order they were first stored, whatever the hits since', async () => {
    const { cache, get } = setUp();
    await get('a');
    await get('b');
    await get('c');
    await get('a'); // a hit: now the most recently used
    const judged: string[] = [];
    await cache.invalidateWhere(({ key }) => {
      judged.push(key);
      return false;
    });
    expect(judged).toEqual(['a', 'b', 'c']);
  });

  it('judges every key once, on what it holds at its turn: one dropped and stored again before its turn is judged last', async () => {
    const { cache, get, stub } = setUp({ maxEntries: KEYS + 10 });
    for (let index = 0; index < KEYS; index++) await get(`k${index}`);
    const judged = new Map<string, string[]>();
    let turns = 0;
    const dropping = cache.invalidateWhere(({ key }) => {
      spin(40);
      if (key === 'k0') {
        // Before k2000's turn: dropped and fetched anew (stored in a microtask, before the next slice); k1500 hit.
        cache.invalidate('k2000');
        void get('k2000');
        void get('k1500');
        setImmediate(function count() {
          turns++;
          if (!judged.has('k1')) return;
          if (turns < 1_000) setImmediate(count);
        });
      }
      judged.set(key, [...(judged.get(key) ?? []), cache.accessKeyIdOf(key)!]);
      return false;
    });
    await expect(dropping).resolves.toBe(0);
    expect(turns).toBeGreaterThan(1); // the walk spanned several turns
    expect([...judged.values()].every((held) => held.length === 1)).toBe(true);
    expect(judged.size).toBe(KEYS);
    expect([...judged.keys()].at(-1)).toBe('k2000');
    expect(judged.get('k2000')).toEqual([`ASIA${stub.calls}`]); // judged on what it held at its turn: the new set
  }, 60_000);
});

describe('CredentialCache: one index of held keys, by access key id (perf review: ~30 B less per entry)', () => {
  /** A load that answers every key with the same access key id, as a test's fixed STS answer does. */
  const sameAnswer = (clock: ManualClock) => (): Promise<TemporaryCredentials> =>
    Promise.resolve(
      new TemporaryCredentials({
        accessKeyId: 'ASIAFIXED',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(clock.now() + HOUR),
      }),
    );

  it('judges and drops every key when several hold credentials with one access key id', async () => {
    const { cache, clock, lookup } = setUp();
    for (const key of ['a', 'b', 'c']) await cache.get(lookup(key, { load: sameAnswer(clock) }));
    const judged: string[] = [];
    const dropped = await cache.invalidateWhere(({ key }) => {
      judged.push(key);
      return true;
    });
    expect(judged).toEqual(['a', 'b', 'c']);
    expect(dropped).toBe(3);
    expect(cache.stats().size).toBe(0);
  });

  it('invalidateIfCurrent drops one key holding that access key id, and the walk still reaches the others', async () => {
    const { cache, clock, lookup } = setUp();
    for (const key of ['a', 'b']) await cache.get(lookup(key, { load: sameAnswer(clock) }));
    expect(cache.invalidateIfCurrent({ accessKeyId: 'ASIAFIXED' })).toBe(true);
    expect(await cache.invalidateWhere(() => true)).toBe(1);
    expect(cache.stats().size).toBe(0);
  });

  it('a value without an access key id is found by its key only: no access key id names it', async () => {
    const { cache, clock, lookup } = setUp();
    const token = { expiration: new Date(clock.now() + HOUR) };
    await cache.get(lookup('ASIA1', { load: () => Promise.resolve(token as never) }));
    expect(cache.keyHolding({ accessKeyId: 'ASIA1' })).toBeUndefined();
    expect(cache.invalidateIfCurrent({ accessKeyId: 'ASIA1' })).toBe(false);
    expect(await cache.invalidateWhere(({ key }) => key === 'ASIA1')).toBe(1);
  });

  it('a key whose credentials are refreshed after its turn is judged again, last, on the new ones', async () => {
    const { cache, clock, get, stub } = setUp({ maxEntries: 2_000 });
    await get('a');
    for (let index = 0; index < 1_500; index++) await get(`k${index}`); // more than one slice: the walk spans turns
    const judged: Array<[string, string | undefined]> = [];
    await cache.invalidateWhere(({ key }) => {
      judged.push([key, cache.accessKeyIdOf(key)]);
      if (judged.length === 1) {
        clock.at(HOUR - 30 * SECOND); // inside the mandatory window: the next lookup fetches anew
        void get('a');
      }
      return false;
    });
    expect(stub.calls).toBe(1_502);
    expect(judged).toHaveLength(1_502);
    expect(judged[0]).toEqual(['a', 'ASIA1']);
    expect(judged.at(-1)).toEqual(['a', 'ASIA1502']);
    expect(cache.keyHolding({ accessKeyId: 'ASIA1' })).toBeUndefined();
    expect(cache.keyHolding({ accessKeyId: 'ASIA1502' })).toBe('a');
  });
});

describe('CredentialCache: invalidateWhere ends a slice on time too (perf review: a slow predicate never holds the loop long)', () => {
  it('judges 200 keys whose predicate takes 0.5 ms each over many turns, not in one 100 ms block', async () => {
    const { cache, get } = setUp({ maxEntries: 1_000 });
    for (let index = 0; index < 200; index++) await get(`k${index}`);
    let turns = 0;
    let walking = true;
    setImmediate(function count() {
      if (!walking) return;
      turns++;
      setImmediate(count);
    });
    const dropped = await cache.invalidateWhere(({ key }) => {
      const until = performance.now() + 0.5;
      while (performance.now() < until);
      return key.endsWith('7');
    });
    walking = false;
    expect(dropped).toBe(20);
    expect(cache.stats().size).toBe(180);
    expect(turns).toBeGreaterThanOrEqual(5); // ~25 slices of ~4 ms; a fixed 1,000-key slice judged all 200 at once
  });
});

describe('CredentialCache: entry times kept from an era (perf review: small integers, not heap numbers)', () => {
  const ERA = 2 ** 29; // entries stored this long apart get different time origins

  it('entries stored on either side of an era change keep exact expiries, windows and backoff', async () => {
    const { clock, stub, get, cache } = setUp();
    await get('first-era'); // the era starts here, at T0
    clock.at(ERA - 10 * MINUTE);
    const late = await get('late');
    clock.at(ERA + MINUTE + 0.75); // a clock with a fraction of a millisecond
    const next = await get('next-era');
    expect(cache.expirationOf('late')).toBe(late.expiration.getTime());
    expect(cache.expirationOf('next-era')).toBe(next.expiration.getTime());
    // `late` is in its advisory window (50 of 60 min gone): one background refresh, the cached set served meanwhile.
    clock.at(ERA + 40 * MINUTE);
    stub.fail(throttled());
    expect(await get('late')).toBe(late);
    await settle();
    expect(stub.calls).toBe(4);
    clock.at(ERA + 40 * MINUTE + 400); // backoff after the first failure: 500 ms with random 0
    expect(await get('late')).toBe(late);
    await settle();
    expect(stub.calls).toBe(4);
    stub.succeed();
    clock.at(ERA + 40 * MINUTE + 500);
    expect(await get('late')).toBe(late);
    await settle();
    expect(stub.calls).toBe(5);
    expect(await get('late')).not.toBe(late);
    // `next-era` is served until its mandatory window, to the millisecond.
    clock.at(ERA + MINUTE + HOUR - MINUTE - 1);
    expect(await get('next-era')).toBe(next);
  });
});
