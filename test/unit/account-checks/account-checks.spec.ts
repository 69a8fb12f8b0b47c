import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Logger } from '@nestjs/common';
import { OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from '../../support/fixtures';
import { capturingLogger, visibleText } from '../../support/visible-text';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

describe('validateAccess', () => {
  it('assumes the role for the shortest session and confirms the account', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    sts
      .on(GetCallerIdentityCommand)
      .resolves({ Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/s', UserId: 'AROA:s' });
    const result = await createService().validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' });
    expect(result).toEqual({
      ok: true,
      accountId: '123456789012',
      arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/s',
      expiration: expect.any(Date),
      externalIdEnforced: false,
    }); // this mock lets anyone in
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
    await expect(createService().validateAccess({ roleArn: ROLE_ARN })).resolves.toMatchObject({
      ok: false,
      error: { code: 'AccountMismatch' },
    });
  });

  it('returns a validation error for a bad request without calling STS', async () => {
    await expect(createService().validateAccess({ roleArn: 'not-an-arn' })).resolves.toMatchObject({
      ok: false,
      error: { code: 'InvalidInput', field: 'roleArn' },
    });
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('validateAccess: is the ExternalId enforced?', () => {
  const identity = { Account: '123456789012', Arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/s', UserId: 'AROA:s' };
  /** A role whose trust policy demands the ExternalId `tenant-1`, or (`enforced: false`) lets any caller in. */
  function role(enforced: boolean) {
    sts.on(GetCallerIdentityCommand).resolves(identity);
    sts
      .on(AssumeRoleCommand)
      .callsFake((input: { ExternalId?: string }) =>
        !enforced || input.ExternalId === 'tenant-1'
          ? Promise.resolve(assumeRoleOutput())
          : Promise.reject(serviceError('AccessDenied', 'not authorized to perform: sts:AssumeRole', 403)),
      );
  }

  it('probes with a random wrong ExternalId, then a near miss of the right one: two refusals mean enforced, unlogged and uncached', async () => {
    role(true);
    const logger = capturingLogger();
    Logger.overrideLogger(logger);
    try {
      const service = createService();
      await expect(service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' })).resolves.toMatchObject({
        ok: true,
        externalIdEnforced: true,
      });
      const calls = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId);
      expect(calls).toEqual(['tenant-1', expect.stringMatching(/^[0-9a-f]{32}$/), 'tenant-0']);
      expect(logger.lines).toEqual([]);
      expect(service.cache.stats().size).toBe(0);
    } finally {
      Logger.overrideLogger(false);
    }
  });

  it('reports a role that lets anyone in with its ARN, and refuses it with requireExternalIdEnforced', async () => {
    role(false);
    const service = createService();
    await expect(service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: false,
    });
    const refused = await service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' }, { requireExternalIdEnforced: true });
    expect(refused).toMatchObject({ ok: false, error: { code: 'ExternalIdNotEnforced', hint: expect.stringContaining('sts:ExternalId') } });
    expect(visibleText((refused as { error: Error }).error)).not.toContain('tenant-1');
  });

  it('unmasks a condition that only asks for some ExternalId (StringLike *, Null): not enforced', async () => {
    sts.on(GetCallerIdentityCommand).resolves(identity);
    sts
      .on(AssumeRoleCommand)
      .callsFake((input: { ExternalId?: string }) =>
        input.ExternalId ? Promise.resolve(assumeRoleOutput()) : Promise.reject(serviceError('AccessDenied', 'not authorized', 403)),
      );
    const service = createService({ EXTERNAL_ID: 'partner-external-id', requireExternalId: true });
    await expect(service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' })).resolves.toMatchObject({
      ok: true,
      externalIdEnforced: false,
    });
    const sent = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId);
    expect(sent).toEqual(['tenant-1', expect.stringMatching(/^[0-9a-f]{32}$/)]);
    expect(sent[1]).not.toBe('partner-external-id');
  });

  it('does not probe a request with MFA (a code cannot be sent twice): not checked, and refused when enforcement is required', async () => {
    role(false);
    const request = {
      roleArn: ROLE_ARN,
      externalId: 'tenant-1',
      mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/ops', tokenCode: '123456' },
    };
    await expect(createService().validateAccess(request)).resolves.toMatchObject({ ok: true, externalIdEnforced: undefined });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
    await expect(createService().validateAccess(request, { requireExternalIdEnforced: true })).resolves.toMatchObject({
      ok: false,
      error: { code: 'ExternalIdNotChecked', hint: expect.stringContaining('MFA') },
    });
  });

  it('makes no probe for a request without any ExternalId: not enforced, by definition', async () => {
    role(false);
    await expect(createService().validateAccess({ roleArn: ROLE_ARN })).resolves.toMatchObject({ ok: true, externalIdEnforced: false });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it.each([
    ['the random probe', (externalId: string) => externalId !== 'tenant-1'],
    ['the near miss', (externalId: string) => externalId === 'tenant-0'],
  ])(
    'a throttled probe (%s) leaves the check ok, not checked; with requireExternalIdEnforced ExternalIdNotChecked, caused by it',
    async (_label, throttled) => {
      sts.on(GetCallerIdentityCommand).resolves(identity);
      sts
        .on(AssumeRoleCommand)
        .callsFake((input: { ExternalId: string }) =>
          input.ExternalId === 'tenant-1'
            ? Promise.resolve(assumeRoleOutput())
            : Promise.reject(
                throttled(input.ExternalId)
                  ? serviceError('Throttling', 'Rate exceeded', 400)
                  : serviceError('AccessDenied', 'not authorized', 403),
              ),
        );
      const service = createService();
      await expect(service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' })).resolves.toEqual({
        ok: true,
        accountId: '123456789012',
        arn: identity.Arn,
        expiration: expect.any(Date),
        externalIdEnforced: undefined,
      });
      const refused = await service.validateAccess({ roleArn: ROLE_ARN, externalId: 'tenant-1' }, { requireExternalIdEnforced: true });
      expect(refused).toMatchObject({
        ok: false,
        error: { code: 'ExternalIdNotChecked', hint: expect.stringContaining('probe'), cause: { code: 'Throttling', retryable: true } },
      });
      expect(visibleText((refused as { error: Error }).error)).not.toMatch(/tenant-[01]/);
    },
  );

  it('a role that lets in a near miss of the ExternalId (StringLike "tenant-*") is not enforced, though it refuses a random value', async () => {
    const customerValue = 'tenant-9f86d081884c7d659a2feaa0c55ad015';
    sts.on(GetCallerIdentityCommand).resolves(identity);
    sts
      .on(AssumeRoleCommand)
      .callsFake((input: { ExternalId: string }) =>
        input.ExternalId.startsWith('tenant-')
          ? Promise.resolve(assumeRoleOutput())
          : Promise.reject(serviceError('AccessDenied', 'not authorized', 403)),
      );
    const logger = capturingLogger();
    Logger.overrideLogger(logger);
    try {
      const service = createService();
      const events: unknown[] = [];
      service.events$.subscribe((event) => events.push(event));
      await expect(service.validateAccess({ roleArn: ROLE_ARN, externalId: customerValue })).resolves.toMatchObject({
        ok: true,
        externalIdEnforced: false,
      });
      const [, random, nearMiss] = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.ExternalId as string);
      expect(random).toMatch(/^[0-9a-f]{32}$/);
      expect(nearMiss).toHaveLength(customerValue.length);
      expect(nearMiss.slice(0, -1)).toBe(customerValue.slice(0, -1));
      expect(nearMiss.toLowerCase()).not.toBe(customerValue.toLowerCase());
      const refused = await service.validateAccess({ roleArn: ROLE_ARN, externalId: customerValue }, { requireExternalIdEnforced: true });
      expect(refused).toMatchObject({ ok: false, error: { code: 'ExternalIdNotEnforced' } });
      const seen = [...logger.lines, JSON.stringify(events), visibleText((refused as { error: Error }).error)].join('\n');
      expect(seen).not.toContain(customerValue.slice(0, -1)); // neither the value nor its near miss
    } finally {
      Logger.overrideLogger(false);
    }
  });

  it("the near miss differs from the customer's value in any letter case, whatever its last character", async () => {
    sts.on(GetCallerIdentityCommand).resolves(identity);
    for (const externalId of ['ab', 'x0', 'X1', 'tenant-Z', 'a:/=,.@+-_']) {
      sts
        .on(AssumeRoleCommand)
        .callsFake((input: { ExternalId: string }) =>
          input.ExternalId === externalId
            ? Promise.resolve(assumeRoleOutput())
            : Promise.reject(serviceError('AccessDenied', 'not authorized', 403)),
        );
      sts.resetHistory();
      await createService().validateAccess({ roleArn: ROLE_ARN, externalId });
      const nearMiss = sts.commandCalls(AssumeRoleCommand)[2]?.args[0].input.ExternalId as string;
      expect({
        externalId,
        length: nearMiss.length,
        prefix: nearMiss.slice(0, -1),
        differs: nearMiss.toLowerCase() !== externalId.toLowerCase(),
      }).toEqual({
        externalId,
        length: externalId.length,
        prefix: externalId.slice(0, -1),
        differs: true,
      });
    }
  });
});

describe('trustPrincipal', () => {
  const principalFor = async (arn: string, knownRoleArn?: string) => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: arn.split(':')[4], Arn: arn, UserId: 'AIDA' });
    const saved = process.env.AWS_ROLE_ARN;
    if (knownRoleArn) process.env.AWS_ROLE_ARN = knownRoleArn;
    else delete process.env.AWS_ROLE_ARN;
    try {
      return await createService().trustPrincipal();
    } finally {
      if (saved === undefined) delete process.env.AWS_ROLE_ARN;
      else process.env.AWS_ROLE_ARN = saved;
    }
  };

  it.each([
    ['an IAM user, as is', 'arn:aws:iam::111111111111:user/team/app', 'arn:aws:iam::111111111111:user/team/app'],
    ['an IAM role, as is', 'arn:aws:iam::111111111111:role/app', 'arn:aws:iam::111111111111:role/app'],
    [
      'an assumed-role session, as its role',
      'arn:aws:sts::111111111111:assumed-role/AppRole/i-0abc',
      'arn:aws:iam::111111111111:role/AppRole',
    ],
    [
      'an assumed-role session in another partition',
      'arn:aws-cn:sts::111111111111:assumed-role/AppRole/s',
      'arn:aws-cn:iam::111111111111:role/AppRole',
    ],
    ['root, as the account', 'arn:aws:iam::111111111111:root', 'arn:aws:iam::111111111111:root'],
    ['a federated user, as the account', 'arn:aws:sts::111111111111:federated-user/bob', 'arn:aws:iam::111111111111:root'],
  ])('%s', async (_, arn, principal) => {
    await expect(principalFor(arn)).resolves.toBe(principal);
  });

  it('rejects with an StsError when STS names no principal it knows', async () => {
    await expect(principalFor('')).rejects.toMatchObject({ name: 'StsError', code: 'InvalidResponse' });
  });

  it("keeps the role's path when AWS_ROLE_ARN names the same role, and ignores it when it names another", async () => {
    await expect(
      principalFor('arn:aws:sts::111111111111:assumed-role/AppRole/s', 'arn:aws:iam::111111111111:role/service/AppRole'),
    ).resolves.toBe('arn:aws:iam::111111111111:role/service/AppRole');
    await expect(
      principalFor('arn:aws:sts::111111111111:assumed-role/AppRole/s', 'arn:aws:iam::111111111111:role/service/Other'),
    ).resolves.toBe('arn:aws:iam::111111111111:role/AppRole');
    await expect(principalFor('arn:aws:sts::111111111111:assumed-role/AppRole/s', 'arn:aws:iam::222222222222:role/AppRole')).resolves.toBe(
      'arn:aws:iam::111111111111:role/AppRole',
    );
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
      { ok: false, accountId: '', error: expect.objectContaining({ code: 'InvalidInput' }) },
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
