import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { SimulatedSts, createService, percentile, printTable, tenantRole } from './support';

const TENANTS = 1_000;
/** Every simulated AssumeRole answers after this long: a fixed latency, so wall time depends on the bound alone. */
const STS_LATENCY_MS = 50;
/** The bounds compared; 1,000 (the most allowed, as many as the tenants) is no bound at all here. */
const BOUNDS = [
  { label: 'unbounded (maxConcurrentStsCalls: 1000)', max: 1_000 },
  { label: 'maxConcurrentStsCalls: 64', max: 64 },
  { label: 'maxConcurrentStsCalls: 32', max: 32 },
  { label: 'maxConcurrentStsCalls: 16 (default)', max: 16 },
];

/** 1,000 cold tenants at once through one instance: wall time until the last has credentials, and what STS saw. */
async function coldStart(maxConcurrentStsCalls: number) {
  const simulated = new SimulatedSts(() => STS_LATENCY_MS);
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => simulated.assumeRole(input.RoleArn));
  const service = createService({ maxConcurrentStsCalls, cache: { maxEntries: 2 * TENANTS } });
  try {
    const started = performance.now();
    const waits = await Promise.all(
      Array.from({ length: TENANTS }, (_, tenant) =>
        service
          .getCredentials({ roleArn: tenantRole(tenant), externalId: `tenant-${tenant}-external`, sessionName: 'bench' })
          .then(() => performance.now() - started),
      ),
    );
    waits.sort((a, b) => a - b);
    return {
      wallMs: performance.now() - started,
      calls: simulated.calls,
      peak: simulated.peakInFlight,
      p50: percentile(waits, 50),
      p99: percentile(waits, 99),
    };
  } finally {
    service.onModuleDestroy();
    sts.restore();
  }
}

/** The cold-start run: the same 1,000 tenants with each bound, in one process; ratios against the unbounded run. */
export async function coldStartBound(): Promise<void> {
  const rows = [];
  for (const bound of BOUNDS) rows.push({ ...bound, ...(await coldStart(bound.max)) });
  const unbounded = rows[0];
  printTable(
    `6. Cold start: ${TENANTS} distinct tenants at once through one instance, STS mocked at a fixed ${STS_LATENCY_MS} ms per call (ratio = wall time vs unbounded, same run)`,
    [
      'bound',
      'wall time vs unbounded',
      'wall time (ms)',
      'STS calls',
      'most calls at once',
      'caller wait p50 (ms)',
      'caller wait p99 (ms)',
    ],
    rows.map((row) => [
      row.label,
      `${(row.wallMs / unbounded.wallMs).toFixed(2)}×`,
      row.wallMs.toFixed(0),
      row.calls,
      row.peak,
      row.p50.toFixed(0),
      row.p99.toFixed(0),
    ]),
  );
  const floors = BOUNDS.slice(1).map(({ max }) => `${Math.ceil(TENANTS / max) * STS_LATENCY_MS} ms at ${max}`);
  const longestWait = Math.max(...rows.map((row) => row.wallMs));
  process.stdout.write(
    [
      `A bounded cold start cannot beat ceil(${TENANTS} / bound) × ${STS_LATENCY_MS} ms: ${floors.join(', ')}.`,
      `The longest wait of any caller was ${longestWait.toFixed(0)} ms, of the 30,000 ms operationTimeoutSeconds allows.`,
      'This STS never throttles: against the real one, the unbounded row is the one that meets Throttling.',
      '',
    ].join('\n'),
  );
}
