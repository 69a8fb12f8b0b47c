/**
 * STS's clock, not the host's: the cache times credentials by the offset the SDK learns from STS's `Date` headers.
 * A local STS whose clock runs three hours behind the host issues one-hour credentials that the host's own clock would
 * call expired two hours ago; the cache must serve them, from the first answer on, without calling STS again.
 */
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { Test, type TestingModule } from '@nestjs/testing';
import { STS_CLIENT, ServerAwsStsModule, StsService } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import { eventually } from '../support/async-helpers';

const ROLE = 'arn:aws:iam::123456789012:role/Skewed';
const HOURS = 3_600_000;
const MINUTES = 60_000;

/** A local STS on the clock `now` (with its options), trusting the base identity for ROLE, and the app using it. */
async function skewedApp(options: Parameters<typeof startLocalSts>[0]): Promise<{ server: LocalStsServer; moduleRef: TestingModule }> {
  const server = await startLocalSts(options);
  server.addRole({ arn: ROLE, trustedPrincipals: [server.baseIdentity.arn] });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ServerAwsStsModule.configure({
        AWS_REGION: 'us-east-1',
        credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
        clientConfig: { endpoint: server.endpoint, maxAttempts: 1 },
      }),
    ],
  }).compile();
  return { server, moduleRef };
}

describe("the cache on STS's clock", () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    ({ server, moduleRef } = await skewedApp({ now: () => Date.now() - 3 * HOURS }));
  });

  afterAll(async () => {
    await moduleRef.close();
    await server.close();
  });

  it('serves credentials STS issued for an hour, though the host clock has them expired, without calling STS again', async () => {
    const sts = moduleRef.get(StsService);
    const first = await sts.getCredentials({ roleArn: ROLE });
    // By the host's clock these expired two hours ago: only STS's clock makes them good.
    expect(first.expiration.getTime()).toBeLessThan(Date.now() - HOURS);
    for (let call = 0; call < 5; call++) expect(await sts.getCredentials({ roleArn: ROLE })).toBe(first);
    expect(server.callCount('AssumeRole')).toBe(1);
    expect(sts.cache.stats()).toMatchObject({ hits: 5, misses: 1 });
  });
});

describe("the cache on STS's clock, learned by any send on the module's client", () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;
  /** How far STS's clock runs ahead of the host's (ms). */
  let stsAhead = 0;

  beforeAll(async () => {
    ({ server, moduleRef } = await skewedApp({ now: () => Date.now() + stsAhead }));
  });

  afterAll(async () => {
    await moduleRef.close();
    await server.close();
  });

  it('never serves credentials STS calls expired once a command the app sends on the injected client learned the skew', async () => {
    const sts = moduleRef.get(StsService);
    const first = await sts.getCredentials({ roleArn: ROLE });
    // The host's clock steps two hours back (STS's now runs two hours ahead): by STS's clock `first` has expired.
    stsAhead = 2 * HOURS;
    // A command the service does not wrap, sent on the module's client as the configuration docs show: the SDK
    // learns the new offset from STS's Date header.
    await moduleRef.get<STSClient>(STS_CLIENT).send(new GetCallerIdentityCommand({}));
    expect(first.expiration.getTime()).toBeLessThan(Date.now() + stsAhead);
    const next = await sts.getCredentials({ roleArn: ROLE });
    expect(next).not.toBe(first);
    expect(next.expiration.getTime()).toBeGreaterThan(Date.now() + stsAhead);
    expect(server.callCount('AssumeRole')).toBe(2);
  });
});

describe("the cache on STS's clock, learned by a background refresh that fails", () => {
  const realNow = Date.now.bind(Date);
  let server: LocalStsServer;
  let moduleRef: TestingModule;
  /** How far the host's clock has moved on, and how far STS's runs ahead of it (ms). */
  let hostShift = 0;
  let stsAhead = 0;

  beforeAll(async () => {
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + hostShift);
    // STS refuses a request signed more than five minutes off its clock, and says its time in the answer's Date.
    ({ server, moduleRef } = await skewedApp({ now: () => realNow() + hostShift + stsAhead, maxClockSkewSeconds: 300 }));
  });

  afterAll(async () => {
    await moduleRef.close();
    await server.close();
    jest.restoreAllMocks();
  });

  it('drops credentials the failed refresh shows expired by STS, and fetches anew on the next call', async () => {
    const sts = moduleRef.get(StsService);
    const first = await sts.getCredentials({ roleArn: ROLE });
    // 50 minutes on by the host (the advisory window of one-hour credentials), 65 by STS: `first` has expired.
    hostShift = 50 * MINUTES;
    stsAhead = 15 * MINUTES;
    // Served (nothing has told the host yet), with a background refresh that STS refuses as signed too far off.
    expect(await sts.getCredentials({ roleArn: ROLE })).toBe(first);
    await eventually(() => sts.cache.stats().inflight === 0);
    expect(sts.cache.stats()).toMatchObject({ inflight: 0, refreshFailures: 1 });
    const next = await sts.getCredentials({ roleArn: ROLE });
    expect(next).not.toBe(first);
    expect(next.expiration.getTime()).toBeGreaterThan(Date.now() + stsAhead);
  });
});
