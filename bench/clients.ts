import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { createService, heapAfterGc, medianWithSpread, printTable, stsAnswer, tenantRole } from './support';

const RUN_MS = 250;
/** Rounds: each way measured once per round, ratios taken within a round. */
const ROUNDS = 7;
/** Clients kept alive to measure the heap each one holds. */
const HEAP_SAMPLE = 1_000;
/** Sends through a local S3 to count the connections each way opens. */
const SENDS = 200;

/** The session policy of the bench's scoped requests, a new object per call as a handler would build it. */
const scopedPolicy = () => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::tenant-42/*' }],
});

/**
 * Calls `call` as often as it can for RUN_MS of wall time; returns the process's CPU time per call (µs). CPU time, not
 * wall time: on a shared machine another job's turn on the core is not charged to whichever way ran then.
 */
function microsPerCall(call: () => unknown): number {
  let count = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  while (performance.now() - started < RUN_MS) {
    for (let i = 0; i < 100; i++) call();
    count += 100;
  }
  const { user, system } = process.cpuUsage(cpu);
  return (user + system) / count;
}

/** Heap held per call once `HEAP_SAMPLE` results are kept (what a request handler's clients cost until collected). */
function heapPerCall(call: (index: number) => unknown): number {
  const kept: unknown[] = new Array(HEAP_SAMPLE);
  const before = heapAfterGc();
  for (let i = 0; i < HEAP_SAMPLE; i++) kept[i] = call(i);
  const after = heapAfterGc();
  if (kept.length !== HEAP_SAMPLE) throw new Error('unreachable: keeps the results alive through the measurement');
  return (after - before) / HEAP_SAMPLE;
}

/** A local S3 answering ListBuckets, counting the TCP connections it accepts. */
async function localS3(): Promise<{ server: Server; endpoint: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end('<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets></Buckets></ListAllMyBucketsResult>');
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

/**
 * Per-request clients: a new `createClient(S3Client, tenant)` per call (construction only, no send) against
 * `clientFor(S3Client, tenant)` from the pool, and the connections each opens for the same sends.
 */
export async function clientsPerRequest(): Promise<void> {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).callsFake((input: { RoleArn: string }) => Promise.resolve(stsAnswer(input.RoleArn, 3600, 1)));
  const service = createService({ metrics: false });
  const tenant = () => ({ roleArn: tenantRole(42), externalId: 'tenant-42-external' });
  const config = () => ({ region: 'eu-west-1', maxAttempts: 2 });
  // The same tenant with its strings kept (as a tenant table's row is): only the request object is new per call.
  const keptRole = tenantRole(42);
  const keptTenant = () => ({ roleArn: keptRole, externalId: 'tenant-42-external' });
  // Built as one literal, as bench/hot-hits.ts builds it: a spread (`{ ...tenant(), tags }`) is measured apart, after
  // the rows below (`spreadRequests`), since it slows every call site it reaches.
  const scoped = () => ({
    roleArn: tenantRole(42),
    externalId: 'tenant-42-external',
    tags: { tenant: '42', plan: 'pro' },
    policy: scopedPolicy(),
  });
  // A pool smaller than the tenants in use: every call evicts (and destroys) a client and builds one.
  const churning = createService({ metrics: false, clients: { maxEntries: 100 } });
  let next = 0;
  const churn = () => churning.clientFor(S3Client, { roleArn: tenantRole(next++ % 1_000) });
  Logger.overrideLogger(false); // the churning pool's capacity warning (once a minute) would cut into the table
  await service.getCredentials(tenant());
  service.clientFor(S3Client, tenant()); // warm the code paths before measuring

  const kept = service.clientFor(S3Client, tenant(), config());
  const ways: [string, () => unknown][] = [
    ['createClient(S3Client, tenant) per request (baseline)', () => service.createClient(S3Client, tenant())],
    ['clientFor(S3Client, tenant)', () => service.clientFor(S3Client, tenant())],
    ['clientFor(S3Client, tenant, { region, maxAttempts })', () => service.clientFor(S3Client, tenant(), config())],
    ['clientFor(S3Client, request with tags and a policy object)', () => service.clientFor(S3Client, scoped())],
    ['clientFor, 1,000 tenants round-robin through maxEntries 100 (all misses)', churn],
    ['clientFor(S3Client, tenant with kept strings, { region, maxAttempts })', () => service.clientFor(S3Client, keptTenant(), config())],
  ];
  // What any pool keyed by the request's values pays before it finds anything: a hand-written Map of clients by role
  // ARN, looked up with the ARN built per call, as the tenant() request builds it (a new string to hash each time).
  const byRole = new Map([[tenantRole(42), kept]]);
  const rounds: number[][] = ways.map(() => []);
  const keptMicros: number[] = [];
  const byRoleMicros: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ways.forEach(([, call], index) => rounds[index].push(microsPerCall(call)));
    keptMicros.push(microsPerCall(() => kept));
    byRoleMicros.push(microsPerCall(() => byRole.get(tenant().roleArn)));
  }
  const heap = ways.map(([, call]) => heapPerCall(call));
  const spread = spreadRequests(service, tenant, scoped, () => service.clientFor(S3Client, tenant(), config()));
  const destroyedByChurn = churning.cache.clientStats().destroyed;
  churning.onModuleDestroy();
  Logger.overrideLogger(true);

  const s3 = await localS3();
  const s3Config = { endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1' };
  const perRequest: S3Client[] = [];
  for (let i = 0; i < SENDS; i++) {
    const client = service.createClient(S3Client, tenant(), s3Config);
    perRequest.push(client);
    await client.send(new ListBucketsCommand({}));
  }
  const createClientConnections = s3.connections();
  perRequest.forEach((client) => client.destroy());
  for (let i = 0; i < SENDS; i++) await service.clientFor(S3Client, tenant(), { ...s3Config }).send(new ListBucketsCommand({}));
  const clientForConnections = s3.connections() - createClientConnections;
  const stsCalls = sts.commandCalls(AssumeRoleCommand).length;
  service.onModuleDestroy();
  s3.server.closeAllConnections();
  await new Promise((resolve) => s3.server.close(resolve));
  sts.restore();

  const baseHeap = heap[0];
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 1024 ? 3 : 1)} KiB`;
  const within = (index: number, baseline: number[]) =>
    medianWithSpread(
      rounds[index].map((value, round) => value / baseline[round]),
      4,
    );
  printTable(
    `4. Per-request clients (CPU time per call, median of ${ROUNDS} rounds, range in brackets; ratios within a round, vs a new createClient per request)`,
    ['way', 'time vs baseline', 'µs per call', 'heap vs baseline', 'heap per call'],
    ways.map(([name], index) => [
      name,
      within(index, rounds[0]),
      medianWithSpread(rounds[index], 3, ' µs'),
      `${(Math.max(0, heap[index]) / baseHeap).toFixed(4)}×`,
      kib(Math.max(0, heap[index])),
    ]),
  );
  printTable(
    '4b. clientFor lookup with a config (CPU time per call; target ≤ 0.3 µs)',
    ['way', 'vs a kept client (a variable read)', 'vs a Map of clients by role ARN (built per call)', 'µs per call'],
    [
      [
        'clientFor(S3Client, tenant, { region, maxAttempts })',
        within(2, keptMicros),
        within(2, byRoleMicros),
        medianWithSpread(rounds[2], 3, ' µs'),
      ],
      ['clientFor(S3Client, tenant)', within(1, keptMicros), within(1, byRoleMicros), medianWithSpread(rounds[1], 3, ' µs')],
      [
        'clientFor(S3Client, tenant with kept strings, { region, maxAttempts })',
        within(5, keptMicros),
        within(5, byRoleMicros),
        medianWithSpread(rounds[5], 3, ' µs'),
      ],
      [
        'a Map of clients by role ARN, the ARN built per call (baseline)',
        medianWithSpread(
          byRoleMicros.map((value, round) => value / keptMicros[round]),
          4,
        ),
        '1×',
        medianWithSpread(byRoleMicros, 3, ' µs'),
      ],
    ],
  );
  printTable(
    `4c. A request built by spreading a tenant and adding fields, measured after the rows above (CPU time per call, median of ${ROUNDS} rounds)`,
    ['way', 'request built as one literal', 'built by spreading ({ ...tenant(), tags, policy })'],
    [
      ['building the request', ...spread.build.map((micros) => medianWithSpread(micros, 3, ' µs'))],
      ['clientFor(S3Client, that request)', ...spread.clientFor.map((micros) => medianWithSpread(micros, 3, ' µs'))],
    ],
  );
  process.stdout.write(
    [
      `A plain clientFor(S3Client, tenant, { region, maxAttempts }) once spread requests have been through: ${medianWithSpread(spread.plainAfter, 3, ' µs')}, against ${medianWithSpread(rounds[2], 3, ' µs')} in 4b (its call sites have seen a hidden class per request).`,
      `Heap per call: growth after GC with ${HEAP_SAMPLE.toLocaleString('en-US')} results kept (what a handler's clients hold until collected).`,
      `The round-robin row destroyed ${destroyedByChurn.toLocaleString('en-US')} evicted clients during the run: a pool smaller than the set in use costs what createClient costs, and warns (silenced here) to raise clients.maxEntries.`,
      `Connections for ${SENDS} sequential ListBuckets sends to a local S3: createClient per request ${createClientConnections}, clientFor ${clientForConnections}.`,
      `AssumeRole calls during the run: ${stsCalls} (every client signs with the cached credentials).`,
      '',
    ].join('\n'),
  );
}

/**
 * Requests built by spreading a tenant and adding fields (`{ ...tenant(), tags, policy }`) against the same request
 * as one literal. In Node 20 (V8 11.3) each spread object with fields added gets a hidden class of its own: building
 * one costs about a microsecond, and every call site that reads such objects turns megamorphic, the library's
 * included — which is why this runs after table 4, whose rows it would slow, and measures a plain call once more.
 */
function spreadRequests(
  service: ReturnType<typeof createService>,
  tenant: () => { roleArn: string; externalId: string },
  literal: () => object,
  plainCall: () => unknown,
): { build: number[][]; clientFor: number[][]; plainAfter: number[] } {
  const spread = () => ({ ...tenant(), tags: { tenant: '42', plan: 'pro' }, policy: scopedPolicy() });
  const ways = [literal, spread];
  const build = ways.map(() => [] as number[]);
  const clientFor = ways.map(() => [] as number[]);
  const plainAfter: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ways.forEach((way, index) => {
      build[index].push(microsPerCall(way));
      clientFor[index].push(microsPerCall(() => service.clientFor(S3Client, way() as { roleArn: string })));
    });
    plainAfter.push(microsPerCall(plainCall));
  }
  return { build, clientFor, plainAfter };
}
