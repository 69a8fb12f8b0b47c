/**
 * `nestjs-aws-sts/terminus`: `StsHealthIndicator` through a real Terminus `HealthCheckService` in a Nest app, as a
 * user wires it (`TerminusModule` + `ServerAwsStsModule` + `providers: [StsHealthIndicator]`), up and down, with
 * STS mocked (call counts, reuse, single flight) and over the wire against the local STS endpoint.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Get, Module, ServiceUnavailableException, type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { Test, type TestingModule } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule, type HealthCheckResult } from '@nestjs/terminus';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import Redis from 'ioredis';
import { ServerAwsStsModule, StsError, StsService, StsValidationError, type ServerAwsStsConfig } from '../../../src';
import { StsHealthIndicator } from '../../../src/terminus';
import { startLocalSts, type LocalStsServer } from '../../../src/testing';
import { eventually, rejection } from '../../support/async-helpers';
import { describeWithRedis } from '../../support/redis-server';
import { capturingLogger, visibleText } from '../../support/visible-text';
import { BASE_ACCOUNT, BASE_CREDENTIALS, ROLE_ARN, assumeRoleOutput, serviceError } from '../../support/fixtures';
import { fakeOnly } from '../../support/fake-clock';

const BASE_ARN = `arn:aws:iam::${BASE_ACCOUNT}:user/app`;
const IDENTITY = { Account: BASE_ACCOUNT, Arn: BASE_ARN, UserId: 'AIDAEXAMPLE' };
/** A secret planted in error messages: it must never show in a health result. */
const MARKER = 'PLANTED-SECRET-wJalrXUtnFEMI-K7MDENG';

const apps: TestingModule[] = [];
afterEach(async () => {
  jest.useRealTimers();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** The user story: a module importing TerminusModule and ServerAwsStsModule, with the indicator as a provider. */
/** The details of a `down` result with nothing cached: the code, a hint containing `hint`, and empty cache figures. */
const downOnEmptyCache = (code: string, hint: string) => ({
  status: 'down',
  code,
  hint: expect.stringContaining(hint),
  entries: 0,
  inflight: 0,
  refreshFailures: 0,
});

async function healthApp(config: ServerAwsStsConfig = {}) {
  // Terminus logs every failed check ("Health Check has failed!" with the details): kept, to be searched for secrets.
  const logs = capturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule, ServerAwsStsModule.configure({ AWS_REGION: 'us-east-1', credentials: BASE_CREDENTIALS, ...config })],
    providers: [StsHealthIndicator],
  })
    .setLogger(logs)
    .compile();
  apps.push(moduleRef);
  const health = moduleRef.get(HealthCheckService);
  const indicator = moduleRef.get(StsHealthIndicator);
  /** What a `/health` endpoint answers: the result (HTTP 200) or the result Terminus throws with (HTTP 503). */
  const probe = (...args: Parameters<StsHealthIndicator['isHealthy']>): Promise<{ httpStatus: number; result: HealthCheckResult }> =>
    health.check([() => indicator.isHealthy(...args)]).then(
      (result) => ({ httpStatus: 200, result }),
      (error: unknown) => {
        if (!(error instanceof ServiceUnavailableException)) throw error;
        return { httpStatus: error.getStatus(), result: error.getResponse() as HealthCheckResult };
      },
    );
  /** What Terminus logged about failed checks. */
  const terminusLogs = () => logs.lines.filter((line) => line.includes('Health Check has failed')).join('\n');
  return { moduleRef, health, indicator, probe, terminusLogs, service: moduleRef.get(StsService) };
}

describe('StsHealthIndicator through Terminus (STS mocked)', () => {
  let sts: AwsClientStub<STSClient>;
  beforeAll(() => {
    sts = mockClient(STSClient);
  });
  afterAll(() => sts.restore());
  beforeEach(() => sts.reset());

  it('is up with the base identity and the cache figures when STS answers GetCallerIdentity', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    const { probe } = await healthApp();
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(200);
    const up = { status: 'up', account: BASE_ACCOUNT, arn: BASE_ARN, entries: 0, inflight: 0, refreshFailures: 0 };
    expect(result).toEqual({ status: 'ok', info: { sts: up }, error: {}, details: { sts: up } });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('is down with ShuttingDown once the app is shutting down, even with a fresh answer, and asks STS no more', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    const { probe, moduleRef } = await healthApp();
    expect((await probe()).httpStatus).toBe(200);
    await moduleRef.close();
    const { httpStatus, result } = await probe('sts', { maxAgeSeconds: 0 });
    expect(httpStatus).toBe(503);
    expect(result.details.sts).toMatchObject({ status: 'down', code: 'ShuttingDown' });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('reports under the key it is given', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    const { probe } = await healthApp();
    const { result } = await probe('aws-sts');
    expect(Object.keys(result.details)).toEqual(['aws-sts']);
    expect(result.details['aws-sts']).toMatchObject({ status: 'up', account: BASE_ACCOUNT });
  });

  it('reads the cache figures fresh on every probe, even while the STS answer is reused', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    sts
      .on(AssumeRoleCommand, { RoleArn: ROLE_ARN })
      .resolves(assumeRoleOutput())
      .on(AssumeRoleCommand, { RoleArn: 'arn:aws:iam::210987654321:role/Refused' })
      .rejects(serviceError('AccessDenied', 'not trusted', 403));
    const { probe, service } = await healthApp();
    expect((await probe()).result.details.sts).toMatchObject({ entries: 0, refreshFailures: 0 });

    await service.getCredentials({ roleArn: ROLE_ARN });
    await expect(service.getCredentials({ roleArn: 'arn:aws:iam::210987654321:role/Refused' })).rejects.toThrow(StsError);
    expect((await probe()).result.details.sts).toEqual({
      status: 'up',
      account: BASE_ACCOUNT,
      arn: BASE_ARN,
      entries: 1,
      inflight: 0,
      refreshFailures: 1,
    });
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('shows inflight STS fetches of the credential cache', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    let answer!: () => void;
    sts.on(AssumeRoleCommand).callsFake(() => new Promise((resolve) => (answer = () => resolve(assumeRoleOutput()))));
    const { probe, service } = await healthApp();
    const pending = service.getCredentials({ roleArn: ROLE_ARN });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await probe()).result.details.sts).toMatchObject({ status: 'up', inflight: 1, entries: 0 });
    answer();
    await pending;
    expect((await probe()).result.details.sts).toMatchObject({ inflight: 0, entries: 1 });
  });

  it('is down with the code and the hint, never the message, when STS refuses the base key (InvalidClientTokenId)', async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(serviceError('InvalidClientTokenId', `The security token included in the request is invalid: ${MARKER}`, 403));
    const { probe, indicator, terminusLogs } = await healthApp();
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(503);
    const down = downOnEmptyCache('InvalidClientTokenId', 'STS does not know the base access key');
    expect(result).toEqual({ status: 'error', info: {}, error: { sts: down }, details: { sts: down } });
    expect(visibleText(result)).not.toContain(MARKER);
    expect(terminusLogs()).toContain('InvalidClientTokenId');
    expect(terminusLogs()).not.toContain(MARKER);
    // The indicator itself resolves (Terminus turns `down` into the 503); it never rejects for a failure of STS.
    await expect(indicator.isHealthy()).resolves.toEqual({ sts: down });
  });

  it('is down without a hint when the code has none, and shows no message', async () => {
    sts.on(GetCallerIdentityCommand).rejects(serviceError('SomethingNew', `unexpected: ${MARKER}`, 400));
    const { probe } = await healthApp();
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(503);
    expect(result.details.sts).toEqual({ status: 'down', code: 'SomethingNew', entries: 0, inflight: 0, refreshFailures: 0 });
    expect(visibleText(result)).not.toContain(MARKER);
  });

  it('is down with CredentialsProviderError when the base credentials provider throws, never showing its message', async () => {
    const failing: AwsCredentialIdentityProvider = async () => {
      throw Object.assign(new Error(`Could not load credentials: ${MARKER}`), { name: 'CredentialsProviderError' });
    };
    const { probe, service, terminusLogs } = await healthApp({ credentials: failing });
    // The module signs with the provider, which the mocked `send` never reaches: let the mock fail as signing would.
    sts.on(GetCallerIdentityCommand).callsFake(async () => failing());
    const error = await rejection(service.getCallerIdentity());
    expect(error.message).toContain(MARKER); // the provider's own text reaches the StsError message, not the health result
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(503);
    expect(result.details.sts).toEqual(downOnEmptyCache('CredentialsProviderError', 'AWS_PROFILE'));
    expect(visibleText(result)).not.toContain(MARKER);
    expect(terminusLogs()).toContain('CredentialsProviderError');
    expect(terminusLogs()).not.toContain(MARKER);
  });

  describe('reuse of the STS answer (maxAgeSeconds)', () => {
    beforeEach(() => fakeOnly(new Date('2026-03-01T00:00:00Z'), 'Date', 'performance'));

    it('asks STS once for 10 probes within 60 s by default, and again once the answer is 60 s old', async () => {
      sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
      const { probe } = await healthApp();
      for (let i = 0; i < 10; i++) {
        expect((await probe()).httpStatus).toBe(200);
        jest.advanceTimersByTime(5_000);
      }
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
      jest.advanceTimersByTime(10_000); // 60 s since STS answered
      expect((await probe()).httpStatus).toBe(200);
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 2);
    });

    it('honours a maxAgeSeconds of its own, and 0 asks STS at every probe', async () => {
      sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
      const { probe } = await healthApp();
      await probe('sts', { maxAgeSeconds: 10 });
      jest.advanceTimersByTime(9_999);
      await probe('sts', { maxAgeSeconds: 10 });
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
      jest.advanceTimersByTime(1);
      await probe('sts', { maxAgeSeconds: 10 });
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 2);
      await probe('sts', { maxAgeSeconds: 0 });
      await probe('sts', { maxAgeSeconds: 0 });
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 4);
    });

    it('reuses a failure for maxAgeSeconds too (a failing STS is not asked harder), and is up again at the next call after it', async () => {
      sts
        .on(GetCallerIdentityCommand)
        .rejectsOnce(serviceError('Throttling', 'Rate exceeded', 400))
        .resolves(IDENTITY);
      const { probe } = await healthApp();
      for (let i = 0; i < 10; i++) {
        const { httpStatus, result } = await probe();
        expect([httpStatus, result.details.sts.code]).toEqual([503, 'Throttling']);
        jest.advanceTimersByTime(5_000);
      }
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
      jest.advanceTimersByTime(10_000);
      expect((await probe()).result.details.sts).toMatchObject({ status: 'up', account: BASE_ACCOUNT });
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 2);
    });

    it('counts the age from when STS answered, not from when it was asked', async () => {
      let answer!: () => void;
      sts
        .on(GetCallerIdentityCommand)
        .callsFakeOnce(() => new Promise((resolve) => (answer = () => resolve(IDENTITY))))
        .resolves(IDENTITY);
      const { probe } = await healthApp();
      const first = probe();
      await new Promise((resolve) => setImmediate(resolve));
      jest.advanceTimersByTime(20_000); // STS takes 20 s to answer
      answer();
      await first;
      jest.advanceTimersByTime(59_000);
      await probe();
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
    });
  });

  it('makes one STS call for concurrent probes (single flight), failures included', async () => {
    let answer!: () => void;
    sts.on(GetCallerIdentityCommand).callsFakeOnce(() => new Promise((resolve) => (answer = () => resolve(IDENTITY))));
    const { probe } = await healthApp();
    const probes = Array.from({ length: 50 }, () => probe());
    await new Promise((resolve) => setImmediate(resolve));
    answer();
    const results = await Promise.all(probes);
    expect(results.every(({ httpStatus }) => httpStatus === 200)).toBe(true);
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);

    sts.reset();
    let fail!: () => void;
    sts
      .on(GetCallerIdentityCommand)
      .callsFakeOnce(() => new Promise((_, reject) => (fail = () => reject(serviceError('InvalidClientTokenId', MARKER, 403)))));
    const { probe: probeOther } = await healthApp();
    const failing = Array.from({ length: 50 }, () => probeOther('sts', { maxAgeSeconds: 0 }));
    await new Promise((resolve) => setImmediate(resolve));
    fail();
    const downs = await Promise.all(failing);
    expect(downs.map(({ result }) => result.details.sts.code)).toEqual(Array(50).fill('InvalidClientTokenId'));
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 1);
  });

  it('keeps one answer per indicator: another app (another StsService) asks STS for its own', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    const first = await healthApp();
    const second = await healthApp();
    await first.probe();
    await second.probe();
    await first.probe();
    expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 2);
  });

  it.each([-1, 1.5, 3601, Number.NaN, Number.POSITIVE_INFINITY, '60' as unknown as number])(
    'rejects maxAgeSeconds %p before asking STS (the endpoint fails with 500, not 503)',
    async (maxAgeSeconds) => {
      sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
      const { probe, indicator } = await healthApp();
      const error = await rejection<StsValidationError>(probe('sts', { maxAgeSeconds }));
      expect(error).toBeInstanceOf(StsValidationError);
      expect(error).toMatchObject({ code: 'InvalidInput', field: 'maxAgeSeconds', rule: 'must be an integer from 0 to 3600 (seconds)' });
      await expect(indicator.isHealthy('sts', { maxAgeSeconds })).rejects.toThrow(StsValidationError);
      expect(sts).toHaveReceivedCommandTimes(GetCallerIdentityCommand, 0);
    },
  );

  it('accepts the bounds 0 and 3600', async () => {
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    const { probe } = await healthApp();
    expect((await probe('sts', { maxAgeSeconds: 0 })).httpStatus).toBe(200);
    expect((await probe('sts', { maxAgeSeconds: 3600 })).httpStatus).toBe(200);
  });
});

/** The README's health controller. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly sts: StsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.sts.isHealthy('sts', { maxAgeSeconds: 0 })]);
  }
}

/** A part of the app that caches a tenant's credentials. */
@Controller('tenant')
class TenantController {
  constructor(private readonly sts: StsService) {}

  @Get()
  async access() {
    await this.sts.getCredentials({ roleArn: TENANT_ROLE });
    return { ok: true };
  }
}

const TENANT_ROLE = `arn:aws:iam::${BASE_ACCOUNT}:role/Tenant`;

/** One GET over loopback on a fresh connection: the status and the parsed JSON body. */
function getJson(app: INestApplication, path: string): Promise<{ status: number; body: HealthCheckResult }> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('StsHealthIndicator over the wire (local STS endpoint)', () => {
  let server: LocalStsServer;
  beforeAll(async () => {
    server = await startLocalSts();
    server.addRole({ arn: TENANT_ROLE, trustedPrincipals: [server.baseIdentity.arn] });
  });
  afterAll(() => server.close());
  beforeEach(() => server.resetCalls());

  const wireApp = (credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider) =>
    healthApp({ credentials, clientConfig: { endpoint: server.endpoint, maxAttempts: 1 } });

  it('is up as the base identity, asking STS once for many probes', async () => {
    const { probe } = await wireApp({ accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey });
    for (let i = 0; i < 10; i++) {
      const { httpStatus, result } = await probe();
      expect(httpStatus).toBe(200);
      expect(result.details.sts).toEqual({
        status: 'up',
        account: server.baseIdentity.account,
        arn: server.baseIdentity.arn,
        entries: 0,
        inflight: 0,
        refreshFailures: 0,
      });
    }
    expect(server.callCount('GetCallerIdentity')).toBe(1);
  });

  it('is down with InvalidClientTokenId when STS does not know the base key, showing no secret', async () => {
    const secretAccessKey = `${MARKER}-secret-access-key`;
    const { probe } = await wireApp({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey });
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(503);
    expect(result.details.sts).toEqual(downOnEmptyCache('InvalidClientTokenId', 'STS does not know the base access key'));
    expect(visibleText(result)).not.toContain(MARKER);
    expect(server.callCount('GetCallerIdentity')).toBe(1);
  });

  describe("the README's wiring, over HTTP: the health module reuses the app's module", () => {
    const served: INestApplication[] = [];
    afterEach(() => Promise.all(served.splice(0).map((app) => app.close())));

    const stsModule = (isGlobal: boolean): DynamicModule =>
      ServerAwsStsModule.configure({
        AWS_REGION: 'us-east-1',
        credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
        clientConfig: { endpoint: server.endpoint, maxAttempts: 1 },
        isGlobal,
      });

    /** The app: ServerAwsStsModule configured once, globally, a tenant controller, and `healthModule`. */
    async function serve(healthModule: DynamicModule | (new () => object)): Promise<INestApplication> {
      @Module({ imports: [stsModule(true), healthModule], controllers: [TenantController] })
      class AppModule {}
      const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: false });
      served.push(app);
      await app.listen(0, '127.0.0.1');
      return app;
    }

    it('reports the cache the app uses (entries: 1 once a tenant is served)', async () => {
      @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [StsHealthIndicator] })
      class HealthModule {}
      const app = await serve(HealthModule);
      expect(await getJson(app, '/tenant')).toMatchObject({ status: 200 });
      const { status, body } = await getJson(app, '/health');
      expect(status).toBe(200);
      expect(body.details.sts).toMatchObject({ status: 'up', entries: 1 });
    });

    it('configured a second time in the health module, it would report a second, empty cache (why the README says not to)', async () => {
      @Module({ imports: [TerminusModule, stsModule(false)], controllers: [HealthController], providers: [StsHealthIndicator] })
      class HealthModule {}
      const app = await serve(HealthModule);
      expect(await getJson(app, '/tenant')).toMatchObject({ status: 200 });
      const { body } = await getJson(app, '/health');
      expect(body.details.sts).toMatchObject({ status: 'up', entries: 0 });
    });
  });

  it('is down with CredentialsProviderError when the base credentials provider throws, and STS is never called', async () => {
    const failing: AwsCredentialIdentityProvider = async () => {
      throw Object.assign(new Error(`Could not load credentials from any providers (profile key ${MARKER})`), {
        name: 'CredentialsProviderError',
      });
    };
    const { probe } = await wireApp(failing);
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(503);
    expect(result.details.sts).toMatchObject({
      status: 'down',
      code: 'CredentialsProviderError',
      hint: expect.stringContaining('AWS_PROFILE'),
    });
    expect(visibleText(result)).not.toContain(MARKER);
    expect(server.callCount()).toBe(0);
  });
});

describeWithRedis('StsHealthIndicator with the shared tier (a real redis-server)', (redisServer) => {
  let sts: AwsClientStub<STSClient>;
  const clients: Redis[] = [];
  const encryptionKey = randomBytes(32).toString('base64');
  beforeAll(() => {
    sts = mockClient(STSClient);
  });
  afterAll(() => sts.restore());
  beforeEach(() => {
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves(IDENTITY);
    sts.on(AssumeRoleCommand).callsFake(() => Promise.resolve(assumeRoleOutput()));
  });
  afterEach(() => clients.splice(0).forEach((client) => client.disconnect()));

  const client = () => {
    const redis = new Redis(redisServer().url);
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  const sharedApp = () =>
    healthApp({
      cache: { shared: { redis: client(), encryptionKey, keyPrefix: `health${randomBytes(4).toString('hex')}:`, commandTimeoutMs: 2_000 } },
    });

  it('shows the tier available with no invalidation pending, and nothing that names a key, a prefix or a tenant', async () => {
    const { probe, service } = await sharedApp();
    await service.getCredentials({ roleArn: ROLE_ARN, externalId: MARKER });
    const { httpStatus, result } = await probe();
    expect(httpStatus).toBe(200);
    expect(result.details.sts).toEqual({
      status: 'up',
      account: BASE_ACCOUNT,
      arn: BASE_ARN,
      entries: 1,
      inflight: 0,
      refreshFailures: 0,
      shared: { available: true, invalidationsPending: 0 },
    });
    expect(visibleText(result)).not.toMatch(new RegExp(`${MARKER}|health[0-9a-f]{8}|TenantAccess|${encryptionKey.slice(0, 12)}`));
  });

  it('counts an invalidation pending while Redis holds its commands (CLIENT PAUSE WRITE), and none once Redis carried it out', async () => {
    const { probe, service } = await sharedApp();
    await service.getCredentials({ roleArn: ROLE_ARN });
    await client().client('PAUSE', 800, 'WRITE');
    service.cache.invalidate({ roleArn: ROLE_ARN });
    expect((await probe()).result.details.sts.shared).toEqual({ available: true, invalidationsPending: 1 });
    await eventually(() => service.cache.stats().shared!.invalidationsPending === 0, 5_000);
    expect((await probe()).result.details.sts.shared).toEqual({ available: true, invalidationsPending: 0 });
    expect(service.cache.stats().shared).toMatchObject({ invalidationsQueued: 1, invalidationsPropagated: 1 });
  });

  it('stays up through a Redis outage (OOM), showing since when, its code and the invalidation waiting, and keeps the code once Redis answers again', async () => {
    const { probe, service } = await sharedApp();
    const admin = client();
    await service.getCredentials({ roleArn: ROLE_ARN });
    const before = Date.now();
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', '1');
    try {
      // A full Redis refuses the invalidation's generation bump: the tier's first failure, kept and sent again.
      service.cache.invalidate({ roleArn: ROLE_ARN });
      await eventually(() => service.cache.stats().shared!.outages === 1, 5_000);
      const during = await probe();
      expect(during.httpStatus).toBe(200); // STS serves without the tier: the check stays up
      expect(during.result.details.sts).toMatchObject({
        status: 'up',
        shared: { available: false, outageSince: expect.any(String), lastErrorCode: 'OOM', invalidationsPending: 1 },
      });
      const since = Date.parse((during.result.details.sts.shared as { outageSince: string }).outageSince);
      expect(since).toBeGreaterThanOrEqual(before - 1_000);
      expect(since).toBeLessThanOrEqual(Date.now());
    } finally {
      await admin.config('SET', 'maxmemory', '0');
    }
    // The pending invalidation is sent again within a second or so; its success ends the outage.
    await eventually(() => service.cache.stats().shared!.invalidationsPending === 0, 10_000);
    expect((await probe()).result.details.sts.shared).toEqual({ available: true, lastErrorCode: 'OOM', invalidationsPending: 0 });
  });
});
