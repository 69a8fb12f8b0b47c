import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { AssumeRoleCommand as NestedAssumeRoleCommand, STSClient as NestedStsClient } from '@aws-sdk/nested-clients/sts';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { mockClient } from 'aws-sdk-client-mock';
import type { AssumeRoleRequest } from '../src';
import { BASE_CREDENTIALS, createService, heapAfterGc, median, medianWithSpread, printTable, stsAnswer } from './support';

const ROLE = 'arn:aws:iam::123456789012:role/TenantAccess';
/** Rounds of measures: every way is measured once per round, and ratios are taken within a round. */
const ROUNDS = 7;
const RUN_MS = 250;
/** Hits per garbage measure: few enough that no scavenge runs in between (the young generation holds them). */
const GARBAGE_HITS = 1_000;

/**
 * Awaits `call` as often as it can for RUN_MS of wall time; returns the process's CPU time per call (ns). CPU time,
 * not wall time: on a shared machine another job's turn on the core is not charged to whichever way ran then.
 */
async function nanosPerCall(call: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < RUN_MS) {
    for (let i = 0; i < 1_000; i++) await call();
    count += 1_000;
  }
  const { user, system } = process.cpuUsage(cpu);
  return ((user + system) * 1e3) / count;
}

/** Bytes allocated per call (heap growth over GARBAGE_HITS calls after a full collection; median of 5). */
async function garbagePerCall(call: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    const before = heapAfterGc();
    for (let i = 0; i < GARBAGE_HITS; i++) await call();
    samples.push((process.memoryUsage().heapUsed - before) / GARBAGE_HITS);
  }
  return median(samples);
}

/** An OpenTelemetry reader collected on demand: the SDK records for real, as in an app with a Prometheus exporter. */
class OnDemandReader extends MetricReader {
  protected onShutdown = () => Promise.resolve();
  protected onForceFlush = () => Promise.resolve();
}

/**
 * Hot hits: a cached key through getCredentials and through a provider, against a bare `Map.get` plus an expiry
 * check and against the SDK's own `memoizeIdentityProvider(fromTemporaryCredentials(...))`, each ratio taken within
 * one round (the machine is shared: only ratios in the same process mean something).
 */
export async function hotHits(): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves(stsAnswer(ROLE, 3600, 1));
  // fromTemporaryCredentials builds its client from the SDK's nested STS client.
  const nestedSts = mockClient(NestedStsClient);
  nestedSts.on(NestedAssumeRoleCommand).resolves(stsAnswer(ROLE, 3600, 2));
  const service = createService({ metrics: false });
  const plain = (): AssumeRoleRequest => ({ roleArn: ROLE, externalId: 'tenant-42-external' });
  const credentials = await service.getCredentials(plain());
  const reader = new OnDemandReader();
  const metered = createService({ metrics: { meterProvider: new MeterProvider({ readers: [reader] }) } });
  await metered.getCredentials(plain());
  const provider = service.credentialProvider(plain());
  // A request built per call, as handlers do: five session tags, a policy object and a source identity.
  const scoped = (): AssumeRoleRequest => ({
    roleArn: ROLE,
    externalId: 'tenant-42-external',
    sourceIdentity: 'alice@tenant-42',
    tags: { tenant: '42', plan: 'pro', region: 'eu-west-1', team: 'billing', costCenter: 'cc-1042' },
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::tenant-42/*' }],
    },
  });
  await service.getCredentials(scoped());
  const scopedProvider = service.credentialProvider(scoped());
  const sdk = memoizeIdentityProvider(
    fromTemporaryCredentials({
      params: { RoleArn: ROLE, ExternalId: 'tenant-42-external', RoleSessionName: 'bench' },
      masterCredentials: BASE_CREDENTIALS,
      clientConfig: { region: 'us-east-1' },
    }),
    isIdentityExpired,
    doesIdentityRequireRefresh,
  )!;
  await sdk();

  const bare = new Map([['tenant-42', { credentials, expiresAt: credentials.expiration.getTime() }]]);
  const bareLookup = async (key: string) => {
    const entry = bare.get(key);
    if (entry === undefined || entry.expiresAt - 60_000 <= Date.now()) throw new Error('miss');
    return entry.credentials;
  };

  const ways = {
    bare: () => bareLookup('tenant-42'),
    sdk: () => sdk(),
    plain: () => service.getCredentials(plain()),
    provider: () => provider(),
    metered: () => metered.getCredentials(plain()),
    scoped: () => service.getCredentials(scoped()),
    scopedProvider: () => scopedProvider(),
  };
  type Way = keyof typeof ways;
  const nanos = Object.fromEntries(Object.keys(ways).map((way) => [way, [] as number[]])) as Record<Way, number[]>;
  for (let round = 0; round < ROUNDS; round++) {
    for (const way of Object.keys(ways) as Way[]) nanos[way].push(await nanosPerCall(ways[way]));
  }
  const garbage = {
    plain: await garbagePerCall(ways.plain),
    scoped: await garbagePerCall(ways.scoped),
    bare: await garbagePerCall(ways.bare),
  };
  const { resourceMetrics } = await reader.collect();
  const lookups = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === 'aws.sts.cache.lookups');
  const meteredHits = lookups?.dataPoints.find((point) => point.attributes.result === 'hit')?.value ?? 0;
  const stsCalls = sts.commandCalls(AssumeRoleCommand).length;
  sts.restore();
  nestedSts.restore();
  service.onModuleDestroy();
  metered.onModuleDestroy();

  const ratio = (way: Way, baseline: Way) => medianWithSpread(nanos[way].map((value, round) => value / nanos[baseline][round]));
  const row = (name: string, way: Way, baseline: Way, target: string) => [
    name,
    ratio(way, baseline),
    target,
    medianWithSpread(nanos[way], 0, ' ns'),
  ];
  printTable(
    `1. Hot hits (CPU time per call, median of ${ROUNDS} rounds, range in brackets; each ratio within one round)`,
    ['lookup', 'ratio', 'target', 'ns per call'],
    [
      row('SDK memoizeIdentityProvider(fromTemporaryCredentials) vs bare Map.get + expiry', 'sdk', 'bare', 'baseline'),
      row('getCredentials(plain request) vs bare Map.get + expiry', 'plain', 'bare', '≤ 1.2×'),
      row('getCredentials(plain request) vs SDK memoized provider', 'plain', 'sdk', '≤ 1.3×'),
      row('credentialProvider(plain request)() vs SDK memoized provider', 'provider', 'sdk', ''),
      row('getCredentials(plain request), metrics on (OpenTelemetry SDK), vs metrics off', 'metered', 'plain', ''),
      row('getCredentials(5 tags + policy object + sourceIdentity) vs plain', 'scoped', 'plain', '≤ 5×'),
      row('credentialProvider(5 tags + policy object + sourceIdentity)() vs plain', 'scopedProvider', 'plain', ''),
    ],
  );
  const bytes = (value: number) => `${Math.max(0, Math.round(value)).toLocaleString('en-US')} B`;
  process.stdout.write(
    `Garbage per hit (heap growth over ${GARBAGE_HITS.toLocaleString('en-US')} awaited hits after GC, median of 5; target ≤ 2 KB for the scoped request): ` +
      `bare ${bytes(garbage.bare)}, plain ${bytes(garbage.plain)}, 5 tags + policy object + sourceIdentity ${bytes(garbage.scoped)}\n` +
      `STS calls during the run: ${stsCalls}; hits the metered service reported: ${meteredHits.toLocaleString('en-US')}\n`,
  );
}
