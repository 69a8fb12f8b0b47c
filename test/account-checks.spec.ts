import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Test } from '@nestjs/testing';
import { ServerAwsStsModule, StsService } from '../src';
import { BASE_CREDENTIALS, OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from './support/fixtures';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

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
