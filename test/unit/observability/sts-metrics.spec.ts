import { randomBytes } from 'node:crypto';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { metrics, type Attributes } from '@opentelemetry/api';
import Redis from 'ioredis';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { mockClient } from 'aws-sdk-client-mock';
import type { StsEvent } from '../../../src';
import { PACKAGE_VERSION } from '../../../src/observability/version';
import { eventually } from '../../support/async-helpers';
import { BASE_ACCOUNT, OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from '../../support/fixtures';
import { describeWithRedis } from '../../support/redis-server';

const sts = mockClient(STSClient);
const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** A reader the spec collects from on demand. */
class InMemoryReader extends MetricReader {
  protected onShutdown = () => Promise.resolve();
  protected onForceFlush = () => Promise.resolve();
}

/** Every data point of the library's meter: `instrument → [attributes, value]`, with the meter's scope. */
async function readMetrics(reader: MetricReader) {
  const { resourceMetrics } = await reader.collect();
  const scopes = resourceMetrics.scopeMetrics.filter((scope) => scope.scope.name === 'nestjs-aws-sts');
  const points = new Map<string, Array<[Attributes, number]>>();
  /** Histograms only: the sum of each data point's values. */
  const sums = new Map<string, Array<[Attributes, number]>>();
  const byName = new Map<string, MetricData>();
  for (const metric of scopes.flatMap((scope) => scope.metrics)) {
    byName.set(metric.descriptor.name, metric);
    points.set(
      metric.descriptor.name,
      metric.dataPoints.map((point) => [
        point.attributes,
        metric.dataPointType === DataPointType.HISTOGRAM ? (point.value as { count: number }).count : (point.value as number),
      ]),
    );
    if (metric.dataPointType === DataPointType.HISTOGRAM)
      sums.set(
        metric.descriptor.name,
        metric.dataPoints.map((point) => [point.attributes, (point.value as { sum: number }).sum]),
      );
  }
  return { scopes, points, sums, byName };
}

function setUp(config: Parameters<typeof createService>[0] = {}) {
  const reader = new InMemoryReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const service = createService({ metrics: { meterProvider }, ...config });
  return { reader, meterProvider, service };
}

beforeEach(() => {
  sts.reset();
  jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick', 'performance'] });
  jest.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
  metrics.disable();
});

describe('OpenTelemetry metrics', () => {
  it('counts hits, misses, an AccessDenied, a throttled background refresh and stale hits, with exact attributes', async () => {
    const { reader, service } = setUp();
    sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).resolves(assumeRoleOutput(ROLE_ARN, 3600));
    sts
      .on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN })
      .rejects(serviceError('AccessDenied', 'not authorized to perform sts:AssumeRole', 403));

    const request = { roleArn: ROLE_ARN, externalId: 'tenant-1' };
    await service.getCredentials(request); // miss
    await service.getCredentials(request); // hit
    await service.getCredentials(request); // hit
    await expect(service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2' })).rejects.toMatchObject({
      code: 'AccessDenied',
    }); // miss

    jest.setSystemTime(T0 + 45 * 60_000); // the advisory window of a one-hour session
    sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).rejects(serviceError('Throttling', 'Rate exceeded', 400));
    await service.getCredentials(request); // hit, starts a background refresh that is throttled
    await settle();
    await service.getCredentials(request); // stale: served while the refresh failed

    const { points, scopes, byName } = await readMetrics(reader);
    const [duration] = byName.get('aws.sts.call.duration')!.dataPoints as Array<{ value: { buckets: { boundaries: number[] } } }>;
    expect(duration.value.buckets.boundaries).toEqual([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]);
    expect(scopes.map((scope) => scope.scope.version)).toEqual([PACKAGE_VERSION]);
    expect(points.get('aws.sts.cache.lookups')).toEqual(
      expect.arrayContaining([
        [{ result: 'hit' }, 3],
        [{ result: 'miss' }, 2],
        [{ result: 'stale' }, 1],
      ]),
    );
    expect(points.get('aws.sts.cache.lookups')).toHaveLength(3);
    expect(points.get('aws.sts.calls')).toEqual(
      expect.arrayContaining([
        [{ operation: 'AssumeRole', outcome: 'success' }, 1],
        [{ operation: 'AssumeRole', outcome: 'error', 'error.type': 'AccessDenied' }, 1],
        [{ operation: 'AssumeRole', outcome: 'error', 'error.type': 'Throttling' }, 1],
      ]),
    );
    expect(points.get('aws.sts.calls')).toHaveLength(3);
    expect(points.get('aws.sts.call.duration')).toEqual(
      expect.arrayContaining([
        [{ operation: 'AssumeRole', outcome: 'success' }, 1],
        [{ operation: 'AssumeRole', outcome: 'error' }, 2],
      ]),
    );
    expect(points.get('aws.sts.cache.refreshes')).toEqual(
      expect.arrayContaining([
        [{ outcome: 'success', background: false }, 1],
        [{ outcome: 'error', background: false }, 1],
        [{ outcome: 'error', background: true }, 1],
      ]),
    );
    expect(points.get('aws.sts.cache.evictions') ?? []).toEqual([]); // an AccessDenied on a first fetch evicts nothing
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 1]]);
    expect(points.get('aws.sts.cache.inflight')).toEqual([[{}, 0]]);
    expect(points.get('aws.sts.credentials.expiry')).toEqual([[{}, 15 * 60]]);
  });

  it('counts evictions by reason: invalidated, and capacity', async () => {
    const { reader, service } = setUp({ cache: { maxEntries: 1 } });
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn)));
    await service.getCredentials({ roleArn: ROLE_ARN });
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN }); // evicts the first for capacity
    service.cache.invalidate({ roleArn: OTHER_ROLE_ARN });
    const { points } = await readMetrics(reader);
    expect(points.get('aws.sts.cache.evictions')).toEqual(
      expect.arrayContaining([
        [{ reason: 'capacity' }, 1],
        [{ reason: 'invalidated' }, 1],
      ]),
    );
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 0]]);
    expect(points.has('aws.sts.credentials.expiry')).toBe(false);
  });

  it('never puts a role ARN, an account id, a session name or an ExternalId in an attribute', async () => {
    const { reader, service } = setUp();
    sts.on(AssumeRoleCommand).rejects(serviceError('AccessDenied', `User is not authorized to assume ${ROLE_ARN}`, 403));
    await expect(
      service.getCredentials({ roleArn: ROLE_ARN, externalId: 'planted-external-id', sessionName: 'planted-session' }),
    ).rejects.toBeDefined();
    const { points } = await readMetrics(reader);
    const values = [...points.values()].flatMap((series) => series.flatMap(([attributes]) => Object.values(attributes)));
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(String(value)).not.toMatch(/arn:|\d{12}|planted/);
  });

  it('uses the global MeterProvider by default, and no instrument with metrics: false', async () => {
    const reader = new InMemoryReader();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    await createService().getCredentials({ roleArn: ROLE_ARN });
    expect((await readMetrics(reader)).points.get('aws.sts.calls')).toEqual([[{ operation: 'AssumeRole', outcome: 'success' }, 1]]);

    const quietReader = new InMemoryReader();
    metrics.disable();
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [quietReader] }));
    await createService({ metrics: false }).getCredentials({ roleArn: ROLE_ARN });
    expect((await readMetrics(quietReader)).scopes).toEqual([]);
  });

  it('stops reading the cache on module destroy, and keeps its lookups counted', async () => {
    const { reader, service } = setUp();
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    await service.getCredentials({ roleArn: ROLE_ARN });
    await service.getCredentials({ roleArn: ROLE_ARN });
    const stats = jest.spyOn(service.cache, 'stats');
    await readMetrics(reader);
    service.onModuleDestroy();
    const calls = stats.mock.calls.length;
    const { points } = await readMetrics(reader);
    expect(stats).toHaveBeenCalledTimes(calls);
    expect(points.get('aws.sts.cache.lookups')).toEqual(
      expect.arrayContaining([
        [{ result: 'hit' }, 1],
        [{ result: 'miss' }, 1],
      ]),
    );
  });

  it('sums two services on one MeterProvider (two module configurations) instead of letting one overwrite the other', async () => {
    const reader = new InMemoryReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const first = createService({ metrics: { meterProvider } });
    const second = createService({ metrics: { meterProvider } });
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn)));
    for (let i = 0; i < 5; i++) await first.getCredentials({ roleArn: ROLE_ARN }); // 1 miss, 4 hits
    await second.getCredentials({ roleArn: OTHER_ROLE_ARN }); // 1 miss
    let { points } = await readMetrics(reader);
    expect(points.get('aws.sts.cache.lookups')).toEqual(
      expect.arrayContaining([
        [{ result: 'hit' }, 4],
        [{ result: 'miss' }, 2],
      ]),
    );
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 2]]);
    expect(points.get('aws.sts.calls')).toEqual([[{ operation: 'AssumeRole', outcome: 'success' }, 2]]);
    second.onModuleDestroy();
    ({ points } = await readMetrics(reader));
    expect(points.get('aws.sts.cache.lookups')).toEqual(
      expect.arrayContaining([
        [{ result: 'hit' }, 4],
        [{ result: 'miss' }, 2],
      ]),
    );
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 1]]);
  });

  it("counts no expired credentials: an idle tenant's expired entry is neither an entry nor the soonest expiry", async () => {
    const { reader, service } = setUp();
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn, 3600)));
    await service.getCredentials({ roleArn: ROLE_ARN });
    jest.setSystemTime(T0 + 3 * 3_600_000); // the first tenant idles past its expiry
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN });
    const { points } = await readMetrics(reader);
    expect(service.cache.stats().size).toBe(2);
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 1]]);
    expect(points.get('aws.sts.credentials.expiry')).toEqual([[{}, 3600]]);
  });

  it('rejects a metrics option that is not false or { meterProvider }', () => {
    expect(() => createService({ metrics: { meterProvider: {} as never } })).toThrow(
      /metrics must be false or \{ meterProvider\?: MeterProvider \}/,
    );
  });
});

describeWithRedis('OpenTelemetry metrics of the shared tier (a real redis-server)', (redisServer) => {
  const clients: Redis[] = [];
  const services: Array<ReturnType<typeof createService>> = [];
  let keyPrefix = '';
  const encryptionKey = randomBytes(32).toString('base64');
  const SHARED_INSTRUMENTS = [
    'aws.sts.shared.adoptions',
    'aws.sts.shared.fills',
    'aws.sts.shared.bypasses',
    'aws.sts.shared.outages',
    'aws.sts.shared.invalidations.queued',
    'aws.sts.shared.invalidations.propagated',
  ];

  /** A replica: its own service and ioredis client on the one Redis, recording to `meterProvider`. */
  function replica(meterProvider: MeterProvider) {
    const commandTimeoutMs = 2_000; // a busy machine must not turn a slow answer into an outage the spec did not provoke
    const redis = new Redis(redisServer().url);
    redis.on('error', () => undefined);
    clients.push(redis);
    const service = createService({ metrics: { meterProvider }, cache: { shared: { redis, encryptionKey, keyPrefix, commandTimeoutMs } } });
    services.push(service);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    return { service, events };
  }
  /** The shared tier's counters as a reader sees them: instrument → value (one series each, no attribute). */
  const sharedCounters = (points: Map<string, Array<[Attributes, number]>>) =>
    Object.fromEntries(SHARED_INSTRUMENTS.map((name) => [name, points.get(name)]));

  beforeEach(() => {
    jest.useRealTimers(); // ioredis and the tier's command bounds run on real timers
    keyPrefix = `metrics${randomBytes(4).toString('hex')}:`;
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: BASE_ACCOUNT, Arn: `arn:aws:iam::${BASE_ACCOUNT}:user/app`, UserId: 'AIDAEXAMPLE' });
  });
  afterEach(() => {
    services.splice(0).forEach((service) => service.onModuleDestroy());
    clients.splice(0).forEach((client) => client.disconnect());
  });

  it('counts a fill, a wait adopted with its duration, an adoption from Redis, and an invalidation queued then propagated', async () => {
    const reader = new InMemoryReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    // STS answers in 300 ms: the second replica finds the first's lock and waits for its value.
    sts.on(AssumeRoleCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve(assumeRoleOutput(ROLE_ARN, 3600)), 300)));
    const [a, b] = [replica(meterProvider), replica(meterProvider)];
    await Promise.all([a, b].map(({ service }) => service.getCallerIdentity()));
    const request = { roleArn: ROLE_ARN, externalId: 'planted-external-id' };
    const first = a.service.getCredentials(request);
    await eventually(() => a.service.cache.stats().shared!.fills === 1); // a holds the lock
    const [held, waited] = await Promise.all([first, b.service.getCredentials(request)]);
    expect(waited.accessKeyId).toBe(held.accessKeyId);
    const c = replica(meterProvider); // started later: reads what a fetched
    await expect(c.service.getCredentials(request)).resolves.toMatchObject({ accessKeyId: held.accessKeyId });
    a.service.cache.invalidate(request);
    await eventually(() => b.service.cache.stats().size === 0 && c.service.cache.stats().size === 0);
    await eventually(() => a.service.cache.stats().shared!.invalidationsPending === 0);

    const { points, sums } = await readMetrics(reader);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(sharedCounters(points)).toEqual({
      'aws.sts.shared.adoptions': [[{}, 2]],
      'aws.sts.shared.fills': [[{}, 1]],
      'aws.sts.shared.bypasses': [[{}, 0]],
      'aws.sts.shared.outages': [[{}, 0]],
      'aws.sts.shared.invalidations.queued': [[{}, 1]],
      'aws.sts.shared.invalidations.propagated': [[{}, 1]],
    });
    expect(points.get('aws.sts.shared.wait.duration')).toEqual([[{ result: 'adopted' }, 1]]);
    const [[, waitedSeconds]] = sums.get('aws.sts.shared.wait.duration')!;
    expect(waitedSeconds).toBeGreaterThan(0.05); // most of the holder's 300 ms fetch
    expect(waitedSeconds).toBeLessThan(15); // half the operation timeout, at most
    const attributes = [...points.values()].flatMap((series) => series.flatMap(([attributes]) => Object.values(attributes)));
    for (const value of attributes) expect(String(value)).not.toMatch(/arn:|\d{12}|planted|metrics/);
  });

  it("records a wait that ends in the waiter's own fetch as fetched: the holder's STS call failed", async () => {
    const reader = new InMemoryReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    let calls = 0;
    // The holder's call fails after 300 ms; it releases the lock, and the waiter takes it and fetches for the fleet.
    sts
      .on(AssumeRoleCommand)
      .callsFake(() =>
        ++calls === 1
          ? new Promise((_resolve, reject) => setTimeout(() => reject(serviceError('Throttling', 'Rate exceeded', 400)), 300))
          : Promise.resolve(assumeRoleOutput(ROLE_ARN, 3600)),
      );
    const [a, b] = [replica(meterProvider), replica(meterProvider)];
    await Promise.all([a, b].map(({ service }) => service.getCallerIdentity()));
    const held = a.service.getCredentials({ roleArn: ROLE_ARN });
    await eventually(() => a.service.cache.stats().shared!.fills === 1);
    const [holder, waiter] = await Promise.allSettled([held, b.service.getCredentials({ roleArn: ROLE_ARN })]);
    expect(holder).toMatchObject({ status: 'rejected', reason: { code: 'Throttling' } });
    expect(waiter).toMatchObject({ status: 'fulfilled' });
    const { points } = await readMetrics(reader);
    expect(points.get('aws.sts.shared.wait.duration')).toEqual([[{ result: 'fetched' }, 1]]);
    expect(sharedCounters(points)).toMatchObject({ 'aws.sts.shared.fills': [[{}, 2]], 'aws.sts.shared.adoptions': [[{}, 0]] });
  });

  it('a Redis out of memory (maxmemory, noeviction): a miss is served without the lock, an invalidation fails with OOM (the event says so) and lands once Redis has room', async () => {
    const reader = new InMemoryReader();
    const { service, events } = replica(new MeterProvider({ readers: [reader] }));
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput(ROLE_ARN, 3600));
    const admin = new Redis(redisServer().url);
    clients.push(admin);
    await service.getCallerIdentity();
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      // The lock cannot be taken (nobody could fill): fetched at once without the tier, Redis not at fault.
      await expect(service.getCredentials({ roleArn: ROLE_ARN })).resolves.toMatchObject({ accessKeyId: expect.stringMatching(/^ASIA/) });
      // The invalidation's generation bump is refused: the tier's outage, named by Redis's own code.
      service.cache.invalidate({ roleArn: ROLE_ARN });
      await eventually(() => events.some((event) => event.type === 'shared-tier' && event.state === 'unavailable'), 5_000);
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    expect(events.find((event) => event.type === 'shared-tier' && event.state === 'unavailable')).toEqual({
      type: 'shared-tier',
      state: 'unavailable',
      errorCode: 'OOM',
    });
    await eventually(() => service.cache.stats().shared!.invalidationsPending === 0, 10_000);
    const { points } = await readMetrics(reader);
    expect(sharedCounters(points)).toEqual({
      'aws.sts.shared.adoptions': [[{}, 0]],
      'aws.sts.shared.fills': [[{}, 0]],
      'aws.sts.shared.bypasses': [[{}, 1]],
      'aws.sts.shared.outages': [[{}, 1]],
      'aws.sts.shared.invalidations.queued': [[{}, 1]],
      'aws.sts.shared.invalidations.propagated': [[{}, 1]],
    });
    expect(service.cache.stats().shared).toMatchObject({ outages: 1, lastErrorCode: 'OOM' });
  });

  it("keeps a closed replica's counts, and reports no shared instrument for a service without the tier", async () => {
    const reader = new InMemoryReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn)));
    const alone = createService({ metrics: { meterProvider } });
    await alone.getCredentials({ roleArn: OTHER_ROLE_ARN });
    expect([...(await readMetrics(reader)).points.keys()].filter((name) => name.startsWith('aws.sts.shared'))).toEqual([]);
    const { service } = replica(meterProvider);
    await service.getCredentials({ roleArn: ROLE_ARN });
    service.onModuleDestroy();
    const { points } = await readMetrics(reader);
    expect(sharedCounters(points)).toMatchObject({ 'aws.sts.shared.fills': [[{}, 1]], 'aws.sts.shared.adoptions': [[{}, 0]] });
  });
});
