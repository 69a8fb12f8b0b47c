/**
 * `nestjs-aws-sts/testing` used the way docs/testing.md tells an app to: a Nest testing module around an app service
 * that injects `StsService`, faked at each level — the service (`fakeStsService`), the STS client (`fakeStsClient`,
 * `stsClientMockAnswers` on aws-sdk-client-mock) — and end to end against the local STS (`startLocalSts`).
 */
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { AssumeRoleCommand, AssumeRootCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { ServerAwsStsModule, STS_CLIENT, StsError, StsService, StsTenantMiddleware, TemporaryCredentials } from '../../../src';
import { fakeStsClient, fakeStsService, startLocalSts, stsClientMockAnswers, type LocalStsServer } from '../../../src/testing';
import { rejection } from '../../support/async-helpers';

const TENANT = { roleArn: 'arn:aws:iam::222222222222:role/TenantAccess', externalId: 'tenant-external-id-1' };

/** The app's service under test: the README's Quick start `TenantStorage`. */
@Injectable()
class TenantStorage {
  constructor(private readonly sts: StsService) {}

  s3For(tenant: { roleArn: string; externalId: string }) {
    return this.sts.clientFor(S3Client, { roleArn: tenant.roleArn, externalId: tenant.externalId });
  }

  async buckets(tenant: { roleArn: string; externalId: string }) {
    return this.s3For(tenant).send(new ListBucketsCommand({}));
  }
}

const modules: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(modules.splice(0).map((moduleRef) => moduleRef.close()));
});

describe('fakeStsService(): overrideProvider(StsService)', () => {
  const compile = async () => {
    const fake = fakeStsService({ identity: { account: '999999999999' } });
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1' })],
      providers: [TenantStorage],
    })
      .overrideProvider(StsService)
      .useValue(fake)
      .compile();
    modules.push(moduleRef);
    return { fake, moduleRef };
  };

  it('answers every method with well-formed credentials and records the calls, without a secret', async () => {
    const { fake, moduleRef } = await compile();
    const sts = moduleRef.get(StsService);
    expect(sts).toBe(fake);
    const credentials = await sts.getCredentials(TENANT);
    expect(credentials).toBeInstanceOf(TemporaryCredentials);
    expect(credentials).toMatchObject({ accountId: '222222222222', accessKeyId: expect.stringMatching(/^ASIA[A-Z0-9]{16}$/) });
    expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
    expect(credentials.assumedRoleUser?.arn).toMatch(/^arn:aws:sts::222222222222:assumed-role\/TenantAccess\//);
    expect(await sts.getCredentials(TENANT)).toBe(credentials);
    expect(await sts.getCallerIdentity()).toEqual({
      account: '999999999999',
      arn: 'arn:aws:iam::999999999999:user/app',
      userId: 'AIDAFAKEBASEIDENTITY',
      type: 'user',
    });
    expect((await sts.getSessionToken()).sessionToken).not.toBe('');
    expect(fake.calls).toEqual([
      { method: 'getCredentials', roleArn: TENANT.roleArn },
      { method: 'getCredentials', roleArn: TENANT.roleArn },
      { method: 'getCallerIdentity' },
      { method: 'getSessionToken' },
    ]);
    expect(JSON.stringify(fake.calls)).not.toContain(TENANT.externalId);
    expect(sts.cache.stats()).toMatchObject({ size: 1, hits: 1, misses: 1 });
    expect(sts.cache.invalidate(TENANT)).toBe(true);
    expect(await sts.getCredentials(TENANT)).not.toBe(credentials);
  });

  it('answers the privileged sessions: a root session of the target account, delegated credentials with their principal', async () => {
    const { fake, moduleRef } = await compile();
    const sts = moduleRef.get(StsService);

    const root = await sts.assumeRoot({
      targetPrincipal: '444444444444',
      taskPolicyArn: 'arn:aws:iam::aws:policy/root-task/S3UnlockBucketPolicy',
    });
    const delegated = await sts.getDelegatedAccessToken('trade-in-token-from-the-customer');

    expect(root).toMatchObject({ accountId: '444444444444' });
    expect(root.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(delegated).toMatchObject({ accountId: '123456789012', assumedPrincipal: 'arn:aws:iam::123456789012:role/FakeDelegatedRole' });
    expect(fake.calls).toEqual([{ method: 'assumeRoot' }, { method: 'getDelegatedAccessToken' }]);
    expect(JSON.stringify(fake.calls)).not.toContain('trade-in-token');
  });

  it('refuses a role as STS would, with the StsError code the app handles', async () => {
    const { fake, moduleRef } = await compile();
    fake.refuseRole(TENANT.roleArn);
    const error = await rejection(moduleRef.get(TenantStorage).s3For(TENANT).config.credentials());
    expect(error).toBeInstanceOf(StsError);
    expect(error).toMatchObject({ code: 'AccessDenied', operation: 'AssumeRole', retryable: false });
    expect(fake.calls).toEqual([{ method: 'getCredentials', roleArn: TENANT.roleArn }]);
    expect(await moduleRef.get(StsService).validateAccess(TENANT)).toEqual({ ok: false, error });
    fake.refuseRole(TENANT.roleArn, 'Throttling');
    expect(await rejection(moduleRef.get(StsService).assumeRole(TENANT))).toMatchObject({ code: 'Throttling', retryable: true });
  });

  it('hands out one real client per tenant from clientFor, destroyed with the module', async () => {
    const { moduleRef } = await compile();
    const storage = moduleRef.get(TenantStorage);
    const s3 = storage.s3For(TENANT);
    expect(s3).toBeInstanceOf(S3Client);
    expect(storage.s3For({ ...TENANT })).toBe(s3);
    expect((await s3.config.credentials()).accessKeyId).toMatch(/^ASIA/);
    const destroy = jest.spyOn(s3, 'destroy');
    await moduleRef.close();
    modules.length = 0;
    expect(destroy).toHaveBeenCalledTimes(1);
  });

  it('answers sts.current for the tenant of a request bound by StsTenantMiddleware, and refuses outside one', async () => {
    const other = { roleArn: 'arn:aws:iam::333333333333:role/TenantAccess', externalId: 'tenant-external-id-2' };
    const fake = fakeStsService({ tenant: { resolve: (request) => ((request as { tenant: string }).tenant === 'a' ? TENANT : other) } });
    const middleware = new StsTenantMiddleware();
    const inRequest = <T>(tenant: string, work: () => Promise<T>) =>
      new Promise<T>((resolve, reject) => middleware.use({ tenant }, {}, () => void work().then(resolve, reject)));
    const [a, b] = await Promise.all([inRequest('a', () => fake.current.role()), inRequest('b', () => fake.current.role())]);
    expect([a.roleArn, b.roleArn]).toEqual([TENANT.roleArn, other.roleArn]);
    const client = await inRequest('b', () => fake.current.clientFor(S3Client));
    expect(client).toBe(fake.clientFor(S3Client, other));
    await expect(fake.current.getCredentials()).rejects.toMatchObject({ code: 'NoRequestTenant' });
    await expect(fakeStsService().current.role()).rejects.toMatchObject({ code: 'NoRequestTenant' });
    await fake.onModuleDestroy();
  });
});

describe('fakeStsClient(): overrideProvider(STS_CLIENT)', () => {
  it('answers AssumeRole with credentials, so getCredentials and the cache run for real (an identity-only fake is InvalidResponse)', async () => {
    const identityOnly = {
      send: async () => ({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/app', UserId: 'AIDAEXAMPLE' }),
      destroy: () => undefined,
    };
    const broken = await Test.createTestingModule({ imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', cache: false })] })
      .overrideProvider(STS_CLIENT)
      .useValue(identityOnly)
      .compile();
    modules.push(broken);
    expect(await rejection(broken.get(StsService).getCredentials(TENANT))).toMatchObject({ code: 'InvalidResponse' });

    const client = fakeStsClient();
    const send = jest.spyOn(client, 'send');
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1' })],
      providers: [TenantStorage],
    })
      .overrideProvider(STS_CLIENT)
      .useValue(client)
      .compile();
    modules.push(moduleRef);
    const sts = moduleRef.get(StsService);
    const credentials = await sts.getCredentials(TENANT);
    expect(credentials.accountId).toBe('222222222222');
    expect(await sts.getCredentials({ ...TENANT })).toBe(credentials);
    expect(await sts.getAccountId()).toBe('123456789012');
    expect(send.mock.calls.map(([command]) => command.constructor.name)).toEqual(['AssumeRoleCommand', 'GetCallerIdentityCommand']);
  });

  it('still lets the module check inputs before anything is sent', async () => {
    const client = fakeStsClient();
    const send = jest.spyOn(client, 'send');
    const moduleRef = await Test.createTestingModule({ imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1' })] })
      .overrideProvider(STS_CLIENT)
      .useValue(client)
      .compile();
    modules.push(moduleRef);
    expect(await rejection(moduleRef.get(StsService).getCredentials({ roleArn: 'not-an-arn' }))).toMatchObject({ code: 'InvalidInput' });
    expect(send).not.toHaveBeenCalled();
  });
});

describe('stsClientMockAnswers(): aws-sdk-client-mock on the module STSClient', () => {
  // Made in beforeAll, not in the describe body: mockClient(STSClient) stubs every STSClient until restored.
  let sts: AwsClientStub<STSClient>;
  beforeAll(() => (sts = mockClient(STSClient)));
  afterAll(() => sts.restore());

  it('answers AssumeRole and GetCallerIdentity well formed; a more specific behaviour added after it wins', async () => {
    stsClientMockAnswers(sts, { identity: { account: '111111111111' } });
    const refused = 'arn:aws:iam::333333333333:role/TrustsSomeoneElse';
    sts.on(AssumeRoleCommand, { RoleArn: refused }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }));
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's' } }),
      ],
    }).compile();
    modules.push(moduleRef);
    const service = moduleRef.get(StsService);

    const credentials = await service.getCredentials({ ...TENANT, sessionName: 'tenant-a', durationSeconds: 900 });
    expect(credentials.assumedRoleUser).toEqual({
      arn: 'arn:aws:sts::222222222222:assumed-role/TenantAccess/tenant-a',
      assumedRoleId: 'AROAFAKEROLEID000000:tenant-a',
    });
    expect(credentials.expiration.getTime() - Date.now()).toBeLessThanOrEqual(900_000);
    expect(await service.getAccountId()).toBe('111111111111');
    expect(await rejection(service.getCredentials({ roleArn: refused, externalId: 'x-1' }))).toMatchObject({ code: 'AccessDenied' });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { RoleArn: TENANT.roleArn, ExternalId: TENANT.externalId });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('answers AssumeRoot and GetDelegatedAccessToken through the module, with what STS returns', async () => {
    stsClientMockAnswers(sts);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 's' } }),
      ],
    }).compile();
    modules.push(moduleRef);
    const service = moduleRef.get(StsService);
    const taskPolicyArn = 'arn:aws:iam::aws:policy/root-task/SQSUnlockQueuePolicy';

    const root = await service.assumeRoot({ targetPrincipal: '444444444444', taskPolicyArn, durationSeconds: 300 });
    const delegated = await service.getDelegatedAccessToken('trade-in-token-from-the-customer');

    expect(root.accountId).toBe('444444444444');
    expect(root.expiration.getTime() - Date.now()).toBeLessThanOrEqual(300_000);
    expect(delegated.assumedPrincipal).toBe('arn:aws:iam::123456789012:role/FakeDelegatedRole');
    expect(sts).toHaveReceivedCommandWith(AssumeRootCommand, { TargetPrincipal: '444444444444', TaskPolicyArn: { arn: taskPolicyArn } });
  });
});

describe('startLocalSts(): the module end to end against a local STS', () => {
  let localSts: LocalStsServer;
  beforeAll(async () => {
    localSts = await startLocalSts({
      roles: [{ arn: TENANT.roleArn, trustedPrincipals: ['arn:aws:iam::111111111111:root'], externalId: TENANT.externalId }],
    });
  });
  afterAll(() => localSts.close());
  afterEach(() => {
    localSts.clearFaults();
    localSts.resetCalls();
  });

  /** The statuses of the calls of `action` the server answered (a hung call abandoned later is left out). */
  const answered = (action: string) =>
    localSts.calls.filter((call) => call.action === action && call.status > 0).map((call) => call.status);

  const compile = async (overrides: Parameters<LocalStsServer['moduleConfig']>[0] = {}) => {
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure(localSts.moduleConfig(overrides))],
      providers: [TenantStorage],
    }).compile();
    modules.push(moduleRef);
    return moduleRef;
  };

  it('moduleConfig() points the module at it: credentials for the right ExternalId, AccessDenied for a wrong one', async () => {
    const sts = (await compile()).get(StsService);
    expect((await sts.getCredentials(TENANT)).accountId).toBe('222222222222');
    const refused = await rejection(sts.getCredentials({ ...TENANT, externalId: 'another-tenants-id' }));
    expect(refused).toMatchObject({ code: 'AccessDenied', retryable: false });
    expect(answered('AssumeRole')).toEqual([200, 403]);
  });

  it('injected throttling, an expired base token and a hang reach the app as StsError codes', async () => {
    const sts = (await compile({ cache: false, operationTimeoutSeconds: 1, clientConfig: { maxAttempts: 1 } })).get(StsService);
    localSts.injectFault({ kind: 'throttle' });
    expect(await rejection(sts.getCredentials(TENANT))).toMatchObject({ code: 'Throttling', retryable: true });
    localSts.injectFault({ kind: 'error', code: 'ExpiredTokenException' });
    expect(await rejection(sts.getCredentials(TENANT))).toMatchObject({ code: 'ExpiredTokenException' });
    localSts.injectFault({ kind: 'delay', ms: 60_000 });
    expect(await rejection(sts.getCredentials(TENANT))).toMatchObject({ code: 'TimeoutError', retryable: true });
  });

  it('mocking S3 with aws-sdk-client-mock skips STS; resolving the client credentials does not', async () => {
    const s3 = mockClient(S3Client);
    try {
      s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'tenant-bucket' }] });
      const storage = (await compile()).get(TenantStorage);
      expect((await storage.buckets({ ...TENANT, externalId: 'wrong-id' })).Buckets).toEqual([{ Name: 'tenant-bucket' }]);
      expect(answered('AssumeRole')).toEqual([]);
      expect(await rejection(storage.s3For({ ...TENANT, externalId: 'wrong-id' }).config.credentials())).toMatchObject({
        code: 'AccessDenied',
      });
      expect((await storage.s3For(TENANT).config.credentials()).accessKeyId).toMatch(/^ASIA/);
      expect(answered('AssumeRole')).toEqual([403, 200]);
    } finally {
      s3.restore();
    }
  });

  it('stsClientConfig() configures a plain STSClient against it', async () => {
    const client = new STSClient({ ...localSts.stsClientConfig(), maxAttempts: 1 });
    try {
      expect((await client.send(new GetCallerIdentityCommand({}))).Account).toBe('111111111111');
    } finally {
      client.destroy();
    }
  });
});
