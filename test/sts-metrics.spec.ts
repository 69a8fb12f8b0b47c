import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { metrics, type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { PACKAGE_VERSION } from '../src/version';
import { OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from './support/fixtures';

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
  const byName = new Map<string, MetricData>();
  for (const metric of scopes.flatMap((scope) => scope.metrics)) {
    byName.set(metric.descriptor.name, metric);
    points.set(
      metric.descriptor.name,
      metric.dataPoints.map((point) => [point.attributes, metric.dataPointType === DataPointType.HISTOGRAM ? (point.value as { count: number }).count : (point.value as number)]),
    );
  }
  return { scopes, points, byName };
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
    sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).rejects(serviceError('AccessDenied', 'not authorized to perform sts:AssumeRole', 403));

    const request = { roleArn: ROLE_ARN, externalId: 'tenant-1' };
    await service.getCredentials(request); // miss
    await service.getCredentials(request); // hit
    await service.getCredentials(request); // hit
    await expect(service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-2' })).rejects.toMatchObject({ code: 'AccessDenied' }); // miss

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
    await expect(service.getCredentials({ roleArn: ROLE_ARN, externalId: 'planted-external-id', sessionName: 'planted-session' })).rejects.toBeDefined();
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
    expect(points.get('aws.sts.cache.lookups')).toEqual(expect.arrayContaining([[{ result: 'hit' }, 1], [{ result: 'miss' }, 1]]));
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
    expect(points.get('aws.sts.cache.lookups')).toEqual(expect.arrayContaining([[{ result: 'hit' }, 4], [{ result: 'miss' }, 2]]));
    expect(points.get('aws.sts.cache.entries')).toEqual([[{}, 2]]);
    expect(points.get('aws.sts.calls')).toEqual([[{ operation: 'AssumeRole', outcome: 'success' }, 2]]);
    second.onModuleDestroy();
    ({ points } = await readMetrics(reader));
    expect(points.get('aws.sts.cache.lookups')).toEqual(expect.arrayContaining([[{ result: 'hit' }, 4], [{ result: 'miss' }, 2]]));
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
    expect(() => createService({ metrics: { meterProvider: {} as never } })).toThrow(/metrics must be false or \{ meterProvider\?: MeterProvider \}/);
  });
});
