import {
  AssumeRootCommand,
  GetDelegatedAccessTokenCommand,
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
  type STSClientConfig,
} from '@aws-sdk/client-sts';
import { rejection } from '../../support/async-helpers';
import {
  makeLocalSamlAssertion,
  makeLocalWebIdentityToken,
  startLocalSts,
  type LocalStsRole,
  type LocalStsServer,
} from '../../../src/testing';

const ACCOUNT = '123456789012';
const TENANT_ROLE = `arn:aws:iam::${ACCOUNT}:role/TenantAccess`;
const CHAIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/ChainTarget`;
const MFA_ROLE = `arn:aws:iam::${ACCOUNT}:role/MfaProtected`;
const WEB_ROLE = `arn:aws:iam::${ACCOUNT}:role/WebRole`;
const SAML_ROLE = `arn:aws:iam::${ACCOUNT}:role/SamlRole`;
const SAML_PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/LocalIdP`;
const EXTERNAL_ID = 'tenant-ext-1';

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

function roles(baseArn: string): LocalStsRole[] {
  return [
    { arn: TENANT_ROLE, trustedPrincipals: [baseArn], externalId: EXTERNAL_ID, maxSessionDuration: 7200 },
    { arn: CHAIN_ROLE, trustedPrincipals: [TENANT_ROLE], maxSessionDuration: 43200 },
    { arn: MFA_ROLE, trustedPrincipals: ['*'], mfaRequired: true },
    { arn: WEB_ROLE, webIdentityAudience: 'my-client-id' },
    { arn: SAML_ROLE, samlProviderArn: SAML_PROVIDER },
  ];
}

describe('LocalStsServer', () => {
  let server: LocalStsServer;
  let clockOffsetMs: number;
  const clients: STSClient[] = [];

  const sts = (credentials?: Creds, extra: Partial<STSClientConfig> = {}): STSClient => {
    const client = new STSClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: credentials ?? server.baseIdentity,
      maxAttempts: 1,
      requestHandler: { requestTimeout: 2_000, throwOnRequestTimeout: true, connectionTimeout: 1_000 },
      ...extra,
    });
    clients.push(client);
    return client;
  };

  const assumeTenant = async (client = sts()): Promise<Creds & { expiration: Date }> => {
    const out = await client.send(
      new AssumeRoleCommand({ RoleArn: TENANT_ROLE, RoleSessionName: 'tenant-session', ExternalId: EXTERNAL_ID }),
    );
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: c.Expiration!,
    };
  };

  beforeEach(async () => {
    clockOffsetMs = 0;
    server = await startLocalSts({ now: () => Date.now() + clockOffsetMs });
    for (const role of roles(server.baseIdentity.arn)) server.addRole(role);
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await server.close();
  });

  it('listens on an ephemeral 127.0.0.1 port and has a default base identity', () => {
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.baseIdentity).toMatchObject({
      account: '111111111111',
      arn: 'arn:aws:iam::111111111111:user/local-test',
    });
    expect(server.baseIdentity.accessKeyId).toMatch(/^AKIA/);
  });

  describe('operations', () => {
    it('AssumeRole returns credentials and the assumed-role user', async () => {
      const before = Date.now();
      const out = await sts().send(
        new AssumeRoleCommand({
          RoleArn: TENANT_ROLE,
          RoleSessionName: 'tenant-session',
          ExternalId: EXTERNAL_ID,
          DurationSeconds: 1800,
          SourceIdentity: 'alice',
          Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
        }),
      );
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(out.Credentials?.SecretAccessKey).toHaveLength(40);
      expect(out.Credentials?.SessionToken?.length).toBeGreaterThan(100);
      expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
      const ttl = out.Credentials!.Expiration!.getTime() - before;
      expect(ttl).toBeGreaterThan(1795_000);
      expect(ttl).toBeLessThanOrEqual(1805_000);
      expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/tenant-session`);
      expect(out.AssumedRoleUser?.AssumedRoleId).toMatch(/^AROA[A-Z2-7]{17}:tenant-session$/);
      expect(out.PackedPolicySize).toBeGreaterThan(0);
      expect(out.SourceIdentity).toBe('alice');
      expect(out.$metadata.httpStatusCode).toBe(200);
      expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(server.calls).toEqual([{ action: 'AssumeRole', status: 200, roleArn: TENANT_ROLE }]);
    });

    it('GetCallerIdentity returns the base identity', async () => {
      const out = await sts().send(new GetCallerIdentityCommand({}));
      expect(out).toMatchObject({
        Account: server.baseIdentity.account,
        Arn: server.baseIdentity.arn,
        UserId: server.baseIdentity.userId,
      });
    });

    it('GetSessionToken defaults to 12 hours and its credentials act as the base identity', async () => {
      const before = Date.now();
      const out = await sts().send(new GetSessionTokenCommand({}));
      const c = out.Credentials!;
      expect(c.AccessKeyId).toMatch(/^ASIA/);
      const ttl = c.Expiration!.getTime() - before;
      expect(ttl).toBeGreaterThan(43_195_000);
      expect(ttl).toBeLessThanOrEqual(43_205_000);

      const session = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
      const who = await sts(session).send(new GetCallerIdentityCommand({}));
      expect(who.Arn).toBe(server.baseIdentity.arn);
      expect(who.Account).toBe(server.baseIdentity.account);

      const again = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts(session).send(new GetSessionTokenCommand({})),
      );
      expect(again.name).toBe('AccessDenied');
    });

    it('AssumeRoleWithWebIdentity accepts an unsigned JWT with the role audience', async () => {
      const token = makeLocalWebIdentityToken({ sub: 'user-42', aud: 'my-client-id', iss: 'https://issuer.example.com' });
      const out = await sts().send(
        new AssumeRoleWithWebIdentityCommand({ RoleArn: WEB_ROLE, RoleSessionName: 'web-session', WebIdentityToken: token }),
      );
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      expect(out.SubjectFromWebIdentityToken).toBe('user-42');
      expect(out.Audience).toBe('my-client-id');
      expect(out.Provider).toBe('issuer.example.com');
      expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WebRole/web-session`);

      const creds = {
        accessKeyId: out.Credentials!.AccessKeyId!,
        secretAccessKey: out.Credentials!.SecretAccessKey!,
        sessionToken: out.Credentials!.SessionToken!,
      };
      const who = await sts(creds).send(new GetCallerIdentityCommand({}));
      expect(who.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WebRole/web-session`);
    });

    it('AssumeRoleWithWebIdentity rejects a wrong audience and a non-JWT token with InvalidIdentityToken', async () => {
      const wrongAud = makeLocalWebIdentityToken({ sub: 'u', aud: 'someone-else', iss: 'https://issuer.example.com' });
      const e1 = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: WEB_ROLE, RoleSessionName: 'web', WebIdentityToken: wrongAud })),
      );
      // wire code InvalidIdentityToken; the SDK names the modeled exception class InvalidIdentityTokenException
      expect(e1.name).toBe('InvalidIdentityTokenException');
      expect(e1.message).toBe('Incorrect token audience');
      expect(e1.$metadata?.httpStatusCode).toBe(400);

      const e2 = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: WEB_ROLE, RoleSessionName: 'web', WebIdentityToken: 'not-a-jwt' })),
      );
      expect(e2.name).toBe('InvalidIdentityTokenException');
    });

    it('AssumeRoleWithSAML accepts an assertion for the configured provider (and XML-escapes values)', async () => {
      const out = await sts().send(
        new AssumeRoleWithSAMLCommand({
          RoleArn: SAML_ROLE,
          PrincipalArn: SAML_PROVIDER,
          SAMLAssertion: makeLocalSamlAssertion({ subject: 'a&b<c>"d"', issuer: 'https://idp.example/', sessionName: 'saml-user' }),
        }),
      );
      expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
      expect(out.Subject).toBe('a&b<c>"d"');
      expect(out.SubjectType).toBe('persistent');
      expect(out.Issuer).toBe('https://idp.example/');
      expect(out.Audience).toBe('https://signin.aws.amazon.com/saml');
      expect(out.NameQualifier).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/SamlRole/saml-user`);

      const denied = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(
          new AssumeRoleWithSAMLCommand({
            RoleArn: SAML_ROLE,
            PrincipalArn: `arn:aws:iam::${ACCOUNT}:saml-provider/Other`,
            SAMLAssertion: makeLocalSamlAssertion(),
          }),
        ),
      );
      expect(denied.name).toBe('AccessDenied');
      expect(denied.$metadata?.httpStatusCode).toBe(403);
    });
  });

  describe('privileged sessions', () => {
    const TASK = { arn: 'arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials' };
    const MEMBER = '222222222222';
    const credentialsOf = (out: { Credentials?: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } }) => ({
      accessKeyId: out.Credentials!.AccessKeyId!,
      secretAccessKey: out.Credentials!.SecretAccessKey!,
      sessionToken: out.Credentials!.SessionToken!,
    });

    it("AssumeRoot: 900 s by default as the member's root; refused to root, other accounts, other policies, past 900 s", async () => {
      const refusal = async (promise: Promise<unknown>) => {
        const error = await rejection(promise);
        return `${error.name}: ${error.message}`;
      };
      expect(await refusal(sts().send(new AssumeRootCommand({ TargetPrincipal: MEMBER, TaskPolicyArn: TASK })))).toMatch(
        /^AccessDenied: .*centralized root access is not enabled/,
      );

      server.setCentralizedRootAccess(true, [MEMBER]);
      const before = Date.now();
      const out = await sts().send(new AssumeRootCommand({ TargetPrincipal: MEMBER, TaskPolicyArn: TASK }));
      const ttl = out.Credentials!.Expiration!.getTime() - before;
      expect(ttl).toBeGreaterThan(895_000);
      expect(ttl).toBeLessThanOrEqual(905_000);
      const root = sts(credentialsOf(out));
      expect((await root.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:iam::${MEMBER}:root`);

      const tenant = sts(await assumeTenant());
      const bad: Array<[STSClient, ConstructorParameters<typeof AssumeRootCommand>[0], RegExp]> = [
        [root, { TargetPrincipal: MEMBER, TaskPolicyArn: TASK }, /^AccessDenied: Root user credentials/],
        [tenant, { TargetPrincipal: MEMBER, TaskPolicyArn: TASK }, /^AccessDenied: .*not authorized to perform: sts:AssumeRoot/],
        [sts(), { TargetPrincipal: '999999999999', TaskPolicyArn: TASK }, /^AccessDenied: .*not a member account/],
        [sts(), { TargetPrincipal: MEMBER, TaskPolicyArn: { arn: 'arn:aws:iam::aws:policy/AdministratorAccess' } }, /^ValidationError/],
        [sts(), { TargetPrincipal: MEMBER, TaskPolicyArn: TASK, DurationSeconds: 901 }, /^ValidationError: .*less than or equal to 900/],
      ];
      for (const [client, input, expected] of bad) expect(await refusal(client.send(new AssumeRootCommand(input)))).toMatch(expected);
    });

    it('GetDelegatedAccessToken: a session of the delegated role until the token expires; an unknown token is refused', async () => {
      const token = server.issueTradeInToken(TENANT_ROLE, 60);

      const out = await sts().send(new GetDelegatedAccessTokenCommand({ TradeInToken: token }));
      expect(out.AssumedPrincipal).toBe(TENANT_ROLE);
      expect((await sts(credentialsOf(out)).send(new GetCallerIdentityCommand({}))).Arn).toMatch(/:assumed-role\/TenantAccess\//);

      expect(await rejection(sts().send(new GetDelegatedAccessTokenCommand({ TradeInToken: 'not-issued' })))).toMatchObject({
        name: 'AccessDenied',
      });
      clockOffsetMs = 61_000;
      expect(await rejection(sts().send(new GetDelegatedAccessTokenCommand({ TradeInToken: token })))).toMatchObject({
        name: 'ExpiredTradeInTokenException',
      });
      expect(() => server.issueTradeInToken('arn:aws:iam::123456789012:user/NotARole')).toThrow(/invalid role ARN/);
      expect(JSON.stringify(server.calls)).not.toContain(token);
    });
  });

  describe('signature verification', () => {
    it('rejects a bad secret with SignatureDoesNotMatch', async () => {
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts({ accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: 'wrong-secret' }).send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('SignatureDoesNotMatch');
      expect(err.$metadata?.httpStatusCode).toBe(403);
      expect(server.calls).toEqual([{ action: 'GetCallerIdentity', status: 403, errorCode: 'SignatureDoesNotMatch' }]);
    });

    it('rejects an unknown access key with InvalidClientTokenId', async () => {
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('InvalidClientTokenId');
      expect(err.$metadata?.httpStatusCode).toBe(403);
    });

    it('rejects issued credentials presented without their session token', async () => {
      const creds = await assumeTenant();
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }).send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('InvalidClientTokenId');
    });

    it('answers unsigned calls to signed operations with MissingAuthenticationToken XML', async () => {
      const res = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=GetCallerIdentity&Version=2011-06-15',
      });
      expect(res.status).toBe(403);
      const xml = await res.text();
      expect(xml).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
      expect(xml).toMatch(
        /<Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code><Message>[^<]+<\/Message><\/Error><RequestId>[0-9a-f-]{36}<\/RequestId>/,
      );
    });
  });

  describe('role policy', () => {
    it('assumed-role credentials can call GetCallerIdentity and chain into another role, limited to 1 hour', async () => {
      const tenant = await assumeTenant();
      const who = await sts(tenant).send(new GetCallerIdentityCommand({}));
      expect(who.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/tenant-session`);
      expect(who.Account).toBe(ACCOUNT);
      expect(who.UserId).toMatch(/^AROA[A-Z2-7]{17}:tenant-session$/);

      const chained = await sts(tenant).send(new AssumeRoleCommand({ RoleArn: CHAIN_ROLE, RoleSessionName: 'chained' }));
      expect(chained.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ChainTarget/chained`);

      const tooLong = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts(tenant).send(new AssumeRoleCommand({ RoleArn: CHAIN_ROLE, RoleSessionName: 'chained', DurationSeconds: 7200 })),
      );
      expect(tooLong.name).toBe('ValidationError');
      expect(tooLong.message).toBe('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
      expect(tooLong.$metadata?.httpStatusCode).toBe(400);

      // The base identity is not trusted by ChainTarget.
      const untrusted = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleCommand({ RoleArn: CHAIN_ROLE, RoleSessionName: 'direct' })),
      );
      expect(untrusted.name).toBe('AccessDenied');
    });

    it('wrong or missing ExternalId gives AccessDenied with the STS message', async () => {
      for (const ExternalId of ['wrong-id', undefined]) {
        const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
          sts().send(new AssumeRoleCommand({ RoleArn: TENANT_ROLE, RoleSessionName: 's1', ExternalId })),
        );
        expect(err.name).toBe('AccessDenied');
        expect(err.$metadata?.httpStatusCode).toBe(403);
        expect(err.message).toBe(
          `User: ${server.baseIdentity.arn} is not authorized to perform: sts:AssumeRole on resource: ${TENANT_ROLE}`,
        );
      }
    });

    it('unknown roles and revoked trust give AccessDenied', async () => {
      const unknown = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/Nope`, RoleSessionName: 's1' })),
      );
      expect(unknown.name).toBe('AccessDenied');

      await assumeTenant();
      server.updateRole(TENANT_ROLE, { trustedPrincipals: [] });
      const revoked = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(assumeTenant());
      expect(revoked.name).toBe('AccessDenied');
    });

    it('enforces MaxSessionDuration', async () => {
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleCommand({ RoleArn: TENANT_ROLE, RoleSessionName: 's1', ExternalId: EXTERNAL_ID, DurationSeconds: 7201 })),
      );
      expect(err.name).toBe('ValidationError');
      expect(err.message).toBe('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    });

    it('requires MFA where configured', async () => {
      const missing = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleCommand({ RoleArn: MFA_ROLE, RoleSessionName: 'mfa' })),
      );
      expect(missing.name).toBe('AccessDenied');
      const wrong = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(
          new AssumeRoleCommand({
            RoleArn: MFA_ROLE,
            RoleSessionName: 'mfa',
            SerialNumber: 'arn:aws:iam::111111111111:mfa/me',
            TokenCode: '000000',
          }),
        ),
      );
      expect(wrong.name).toBe('AccessDenied');
      const ok = await sts().send(
        new AssumeRoleCommand({
          RoleArn: MFA_ROLE,
          RoleSessionName: 'mfa',
          SerialNumber: 'arn:aws:iam::111111111111:mfa/me',
          TokenCode: '123456',
        }),
      );
      expect(ok.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    });

    it('expired issued credentials give ExpiredTokenException (injected clock)', async () => {
      const tenant = await assumeTenant();
      await expect(sts(tenant).send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
      clockOffsetMs = 3601_000;
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts(tenant).send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('ExpiredTokenException');
      expect(err.$metadata?.httpStatusCode).toBe(400);
      expect(server.activeCredentialCount()).toBe(0);
    });
  });

  describe('ExternalId conditions', () => {
    const LIKE_ROLE = `arn:aws:iam::${ACCOUNT}:role/Like`;
    const passes = async (ExternalId: string | undefined) =>
      sts()
        .send(new AssumeRoleCommand({ RoleArn: LIKE_ROLE, RoleSessionName: 's1', ExternalId }))
        .then(
          () => true,
          (error: { name: string }) => (error.name === 'AccessDenied' ? false : Promise.reject(error)),
        );

    it('StringLike: * is any run of characters, ? one character, the rest literal and case-sensitive', async () => {
      server.addRole({
        arn: LIKE_ROLE,
        trustedPrincipals: ['*'],
        externalIdCondition: { operator: 'StringLike', values: ['tenant-*', 'a?c.d'] },
      });
      const verdicts = await Promise.all(
        ['tenant-', 'tenant-7f3a', 'Tenant-7f3a', 'tenant', 'abc.d', 'abcxd', 'ac.d', undefined].map(passes),
      );
      expect(verdicts).toEqual([true, true, false, false, true, false, false, false]);
    });

    it('StringEquals with a list lets in any of its values, and nothing else', async () => {
      server.addRole({
        arn: LIKE_ROLE,
        trustedPrincipals: ['*'],
        externalIdCondition: { operator: 'StringEquals', values: ['customer-a', 'customer-b'] },
      });
      expect(await Promise.all(['customer-a', 'customer-b', 'customer-*', 'customer-c'].map(passes))).toEqual([true, true, false, false]);
    });

    it('refuses a role with both externalId and externalIdCondition', () => {
      expect(() =>
        server.addRole({ arn: LIKE_ROLE, externalId: 'x1', externalIdCondition: { operator: 'StringLike', values: ['*'] } }),
      ).toThrow(/not both/);
    });
  });

  it('counts the most requests of an action it handled at once', async () => {
    server.injectFault({ kind: 'delay', ms: 200 }, { action: 'AssumeRole', times: 5 });
    await Promise.all(Array.from({ length: 5 }, () => assumeTenant()));
    await sts().send(new GetCallerIdentityCommand({}));
    expect(server.peakInFlight('AssumeRole')).toBe(5);
    expect(server.peakInFlight('GetCallerIdentity')).toBe(1);
    expect(server.peakInFlight()).toBe(5);
    server.resetCalls();
    expect(server.peakInFlight('AssumeRole')).toBe(0);
  });

  describe('faults', () => {
    it('throttle once: the SDK retries (maxAttempts 3) and recovers', async () => {
      server.injectFault({ kind: 'throttle' }, { times: 1, action: 'AssumeRole' });
      const creds = await assumeTenant(sts(undefined, { maxAttempts: 3 }));
      expect(creds.accessKeyId).toMatch(/^ASIA/);
      expect(server.callCount('AssumeRole')).toBe(2);
      expect(server.calls).toEqual([
        { action: 'AssumeRole', status: 400, roleArn: TENANT_ROLE, fault: 'throttle', errorCode: 'Throttling' },
        { action: 'AssumeRole', status: 200, roleArn: TENANT_ROLE },
      ]);
    });

    it('throttle with maxAttempts 1 surfaces Throttling "Rate exceeded"', async () => {
      server.injectFault({ kind: 'throttle' });
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('Throttling');
      expect(err.message).toBe('Rate exceeded');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    });

    it('status 503 surfaces ServiceUnavailable', async () => {
      server.injectFault({ kind: 'status', status: 503 });
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toBe('ServiceUnavailable');
      expect(err.$metadata?.httpStatusCode).toBe(503);
    });

    it('an arbitrary STS error can be injected', async () => {
      server.injectFault({ kind: 'error', code: 'IDPRejectedClaim' }, { action: 'AssumeRoleWithWebIdentity' });
      const token = makeLocalWebIdentityToken({ sub: 'u', aud: 'my-client-id', iss: 'https://issuer.example.com' });
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new AssumeRoleWithWebIdentityCommand({ RoleArn: WEB_ROLE, RoleSessionName: 'w1', WebIdentityToken: token })),
      );
      expect(err.name).toBe('IDPRejectedClaimException'); // wire code IDPRejectedClaim
      expect(err.$metadata?.httpStatusCode).toBe(403);
    });

    it('a reset socket surfaces an error', async () => {
      server.injectFault({ kind: 'reset' });
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts().send(new GetCallerIdentityCommand({})),
      );
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/socket hang up|ECONNRESET/);
      expect(server.calls).toEqual([{ action: 'GetCallerIdentity', status: 0, fault: 'reset' }]);
      // the server keeps serving afterwards
      await expect(sts().send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({ Arn: server.baseIdentity.arn });
    });

    it('malformed XML surfaces an error', async () => {
      server.injectFault({ kind: 'malformed' });
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(assumeTenant());
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/XML|parse|Deserializ/i);
      expect(server.calls[0]).toMatchObject({ action: 'AssumeRole', status: 200, fault: 'malformed' });
    });

    it('a delay past the client timeout surfaces a timeout, and close() cancels pending delays', async () => {
      server.injectFault({ kind: 'delay', ms: 60_000 });
      const started = Date.now();
      const err = await rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts(undefined, { requestHandler: { requestTimeout: 150, throwOnRequestTimeout: true } }).send(new GetCallerIdentityCommand({})),
      );
      expect(err.name).toMatch(/Timeout/);
      expect(Date.now() - started).toBeLessThan(20_000); // generous for a busy machine: the answer is 60 s away
      // a second hanging call is cut short by close()
      server.injectFault({ kind: 'delay', ms: 60_000 });
      const pending = rejection<Error & { name: string; $metadata?: { httpStatusCode?: number } }>(
        sts(undefined, { requestHandler: { requestTimeout: 30_000 } }).send(new GetCallerIdentityCommand({})),
      );
      await new Promise((r) => setTimeout(r, 50));
      await server.close();
      expect(await pending).toBeInstanceOf(Error);
    });

    it('a short delay then answers normally', async () => {
      server.injectFault({ kind: 'delay', ms: 50 });
      const out = await sts().send(new GetCallerIdentityCommand({}));
      expect(out.Arn).toBe(server.baseIdentity.arn);
      expect(server.calls).toEqual([{ action: 'GetCallerIdentity', status: 200, fault: 'delay' }]);
    });

    it('clock skew: the SDK corrects its clock from the Date header and retries', async () => {
      server.injectFault({ kind: 'clockSkew', seconds: 900 });
      const out = await sts(undefined, { maxAttempts: 2 }).send(new GetCallerIdentityCommand({}));
      expect(out.Arn).toBe(server.baseIdentity.arn);
      expect(server.calls.map((c) => [c.status, c.errorCode])).toEqual([
        [403, 'SignatureDoesNotMatch'],
        [200, undefined],
      ]);
    });

    it('rate faults are deterministic for a given seed', async () => {
      const pattern = async (seed: number): Promise<number[]> => {
        const s = await startLocalSts({ seed });
        try {
          s.injectFault({ kind: 'status', status: 500 }, { rate: 0.5, action: 'GetCallerIdentity' });
          const client = new STSClient({
            endpoint: s.endpoint,
            region: 'us-east-1',
            credentials: s.baseIdentity,
            maxAttempts: 1,
          });
          clients.push(client);
          for (let i = 0; i < 12; i++) await client.send(new GetCallerIdentityCommand({})).catch(() => undefined);
          return s.calls.map((c) => c.status);
        } finally {
          await s.close();
        }
      };
      const a = await pattern(42);
      const b = await pattern(42);
      expect(a).toEqual(b);
      expect(a).toContain(500);
      expect(a).toContain(200);
    });

    it('clearFaults removes pending faults', async () => {
      server.injectFault({ kind: 'throttle' }, { times: 5 });
      server.clearFaults();
      await expect(sts().send(new GetCallerIdentityCommand({}))).resolves.toBeDefined();
    });
  });

  it('never records secrets in the call log', async () => {
    const tenant = await assumeTenant();
    await sts(tenant).send(new GetCallerIdentityCommand({}));
    const log = JSON.stringify(server.calls);
    expect(log).not.toContain(server.baseIdentity.secretAccessKey);
    expect(log).not.toContain(tenant.secretAccessKey);
    expect(log).not.toContain(tenant.sessionToken);
    expect(server.callCount()).toBe(2);
    server.resetCalls();
    expect(server.callCount()).toBe(0);
  });
});
