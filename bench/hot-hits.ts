import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { createService, printTable, stsAnswer } from './support';

const ROLE = 'arn:aws:iam::123456789012:role/TenantAccess';
const RUN_MS = 1000;

/** Awaits `call` as often as it can for RUN_MS; returns calls per second. */
async function rate(call: () => Promise<unknown>): Promise<number> {
  let count = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < RUN_MS) {
    for (let i = 0; i < 10_000; i++) await call();
    count += 10_000;
    elapsed = performance.now() - started;
  }
  return (count / elapsed) * 1000;
}

/** An OpenTelemetry reader collected on demand: the SDK records for real, as in an app with a Prometheus exporter. */
class OnDemandReader extends MetricReader {
  protected onShutdown = () => Promise.resolve();
  protected onForceFlush = () => Promise.resolve();
}

/** Hot hits: a cached key through getCredentials and through a provider, against a bare Map.get plus an expiry check. */
export async function hotHits(): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves(stsAnswer(ROLE, 3600, 1));
  const service = createService({ metrics: false });
  const credentials = await service.getCredentials({ roleArn: ROLE, externalId: 'tenant-42-external' });
  const reader = new OnDemandReader();
  const metered = createService({ metrics: { meterProvider: new MeterProvider({ readers: [reader] }) } });
  await metered.getCredentials({ roleArn: ROLE, externalId: 'tenant-42-external' });
  const meteredProvider = metered.credentialProvider({ roleArn: ROLE, externalId: 'tenant-42-external' });
  const provider = service.credentialProvider({ roleArn: ROLE, externalId: 'tenant-42-external' });
  // A request built per call, as handlers do: session tags and a policy object.
  const scopedRequest = () => ({
    roleArn: ROLE,
    externalId: 'tenant-42-external',
    tags: { tenant: '42', plan: 'pro' },
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::tenant-42/*' }],
    },
  });
  await service.getCredentials(scopedRequest());
  const scopedProvider = service.credentialProvider(scopedRequest());

  const bare = new Map([['tenant-42', { credentials, expiresAt: credentials.expiration.getTime() }]]);
  const bareLookup = async (key: string) => {
    const entry = bare.get(key);
    if (entry === undefined || entry.expiresAt - 60_000 <= Date.now()) throw new Error('miss');
    return entry.credentials;
  };

  const best = { bare: 0, getCredentials: 0, provider: 0, scoped: 0, scopedProvider: 0, metered: 0, meteredProvider: 0 };
  for (let round = 0; round < 3; round++) {
    best.bare = Math.max(best.bare, await rate(() => bareLookup('tenant-42')));
    best.getCredentials = Math.max(
      best.getCredentials,
      await rate(() => service.getCredentials({ roleArn: ROLE, externalId: 'tenant-42-external' })),
    );
    best.provider = Math.max(best.provider, await rate(provider));
    best.scoped = Math.max(best.scoped, await rate(() => service.getCredentials(scopedRequest())));
    best.scopedProvider = Math.max(best.scopedProvider, await rate(scopedProvider));
    best.metered = Math.max(best.metered, await rate(() => metered.getCredentials({ roleArn: ROLE, externalId: 'tenant-42-external' })));
    best.meteredProvider = Math.max(best.meteredProvider, await rate(meteredProvider));
  }
  const { resourceMetrics } = await reader.collect();
  const lookups = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === 'aws.sts.cache.lookups');
  const meteredHits = lookups?.dataPoints.find((point) => point.attributes.result === 'hit')?.value ?? 0;

  const stsCalls = sts.commandCalls(AssumeRoleCommand).length;
  sts.restore();
  service.onModuleDestroy();
  metered.onModuleDestroy();

  const row = (name: string, perSecond: number) => [
    name,
    (best.bare / perSecond).toFixed(2) + '×',
    Math.round(perSecond).toLocaleString('en-US'),
  ];
  printTable(
    '1. Hot hits (best of 3 one-second runs; ratio = time per call vs the bare lookup)',
    ['lookup', 'ratio', 'calls/s'],
    [
      row('bare Map.get + expiry check (async)', best.bare),
      row('getCredentials(request), key derived each call (metrics off)', best.getCredentials),
      row('getCredentials(request), metrics on (OpenTelemetry SDK)', best.metered),
      row('credentialProvider(request)() (metrics off)', best.provider),
      row('credentialProvider(request)(), metrics on', best.meteredProvider),
      row('getCredentials(request with tags and a policy object)', best.scoped),
      row('credentialProvider(request with tags and a policy object)()', best.scopedProvider),
    ],
  );

  process.stdout.write(
    `STS calls during the run: ${stsCalls}; hits the metered service reported: ${meteredHits.toLocaleString('en-US')}\n`,
  );
}
