import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Redis from 'ioredis';
import { mapWithConcurrency } from '../src/account-checks/account-checks';
import type { CredentialCacheOptions } from '../src/config/cache-options';
import { CachedCredentials } from '../src/module/cached-credentials';
import type { KeepWarmTimers } from '../src/cache/keep-warm';
import { resolveStsConfig } from '../src/config/server-aws-sts.config';
import { TemporaryCredentials } from '../src/sts/temporary-credentials';
import { redisAvailability, startRedisServer, type RedisServer } from '../test/support/redis-server';
import { seededRandom } from '../src/testing/local-sts/seeded-random';
import { SimulatedSts, percentile, printTable, tenantRole, zipfSchedule } from './support';

// The multi-tenant schedule (1,000 Zipf tenants, 36,000 requests over 3 virtual hours, seed 42), cut into one-minute
// steps instead of five-minute ticks, so that a rolling restart can be spread over several minutes of traffic.
const TENANTS = 1_000;
const STEP_MS = 60_000;
const STEPS = 180;
const REQUESTS_PER_STEP = 200;
const REPLICA_COUNTS = [1, 4, 8];
/** Keep-warm's default `idleSeconds`: the activity window of the "active tenant" targets too. */
const IDLE_MS = 3_600_000;
/** The rolling restart starts at 1.5 virtual hours and replaces one replica per virtual minute. */
const RESTART_STEP = 90;
const RESTART_EVERY_STEPS = 1;
const PRINCIPAL = 'arn:aws:iam::111122223333:role/BenchApp';
const START = Date.UTC(2026, 0, 1);
/**
 * Runs side by side, longest first: their real waits on STS and Redis overlap, and the one event loop they share
 * stays well inside the shared tier's 200 ms Redis command timeout (a run that hit it would show `bypassed` > 0).
 */
const PARALLEL_RUNS = 6;
/** The miss-path runs: one at a time (a quiet event loop), over the first virtual hours of the schedule. */
const LATENCY_STEPS = 90;
/** The commands the shared tier sends on the app's client (readiness PINGs and the client's own INFO are not counted). */
const TIER_COMMANDS = ['get', 'set', 'eval', 'publish', 'del'] as const;
type TierCommand = (typeof TIER_COMMANDS)[number];

type StrategyName = 'independent caches' | 'shared tier' | 'shared tier + keep-warm';
const STRATEGIES: { name: StrategyName; shared: boolean; keepWarm: boolean }[] = [
  { name: 'independent caches', shared: false, keepWarm: false },
  { name: 'shared tier', shared: true, keepWarm: false },
  { name: 'shared tier + keep-warm', shared: true, keepWarm: true },
];
type Strategy = (typeof STRATEGIES)[number];

interface Timer {
  due: number;
  order: number;
  callback: () => void;
}

/**
 * Virtual time for one run: `now()` moves only when the run moves it, and keep-warm's timers (`KeepWarmTimers`) fire
 * when it passes their due time, in order, each with the clock set to its own due time.
 */
class VirtualTimeline implements KeepWarmTimers {
  private time = START;
  private order = 0;
  private readonly timers = new Set<Timer>();

  readonly now = (): number => this.time;

  readonly set = (callback: () => void, delayMs: number): Timer => {
    const timer = { due: this.time + Math.max(0, delayMs), order: ++this.order, callback };
    this.timers.add(timer);
    return timer;
  };

  readonly clear = (handle: unknown): void => void this.timers.delete(handle as Timer);

  /** Timers still armed (none once every replica is closed). */
  get armed(): number {
    return this.timers.size;
  }

  /** Fires, in order, every timer due by `until`, those they set included; returns how many fired. */
  fireDue(until: number): number {
    let fired = 0;
    for (;;) {
      let next: Timer | undefined;
      for (const timer of this.timers)
        if (next === undefined || timer.due < next.due || (timer.due === next.due && timer.order < next.order)) next = timer;
      if (next === undefined || next.due > until) return fired;
      if (++fired > 100_000) throw new Error('keep-warm re-armed its timer 100,000 times without time passing');
      this.timers.delete(next);
      this.time = Math.max(this.time, next.due);
      next.callback();
    }
  }

  moveTo(time: number): void {
    this.time = Math.max(this.time, time);
  }
}

/** One instance of the app: its cache (the library's `CachedCredentials`) and, with the shared tier, its Redis client. */
interface Replica {
  cached: CachedCredentials;
  redis?: Redis;
}

interface RunOptions {
  /** Virtual minutes of the schedule run. */
  steps: number;
  replicas: number;
  strategy: Strategy;
  restart: boolean;
  redisUrl?: string;
  encryptionKey: string;
}

interface RunResult extends RunOptions {
  stsCalls: number;
  /** Fetches the replicas' caches made (first fetches and refreshes): each goes through the shared tier when it is on. */
  fetches: number;
  /** The shared tier's commands, counted on each replica's client. */
  redisCommands: Record<TierCommand, number>;
  /** Real time (ms) from call to answer of each call the replica's cache missed (joined fetches included). */
  missLatencies: number[];
  duplicates: number;
  waits: number;
  /** Waits of calls made after the tenant's first credentials existed somewhere in the fleet. */
  waitsAfterFill: number;
  /** …of those, calls whose tenant had been requested (anywhere in the fleet) within `idleSeconds`. */
  waitsAfterFillActive: number;
  local: { hits: number; misses: number; refreshes: number };
  shared: { hits: number; fills: number; waits: number; bypassed: number };
  seconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One strategy on `replicas` instances behind a random load balancer, over the whole schedule. */
async function run(options: RunOptions, schedule: number[][]): Promise<RunResult> {
  const { strategy } = options;
  const began = performance.now();
  const timeline = new VirtualTimeline();
  const latencyRandom = seededRandom(7);
  const sts = new SimulatedSts(() => 20 + 30 * latencyRandom(), timeline.now);
  const balancer = seededRandom(11);
  const roles = Array.from({ length: TENANTS }, (_, tenant) => tenantRole(tenant));
  const tenantOf = new Map(roles.map((role, tenant) => [role, tenant]));
  /** When (real time) STS answered with each access key id, and when it first answered for each tenant. */
  const answeredAt = new Map<string, number>();
  const firstAnsweredAt = new Map<number, number>();
  const keyPrefix = `bench-fleet:${randomBytes(6).toString('hex')}:`; // each run sees only its own entries
  const totals = { local: { hits: 0, misses: 0, refreshes: 0 }, shared: { hits: 0, fills: 0, waits: 0, bypassed: 0 } };
  let fetches = 0;
  const redisCommands = Object.fromEntries(TIER_COMMANDS.map((name) => [name, 0])) as Record<TierCommand, number>;
  const missLatencies: number[] = [];

  const assume = async (roleArn: string): Promise<TemporaryCredentials> => {
    const { Credentials: answer } = await sts.assumeRole(roleArn);
    const now = performance.now();
    answeredAt.set(answer.AccessKeyId, now);
    const tenant = tenantOf.get(roleArn)!;
    if (!firstAnsweredAt.has(tenant)) firstAnsweredAt.set(tenant, now);
    return new TemporaryCredentials({
      accessKeyId: answer.AccessKeyId,
      secretAccessKey: answer.SecretAccessKey,
      sessionToken: answer.SessionToken,
      expiration: answer.Expiration,
    });
  };

  let generation = 0;
  /** Starts a replica; it takes traffic once its Redis client answers (its readiness probe). */
  const start = async (index: number): Promise<Replica> => {
    const redis = strategy.shared ? new Redis(options.redisUrl!) : undefined;
    redis?.on('error', () => undefined); // an outage shows as `bypassed` in the shared tier's counters
    if (redis) countTierCommands(redis, redisCommands);
    const cache: CredentialCacheOptions = { maxEntries: 2 * TENANTS };
    if (redis) cache.shared = { redis, encryptionKey: options.encryptionKey, keyPrefix };
    if (strategy.keepWarm) cache.keepWarm = { idleSeconds: IDLE_MS / 1000 };
    const cached = new CachedCredentials(
      resolveStsConfig({ AWS_REGION: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'x' }, cache }),
      {
        baseIdentityTag: 'bench',
        emit: (event) => void (event.type === 'refresh-started' && fetches++),
        clock: { now: timeline.now, random: seededRandom(1_000 * ++generation + index), timers: timeline },
        assume: (prepared) => assume(prepared.input.RoleArn),
        principal: async () => PRINCIPAL,
      },
    );
    await redis?.ping();
    return { cached, redis };
  };
  const stop = async (replica: Replica): Promise<void> => {
    const stats = replica.cached.control.stats();
    totals.local.hits += stats.hits;
    totals.local.misses += stats.misses;
    totals.local.refreshes += stats.refreshes;
    for (const counter of ['hits', 'fills', 'waits', 'bypassed'] as const) totals.shared[counter] += stats.shared?.[counter] ?? 0;
    replica.cached.close();
    await replica.redis?.quit().catch(() => replica.redis?.disconnect());
  };
  const fleet = await Promise.all(Array.from({ length: options.replicas }, (_, index) => start(index)));

  /** Waits until no fetch runs (STS, or a wait on another replica's), then lets each client's last commands land. */
  const settle = async (): Promise<void> => {
    const busy = () => sts.inFlight > 0 || fleet.some((replica) => replica.cached.control.stats().inflight > 0);
    do {
      while (busy()) await sleep(1);
      // Commands are answered in order: a PING answered means what was sent before it is done (a fill stores its
      // value, then announces it, then releases its lock: three round trips).
      for (let round = 0; round < 3; round++) await Promise.all(fleet.map((replica) => replica.redis?.ping()));
    } while (busy());
  };

  const lastRequested = new Map<number, number>();
  const result = { waits: 0, waitsAfterFill: 0, waitsAfterFillActive: 0 };
  try {
    for (let step = 0; step < options.steps; step++) {
      const stepAt = START + step * STEP_MS;
      // Keep-warm's timers due since the last step fire in order; refreshes they start run (in real time) to the end.
      while (timeline.fireDue(stepAt) > 0) await settle();
      timeline.moveTo(stepAt);
      if (options.restart && step >= RESTART_STEP && (step - RESTART_STEP) % RESTART_EVERY_STEPS === 0) {
        const index = (step - RESTART_STEP) / RESTART_EVERY_STEPS;
        if (index < fleet.length) {
          const old = fleet[index];
          fleet[index] = await start(index); // a new process: empty cache, new connection
          await stop(old);
        }
      }
      const pending: Promise<void>[] = [];
      for (const tenant of schedule[step]) {
        const replica = fleet[Math.floor(balancer() * fleet.length)];
        const started = performance.now();
        const afterFill = (firstAnsweredAt.get(tenant) ?? Infinity) < started;
        const active = stepAt - (lastRequested.get(tenant) ?? -Infinity) <= IDLE_MS;
        lastRequested.set(tenant, stepAt);
        const missesBefore = replica.cached.control.stats().misses;
        const call = replica.cached.get({ roleArn: roles[tenant] });
        // A miss is counted as the call is made: the cache had nothing usable and the caller waits for a fetch.
        if (replica.cached.control.stats().misses > missesBefore)
          call.then(
            () => missLatencies.push(performance.now() - started),
            () => undefined,
          );
        pending.push(
          call.then((credentials) => {
            // Waited: handed credentials STS was still minting when the call began (its own fetch or one it joined).
            if ((answeredAt.get(credentials.accessKeyId) ?? -Infinity) <= started) return;
            result.waits++;
            if (!afterFill) return;
            result.waitsAfterFill++;
            if (active) result.waitsAfterFillActive++;
          }),
        );
        await null; // let hits settle before the next call starts (STS answers are timers: misses stay in flight together)
      }
      await Promise.all(pending);
      await settle();
    }
  } finally {
    await Promise.all(fleet.map(stop));
  }
  if (timeline.armed > 0) throw new Error(`${timeline.armed} keep-warm timer(s) still armed after every replica closed`);
  return {
    ...options,
    ...result,
    ...totals,
    fetches,
    redisCommands,
    missLatencies,
    stsCalls: sts.calls,
    duplicates: sts.duplicates,
    seconds: (performance.now() - began) / 1000,
  };
}

/** Counts the tier's commands as the client sends them (every command an ioredis client sends goes through `sendCommand`). */
function countTierCommands(redis: Redis, counts: Record<TierCommand, number>): void {
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (command, stream) => {
    if (command.name in counts) counts[command.name as TierCommand]++;
    return send(command, stream);
  };
}

/** Tenants requested within `idleSeconds` before the restart begins: those a restart must not cost more than one call. */
function activeAtRestart(schedule: number[][]): number {
  const first = Math.max(0, RESTART_STEP - IDLE_MS / STEP_MS);
  return new Set(schedule.slice(first, RESTART_STEP).flat()).size;
}

/**
 * The fleet run: the multi-tenant schedule on 1, 4 and 8 replicas behind a random load balancer, each replica the
 * library's `CachedCredentials` with its own ioredis client on one `redis-server` the bench starts.
 */
export async function fleet(): Promise<void> {
  const schedule = zipfSchedule(seededRandom(42), TENANTS, STEPS, REQUESTS_PER_STEP);
  const availability = redisAvailability();
  let server: RedisServer | undefined;
  if (availability.available) {
    server = await startRedisServer();
    process.stdout.write(
      `\n(fleet: ${server.managed ? `started redis-server on ${server.url}, no persistence` : `using the Redis at REDIS_URL (${server.url})`})\n`,
    );
  } else {
    process.stdout.write(
      `\nSKIPPED the shared-tier rows of the fleet run: ${availability.reason}. Install redis-server (or set REDIS_URL) to run them.\n`,
    );
  }
  const strategies = STRATEGIES.filter((strategy) => server !== undefined || !strategy.shared);
  const encryptionKey = randomBytes(32).toString('base64');
  const began = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let results: RunResult[];
  let missPath: RunResult[];
  try {
    // Runs are independent (own virtual clock, STS, replicas and key prefix). Keep-warm runs take longest (their
    // refreshes, at most `concurrency` at once, wait on the simulated STS in real time), one process's most of all.
    const runs = REPLICA_COUNTS.flatMap((replicas) =>
      strategies.flatMap((strategy) =>
        [false, true].map((restart) => ({ steps: STEPS, replicas, strategy, restart, redisUrl: server?.url, encryptionKey })),
      ),
    );
    const cost = (options: RunOptions) => (options.strategy.keepWarm ? 100 / options.replicas : 0);
    const byCost = [...runs].sort((a, b) => cost(b) - cost(a));
    const done = await mapWithConcurrency(byCost, PARALLEL_RUNS, (options) => run(options, schedule));
    results = runs.map((options) => done[byCost.indexOf(options)]);
    missPath = await missPathRuns(schedule, strategies, server?.url, encryptionKey);
  } finally {
    loopDelay.disable();
    await server?.stop();
  }
  const seconds = (performance.now() - began) / 1000;
  const bypassed = results.reduce((sum, row) => sum + row.shared.bypassed, 0);

  const find = (replicas: number, strategy: Strategy, restart: boolean) =>
    results.find((row) => row.replicas === replicas && row.strategy === strategy && row.restart === restart)!;
  const active = activeAtRestart(schedule);
  const replicasLabel = (count: number) => (count === 1 ? '1 process' : `${count} replicas`);
  printTable(
    `5. Fleet: ${TENANTS} tenants, Zipf(1), ${STEPS * REQUESTS_PER_STEP} requests over 3 virtual hours on 1, 4 and 8 replicas behind a random load balancer, STS simulated at 20–50 ms`,
    [
      'replicas',
      'strategy',
      'rolling restart',
      'STS calls',
      'vs one process',
      'caller waits: all',
      'after first fill',
      'after first fill, tenant active within idleSeconds',
      'calls added by the restart',
    ],
    results.map((row) => {
      const baseline = find(1, row.strategy, false).stsCalls;
      const added = row.restart ? row.stsCalls - find(row.replicas, row.strategy, false).stsCalls : undefined;
      return [
        replicasLabel(row.replicas),
        row.strategy.name,
        row.restart ? 'yes' : 'no',
        row.stsCalls,
        `${(row.stsCalls / baseline).toFixed(2)}×`,
        row.waits,
        row.waitsAfterFill,
        row.waitsAfterFillActive,
        added === undefined ? '—' : `${added >= 0 ? '+' : ''}${added} (${(added / active).toFixed(2)} per active tenant)`,
      ];
    }),
  );
  printTable(
    'Fleet counters (summed over the replicas of each run, restarted ones included)',
    [
      'replicas',
      'strategy',
      'rolling restart',
      'local hits',
      'local misses',
      'refreshes',
      'Redis hits',
      'fills for the fleet',
      'waits on another replica',
      'bypassed',
      'duplicate STS calls',
      'real s',
    ],
    results.map((row) => [
      replicasLabel(row.replicas),
      row.strategy.name,
      row.restart ? 'yes' : 'no',
      row.local.hits,
      row.local.misses,
      row.local.refreshes,
      row.shared.hits,
      row.shared.fills,
      row.shared.waits,
      row.shared.bypassed,
      row.duplicates,
      row.seconds.toFixed(1),
    ]),
  );
  process.stdout.write(
    [
      `The multi-tenant schedule (seed 42, ${REQUESTS_PER_STEP} requests per virtual minute, all of a minute in flight together); each request goes to a replica drawn at random.`,
      '"vs one process": STS calls against the 1-process run of the same strategy, without restart.',
      'A caller "waited" when the credentials it got were still being minted by STS when it called (its own fetch, or one it joined locally or across the fleet); local hits and Redis hits did not wait.',
      '"After first fill" leaves out calls made before any replica had credentials for the tenant.',
      `"Active within idleSeconds": the tenant was requested anywhere in the fleet within the last ${IDLE_MS / 1000} s (keep-warm's idleSeconds).`,
      `Rolling restart: from 1.5 virtual hours, one replica per virtual minute is closed and replaced by a new one with an empty cache; "calls added" is against the same run without restart, per the ${active} tenants active within idleSeconds before it.`,
      `Keep-warm timers fire in order on virtual time, each at its due time; the refreshes they start run in real time before the next step.`,
      `${results.length} runs, ${PARALLEL_RUNS} at a time: ${seconds.toFixed(1)} s real time; event-loop delay p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms.`,
      server === undefined
        ? 'No shared-tier rows: no Redis (see the SKIPPED line above).'
        : bypassed + missPath.reduce((sum, row) => sum + row.shared.bypassed, 0) > 0
          ? `WARNING: the shared tier gave Redis up ${bypassed} time(s) (a command over its 200 ms timeout, or a lock holder too slow): this machine was too busy for the bench, so the shared-tier rows overstate STS calls.`
          : 'The shared tier never gave Redis up (no command over its 200 ms timeout): no row counts a bypass.',
      '',
    ].join('\n'),
  );
  printMissPath(missPath);
}

/**
 * The miss path, one run at a time so that latencies are not another run's event-loop time: one process without the
 * tier (the baseline), then the shared tier on 1, 4 and 8 replicas, each over the first `LATENCY_STEPS` virtual minutes.
 */
async function missPathRuns(
  schedule: number[][],
  strategies: Strategy[],
  redisUrl: string | undefined,
  encryptionKey: string,
): Promise<RunResult[]> {
  const [independent, shared] = ['independent caches', 'shared tier'].map((name) => strategies.find((strategy) => strategy.name === name));
  const runs: RunOptions[] = [{ steps: LATENCY_STEPS, replicas: 1, strategy: independent!, restart: false, encryptionKey }];
  if (shared)
    for (const replicas of REPLICA_COUNTS)
      runs.push({ steps: LATENCY_STEPS, replicas, strategy: shared, restart: false, redisUrl, encryptionKey });
  const results: RunResult[] = [];
  for (const options of runs) results.push(await run(options, schedule));
  return results;
}

function printMissPath(results: RunResult[]): void {
  const [baseline] = results;
  const quantiles = (row: RunResult) => {
    const sorted = [...row.missLatencies].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  const base = quantiles(baseline);
  const ratio = (value: number, of: number) => `${(value / of).toFixed(2)}×`;
  const perFetch = (row: RunResult, count: number) => (row.fetches === 0 ? '—' : (count / row.fetches).toFixed(2));
  printTable(
    `6. Fleet miss path: the first ${LATENCY_STEPS} virtual minutes of the schedule, one run at a time, STS simulated at 20–50 ms, Redis on loopback`,
    [
      'replicas',
      'strategy',
      'STS calls',
      'vs one process',
      'fetches (local misses and refreshes)',
      'Redis commands per fetch',
      'GET / SET / EVAL / PUBLISH per fetch',
      'caller misses',
      'miss p50 (ms)',
      'vs one process',
      'miss p99 (ms)',
      'vs one process',
      'bypassed',
    ],
    results.map((row) => {
      const { p50, p99 } = quantiles(row);
      const commands = row.redisCommands;
      const total = TIER_COMMANDS.reduce((sum, name) => sum + commands[name], 0);
      return [
        row.replicas === 1 ? '1 process' : `${row.replicas} replicas`,
        row.strategy.name,
        row.stsCalls,
        ratio(row.stsCalls, baseline.stsCalls),
        row.fetches,
        perFetch(row, total),
        row.strategy.shared
          ? [commands.get, commands.set, commands.eval, commands.publish].map((count) => perFetch(row, count)).join(' / ')
          : '—',
        row.missLatencies.length,
        p50.toFixed(1),
        ratio(p50, base.p50),
        p99.toFixed(1),
        ratio(p99, base.p99),
        row.shared.bypassed,
      ];
    }),
  );
  process.stdout.write(
    [
      "A fetch is what a replica's cache asks for when it misses or refreshes; with the shared tier it goes through Redis (a read, and on a miss the lock, a read again, then the fill: store, announce, release). Commands are counted on each replica's client (DEL appears only with invalidations: none here).",
      "A caller miss is a call the replica's cache could not answer at once (joined fetches included); its latency runs from the call to the answer, in real time. The fill's store, announce and release happen after the caller has its answer.",
      '"Bypassed": fetches the tier made without Redis (a command over its 200 ms bound, a holder too slow); above 0 the machine was too busy and the row mixes in STS-only misses.',
      '',
    ].join('\n'),
  );
}
