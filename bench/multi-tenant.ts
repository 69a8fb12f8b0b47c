import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { doesIdentityRequireRefresh, isIdentityExpired, memoizeIdentityProvider } from '@smithy/core';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { mockClient } from 'aws-sdk-client-mock';
import { LRUCache } from 'lru-cache';
import { seededRandom } from '../src/testing/local-sts/seeded-random';
import { BASE_CREDENTIALS, SimulatedSts, VirtualClock, createService, percentile, printTable, tenantRole, zipfSchedule } from './support';

const TENANTS = 1_000;
const TICKS = 36; // 36 × 5 virtual minutes = 3 hours: the first fill and two refresh cycles of 1-hour credentials
const TICK_MS = 5 * 60_000;
const REQUESTS_PER_TICK = 1_000;
const WAITED_MS = 15; // STS answers in 20–50 ms: a caller slower than this waited on STS

interface Strategy {
  name: string;
  /** Credentials for a tenant; the STS behind it answers after 20–50 ms. */
  get(tenant: number): Promise<AwsCredentialIdentity>;
  close(): void;
}

function mockedSts(simulated: SimulatedSts) {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => simulated.assumeRole(input.RoleArn));
  return sts;
}

const request = (tenant: number) => ({ roleArn: tenantRole(tenant), externalId: `tenant-${tenant}-external`, sessionName: 'bench' });

function perRequestAssumeRole(simulated: SimulatedSts): Strategy {
  const sts = mockedSts(simulated);
  const service = createService({ cache: false });
  return {
    name: 'AssumeRole per request (no cache)',
    get: (tenant) => service.getCredentials(request(tenant)),
    close: () => sts.restore(),
  };
}

function plainLru(simulated: SimulatedSts): Strategy {
  const sts = mockedSts(simulated);
  const service = createService({ cache: false });
  const lru = new LRUCache<number, AwsCredentialIdentity>({ max: 2 * TENANTS });
  return {
    name: 'plain LRU (no single-flight, no refresh-ahead)',
    async get(tenant) {
      const cached = lru.get(tenant);
      if (cached?.expiration && cached.expiration.getTime() - 60_000 > Date.now()) return cached;
      const credentials = await service.assumeRole(request(tenant));
      lru.set(tenant, credentials);
      return credentials;
    },
    close: () => sts.restore(),
  };
}

/** The SDK's own way: one fromTemporaryCredentials provider per tenant, memoized as an SDK client memoizes it. */
function sdkProviders(simulated: SimulatedSts): Strategy {
  const fakeSts = {
    applyToStack(stack: { add: (middleware: unknown, options: object) => void }) {
      stack.add(
        () => async (args: { input: { RoleArn: string } }) => ({ output: await simulated.assumeRole(args.input.RoleArn), response: {} }),
        { step: 'initialize', name: 'benchFakeSts', override: true },
      );
    },
  };
  const providers = new Map<number, AwsCredentialIdentityProvider>();
  return {
    name: 'fromTemporaryCredentials per tenant (SDK memoize)',
    get(tenant) {
      let provider = providers.get(tenant);
      if (provider === undefined) {
        const { roleArn, externalId, sessionName } = request(tenant);
        const bare = fromTemporaryCredentials({
          params: { RoleArn: roleArn, ExternalId: externalId, RoleSessionName: sessionName },
          masterCredentials: BASE_CREDENTIALS,
          clientConfig: { region: 'us-east-1' },
          clientPlugins: [fakeSts as never],
        });
        provider = memoizeIdentityProvider(bare, isIdentityExpired, doesIdentityRequireRefresh) as AwsCredentialIdentityProvider;
        providers.set(tenant, provider);
      }
      return provider();
    },
    close: () => providers.clear(),
  };
}

function ours(simulated: SimulatedSts): Strategy {
  const sts = mockedSts(simulated);
  const service = createService({ cache: { maxEntries: 2 * TENANTS } }); // the same bound as the plain LRU
  return {
    name: 'nestjs-aws-sts getCredentials',
    get: (tenant) => service.getCredentials(request(tenant)),
    close: () => {
      sts.restore();
      service.onModuleDestroy();
    },
  };
}

async function run(makeStrategy: (simulated: SimulatedSts) => Strategy, schedule: number[][]) {
  const clock = new VirtualClock();
  clock.install();
  const latencyRandom = seededRandom(7);
  const simulated = new SimulatedSts(() => 20 + 30 * latencyRandom());
  const strategy = makeStrategy(simulated);
  /** The latest expiry any caller of a tenant has been handed. */
  const handedOut = new Map<number, number>();
  const tenantHours = new Set<string>();
  const waits: number[] = [];
  let waitedWithUsableCredentials = 0;
  let waitedAfterExpiry = 0;
  try {
    for (let tick = 0; tick < TICKS; tick++) {
      const now = Date.now();
      const before = new Map(handedOut);
      const pending = [];
      for (const tenant of schedule[tick]) {
        const started = performance.now();
        pending.push(
          strategy
            .get(tenant)
            .then((credentials) => ({ tenant, waited: performance.now() - started, expiration: credentials.expiration?.getTime() ?? 0 })),
        );
        // Let answered calls settle before the next starts, so a hit's time is its own, not the tick's; STS
        // answers are timers, so every call of the tick is still in flight together.
        await null;
      }
      const results = await Promise.all(pending);
      for (const { tenant, waited, expiration } of results) {
        handedOut.set(tenant, Math.max(expiration, handedOut.get(tenant) ?? 0));
        tenantHours.add(`${tenant}:${Math.floor((tick * TICK_MS) / 3_600_000)}`);
        const previous = before.get(tenant);
        if (previous === undefined) continue; // the tenant's first fill
        waits.push(waited);
        if (waited < WAITED_MS) continue;
        if (previous - 60_000 > now) waitedWithUsableCredentials++;
        else waitedAfterExpiry++;
      }
      clock.skip(TICK_MS);
    }
  } finally {
    strategy.close();
    clock.uninstall();
  }
  waits.sort((a, b) => a - b);
  return {
    name: strategy.name,
    stsCalls: simulated.calls,
    duplicates: simulated.duplicates,
    tenantHours: tenantHours.size,
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    waitedWithUsableCredentials,
    waitedAfterExpiry,
  };
}

/** The multi-tenant run: the same Zipf schedule against each strategy, in one process. */
export async function multiTenant(): Promise<void> {
  const schedule = zipfSchedule(seededRandom(42), TENANTS, TICKS, REQUESTS_PER_TICK);
  const rows = [];
  for (const strategy of [perRequestAssumeRole, plainLru, sdkProviders, ours]) rows.push(await run(strategy, schedule));
  const oursRow = rows[rows.length - 1];
  printTable(
    `2. Multi-tenant: ${TENANTS} tenants, Zipf(1), ${TICKS * REQUESTS_PER_TICK} requests over 3 virtual hours (1-hour credentials), STS mocked at 20–50 ms`,
    [
      'strategy',
      'STS calls vs ours',
      'STS calls',
      'duplicate calls',
      'calls per tenant-hour',
      'wait p50 (ms)',
      'wait p99 (ms)',
      'waited, creds still usable',
      'waited, creds expired',
    ],
    rows.map((row) => [
      row.name,
      `${(row.stsCalls / oursRow.stsCalls).toFixed(2)}×`,
      row.stsCalls,
      row.duplicates,
      (row.stsCalls / row.tenantHours).toFixed(2),
      row.p50.toFixed(2),
      row.p99.toFixed(2),
      row.waitedWithUsableCredentials,
      row.waitedAfterExpiry,
    ]),
  );
  process.stdout.write(
    [
      'Waits count callers after their tenant\'s first fill; a caller "waited" when it took over 15 ms (STS answers in 20–50 ms).',
      '"Creds still usable": the tenant had been handed credentials valid for over a minute more, yet this caller waited on STS.',
      '"Creds expired": the tenant was idle past its credentials\' lifetime, so a lazy cache without timers must fetch again.',
      '"Duplicate calls": AssumeRole calls started for a role while another call for it was in flight.',
      '"Tenant-hours": distinct (tenant, hour) pairs requested; refresh-ahead (15 of 60 min) makes a busy tenant cost up to 60/45 = 1.33 calls an hour.',
      '',
    ].join('\n'),
  );
}
