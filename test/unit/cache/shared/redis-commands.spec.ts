/**
 * The shared tier's Redis commands against a Redis that hangs, refuses, throws, answers late or comes back, with a
 * hand-made client whose every command the spec controls and counts. What a user sees: how long a command can
 * hold a caller, whether Redis is bothered during a backoff, and the log lines and `shared-tier` events of an outage.
 */
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { ReplyError } from 'ioredis';
import { IoredisStore, type SharedRedisClient, type SharedRedisSubscriber } from '../../../../src/cache/shared/ioredis-store';
import { RedisCommands, SharedTierBackingOff } from '../../../../src/cache/shared/redis-commands';
import type { RedisStore } from '../../../../src/cache/shared/redis-store';
import { SharedTier } from '../../../../src/cache/shared/shared-tier';
import { READ_AND_LOCK, RELEASE } from '../../../../src/cache/shared/tier-scripts';
import type { SharedTierEvent } from '../../../../src/observability/sts-events';
import { TemporaryCredentials } from '../../../../src/sts/temporary-credentials';
import { capturingLogger, visibleText } from '../../../support/visible-text';

const PLANTED_SECRET = 'redis-password-hunter2-PLANTED';

type Answer = () => Promise<unknown>;

/** A Redis client whose commands all answer with `answer()`, counted. */
class FakeRedis implements SharedRedisClient {
  calls: { command: string; args: unknown[] }[] = [];
  answer: Answer = async () => 'OK';
  subscriber = { subscribed: [] as string[], disconnected: false };

  #call(command: string, args: unknown[]): Promise<never> {
    this.calls.push({ command, args });
    return this.answer() as Promise<never>;
  }
  get(key: string): Promise<string | null> {
    return this.#call('get', [key]);
  }
  set(key: string, value: string, ...options: (string | number)[]): Promise<unknown> {
    return this.#call('set', [key, value, ...options]);
  }
  del(key: string): Promise<number> {
    return this.#call('del', [key]);
  }
  eval(script: string, numberOfKeys: number, ...keysAndArguments: (string | number)[]): Promise<unknown> {
    return this.#call('eval', [script, numberOfKeys, ...keysAndArguments]);
  }
  publish(channel: string, message: string): Promise<number> {
    return this.#call('publish', [channel, message]);
  }
  duplicate(): SharedRedisSubscriber {
    const state = this.subscriber;
    return {
      subscribe: async (channel: string) => void state.subscribed.push(channel),
      on: () => undefined,
      disconnect: () => void (state.disconnected = true),
    };
  }
}

/** A promise the spec settles. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const never = () => new Promise<never>(() => undefined);
const refused = () =>
  Object.assign(new Error(`connect ECONNREFUSED 10.0.0.7:6379 (auth ${PLANTED_SECRET})`), {
    code: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
  });
const settle = () => new Promise((resolve) => setImmediate(resolve));
const realNow = performance.now.bind(performance);

/** Whether a promise settles before the event loop turns: a refusal "at once". */
async function stateNow(promise: Promise<unknown>): Promise<'answered' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'answered' as const,
      () => 'rejected' as const,
    ),
    settle().then(() => 'pending' as const),
  ]);
}

let logs: ReturnType<typeof capturingLogger>;
let events: SharedTierEvent[];
let redis: FakeRedis;
beforeEach(() => {
  logs = capturingLogger();
  Logger.overrideLogger(logs);
  events = [];
  redis = new FakeRedis();
});
afterEach(() => {
  Logger.overrideLogger(false);
  jest.restoreAllMocks();
});

const commandsWith = (timeoutMs = 200) => new RedisCommands(new IoredisStore(redis), timeoutMs, (event) => events.push(event));
const warnings = () => logs.lines.filter((line) => line.includes('Redis failed'));
const recoveries = () => logs.lines.filter((line) => line.startsWith('Redis answers again'));

/** performance.now under the spec's control (the backoff's clock); setTimeout stays real. */
function controlledClock(start = 1_000_000) {
  let now = start;
  jest.spyOn(performance, 'now').mockImplementation(() => now);
  return {
    at: (ms: number) => (now = start + ms),
    get now() {
      return now;
    },
  };
}

describe('bounded commands', () => {
  it('a command that answers in time gets its answer, and no log or event', async () => {
    const commands = commandsWith();
    redis.answer = async () => 'value';
    await expect(commands.run((client) => client.get('k'))).resolves.toBe('value');
    expect(events).toEqual([]);
    expect(logs.lines).toEqual([]);
  });

  it.each([50, 150])('a hung command rejects with a TimeoutError after its bound of %d ms, not before, not much later', async (bound) => {
    const commands = commandsWith(bound);
    redis.answer = never;
    const started = realNow();
    const error = await commands.run((client) => client.get('k')).catch((caught: unknown) => caught);
    const elapsed = realNow() - started;
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(elapsed).toBeGreaterThanOrEqual(bound - 2);
    expect(elapsed).toBeLessThan(bound + 5_000); // generous for a busy machine: a hung command would never end
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'TimeoutError' }]);
  });

  it('a command that throws synchronously is a failure (a rejection and an outage), not a crash', async () => {
    const commands = commandsWith();
    let run: Promise<unknown> | undefined;
    expect(() => {
      run = commands.run(() => {
        throw Object.assign(new Error(`sync ${PLANTED_SECRET}`), { code: 'ERR_SYNC' });
      });
    }).not.toThrow();
    await expect(run).rejects.toThrow('sync');
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'ERR_SYNC' }]);
  });

  it('a client method that throws synchronously is a failure too', async () => {
    const commands = commandsWith();
    redis.get = () => {
      throw new TypeError(`Cannot read properties of undefined (${PLANTED_SECRET})`);
    };
    await expect(commands.run((client) => client.get('k'))).rejects.toBeInstanceOf(TypeError);
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'TypeError' }]);
    expect(commands.available).toBe(false);
  });
});

describe('backoff after a failure', () => {
  it('refuses commands at once, without touching Redis, until 1 s has passed', async () => {
    const clock = controlledClock();
    const commands = commandsWith(5_000);
    redis.answer = async () => Promise.reject(refused());
    await expect(commands.run((client) => client.get('k'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(redis.calls).toHaveLength(1);
    redis.answer = never; // a refusal that reached Redis would hang for the 5 s bound
    for (const ms of [0, 1, 500, 999]) {
      clock.at(ms);
      expect(commands.available).toBe(false);
      const run = commands.run((client) => client.get('k'));
      expect(await stateNow(run)).toBe('rejected');
      await expect(run).rejects.toBeInstanceOf(SharedTierBackingOff);
    }
    expect(redis.calls).toHaveLength(1);
    expect(events).toHaveLength(1); // refusals are not new outages
    expect(warnings()).toHaveLength(1);
    clock.at(1000);
    expect(commands.available).toBe(true);
    redis.answer = async () => 'OK';
    await expect(commands.run((client) => client.set('k', 'v', { px: 1000 }))).resolves.toBe(true);
    expect(redis.calls).toHaveLength(2);
  });

  it('a refusal runs nothing of the command', async () => {
    controlledClock();
    const commands = commandsWith();
    redis.answer = async () => Promise.reject(refused());
    await commands.run((client) => client.get('k')).catch(() => undefined);
    const command = jest.fn((client: RedisStore) => client.get('k'));
    await expect(commands.run(command)).rejects.toBeInstanceOf(SharedTierBackingOff);
    expect(command).not.toHaveBeenCalled();
  });

  it('doubles with each failed try, 1 s, 2 s, 4 s… and stays at 30 s', async () => {
    const clock = controlledClock();
    const commands = commandsWith();
    redis.answer = async () => Promise.reject(refused());
    let elapsed = 0;
    await commands.run((client) => client.get('k')).catch(() => undefined);
    for (const backoff of [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]) {
      const calls = redis.calls.length;
      clock.at(elapsed + backoff - 1);
      await expect(commands.run((client) => client.get('k'))).rejects.toBeInstanceOf(SharedTierBackingOff);
      expect(redis.calls).toHaveLength(calls);
      elapsed += backoff;
      clock.at(elapsed);
      await expect(commands.run((client) => client.get('k'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(redis.calls).toHaveLength(calls + 1);
    }
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'ECONNREFUSED' }]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain('next try in 1 s');
  });

  it('commands already in flight that fail during the backoff neither extend it nor count as new tries', async () => {
    const clock = controlledClock();
    const commands = commandsWith(5_000);
    const first = deferred<never>();
    const second = deferred<never>();
    const pending = [first, second];
    redis.answer = () => pending.shift()!.promise;
    const runs = [commands.run((client) => client.get('a')), commands.run((client) => client.get('b'))].map((run) =>
      run.catch(() => undefined),
    );
    await settle();
    expect(redis.calls).toHaveLength(2);
    first.reject(refused());
    await runs[0];
    clock.at(900);
    second.reject(Object.assign(new Error('socket closed'), { code: 'ECONNRESET' }));
    await runs[1];
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'ECONNREFUSED' }]);
    clock.at(1000); // 1 s after the first failure, not after the second
    redis.answer = async () => Promise.reject(refused());
    await expect(commands.run((client) => client.get('c'))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    clock.at(2999); // the next backoff is 2 s, not 4 s
    await expect(commands.run((client) => client.get('d'))).rejects.toBeInstanceOf(SharedTierBackingOff);
    clock.at(3000);
    redis.answer = async () => 'OK';
    await expect(commands.run((client) => client.get('d'))).resolves.toBe('OK');
  });
});

describe('one log line and one event per outage', () => {
  it('a hundred concurrent commands failing: all reached Redis, one warning and one unavailable event', async () => {
    const commands = commandsWith();
    redis.answer = async () => {
      await settle();
      throw refused();
    };
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => commands.run((client) => client.get(`k${i}`))));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(redis.calls).toHaveLength(100);
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'ECONNREFUSED' }]);
    expect(warnings()).toHaveLength(1);
    expect(logs.lines).toHaveLength(1);
  });

  it('twenty concurrent commands timing out: one warning and one TimeoutError event', async () => {
    const commands = commandsWith(30);
    redis.answer = never;
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => commands.run((client) => client.get(`k${i}`))));
    expect(results.map((result) => result.status === 'rejected' && (result.reason as Error).name)).toEqual(Array(20).fill('TimeoutError'));
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'TimeoutError' }]);
    expect(warnings()).toHaveLength(1);
  });

  it('a long outage of many failing commands and refusals, then recovery: one warning, one recovery line, two events', async () => {
    const clock = controlledClock();
    const commands = commandsWith();
    redis.answer = async () => Promise.reject(refused());
    for (let second = 0; second < 120; second++) {
      clock.at(second * 1000);
      await Promise.allSettled(Array.from({ length: 5 }, () => commands.run((client) => client.get('k'))));
    }
    expect(events).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    clock.at(10 * 60_000);
    redis.answer = async () => null;
    await expect(commands.run((client) => client.get('k'))).resolves.toBeNull();
    await Promise.all(Array.from({ length: 10 }, () => commands.run((client) => client.get('k'))));
    expect(events).toEqual([
      { type: 'shared-tier', state: 'unavailable', errorCode: 'ECONNREFUSED' },
      { type: 'shared-tier', state: 'available' },
    ]);
    expect(warnings()).toHaveLength(1);
    expect(recoveries()).toHaveLength(1);
    expect(logs.lines).toHaveLength(2);
    expect(commands.available).toBe(true);
  });

  it('after recovery the next outage is reported again (logged at most once a minute), and backs off from 1 s again', async () => {
    const clock = controlledClock();
    const commands = commandsWith();
    redis.answer = async () => Promise.reject(refused());
    await commands.run((client) => client.get('k')).catch(() => undefined);
    clock.at(1000);
    await commands.run((client) => client.get('k')).catch(() => undefined); // backoff now 2 s
    clock.at(3000);
    redis.answer = async () => 'OK';
    await commands.run((client) => client.get('k'));
    clock.at(4000);
    redis.answer = async () => Promise.reject(Object.assign(new Error(`OOM command not allowed ${PLANTED_SECRET}`), { code: 'OOM' }));
    await commands.run((client) => client.set('k', 'v', { px: 1000 })).catch(() => undefined);
    clock.at(4999);
    expect(commands.available).toBe(false);
    clock.at(5000);
    expect(commands.available).toBe(true);
    expect(events).toEqual([
      { type: 'shared-tier', state: 'unavailable', errorCode: 'ECONNREFUSED' },
      { type: 'shared-tier', state: 'available' },
      { type: 'shared-tier', state: 'unavailable', errorCode: 'OOM' },
    ]);
    // A relapse within a minute of the last warning is an event, not another log line (a flapping Redis cannot
    // flood the log); its end is not logged either. A minute on, an outage is logged again.
    expect(warnings()).toHaveLength(1);
    expect(recoveries()).toHaveLength(1);
    redis.answer = async () => 'OK';
    await commands.run((client) => client.get('k'));
    expect(recoveries()).toHaveLength(1);
    clock.at(61_000);
    redis.answer = async () => Promise.reject(refused());
    await commands.run((client) => client.get('k')).catch(() => undefined);
    expect(warnings()).toHaveLength(2);
    expect(events.filter((event) => event.state === 'unavailable')).toHaveLength(3);
  });
});

describe('the outage state health checks and metrics read', () => {
  it('counts outages (not failed commands), says since when the one under way lasts, and keeps the last code after it', async () => {
    const clock = controlledClock();
    const commands = commandsWith();
    expect(commands.outage).toEqual({ outages: 0 });
    redis.answer = async () => Promise.reject(refused());
    jest.spyOn(Date, 'now').mockReturnValue(1_767_225_600_000);
    await Promise.all(Array.from({ length: 5 }, () => commands.run((client) => client.get('k')).catch(() => undefined)));
    expect(commands.outage).toEqual({ outages: 1, outageSince: 1_767_225_600_000, lastErrorCode: 'ECONNREFUSED' });
    clock.at(1000);
    redis.answer = async () => Promise.reject(new ReplyError(`OOM command not allowed ${PLANTED_SECRET}`));
    await commands.run((client) => client.set('k', 'v', { px: 1000 })).catch(() => undefined); // the same outage, a new code
    expect(commands.outage).toEqual({ outages: 1, outageSince: 1_767_225_600_000, lastErrorCode: 'OOM' });
    clock.at(3000);
    redis.answer = async () => 'OK';
    await commands.run((client) => client.get('k'));
    expect(commands.outage).toEqual({ outages: 1, lastErrorCode: 'OOM' });
    redis.answer = async () => Promise.reject(refused());
    await commands.run((client) => client.get('k')).catch(() => undefined);
    expect(commands.outage).toMatchObject({ outages: 2, lastErrorCode: 'ECONNREFUSED' });
  });
});

describe('what an outage shows', () => {
  const withSecretMessage = (fields: Record<string, unknown>) =>
    Object.assign(new Error(`failure talking to redis://default:${PLANTED_SECRET}@cache:6379`), fields);

  it.each([
    ['a connection refused', withSecretMessage({ code: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    // Redis's own code leads its reply text; ioredis and iovalkey throw it as a ReplyError without a `code`.
    ['a Redis OOM', new ReplyError(`OOM command not allowed when used memory > 'maxmemory'. ${PLANTED_SECRET}`), 'OOM'],
    ['a Redis READONLY', new ReplyError(`READONLY You can't write against a read only replica. ${PLANTED_SECRET}`), 'READONLY'],
    ['a Redis NOSCRIPT', new ReplyError(`NOSCRIPT No matching script. Please use EVAL. ${PLANTED_SECRET}`), 'NOSCRIPT'],
    ['a Redis WRONGPASS', new ReplyError(`WRONGPASS invalid username-password pair or user is disabled. ${PLANTED_SECRET}`), 'WRONGPASS'],
    ['a Redis MOVED (a code, then a slot and an address)', new ReplyError('MOVED 3999 10.0.0.7:6381'), 'MOVED'],
    ['a reply error not led by a code', withSecretMessage({ name: 'ReplyError' }), 'ReplyError'],
    [
      'a reply error led by an upper-case secret',
      new ReplyError(`${PLANTED_SECRET.toUpperCase().replace(/-/g, '')} AKIAIOSFODNN7EXAMPLE`),
      'ReplyError',
    ],
    ['a reply error led by an access key id', new ReplyError('AKIAIOSFODNN7EXAMPLE was refused'), 'ReplyError'],
    ['another error led by an upper-case word', withSecretMessage({ name: 'Error', message: `OOM ${PLANTED_SECRET}` }), 'Error'],
    ['a code that is not a short code', withSecretMessage({ code: `wrongpass ${PLANTED_SECRET}` }), 'Error'],
    ['a code that is too long', withSecretMessage({ code: `E${'X'.repeat(40)}` }), 'Error'],
    ['a name carrying the secret', withSecretMessage({ name: `Error: ${PLANTED_SECRET}` }), 'Error'],
    ['a thrown string', `redis://default:${PLANTED_SECRET}@cache:6379 refused`, 'Error'],
    ['a thrown object', { message: PLANTED_SECRET, password: PLANTED_SECRET }, 'Error'],
    ['a thrown undefined', undefined, 'Error'],
    ['a thrown null', null, 'Error'],
  ])('%s: the event and the warning give a short code (%#), never the message', async (_name, error, code) => {
    const commands = commandsWith();
    redis.answer = async () => Promise.reject(error);
    await expect(commands.run((client) => client.get('k'))).rejects.toBe(error);
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: code }]);
    expect(warnings()).toHaveLength(1);
    expect(warnings()[0]).toContain(`(${code})`);
    const shown = `${visibleText(events)}\n${logs.lines.join('\n')}`;
    expect(shown).not.toContain(PLANTED_SECRET);
    expect(shown).not.toContain('hunter2');
    expect(shown).not.toContain('redis://');
  });

  it('a timeout shows TimeoutError and the bound, and nothing of the command', async () => {
    const commands = commandsWith(20);
    redis.answer = never;
    await commands.run((client) => client.set(`nestjs-aws-sts:${PLANTED_SECRET}`, PLANTED_SECRET, { px: 1000 })).catch(() => undefined);
    expect(events).toEqual([{ type: 'shared-tier', state: 'unavailable', errorCode: 'TimeoutError' }]);
    expect(`${visibleText(events)}\n${logs.lines.join('\n')}`).not.toContain(PLANTED_SECRET);
  });
});

describe('late answers', () => {
  it('an answer that arrives after the bound reaches the late callback, once, with the answer', async () => {
    const commands = commandsWith(20);
    const answer = deferred<string>();
    redis.answer = () => answer.promise;
    const late = jest.fn();
    await expect(commands.run((client) => client.set('lock', 'token', { px: 1000, nx: true }), { late })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(late).not.toHaveBeenCalled();
    answer.resolve('OK');
    await settle();
    expect(late.mock.calls).toEqual([[true]]);
  });

  it('an answer in time does not reach the late callback', async () => {
    const commands = commandsWith(200);
    const late = jest.fn();
    redis.answer = async () => 'OK';
    await expect(commands.run((client) => client.set('lock', 'token', { px: 1000, nx: true }), { late })).resolves.toBe(true);
    await settle();
    await new Promise((resolve) => setTimeout(resolve, 220)); // past the bound too
    expect(late).not.toHaveBeenCalled();
  });

  it('a late failure does not reach the late callback, and rejects nothing else (jest fails a spec on an unhandled rejection)', async () => {
    const commands = commandsWith(20);
    const answer = deferred<string>();
    redis.answer = () => answer.promise;
    const late = jest.fn();
    await expect(commands.run((client) => client.get('k'), { late })).rejects.toMatchObject({ name: 'TimeoutError' });
    answer.reject(refused());
    await settle();
    await settle();
    expect(late).not.toHaveBeenCalled();
  });
});

describe('late answers, as the shared tier uses them', () => {
  // A lock taken after the bound has no fetch under it; the timeout has just started the backoff, so its release must
  // not go through the refusing RedisCommands.run, or the lock would stay for its whole PX and other instances wait.
  it('a lock whose read-and-lock script answers "locked" after the bound is released (the release reaches Redis)', async () => {
    const key = randomBytes(32);
    const lockAnswer = deferred<unknown>();
    redis.answer = async () => null;
    redis.eval = (script: string, numberOfKeys: number, ...keysAndArguments: (string | number)[]) => {
      redis.calls.push({ command: 'eval', args: [script, numberOfKeys, ...keysAndArguments] });
      return script === READ_AND_LOCK ? lockAnswer.promise : Promise.resolve(['', '0']);
    };
    const tier = new SharedTier(
      { store: () => new IoredisStore(redis), encryptionKeys: () => [{ id: 'k', key }], keyPrefix: 'late-lock:', commandTimeoutMs: 20 },
      {
        principal: async () => 'arn:aws:iam::111111111111:role/App',
        now: () => Date.now(),
        mandatoryWindowMs: 60_000,
        operationTimeoutMs: 10_000,
        maxEntries: 10,
        emit: (event) => events.push(event),
        waited: () => undefined,
        onRemoteInvalidation: () => undefined,
        held: () => [],
      },
    );
    try {
      const fetched = new TemporaryCredentials({
        accessKeyId: 'ASIALATE',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(Date.now() + 3_600_000),
      });
      await expect(tier.load({ localKey: 'local', canonical: 'canonical' }, undefined, async () => fetched)).resolves.toBe(fetched);
      const lock = redis.calls.find((call) => call.args[0] === READ_AND_LOCK);
      expect(lock).toBeDefined();
      const [lockKey, token] = [lock!.args[4], lock!.args[5]];
      lockAnswer.resolve(['', '0', 1]);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const released = redis.calls.filter((call) => call.args[0] === RELEASE && call.args[2] === lockKey && call.args[3] === token);
      expect(released).toHaveLength(1);
    } finally {
      tier.close();
    }
  });
});
