/**
 * STS's clock, not the host's: the cache times credentials by the offset the SDK learns from STS's `Date` headers.
 * A local STS whose clock runs three hours behind the host issues one-hour credentials that the host's own clock would
 * call expired two hours ago; the cache must serve them, from the first answer on, without calling STS again.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { ServerAwsStsModule, StsService } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';

const ROLE = 'arn:aws:iam::123456789012:role/Skewed';
const HOURS = 3_600_000;

describe("the cache on STS's clock", () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;

  beforeAll(async () => {
    server = await startLocalSts({ now: () => Date.now() - 3 * HOURS });
    server.addRole({ arn: ROLE, trustedPrincipals: [server.baseIdentity.arn] });
    moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: server.endpoint, maxAttempts: 1 },
        }),
      ],
    }).compile();
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
