/**
 * The bound on concurrent STS calls (`maxConcurrentStsCalls`), over the wire: `getCredentials` for many distinct
 * tenants at once through `ServerAwsStsModule` and the real `@aws-sdk/client-sts`, against LocalStsServer, which
 * counts the AssumeRole requests it is handling at once. Counted, never timed; the one time bound is generous.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { ServerAwsStsModule, StsService, type ServerAwsStsConfig } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';

const TENANTS = 400;
const tenantRole = (index: number) => `arn:aws:iam::${String(200_000_000_000 + index)}:role/VendorAccess`;
const externalIdOf = (index: number) => `tenant-${index}-external`;
const request = (index: number) => ({ roleArn: tenantRole(index), externalId: externalIdOf(index) });

describe('concurrent STS calls per instance, over the wire', () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule | undefined;

  beforeAll(async () => {
    server = await startLocalSts({
      roles: Array.from({ length: TENANTS }, (_, index) => ({
        arn: tenantRole(index),
        trustedPrincipals: ['*'],
        externalId: externalIdOf(index),
      })),
    });
  });
  afterEach(async () => {
    server.clearFaults();
    server.resetCalls();
    await moduleRef?.close();
    moduleRef = undefined;
  });
  afterAll(() => server.close());

  async function service(config: Partial<ServerAwsStsConfig> = {}): Promise<StsService> {
    moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: server.endpoint, maxAttempts: 1 },
          ...config,
        }),
      ],
    }).compile();
    return moduleRef.get(StsService);
  }

  it.each([
    ['the default bound, 16', {}, 16],
    ['maxConcurrentStsCalls: 5', { maxConcurrentStsCalls: 5 }, 5],
  ])(
    '400 distinct tenants at once: STS sees at most %s AssumeRole requests at once, and every tenant gets its own',
    async (_label, config, bound) => {
      const sts = await service(config);
      server.injectFault({ kind: 'delay', ms: 40 }, { action: 'AssumeRole', rate: 1 }); // so that calls overlap
      const credentials = await Promise.all(Array.from({ length: TENANTS }, (_, index) => sts.getCredentials(request(index))));
      expect(new Set(credentials.map((set) => set.accountId)).size).toBe(TENANTS);
      expect(server.callCount('AssumeRole')).toBe(TENANTS);
      expect(server.peakInFlight('AssumeRole')).toBeLessThanOrEqual(bound);
      // Not a bound met by accident: the calls did overlap up to it (on a busy machine the server may lag a little).
      expect(server.peakInFlight('AssumeRole')).toBeGreaterThanOrEqual(Math.ceil(bound / 2));
    },
  );

  it('bounds every STS call the instance makes, validateAccess and its probes included', async () => {
    const sts = await service({ maxConcurrentStsCalls: 3 });
    server.injectFault({ kind: 'delay', ms: 50 }, { rate: 1 });
    const results = await Promise.all(Array.from({ length: 12 }, (_, index) => sts.validateAccess(request(index))));
    expect(results.every((result) => result.ok && result.externalIdEnforced === true)).toBe(true);
    expect(server.callCount('GetCallerIdentity')).toBe(12);
    expect(server.callCount('AssumeRole')).toBe(36); // the role, a random ExternalId, a near miss
    expect(server.peakInFlight()).toBeLessThanOrEqual(3); // AssumeRole and GetCallerIdentity together
    expect(server.peakInFlight()).toBeGreaterThanOrEqual(2);
  });

  it('role chains at a bound of 1: each hop takes its own turn, none waits inside another (no deadlock)', async () => {
    const hub = 'arn:aws:iam::300000000000:role/Hub';
    const spoke = (index: number) => `arn:aws:iam::30000000000${index}:role/Spoke`;
    server.addRole({ arn: hub, trustedPrincipals: ['*'] });
    for (let index = 0; index < 5; index++) server.addRole({ arn: spoke(index), trustedPrincipals: [hub] });
    const sts = await service({ maxConcurrentStsCalls: 1, operationTimeoutSeconds: 20 });
    server.injectFault({ kind: 'delay', ms: 20 }, { rate: 1 });
    const chained = await Promise.all(
      Array.from({ length: 5 }, (_, index) => sts.getCredentials({ roleArn: spoke(index), via: { roleArn: hub } })),
    );
    expect(chained.map((set) => set.accountId)).toEqual(Array.from({ length: 5 }, (_, index) => `30000000000${index}`));
    expect(server.callCount('AssumeRole')).toBe(6); // the hub once (cached), each spoke once
    expect(server.peakInFlight()).toBe(1);
  });

  it('callers waiting for a turn still settle within operationTimeoutSeconds, with a TimeoutError', async () => {
    const sts = await service({ operationTimeoutSeconds: 1, maxConcurrentStsCalls: 2 });
    server.injectFault({ kind: 'delay', ms: 30_000 }, { action: 'AssumeRole', rate: 1 }); // an STS that never answers in time
    const started = performance.now();
    const settled = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        sts.getCredentials(request(index)).then(
          () => ({ code: 'resolved', afterMs: performance.now() - started }),
          (error: { code?: string }) => ({ code: error.code, afterMs: performance.now() - started }),
        ),
      ),
    );
    expect(settled.map(({ code }) => code)).toEqual(new Array(20).fill('TimeoutError'));
    // Each caller's deadline runs from its call, its wait for a turn included: 1 s, and far from the 10 s that 10
    // turns of 1 s would take if a wait did not count.
    expect(Math.max(...settled.map(({ afterMs }) => afterMs))).toBeLessThan(8_000); // generous for a busy machine
    expect(server.peakInFlight('AssumeRole')).toBeLessThanOrEqual(2);
  });
});
