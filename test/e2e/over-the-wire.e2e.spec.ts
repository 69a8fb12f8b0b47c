/**
 * Over the wire: the real `@aws-sdk/client-sts` (signing, Query protocol, XML parsing, retries, timeouts), driven
 * through `ServerAwsStsModule` / `StsService` exactly as an app would, against the local STS endpoint on 127.0.0.1.
 * No real AWS is ever contacted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Logger, type LoggerService } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import { ServerAwsStsModule, StsError, StsService, StsValidationError, TemporaryCredentials, type StsEvent } from '../../src';
import {
  makeLocalSamlAssertion,
  makeLocalWebIdentityToken,
  startLocalSts,
  type LocalStsErrorCode,
  type LocalStsServer,
} from '../../src/testing';
import { LOCAL_STS_ERRORS } from '../../src/testing/local-sts';
import { eventually, rejection } from '../support/async-helpers';
import { capturingLogger, visibleText } from '../support/visible-text';

const ACCOUNT = '123456789012';
const TENANT_ROLE = `arn:aws:iam::${ACCOUNT}:role/TenantAccess`;
const CHAIN_TARGET = `arn:aws:iam::${ACCOUNT}:role/ChainTarget`;
const SHORT_HOP = `arn:aws:iam::${ACCOUNT}:role/ShortHop`;
const OPEN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Open`;
const MFA_ROLE = `arn:aws:iam::${ACCOUNT}:role/MfaProtected`;
const WEB_ROLE = `arn:aws:iam::${ACCOUNT}:role/WebRole`;
const SAML_ROLE = `arn:aws:iam::${ACCOUNT}:role/SamlRole`;
const SAML_PROVIDER = `arn:aws:iam::${ACCOUNT}:saml-provider/LocalIdP`;
const EXTERNAL_ID = 'tenant-ext-42';
const AUDIENCE = 'my-client-id';
const ISSUER = 'https://oidc.local.example';
const MFA_SERIAL = 'arn:aws:iam::111111111111:mfa/local-test';
const VALID_MFA_CODE = '123456';
const REQUEST_ID = /^[0-9a-f-]{36}$/;

const webToken = (sub: string, extra: Record<string, unknown> = {}) =>
  makeLocalWebIdentityToken({ sub, aud: AUDIENCE, iss: ISSUER, ...extra });

describe('StsService over the wire (real @aws-sdk/client-sts against LocalStsServer)', () => {
  let server: LocalStsServer;
  const apps: TestingModule[] = [];
  const clients: STSClient[] = [];
  let tokenDir: string;

  interface AppOptions {
    maxAttempts?: number;
    requestTimeout?: number;
    credentials?: AwsCredentialIdentity;
    endpoint?: string;
    /** Logger for the testing module (`compile()` otherwise installs Nest's TestingLogger globally). */
    logger?: LoggerService;
  }

  /** The app as a user builds it: the module configured with the local endpoint, StsService injected. */
  async function app(options: AppOptions = {}): Promise<{ service: StsService; moduleRef: TestingModule; events: StsEvent[] }> {
    const builder = Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: options.credentials ?? {
            accessKeyId: server.baseIdentity.accessKeyId,
            secretAccessKey: server.baseIdentity.secretAccessKey,
          },
          clientConfig: {
            endpoint: options.endpoint ?? server.endpoint,
            maxAttempts: options.maxAttempts ?? 1,
            requestHandler: { requestTimeout: options.requestTimeout ?? 5_000, throwOnRequestTimeout: true },
          },
        }),
      ],
    });
    if (options.logger) builder.setLogger(options.logger);
    const moduleRef = await builder.compile();
    apps.push(moduleRef);
    const service = moduleRef.get(StsService);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    return { service, moduleRef, events };
  }

  /** A plain SDK client signed by `credentials`: proves issued credentials really work. */
  async function whoAmI(credentials: AwsCredentialIdentity): Promise<string | undefined> {
    const client = new STSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(client);
    return (await client.send(new GetCallerIdentityCommand({}))).Arn;
  }

  beforeAll(async () => {
    tokenDir = await mkdtemp(join(tmpdir(), 'nestjs-aws-sts-wire-'));
    server = await startLocalSts();
    const base = server.baseIdentity.arn;
    server.addRole({ arn: TENANT_ROLE, trustedPrincipals: [base], externalId: EXTERNAL_ID, maxSessionDuration: 7200 });
    server.addRole({ arn: CHAIN_TARGET, trustedPrincipals: [TENANT_ROLE], maxSessionDuration: 43200 });
    server.addRole({ arn: SHORT_HOP, trustedPrincipals: [base], maxSessionDuration: 3600 });
    server.addRole({ arn: OPEN_ROLE, trustedPrincipals: [base], maxSessionDuration: 43200 });
    server.addRole({ arn: MFA_ROLE, trustedPrincipals: ['*'], mfaRequired: true });
    server.addRole({ arn: WEB_ROLE, webIdentityAudience: AUDIENCE });
    server.addRole({ arn: SAML_ROLE, samlProviderArn: SAML_PROVIDER });
  });

  beforeEach(() => {
    server.clearFaults();
    server.resetCalls();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
  });

  afterAll(async () => {
    Logger.overrideLogger(false); // Test.compile() installs Nest's TestingLogger globally; back to quiet-logs.ts
    await server.close();
    await rm(tokenDir, { recursive: true, force: true });
  });

  describe('every operation', () => {
    it('getCallerIdentity and getAccountId (asked once, then remembered)', async () => {
      const { service } = await app();
      await expect(service.getCallerIdentity()).resolves.toEqual({
        account: server.baseIdentity.account,
        arn: server.baseIdentity.arn,
        userId: server.baseIdentity.userId,
        type: 'user',
      });
      await expect(service.getAccountId()).resolves.toBe('111111111111');
      await expect(service.getAccountId()).resolves.toBe('111111111111');
      expect(server.callCount('GetCallerIdentity')).toBe(2);
    });

    it('assumeRole with the right ExternalId: credentials that work in a new STSClient', async () => {
      const { service, events } = await app();
      const before = Date.now();
      const credentials = await service.assumeRole({ roleArn: TENANT_ROLE, externalId: EXTERNAL_ID, sessionName: 'tenant-42' });
      expect(credentials).toBeInstanceOf(TemporaryCredentials);
      expect(credentials.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(credentials.accountId).toBe(ACCOUNT);
      expect(credentials.assumedRoleUser).toEqual({
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/tenant-42`,
        assumedRoleId: expect.stringMatching(/^AROA[A-Z2-7]{17}:tenant-42$/),
      });
      const ttl = credentials.expiration.getTime() - before;
      expect(ttl).toBeGreaterThan(3_590_000);
      expect(ttl).toBeLessThanOrEqual(3_610_000);
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/tenant-42`);
      expect(events).toEqual([
        expect.objectContaining({
          type: 'sts-call',
          operation: 'AssumeRole',
          roleArn: TENANT_ROLE,
          accountId: ACCOUNT,
          sessionName: 'tenant-42',
          outcome: 'success',
        }),
      ]);
    });

    it('assumeRole with a generated session name (valid on the wire)', async () => {
      const { service } = await app();
      const credentials = await service.assumeRole({ roleArn: TENANT_ROLE, externalId: EXTERNAL_ID });
      expect(credentials.assumedRoleUser?.arn).toMatch(
        new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/TenantAccess/nestjs-aws-sts-\\d+-[0-9a-f]{6}$`),
      );
    });

    it('assumeRole with a wrong ExternalId: AccessDenied with a hint on the trust policy and sts:ExternalId', async () => {
      const { service, events } = await app();
      const error = await rejection(service.assumeRole({ roleArn: TENANT_ROLE, externalId: 'not-the-right-one' }));
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'AccessDenied', operation: 'AssumeRole', retryable: false, httpStatusCode: 403 });
      expect(error.requestId).toMatch(REQUEST_ID);
      expect(error.hint).toMatch(/trust policy/);
      expect(error.hint).toMatch(/sts:ExternalId/);
      expect(error.message).toContain('is not authorized to perform: sts:AssumeRole');
      expect(visibleText(error)).not.toContain('not-the-right-one');
      expect(events).toEqual([expect.objectContaining({ operation: 'AssumeRole', outcome: 'error', errorCode: 'AccessDenied' })]);
      expect(server.calls).toEqual([{ action: 'AssumeRole', status: 403, roleArn: TENANT_ROLE, errorCode: 'AccessDenied' }]);
    });

    it('assumeRole without the ExternalId the role requires: AccessDenied', async () => {
      const { service } = await app();
      await expect(service.assumeRole({ roleArn: TENANT_ROLE })).rejects.toMatchObject({ code: 'AccessDenied' });
    });

    it('assumeRole with MFA: the tokenCode function is asked at call time; a wrong code is AccessDenied', async () => {
      const { service } = await app();
      const tokenCode = jest.fn(() => VALID_MFA_CODE);
      const credentials = await service.assumeRole({
        roleArn: MFA_ROLE,
        sessionName: 'with-mfa',
        mfa: { serialNumber: MFA_SERIAL, tokenCode },
      });
      expect(tokenCode).toHaveBeenCalledTimes(1);
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/MfaProtected/with-mfa`);

      const asyncCode = jest.fn(async () => VALID_MFA_CODE);
      await expect(
        service.assumeRole({ roleArn: MFA_ROLE, mfa: { serialNumber: MFA_SERIAL, tokenCode: asyncCode } }),
      ).resolves.toBeInstanceOf(TemporaryCredentials);
      expect(asyncCode).toHaveBeenCalledTimes(1);

      const wrong = await rejection(
        service.assumeRole({ roleArn: MFA_ROLE, mfa: { serialNumber: MFA_SERIAL, tokenCode: () => '000000' } }),
      );
      expect(wrong).toBeInstanceOf(StsError);
      expect(wrong).toMatchObject({ code: 'AccessDenied', httpStatusCode: 403 });
      expect(wrong.message).toMatch(/MultiFactorAuthentication failed/);
      await expect(service.assumeRole({ roleArn: MFA_ROLE })).rejects.toMatchObject({ code: 'AccessDenied' });
    });

    it('assumeRole with session tags, transitive keys, a session policy, managed policy ARNs, source identity and duration', async () => {
      const { service } = await app();
      const before = Date.now();
      const credentials = await service.assumeRole({
        roleArn: OPEN_ROLE,
        sessionName: 'tagged',
        durationSeconds: 1800,
        sourceIdentity: 'alice@example.com',
        tags: { Tenant: 'acme', Team: 'payments', 'cost-center': '42' },
        transitiveTagKeys: ['Tenant'],
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::acme/*' }] },
        policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      });
      expect(credentials.sourceIdentity).toBe('alice@example.com');
      expect(credentials.packedPolicySize).toBeGreaterThan(0);
      expect(credentials.packedPolicySize).toBeLessThanOrEqual(100);
      const ttl = credentials.expiration.getTime() - before;
      expect(ttl).toBeGreaterThan(1_790_000);
      expect(ttl).toBeLessThanOrEqual(1_810_000);
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/Open/tagged`);
    });

    it('assumeRoleWithWebIdentity with a token', async () => {
      const { service, events } = await app();
      const credentials = await service.assumeRoleWithWebIdentity({
        roleArn: WEB_ROLE,
        webIdentityToken: webToken('alice-sub'),
        sessionName: 'web-session',
      });
      expect(credentials).toMatchObject({
        accountId: ACCOUNT,
        subjectFromWebIdentityToken: 'alice-sub',
        audience: AUDIENCE,
        provider: 'oidc.local.example',
        assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/WebRole/web-session` },
      });
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WebRole/web-session`);
      expect(events).toEqual([expect.objectContaining({ operation: 'AssumeRoleWithWebIdentity', outcome: 'success' })]);
    });

    it('assumeRoleWithWebIdentity with a token file re-reads the rotated token on each call', async () => {
      const { service } = await app();
      const file = join(tokenDir, 'token');
      await writeFile(file, `${webToken('pod-v1')}\n`);
      const first = await service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityTokenFile: file });
      await writeFile(file, webToken('pod-v2'));
      const second = await service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityTokenFile: file });
      expect(first.subjectFromWebIdentityToken).toBe('pod-v1');
      expect(second.subjectFromWebIdentityToken).toBe('pod-v2');
      expect(server.callCount('AssumeRoleWithWebIdentity')).toBe(2);

      const missing = await rejection(
        service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityTokenFile: join(tokenDir, 'missing') }),
      );
      expect(missing).toMatchObject({ code: 'WebIdentityTokenFileError', operation: 'AssumeRoleWithWebIdentity' });
      expect(server.callCount('AssumeRoleWithWebIdentity')).toBe(2);
    });

    it('assumeRoleWithSaml', async () => {
      const { service } = await app();
      const credentials = await service.assumeRoleWithSaml({
        roleArn: SAML_ROLE,
        principalArn: SAML_PROVIDER,
        samlAssertion: makeLocalSamlAssertion({ subject: 'bob@example.com', issuer: 'https://idp.local.example/', sessionName: 'bob' }),
        durationSeconds: 900,
      });
      expect(credentials).toMatchObject({
        accountId: ACCOUNT,
        subject: 'bob@example.com',
        subjectType: 'persistent',
        issuer: 'https://idp.local.example/',
        audience: 'https://signin.aws.amazon.com/saml',
        nameQualifier: expect.any(String),
        assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/SamlRole/bob` },
      });
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/SamlRole/bob`);
    });

    it('getSessionToken, plain and with MFA: credentials act as the base identity', async () => {
      const { service } = await app();
      const before = Date.now();
      const plain = await service.getSessionToken();
      expect(plain.expiration.getTime() - before).toBeGreaterThan(43_190_000);
      await expect(whoAmI(plain)).resolves.toBe(server.baseIdentity.arn);

      const withMfa = await service.getSessionToken({
        durationSeconds: 900,
        mfa: { serialNumber: MFA_SERIAL, tokenCode: async () => VALID_MFA_CODE },
      });
      expect(withMfa.expiration.getTime() - before).toBeLessThanOrEqual(910_000);
      await expect(whoAmI(withMfa)).resolves.toBe(server.baseIdentity.arn);
      await expect(service.getSessionToken({ mfa: { serialNumber: MFA_SERIAL, tokenCode: '654321' } })).rejects.toMatchObject({
        code: 'AccessDenied',
      });
    });
  });

  describe('role chaining', () => {
    it('assumeRole({ roleArn: B, via: { roleArn: A } }): two hops, the second signed by A, result is B', async () => {
      const { service } = await app();
      const before = Date.now();
      const credentials = await service.assumeRole({
        roleArn: CHAIN_TARGET,
        sessionName: 'hop-b',
        via: { roleArn: TENANT_ROLE, externalId: EXTERNAL_ID, sessionName: 'hop-a' },
      });
      expect(credentials.assumedRoleUser?.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ChainTarget/hop-b`);
      expect(credentials.expiration.getTime() - before).toBeLessThanOrEqual(3_610_000);
      expect(server.calls.map(({ action, roleArn, status }) => ({ action, roleArn, status }))).toEqual([
        { action: 'AssumeRole', roleArn: TENANT_ROLE, status: 200 },
        { action: 'AssumeRole', roleArn: CHAIN_TARGET, status: 200 },
      ]);
      await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ChainTarget/hop-b`);
      // The base identity is not trusted by B: only the hop through A works.
      await expect(service.assumeRole({ roleArn: CHAIN_TARGET })).rejects.toMatchObject({ code: 'AccessDenied' });
    });

    it('durationSeconds 7200 on a chain is refused before any call', async () => {
      const { service } = await app();
      const error = await rejection(
        service.assumeRole({ roleArn: CHAIN_TARGET, durationSeconds: 7200, via: { roleArn: TENANT_ROLE, externalId: EXTERNAL_ID } }),
      );
      expect(error).toBeInstanceOf(StsValidationError);
      expect(error).toMatchObject({ code: 'InvalidInput', field: 'durationSeconds' });
      expect(error.message).toMatch(/role chaining/);
      expect(server.callCount()).toBe(0);
    });

    it("a hop asking more than its role's MaxSessionDuration: the server's ValidationError, mapped with a hint", async () => {
      const { service } = await app();
      const error = await rejection(service.assumeRole({ roleArn: CHAIN_TARGET, via: { roleArn: SHORT_HOP, durationSeconds: 7200 } }));
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'ValidationError', operation: 'AssumeRole', retryable: false, httpStatusCode: 400 });
      expect(error.message).toMatch(/MaxSessionDuration/);
      expect(error.hint).toMatch(/MaxSessionDuration/);
      expect(server.calls).toEqual([{ action: 'AssumeRole', status: 400, roleArn: SHORT_HOP, errorCode: 'ValidationError' }]);
    });

    it("a direct assumeRole above the role's MaxSessionDuration: ValidationError with the same hint", async () => {
      const { service } = await app();
      const error = await rejection(service.assumeRole({ roleArn: TENANT_ROLE, externalId: EXTERNAL_ID, durationSeconds: 10_800 }));
      expect(error).toMatchObject({ code: 'ValidationError', httpStatusCode: 400, hint: expect.stringMatching(/MaxSessionDuration/) });
    });
  });

  describe("the SDK's own retries", () => {
    it('throttled twice, maxAttempts 3: succeeds, and the server saw 3 AssumeRole calls', async () => {
      const { service } = await app({ maxAttempts: 3 });
      server.injectFault({ kind: 'throttle' }, { times: 2, action: 'AssumeRole' });
      await expect(service.assumeRole({ roleArn: OPEN_ROLE })).resolves.toBeInstanceOf(TemporaryCredentials);
      expect(server.callCount('AssumeRole')).toBe(3);
      expect(server.calls.map((call) => call.status)).toEqual([400, 400, 200]);
    });

    it('a 503 once: recovers', async () => {
      const { service, events } = await app({ maxAttempts: 3 });
      server.injectFault({ kind: 'status', status: 503 }, { times: 1 });
      await expect(service.assumeRole({ roleArn: OPEN_ROLE })).resolves.toBeInstanceOf(TemporaryCredentials);
      expect(server.calls.map((call) => call.status)).toEqual([503, 200]);
      expect(events).toEqual([expect.objectContaining({ outcome: 'success' })]);
    });

    it('throttled 5 times, maxAttempts 2: StsError Throttling, retryable, after 2 attempts', async () => {
      const { service } = await app({ maxAttempts: 2 });
      server.injectFault({ kind: 'throttle' }, { times: 5, action: 'AssumeRole' });
      const error = await rejection(service.assumeRole({ roleArn: OPEN_ROLE }));
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'Throttling', retryable: true, httpStatusCode: 400 });
      expect(error.hint).toMatch(/throttling/i);
      expect(server.callCount('AssumeRole')).toBe(2);
    });

    it('a 500 on every attempt: retryable InternalFailure', async () => {
      const { service } = await app({ maxAttempts: 2 });
      server.injectFault({ kind: 'status', status: 500 }, { times: 2 });
      const error = await rejection(service.getCallerIdentity());
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'InternalFailure', retryable: true, httpStatusCode: 500 });
      expect(server.callCount('GetCallerIdentity')).toBe(2);
    });
  });

  describe('transport failures', () => {
    it('a hung endpoint (delay beyond requestTimeout 300 ms, maxAttempts 1): TimeoutError before the delay ends', async () => {
      const { service } = await app({ requestTimeout: 300, maxAttempts: 1 });
      server.injectFault({ kind: 'delay', ms: 8_000 }, { times: 1 });
      const outcome = service.getCallerIdentity().then(
        () => 'resolved',
        (error: unknown) => error,
      );
      const delayOver = new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve('the delay ended first'), 7_000);
        void outcome.finally(() => clearTimeout(timer));
      });
      const first = await Promise.race([outcome, delayOver]);
      expect(first).toBeInstanceOf(StsError);
      expect(first).toMatchObject({ code: 'TimeoutError', retryable: true, operation: 'GetCallerIdentity' });
      expect((first as StsError).hint).toMatch(/did not answer in time/);
      // The server saw the client give up (status 0) and the same app works right after.
      await eventually(() => server.calls.some((call) => call.fault === 'delay' && call.status === 0));
      await expect(service.getCallerIdentity()).resolves.toMatchObject({ type: 'user' });
    }, 20_000);

    it('a reset socket: a retryable StsError (network/timeout class)', async () => {
      const { service } = await app({ maxAttempts: 1 });
      server.injectFault({ kind: 'reset' }, { times: 1 });
      const error = await rejection(service.getCallerIdentity());
      expect(error).toBeInstanceOf(StsError);
      expect(error.retryable).toBe(true);
      // The SDK names a reset 'TimeoutError' with code ECONNRESET; the library maps it to one of its transport codes.
      expect(['NetworkError', 'TimeoutError']).toContain(error.code);
      expect(error.httpStatusCode).toBeUndefined();
      expect(server.calls).toEqual([{ action: 'GetCallerIdentity', status: 0, fault: 'reset' }]);
    });

    it('a reset socket is retried by the SDK when maxAttempts allows', async () => {
      const { service } = await app({ maxAttempts: 2 });
      server.injectFault({ kind: 'reset' }, { times: 1 });
      await expect(service.getCallerIdentity()).resolves.toMatchObject({ type: 'user' });
      expect(server.calls.map((call) => call.status)).toEqual([0, 200]);
    });

    it('connection refused: StsError NetworkError, retryable', async () => {
      const gone = await startLocalSts();
      const endpoint = gone.endpoint;
      await gone.close();
      const { service } = await app({ endpoint, maxAttempts: 1 });
      const error = await rejection(service.getCallerIdentity());
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'NetworkError', retryable: true });
      expect(error.hint).toMatch(/could not be reached/);
    });

    it('malformed XML: an StsError, and the raw response is not kept on its cause', async () => {
      const { service } = await app({ maxAttempts: 1 });
      server.injectFault({ kind: 'malformed' }, { times: 1, action: 'AssumeRole' });
      const error = await rejection(service.assumeRole({ roleArn: OPEN_ROLE }));
      expect(error).toBeInstanceOf(StsError);
      expect(error.operation).toBe('AssumeRole');
      expect(typeof error.code).toBe('string');
      const cause = error.cause as { $response?: unknown; $responseBodyText?: unknown } | undefined;
      expect(cause?.$response).toBeUndefined();
      expect(cause?.$responseBodyText).toBeUndefined();
    });
  });

  describe('base identity failures', () => {
    it('a bad base secret: SignatureDoesNotMatch with a hint, the secret nowhere in the error', async () => {
      const badSecret = 'WRONGsecretAccessKey00000000000000000000';
      const { service } = await app({ credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: badSecret } });
      const error = await rejection(service.getCallerIdentity());
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'SignatureDoesNotMatch', retryable: false, httpStatusCode: 403 });
      expect(error.hint).toMatch(/secret access key/);
      expect(error.hint).toMatch(/clock/);
      expect(visibleText(error)).not.toContain(badSecret);
      await expect(service.assumeRole({ roleArn: OPEN_ROLE })).rejects.toMatchObject({ code: 'SignatureDoesNotMatch' });
    });

    it('an unknown access key: InvalidClientTokenId with a hint', async () => {
      const { service } = await app({ credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'whatever-secret' } });
      const error = await rejection(service.getCallerIdentity());
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'InvalidClientTokenId', retryable: false, httpStatusCode: 403 });
      expect(error.hint).toMatch(/does not know the base access key/);
    });
  });

  describe('wire error codes map to the documented codes', () => {
    type Call = (service: StsService) => Promise<unknown>;
    const viaAssumeRole: Call = (service) => service.assumeRole({ roleArn: OPEN_ROLE });
    const viaWebIdentity: Call = (service) => service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityToken: webToken('carol') });
    const viaSaml: Call = (service) =>
      service.assumeRoleWithSaml({ roleArn: SAML_ROLE, principalArn: SAML_PROVIDER, samlAssertion: makeLocalSamlAssertion() });
    const cases: Array<[LocalStsErrorCode, string, Call, boolean]> = [
      ['MalformedPolicyDocument', 'AssumeRole', viaAssumeRole, false],
      ['PackedPolicyTooLarge', 'AssumeRole', viaAssumeRole, false],
      ['RegionDisabledException', 'AssumeRole', viaAssumeRole, false],
      ['ExpiredTokenException', 'AssumeRole', viaAssumeRole, false],
      ['IDPRejectedClaim', 'AssumeRoleWithWebIdentity', viaWebIdentity, false],
      ['IDPCommunicationError', 'AssumeRoleWithWebIdentity', viaWebIdentity, true],
      ['InvalidIdentityToken', 'AssumeRoleWithWebIdentity', viaWebIdentity, false],
      ['ExpiredTokenException', 'AssumeRoleWithWebIdentity', viaWebIdentity, false],
      ['IDPRejectedClaim', 'AssumeRoleWithSAML', viaSaml, false],
      ['InvalidIdentityToken', 'AssumeRoleWithSAML', viaSaml, false],
    ];

    it.each(cases)('%s from %s keeps its wire code', async (code, operation, call, retryable) => {
      const { service, events } = await app({ maxAttempts: 1 });
      server.injectFault({ kind: 'error', code }, { times: 1, action: operation });
      const error = await rejection(call(service));
      expect(error).toBeInstanceOf(StsError);
      expect(error.code).toBe(code);
      expect(error).toMatchObject({ operation, retryable, httpStatusCode: LOCAL_STS_ERRORS[code].status });
      expect(error.requestId).toMatch(REQUEST_ID);
      expect(error.hint).toEqual(expect.any(String));
      expect(error.message).toContain(LOCAL_STS_ERRORS[code].message);
      expect(events).toEqual([expect.objectContaining({ operation, outcome: 'error', errorCode: code })]);
    });

    it('genuine server verdicts: PackedPolicyTooLarge, an expired token, a non-JWT token, a bad SAML assertion', async () => {
      const { service } = await app({ maxAttempts: 1 });
      // Within every client-side limit (50 tags, 128/256 characters, a 2 KB policy), yet too large once packed.
      const tags = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`key-${i}-${'k'.repeat(100)}`, 'v'.repeat(250)]));
      await expect(service.assumeRole({ roleArn: OPEN_ROLE, tags })).rejects.toMatchObject({
        code: 'PackedPolicyTooLarge',
        hint: expect.stringMatching(/packedPolicySize/),
      });

      const expired = webToken('old', { exp: Math.floor(Date.now() / 1000) - 60 });
      const expiredError = await rejection(service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityToken: expired }));
      expect(expiredError).toMatchObject({ code: 'ExpiredTokenException', retryable: false });
      expect(expiredError.hint).toMatch(/web identity token has expired/);

      await expect(service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityToken: 'not-a-jwt-at-all' })).rejects.toMatchObject({
        code: 'InvalidIdentityToken',
      });
      await expect(
        service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityToken: webToken('x', { aud: 'another-client' }) }),
      ).rejects.toMatchObject({ code: 'InvalidIdentityToken' });
      await expect(
        service.assumeRoleWithSaml({ roleArn: SAML_ROLE, principalArn: SAML_PROVIDER, samlAssertion: 'bm90IHhtbA==' }),
      ).rejects.toMatchObject({ code: 'InvalidIdentityToken' });
    });
  });

  describe('secrets echoed by STS never reach errors, causes, logs or events', () => {
    const capture = capturingLogger();
    const logged = capture.lines;
    beforeEach(() => {
      logged.length = 0;
    });
    afterEach(() => Logger.overrideLogger(false));

    it.each([
      ['a web identity token', 'AssumeRoleWithWebIdentity' as const, 'InvalidIdentityToken' as const],
      ['a SAML assertion', 'AssumeRoleWithSAML' as const, 'IDPRejectedClaim' as const],
      ['an ExternalId', 'AssumeRole' as const, 'AccessDenied' as const],
      ['an MFA code', 'GetSessionToken' as const, 'AccessDenied' as const],
    ])('%s', async (_what, action, code) => {
      const { service, events } = await app({ maxAttempts: 1, logger: capture });
      const token = webToken('SECRETsubjectMARKER');
      const assertion = makeLocalSamlAssertion({ subject: 'SECRETsamlMARKER' });
      const externalId = 'SECRETexternalIdMARKER';
      const mfaCode = '918273';
      const secret = { AssumeRoleWithWebIdentity: token, AssumeRoleWithSAML: assertion, AssumeRole: externalId, GetSessionToken: mfaCode }[
        action
      ];
      server.injectFault(
        { kind: 'error', code, message: `Value '${secret}' failed to satisfy constraint (${secret})` },
        { times: 1, action },
      );
      const calls = {
        AssumeRoleWithWebIdentity: () => service.assumeRoleWithWebIdentity({ roleArn: WEB_ROLE, webIdentityToken: token }),
        AssumeRoleWithSAML: () => service.assumeRoleWithSaml({ roleArn: SAML_ROLE, principalArn: SAML_PROVIDER, samlAssertion: assertion }),
        AssumeRole: () => service.assumeRole({ roleArn: OPEN_ROLE, externalId }),
        GetSessionToken: () => service.getSessionToken({ mfa: { serialNumber: MFA_SERIAL, tokenCode: mfaCode } }),
      };
      const error = await rejection(calls[action]());
      expect(error).toBeInstanceOf(StsError);
      expect(error.code).toBe(code);
      expect(error.message).toContain('[redacted]');
      expect(logged.length).toBeGreaterThanOrEqual(1);
      const seen = [visibleText(error), ...logged, inspect(events, { depth: 10 }), JSON.stringify(events)].join('\n');
      expect(seen).not.toContain(secret);
    });
  });

  describe('lifecycle', () => {
    const openTcp = () => process.getActiveResourcesInfo().filter((kind) => kind.startsWith('TCP')).length;

    it('moduleRef.close() and server.close() leave no socket, server or pending delay open', async () => {
      const own = await startLocalSts({
        roles: [
          { arn: OPEN_ROLE, trustedPrincipals: ['*'] },
          { arn: CHAIN_TARGET, trustedPrincipals: [OPEN_ROLE] },
        ],
      });
      const baseline = openTcp() - 1; // minus the listening socket of `own`
      try {
        const moduleRef = await Test.createTestingModule({
          imports: [
            ServerAwsStsModule.configure({
              AWS_REGION: 'us-east-1',
              credentials: { accessKeyId: own.baseIdentity.accessKeyId, secretAccessKey: own.baseIdentity.secretAccessKey },
              clientConfig: {
                endpoint: own.endpoint,
                maxAttempts: 1,
                requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
              },
            }),
          ],
        }).compile();
        const service = moduleRef.get(StsService);
        let completed = false;
        service.events$.subscribe({ complete: () => (completed = true) });
        try {
          await service.getCallerIdentity();
          await service.assumeRole({ roleArn: CHAIN_TARGET, via: { roleArn: OPEN_ROLE } });
          own.injectFault({ kind: 'delay', ms: 60_000 });
          await expect(service.getCallerIdentity()).rejects.toMatchObject({ code: 'TimeoutError' });
          expect(openTcp()).toBeGreaterThan(baseline); // keep-alive sockets and the listener
        } finally {
          await moduleRef.close();
        }
        expect(completed).toBe(true);
      } finally {
        await own.close();
      }
      await eventually(() => openTcp() <= baseline);
      expect(openTcp()).toBeLessThanOrEqual(baseline);
    });
  });
});
