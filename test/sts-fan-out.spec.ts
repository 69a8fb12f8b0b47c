import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Test } from '@nestjs/testing';
import { ServerAwsStsModule, StsService } from '../src';
import { BASE_CREDENTIALS, OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from './support/fixtures';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

describe('credentialProvider and createClient', () => {
  it('give any SDK v3 client cached role credentials', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput(ROLE_ARN, 3600, 'ROLE'));
    const service = createService({ AWS_REGION: 'eu-west-1' });
    const provider = service.credentialProvider({ roleArn: ROLE_ARN, externalId: 'tenant-1' });
    const client = service.createClient(STSClient, { roleArn: ROLE_ARN, externalId: 'tenant-1' }, { maxAttempts: 2 });
    const fromClient = await client.config.credentials();
    expect(fromClient.accessKeyId).toBe('ASIAEXAMPLEROLE');
    expect((await provider()).accessKeyId).toBe('ASIAEXAMPLEROLE');
    expect(await client.config.region()).toBe('eu-west-1');
    expect(await client.config.maxAttempts()).toBe(2);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    client.destroy();
  });

  it('lets the client config choose another region', async () => {
    const client = createService({ AWS_REGION: 'eu-west-1' }).createClient(STSClient, { roleArn: ROLE_ARN }, { region: 'ap-south-1' });
    expect(await client.config.region()).toBe('ap-south-1');
    client.destroy();
  });
});

describe('validateAccess', () => {
  it('assumes the role for the shortest session and confirms the account', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/s', UserId: 'AROA:s' });
    const result = await createService().validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' });
    expect(result).toEqual({ ok: true, accountId: '123456789012', arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/s', expiration: expect.any(Date) });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { DurationSeconds: 900, ExternalId: 'tenant-1' });
    const identityCall = sts.commandCalls(GetCallerIdentityCommand)[0];
    expect((await (identityCall.thisValue as STSClient).config.credentials()).accessKeyId).toMatch(/^ASIAEXAMPLE/);
  });

  it('returns the error with its hint instead of throwing when access is denied', async () => {
    sts.on(AssumeRoleCommand).rejects(serviceError('AccessDenied', 'not authorized', 403));
    const result = await createService().validateAccess({ roleArn: ROLE_ARN, externalId: 'wrong' });
    expect(result).toMatchObject({ ok: false, error: { code: 'AccessDenied', hint: expect.stringContaining('sts:ExternalId') } });
  });

  it('reports credentials that land in another account than the ARN names', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    sts.on(GetCallerIdentityCommand).resolves({ Account: '999999999999', Arn: 'arn:aws:sts::999999999999:assumed-role/X/s', UserId: 'u' });
    await expect(createService().validateAccess({ roleArn: ROLE_ARN })).resolves.toMatchObject({ ok: false, error: { code: 'AccountMismatch' } });
  });

  it('returns a validation error for a bad request without calling STS', async () => {
    await expect(createService().validateAccess({ roleArn: 'not-an-arn' })).resolves.toMatchObject({ ok: false, error: { code: 'ValidationError', field: 'roleArn' } });
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('assumeRoleInAccounts', () => {
  it('returns one result per request, in order, and never rejects as a whole', async () => {
    sts.on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN }).rejects(serviceError('AccessDenied', 'no', 403));
    sts.on(AssumeRoleCommand, { RoleArn: ROLE_ARN }).resolves(assumeRoleOutput());
    const results = await createService().assumeRoleInAccounts([{ roleArn: ROLE_ARN }, { roleArn: OTHER_ROLE_ARN }, { roleArn: 'bad' }]);
    expect(results).toEqual([
      { ok: true, accountId: '123456789012', credentials: expect.objectContaining({ accountId: '123456789012' }) },
      { ok: false, accountId: '210987654321', error: expect.objectContaining({ code: 'AccessDenied' }) },
      { ok: false, accountId: '', error: expect.objectContaining({ code: 'ValidationError' }) },
    ]);
  });

  it('keeps at most `concurrency` STS calls in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string }) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return assumeRoleOutput(input.RoleArn);
    });
    const requests = Array.from({ length: 20 }, (_, i) => ({ roleArn: `arn:aws:iam::${String(100000000000 + i)}:role/Audit` }));
    const results = await createService().assumeRoleInAccounts(requests, { concurrency: 3 });
    expect(results.map((result) => result.accountId)).toEqual(requests.map((r) => r.roleArn.split(':')[4]));
    expect(results.every((result) => result.ok)).toBe(true);
    expect(peak).toBe(3);
  });

  it('refuses a concurrency below 1', async () => {
    await expect(createService().assumeRoleInAccounts([], { concurrency: 0 })).rejects.toMatchObject({ field: 'concurrency' });
  });
});

describe('module destroy', () => {
  it('clears the cache, completes events$, and leaves no handle open', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    const countByType = () => process.getActiveResourcesInfo().reduce<Record<string, number>>((counts, type) => ({ ...counts, [type]: (counts[type] ?? 0) + 1 }), {});
    const before = countByType();
    const moduleRef = await Test.createTestingModule({ imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS })] }).compile();
    const service = moduleRef.get(StsService);
    let completed = false;
    service.events$.subscribe({ complete: () => (completed = true) });
    await service.getCredentials({ roleArn: ROLE_ARN });
    expect(service.cache.stats().size).toBe(1);
    await moduleRef.close();
    expect(completed).toBe(true);
    expect(service.cache.stats().size).toBe(0);
    const after = countByType();
    const opened = Object.keys(after).filter((type) => after[type] > (before[type] ?? 0));
    expect(opened).toEqual([]);
  });
});
