/**
 * validateAccess's ExternalId probe over the wire: the real `@aws-sdk/client-sts` through `ServerAwsStsModule`
 * against LocalStsServer, with one customer role whose trust policy demands the ExternalId and one that does not.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { ServerAwsStsModule, StsService } from '../src';
import { LocalStsServer } from './support/local-sts';

const ENFORCING_ROLE = 'arn:aws:iam::222222222222:role/VendorAccess';
const OPEN_ROLE = 'arn:aws:iam::333333333333:role/VendorAccess';
const EXTERNAL_ID = 'customer-7f3a9c-external-id';

describe('validateAccess over the wire', () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;
  let sts: StsService;

  beforeAll(async () => {
    server = await LocalStsServer.start({
      roles: [
        { arn: ENFORCING_ROLE, trustedPrincipals: ['arn:aws:iam::111111111111:root'], externalId: EXTERNAL_ID },
        { arn: OPEN_ROLE, trustedPrincipals: ['arn:aws:iam::111111111111:root'] },
      ],
    });
    moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
          clientConfig: { endpoint: server.endpoint, maxAttempts: 1 },
        }),
      ],
    }).compile();
    sts = moduleRef.get(StsService);
  });
  afterAll(async () => {
    await moduleRef.close();
    await server.close();
  });

  it('a role that requires the ExternalId: enforced, after one probe STS refused', async () => {
    const before = server.calls.length;
    await expect(sts.validateAccess({ roleArn: ENFORCING_ROLE, externalId: EXTERNAL_ID }, { requireExternalIdEnforced: true })).resolves.toMatchObject({
      ok: true,
      accountId: '222222222222',
      externalIdEnforced: true,
    });
    const assumes = server.calls.slice(before).filter((call) => call.action === 'AssumeRole');
    expect(assumes.map((call) => call.status)).toEqual([200, 403]);
  });

  it('a role that lets anyone in with its ARN: not enforced, and refused with requireExternalIdEnforced', async () => {
    await expect(sts.validateAccess({ roleArn: OPEN_ROLE, externalId: EXTERNAL_ID })).resolves.toMatchObject({ ok: true, externalIdEnforced: false });
    await expect(sts.validateAccess({ roleArn: OPEN_ROLE, externalId: EXTERNAL_ID }, { requireExternalIdEnforced: true })).resolves.toMatchObject({
      ok: false,
      error: { code: 'ExternalIdNotEnforced' },
    });
    expect(sts.cache.stats().size).toBe(0);
  });

  it("names the base identity's principal for the customer's trust policy", async () => {
    await expect(sts.trustPrincipal()).resolves.toBe(server.baseIdentity.arn);
  });
});
