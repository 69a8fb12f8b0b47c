import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { Test } from '@nestjs/testing';
import { ServerAwsStsModule, StsError, StsService, TemporaryCredentials } from '../../../src';
import {
  BASE_ACCOUNT,
  BASE_CREDENTIALS,
  OTHER_ROLE_ARN,
  ROLE_ARN,
  assumeRoleOutput,
  createService,
  serviceError,
  stsCredentials,
} from '../../support/fixtures';

const sts = mockClient(STSClient);
beforeEach(() => sts.reset());

describe('StsService.getCallerIdentity / getAccountId', () => {
  it.each([
    ['arn:aws:iam::111111111111:user/alice', 'user'],
    ['arn:aws:iam::111111111111:role/Deployer', 'role'],
    ['arn:aws:sts::111111111111:assumed-role/Deployer/s1', 'assumed-role'],
    ['arn:aws:sts::111111111111:federated-user/bob', 'federated-user'],
    ['arn:aws:iam::111111111111:root', 'root'],
    ['arn:aws-cn:iam::111111111111:user/cn-user', 'user'],
    ['arn:aws:something::111111111111:else', 'unknown'],
  ])('reads %s as %s', async (arn, type) => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: BASE_ACCOUNT, Arn: arn, UserId: 'AIDAEXAMPLE' });
    await expect(createService().getCallerIdentity()).resolves.toEqual({ account: BASE_ACCOUNT, arn, userId: 'AIDAEXAMPLE', type });
  });

  it('asks STS for the account id once and remembers it', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: BASE_ACCOUNT, Arn: 'arn:aws:iam::111111111111:user/a', UserId: 'x' });
    const service = createService();
    expect(await Promise.all([service.getAccountId(), service.getAccountId()])).toEqual([BASE_ACCOUNT, BASE_ACCOUNT]);
    expect(await service.getAccountId()).toBe(BASE_ACCOUNT);
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('does not remember a failure', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejectsOnce(serviceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403))
      .resolves({ Account: BASE_ACCOUNT, Arn: 'arn:aws:iam::111111111111:user/a', UserId: 'x' });
    const service = createService();
    await expect(service.getAccountId()).rejects.toMatchObject({ code: 'InvalidClientTokenId' });
    await expect(service.getAccountId()).resolves.toBe(BASE_ACCOUNT);
  });
});

describe('StsService.assumeRole', () => {
  it('sends the exact AssumeRole input for every option', async () => {
    sts.on(AssumeRoleCommand).resolves({ ...assumeRoleOutput(), SourceIdentity: 'alice' });
    const credentials = await createService().assumeRole({
      roleArn: ROLE_ARN,
      externalId: 'tenant-42-external',
      sessionName: 'tenant-42',
      durationSeconds: 1800,
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
      policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      tags: { tenant: '42', team: 'billing' },
      transitiveTagKeys: ['tenant'],
      sourceIdentity: 'alice',
      mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: '123456' },
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, {
      RoleArn: ROLE_ARN,
      RoleSessionName: 'tenant-42',
      DurationSeconds: 1800,
      ExternalId: 'tenant-42-external',
      Policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      Tags: [
        { Key: 'tenant', Value: '42' },
        { Key: 'team', Value: 'billing' },
      ],
      TransitiveTagKeys: ['tenant'],
      SourceIdentity: 'alice',
      SerialNumber: 'arn:aws:iam::111111111111:mfa/alice',
      TokenCode: '123456',
    });
    expect(credentials).toBeInstanceOf(TemporaryCredentials);
    expect(credentials).toMatchObject({
      accountId: '123456789012',
      assumedRoleUser: { arn: 'arn:aws:sts::123456789012:assumed-role/TenantAccess/session', assumedRoleId: 'AROAEXAMPLE:session' },
      sourceIdentity: 'alice',
      packedPolicySize: 6,
    });
    expect(credentials.expiration).toBeInstanceOf(Date);
  });

  it('fills defaults: a generated valid session name, DEFAULT_SESSION_DURATION and EXTERNAL_ID', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    await createService({ DEFAULT_SESSION_DURATION: 1200, EXTERNAL_ID: 'config-external', sessionNamePrefix: 'billing' }).assumeRole({
      roleArn: ROLE_ARN,
    });
    const input = sts.commandCalls(AssumeRoleCommand)[0].args[0].input;
    expect(input).toMatchObject({ RoleArn: ROLE_ARN, DurationSeconds: 1200, ExternalId: 'config-external' });
    expect(input.RoleSessionName).toMatch(/^billing-\d{13}-[0-9a-f]{6}$/);
    expect(input.Policy).toBeUndefined();
  });

  it('passes a string policy through unchanged', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    const policy = '{"Version":"2012-10-17","Statement":[]}';
    await createService().assumeRole({ roleArn: ROLE_ARN, policy });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { Policy: policy });
  });

  it('calls an MFA code function and sends what it returns', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    await createService().assumeRole({ roleArn: ROLE_ARN, mfa: { serialNumber: 'GAHT12345678', tokenCode: async () => '654321' } });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleCommand, { SerialNumber: 'GAHT12345678', TokenCode: '654321' });
  });

  describe('requireExternalId', () => {
    beforeEach(() =>
      sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/a', UserId: 'x' }),
    );

    it('refuses a cross-account role without an ExternalId before calling AssumeRole', async () => {
      const service = createService({ requireExternalId: true });
      await expect(service.assumeRole({ roleArn: OTHER_ROLE_ARN })).rejects.toMatchObject({ code: 'InvalidInput', field: 'externalId' });
      expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 0);
    });

    it("allows a role in the caller's own account, and any role with an ExternalId", async () => {
      sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
      const service = createService({ requireExternalId: true });
      await service.assumeRole({ roleArn: ROLE_ARN });
      await service.assumeRole({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-external' });
      expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    });
  });

  describe('role chaining (via)', () => {
    it('assumes the first hop, then calls AssumeRole with its credentials, capped at 3600 s', async () => {
      const hop = assumeRoleOutput(ROLE_ARN, 3600, 'HOP');
      sts
        .on(AssumeRoleCommand, { RoleArn: ROLE_ARN })
        .resolves(hop)
        .on(AssumeRoleCommand, { RoleArn: OTHER_ROLE_ARN })
        .resolves(assumeRoleOutput(OTHER_ROLE_ARN));
      const service = createService({ DEFAULT_SESSION_DURATION: 7200 });
      const credentials = await service.assumeRole({ roleArn: OTHER_ROLE_ARN, externalId: 'second-hop', via: { roleArn: ROLE_ARN } });
      expect(credentials.accountId).toBe('210987654321');
      const calls = sts.commandCalls(AssumeRoleCommand);
      expect(calls.map((call) => call.args[0].input.RoleArn)).toEqual([ROLE_ARN, OTHER_ROLE_ARN]);
      expect(calls[1].args[0].input).toMatchObject({ DurationSeconds: 3600, ExternalId: 'second-hop' });
      const signer = await (calls[1].thisValue as STSClient).config.credentials();
      expect(signer.accessKeyId).toBe(hop.Credentials.AccessKeyId);
    });

    it('refuses a chained duration over one hour before any call', async () => {
      await expect(
        createService().assumeRole({ roleArn: OTHER_ROLE_ARN, durationSeconds: 3601, via: { roleArn: ROLE_ARN } }),
      ).rejects.toMatchObject({
        field: 'durationSeconds',
        message: expect.stringContaining('role chaining'),
      });
      expect(sts.calls()).toHaveLength(0);
    });
  });
});

describe('StsService.assumeRoleWithWebIdentity', () => {
  const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.signature';

  it('sends the exact input and returns the web identity facts', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({
      Credentials: stsCredentials(),
      SubjectFromWebIdentityToken: 'system:serviceaccount:default:app',
      Audience: 'sts.amazonaws.com',
      Provider: 'oidc.eks.us-east-1.amazonaws.com/id/ABC',
    });
    const credentials = await createService().assumeRoleWithWebIdentity({
      roleArn: ROLE_ARN,
      webIdentityToken: token,
      providerId: 'www.amazon.com',
      sessionName: 'pod-1',
      durationSeconds: 900,
      policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleWithWebIdentityCommand, {
      RoleArn: ROLE_ARN,
      RoleSessionName: 'pod-1',
      WebIdentityToken: token,
      ProviderId: 'www.amazon.com',
      DurationSeconds: 900,
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
    });
    expect(credentials).toMatchObject({
      subjectFromWebIdentityToken: 'system:serviceaccount:default:app',
      audience: 'sts.amazonaws.com',
      provider: 'oidc.eks.us-east-1.amazonaws.com/id/ABC',
    });
  });

  it('reads the token file at each call, so a rotated token is sent', async () => {
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: stsCredentials() });
    const file = join(mkdtempSync(join(tmpdir(), 'sts-token-')), 'token');
    const service = createService();
    writeFileSync(file, 'first-token-value\n');
    await service.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityTokenFile: file });
    writeFileSync(file, 'rotated-token-value\n');
    await service.assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityTokenFile: file });
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand).map((call) => call.args[0].input.WebIdentityToken)).toEqual([
      'first-token-value',
      'rotated-token-value',
    ]);
  });

  it('names a token file it cannot read, with a hint', async () => {
    await expect(
      createService().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityTokenFile: '/nonexistent/token' }),
    ).rejects.toMatchObject({
      code: 'WebIdentityTokenFileError',
      message: expect.stringContaining('/nonexistent/token'),
      hint: expect.stringContaining('AWS_WEB_IDENTITY_TOKEN_FILE'),
    });
    expect(sts.calls()).toHaveLength(0);
  });
});

describe('StsService.assumeRoleWithSaml', () => {
  it('sends the exact input and returns the SAML facts', async () => {
    sts.on(AssumeRoleWithSAMLCommand).resolves({
      Credentials: stsCredentials(),
      Subject: 'alice',
      SubjectType: 'persistent',
      Issuer: 'https://idp.example.com',
      Audience: 'https://signin.aws.amazon.com/saml',
      NameQualifier: 'nq',
    });
    const credentials = await createService().assumeRoleWithSaml({
      roleArn: ROLE_ARN,
      principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
      samlAssertion: 'PHNhbWxwOlJlc3BvbnNlPg==',
      durationSeconds: 3600,
      policy: { Version: '2012-10-17', Statement: [] },
    });
    expect(sts).toHaveReceivedCommandWith(AssumeRoleWithSAMLCommand, {
      RoleArn: ROLE_ARN,
      PrincipalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
      SAMLAssertion: 'PHNhbWxwOlJlc3BvbnNlPg==',
      DurationSeconds: 3600,
      Policy: '{"Version":"2012-10-17","Statement":[]}',
    });
    expect(credentials).toMatchObject({
      subject: 'alice',
      subjectType: 'persistent',
      issuer: 'https://idp.example.com',
      nameQualifier: 'nq',
    });
  });
});

describe('StsService.getSessionToken', () => {
  it('sends duration and MFA, and leaves the duration to STS when none is given', async () => {
    sts.on(GetSessionTokenCommand).resolves({ Credentials: stsCredentials(43200) });
    const service = createService();
    await service.getSessionToken({
      durationSeconds: 129600,
      mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: '000123' },
    });
    await service.getSessionToken();
    const inputs = sts.commandCalls(GetSessionTokenCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([{ DurationSeconds: 129600, SerialNumber: 'arn:aws:iam::111111111111:mfa/alice', TokenCode: '000123' }, {}]);
  });
});

describe('StsService.checkExpiration', () => {
  afterEach(() => jest.useRealTimers());

  it('reports remaining time against the buffer', () => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const service = createService();
    const expiration = new Date('2026-01-01T00:10:00Z');
    expect(service.checkExpiration({ expiration })).toEqual({
      isExpired: false,
      isNearExpiration: false,
      remainingSeconds: 600,
      expiration,
    });
    expect(service.checkExpiration({ expiration }, 601)).toMatchObject({ isNearExpiration: true, isExpired: false });
    jest.setSystemTime(new Date('2026-01-01T00:10:00Z'));
    expect(service.checkExpiration({ expiration })).toMatchObject({ isExpired: true, isNearExpiration: true, remainingSeconds: 0 });
  });
});

describe('errors from STS', () => {
  it.each([
    [
      'AccessDenied',
      'User: x is not authorized to perform: sts:AssumeRole',
      403,
      false,
      /trust policy must name this principal.*sts:ExternalId/,
    ],
    ['ExpiredTokenException', 'The security token included in the request is expired', 400, false, /base credentials have expired/],
    ['RegionDisabledException', 'STS is not activated in this region', 403, false, /activate it in IAM account settings/],
    ['MalformedPolicyDocumentException', 'bad policy', 400, false, /not a valid IAM policy/],
    ['PackedPolicyTooLargeException', 'too large', 400, false, /fewer or shorter tags/],
    ['InvalidClientTokenId', 'The security token included in the request is invalid.', 403, false, /does not know the base access key/],
    ['Throttling', 'Rate exceeded', 400, true, /getCredentials\(\)/],
    ['InternalFailure', 'internal', 500, true, undefined],
  ])('maps %s (%s, HTTP %i) to an StsError with retryable=%s and a hint', async (name, message, status, retryable, hint) => {
    sts.on(AssumeRoleCommand).rejects(serviceError(name, message, status));
    const error = await createService()
      .assumeRole({ roleArn: ROLE_ARN })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StsError);
    const expectedCode = name
      .replace(/Exception$/, '')
      .replace(/^ExpiredToken$/, 'ExpiredTokenException')
      .replace(/^RegionDisabled$/, 'RegionDisabledException');
    expect(error).toMatchObject({ code: expectedCode, operation: 'AssumeRole', retryable, requestId: 'req-0001', httpStatusCode: status });
    if (hint) expect((error as StsError).hint).toMatch(hint);
    expect((error as StsError).cause).toBeInstanceOf(Error);
  });

  it.each([
    ['The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.', /3600 or less/],
    ['The requested DurationSeconds exceeds the MaxSessionDuration set for this role.', /MaxSessionDuration/],
  ])('gives a duration hint for ValidationError "%s"', async (message, hint) => {
    sts.on(AssumeRoleCommand).rejects(serviceError('ValidationError', message));
    await expect(createService().assumeRole({ roleArn: ROLE_ARN })).rejects.toMatchObject({
      code: 'ValidationError',
      hint: expect.stringMatching(hint),
    });
  });

  it.each([
    ['IDPRejectedClaimException', 'IDPRejectedClaim', false],
    ['IDPCommunicationErrorException', 'IDPCommunicationError', true],
    ['InvalidIdentityTokenException', 'InvalidIdentityToken', false],
  ])('maps web identity error %s to %s', async (name, code, retryable) => {
    sts.on(AssumeRoleWithWebIdentityCommand).rejects(serviceError(name, 'rejected'));
    await expect(createService().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: 'a.b.c.d' })).rejects.toMatchObject({
      code,
      retryable,
      hint: expect.any(String),
    });
  });

  it('maps network failures and timeouts as retryable', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .rejectsOnce(Object.assign(new Error('timed out'), { name: 'TimeoutError' }));
    const service = createService();
    await expect(service.getCallerIdentity()).rejects.toMatchObject({ code: 'NetworkError', retryable: true });
    await expect(service.getCallerIdentity()).rejects.toMatchObject({ code: 'TimeoutError', retryable: true });
  });

  it('answers a response without credentials with InvalidResponse', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(createService().assumeRole({ roleArn: ROLE_ARN })).rejects.toMatchObject({ code: 'InvalidResponse' });
  });
});

describe('module destroy', () => {
  it('clears the cache, completes events$, and leaves no handle open', async () => {
    sts.on(AssumeRoleCommand).resolves(assumeRoleOutput());
    const countByType = () =>
      process
        .getActiveResourcesInfo()
        .reduce<Record<string, number>>((counts, type) => ({ ...counts, [type]: (counts[type] ?? 0) + 1 }), {});
    const before = countByType();
    const moduleRef = await Test.createTestingModule({
      imports: [ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS })],
    }).compile();
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
