/**
 * validateAccess's ExternalId probe over the wire: the real `@aws-sdk/client-sts` through `ServerAwsStsModule`
 * against LocalStsServer, with one customer role whose trust policy demands the ExternalId and one that does not.
 */
import { Test, type TestingModule } from '@nestjs/testing';
import { ServerAwsStsModule, StsService } from '../../src';
import { startLocalSts, type LocalStsServer } from '../../src/testing';

const ENFORCING_ROLE = 'arn:aws:iam::222222222222:role/VendorAccess';
const OPEN_ROLE = 'arn:aws:iam::333333333333:role/VendorAccess';
/** Trusts `StringLike sts:ExternalId "tenant-*"`: any value with the prefix gets in. */
const PREFIX_ROLE = 'arn:aws:iam::444444444444:role/VendorAccess';
/** Trusts a `StringEquals` list naming this customer's value and another customer's. */
const LIST_ROLE = 'arn:aws:iam::555555555555:role/VendorAccess';
const EXTERNAL_ID = 'customer-7f3a9c-external-id';
const PREFIXED_EXTERNAL_ID = 'tenant-9f86d081884c7d659a2feaa0c55ad015';

describe('validateAccess over the wire', () => {
  let server: LocalStsServer;
  let moduleRef: TestingModule;
  let sts: StsService;

  beforeAll(async () => {
    server = await startLocalSts({
      roles: [
        { arn: ENFORCING_ROLE, trustedPrincipals: ['arn:aws:iam::111111111111:root'], externalId: EXTERNAL_ID },
        { arn: OPEN_ROLE, trustedPrincipals: ['arn:aws:iam::111111111111:root'] },
        {
          arn: PREFIX_ROLE,
          trustedPrincipals: ['arn:aws:iam::111111111111:root'],
          externalIdCondition: { operator: 'StringLike', values: ['tenant-*'] },
        },
        {
          arn: LIST_ROLE,
          trustedPrincipals: ['arn:aws:iam::111111111111:root'],
          externalIdCondition: { operator: 'StringEquals', values: [EXTERNAL_ID, 'other-customer-id'] },
        },
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
  afterEach(() => server.clearFaults());
  afterAll(async () => {
    await moduleRef.close();
    await server.close();
  });

  it('a role that requires the ExternalId: enforced, after two probes STS refused', async () => {
    const before = server.calls.length;
    await expect(
      sts.validateAccess({ roleArn: ENFORCING_ROLE, externalId: EXTERNAL_ID }, { requireExternalIdEnforced: true }),
    ).resolves.toMatchObject({
      ok: true,
      accountId: '222222222222',
      externalIdEnforced: true,
    });
    const assumes = server.calls.slice(before).filter((call) => call.action === 'AssumeRole');
    expect(assumes.map((call) => call.status)).toEqual([200, 403, 403]); // the role, a random value, a near miss
  });

  it('a trust policy with StringLike "tenant-*": refuses a random value, lets the near miss in, so not enforced', async () => {
    const before = server.calls.length;
    await expect(sts.validateAccess({ roleArn: PREFIX_ROLE, externalId: PREFIXED_EXTERNAL_ID })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: false,
    });
    const assumes = server.calls.slice(before).filter((call) => call.action === 'AssumeRole');
    expect(assumes.map((call) => call.status)).toEqual([200, 403, 200]);
    await expect(
      sts.validateAccess({ roleArn: PREFIX_ROLE, externalId: PREFIXED_EXTERNAL_ID }, { requireExternalIdEnforced: true }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: 'ExternalIdNotEnforced' },
    });
  });

  it("what a true cannot prove: a list naming another customer's value passes as enforced", async () => {
    await expect(sts.validateAccess({ roleArn: LIST_ROLE, externalId: EXTERNAL_ID })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: true,
    });
  });

  it.each([
    ['the random probe', 1],
    ['the near miss', 2],
  ])('%s throttled: ok with externalIdEnforced undefined, or ExternalIdNotChecked caused by the throttling', async (_label, after) => {
    server.injectFault({ kind: 'throttle' }, { action: 'AssumeRole', after, times: 1 });
    await expect(sts.validateAccess({ roleArn: ENFORCING_ROLE, externalId: EXTERNAL_ID })).resolves.toMatchObject({
      ok: true,
      accountId: '222222222222',
      externalIdEnforced: undefined,
    });
    server.injectFault({ kind: 'throttle' }, { action: 'AssumeRole', after, times: 1 });
    await expect(
      sts.validateAccess({ roleArn: ENFORCING_ROLE, externalId: EXTERNAL_ID }, { requireExternalIdEnforced: true }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: 'ExternalIdNotChecked', cause: { code: 'Throttling' } },
    });
  });

  it('a role that lets anyone in with its ARN: not enforced, and refused with requireExternalIdEnforced', async () => {
    await expect(sts.validateAccess({ roleArn: OPEN_ROLE, externalId: EXTERNAL_ID })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: false,
    });
    await expect(
      sts.validateAccess({ roleArn: OPEN_ROLE, externalId: EXTERNAL_ID }, { requireExternalIdEnforced: true }),
    ).resolves.toMatchObject({
      ok: false,
      error: { code: 'ExternalIdNotEnforced' },
    });
    expect(sts.cache.stats().size).toBe(0);
  });

  it("names the base identity's principal for the customer's trust policy", async () => {
    await expect(sts.trustPrincipal()).resolves.toBe(server.baseIdentity.arn);
  });
});
