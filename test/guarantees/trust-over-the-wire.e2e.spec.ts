/**
 * The trust promises over the wire: the real `@aws-sdk/client-sts` through `ServerAwsStsModule` against
 * LocalStsServer on loopback. Base providers, MFA functions and endpoints that hang or recover a second later;
 * request handlers and agents the user owns; clients from `createClient` and `credentialProvider` after an
 * invalidation or a revocation; a host clock far behind STS's.
 */
import { Agent as HttpAgent } from 'node:http';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { ServerAwsStsModule, StsService, type ServerAwsStsConfig } from '../../src';
import { rejection } from '../support/async-helpers';
import { startLocalSts, type LocalStsServer } from '../../src/testing';

const ACCOUNT = '123456789012';
const TENANT_ROLE = `arn:aws:iam::${ACCOUNT}:role/Tenant`;
const HUB_ROLE = `arn:aws:iam::${ACCOUNT}:role/Hub`;
const SPOKE_ROLE = `arn:aws:iam::${ACCOUNT}:role/Spoke`;

describe('trust over the wire (real @aws-sdk/client-sts against LocalStsServer)', () => {
  let server: LocalStsServer;
  const apps: TestingModule[] = [];

  async function app(config: Partial<ServerAwsStsConfig> = {}, clientConfig: STSClientConfig = {}): Promise<StsService> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
          ...config,
          clientConfig: { endpoint: server.endpoint, maxAttempts: 1, ...clientConfig },
        }),
      ],
    }).compile();
    apps.push(moduleRef);
    return moduleRef.get(StsService);
  }

  /** The base identity as a provider the test controls: it hangs until `recover()`, then answers. */
  function hangingProvider(): { provider: AwsCredentialIdentityProvider; calls: () => number; recover: () => void } {
    let recovered = false;
    let calls = 0;
    const identity = { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey };
    return {
      provider: () => {
        calls++;
        return recovered ? Promise.resolve(identity) : new Promise<AwsCredentialIdentity>(() => undefined);
      },
      calls: () => calls,
      recover: () => (recovered = true),
    };
  }

  beforeAll(async () => {
    server = await startLocalSts();
    const base = server.baseIdentity.arn;
    server.addRole({ arn: TENANT_ROLE, trustedPrincipals: [base] });
    server.addRole({ arn: HUB_ROLE, trustedPrincipals: [base] });
    server.addRole({ arn: SPOKE_ROLE, trustedPrincipals: [HUB_ROLE] });
  });
  afterEach(async () => {
    server.clearFaults();
    server.resetCalls();
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
  });
  afterAll(() => server.close());

  describe('never a hang', () => {
    it('a hung base provider times every caller out, cached tenants keep being served, and a recovered provider is asked again', async () => {
      const base = hangingProvider();
      base.recover();
      const service = await app({ credentials: base.provider, operationTimeoutSeconds: 1 });
      const cached = await service.getCredentials({ roleArn: TENANT_ROLE, sessionName: 'cached' });
      // The base identity's own credentials are memoized by the SDK only while they resolve: make it hang now.
      const hung = hangingProvider();
      const hungService = await app({ credentials: hung.provider, operationTimeoutSeconds: 1 });
      const started = performance.now();
      const callers = await Promise.allSettled(
        Array.from({ length: 3 }, (_, i) => hungService.getCredentials({ roleArn: TENANT_ROLE, sessionName: `s${i}` })),
      );
      expect(performance.now() - started).toBeLessThan(5_000);
      for (const caller of callers) expect(caller).toMatchObject({ status: 'rejected', reason: { code: 'TimeoutError', retryable: true } });
      expect(hungService.cache.stats().inflight).toBe(0);
      // A second later the provider answers: the next call asks it again instead of reusing the hung promise.
      hung.recover();
      const callsBefore = hung.calls();
      await expect(hungService.getCredentials({ roleArn: TENANT_ROLE, sessionName: 's0' })).resolves.toMatchObject({ accountId: ACCOUNT });
      expect(hung.calls()).toBeGreaterThan(callsBefore);
      // The other service's cached tenant was never disturbed.
      await expect(service.getCredentials({ roleArn: TENANT_ROLE, sessionName: 'cached' })).resolves.toBe(cached);
    });

    it('an endpoint that never answers: every operation settles within operationTimeoutSeconds, whatever the handler', async () => {
      const service = await app({ operationTimeoutSeconds: 1 }, { requestHandler: new NodeHttpHandler() });
      server.injectFault({ kind: 'delay', ms: 20_000 }, { rate: 1 });
      const started = performance.now();
      const results = await Promise.allSettled([
        service.getCallerIdentity(),
        service.assumeRole({ roleArn: TENANT_ROLE }),
        service.getCredentials({ roleArn: TENANT_ROLE }),
        service.getSessionToken(),
      ]);
      expect(performance.now() - started).toBeLessThan(5_000);
      for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: { code: 'TimeoutError', retryable: true } });
    });

    it('a request timeout the user sets keeps the other defaults and throws (it does not only warn)', async () => {
      const service = await app({ operationTimeoutSeconds: 60 }, { requestHandler: { requestTimeout: 300 } });
      server.injectFault({ kind: 'delay', ms: 3_000 }, { action: 'GetCallerIdentity' });
      const started = performance.now();
      const error = await rejection(service.getCallerIdentity());
      expect(performance.now() - started).toBeLessThan(2_500);
      expect(error).toMatchObject({ code: 'TimeoutError', retryable: true });
      expect(error.message).toMatch(/requestTimeout/);
    });
  });

  describe('never destroy what the user owns', () => {
    it('validateAccess and role-chaining hops reuse the module handler: the user agent survives, and so do calls in flight', async () => {
      const httpAgent = new HttpAgent({ keepAlive: true });
      const destroy = jest.spyOn(httpAgent, 'destroy');
      const service = await app({}, { requestHandler: { httpAgent } });
      server.injectFault({ kind: 'delay', ms: 300 }, { action: 'GetCallerIdentity' });
      const inFlight = service.getCallerIdentity();
      await expect(service.validateAccess({ roleArn: TENANT_ROLE })).resolves.toMatchObject({ ok: true, accountId: ACCOUNT });
      await expect(service.getCredentials({ roleArn: SPOKE_ROLE, via: { roleArn: HUB_ROLE } })).resolves.toMatchObject({
        accountId: ACCOUNT,
      });
      await expect(inFlight).resolves.toMatchObject({ account: server.baseIdentity.account });
      await apps.pop()!.close();
      expect(destroy).not.toHaveBeenCalled();
      httpAgent.destroy();
    });
  });

  describe('clients see what the cache holds', () => {
    const whoIs = (client: STSClient) => client.send(new GetCallerIdentityCommand({})).then((output) => output.Arn);

    it('a client from createClient signs with fresh credentials right after an invalidation', async () => {
      const service = await app();
      const request = { roleArn: TENANT_ROLE };
      const client = service.createClient(STSClient, request, { endpoint: server.endpoint, maxAttempts: 1 });
      const first = await whoIs(client);
      expect(await whoIs(client)).toBe(first);
      service.cache.invalidate(request);
      const second = await whoIs(client);
      expect(second).not.toBe(first); // a new session: the SDK did not keep the dropped identity
      expect(server.callCount('AssumeRole')).toBe(2);
      client.destroy();
    });

    it('a client from credentialProvider also sees an invalidation at its next request', async () => {
      const service = await app();
      const request = { roleArn: TENANT_ROLE, sessionName: 'provider' };
      const credentials = await service.getCredentials(request);
      const client = new STSClient({
        endpoint: server.endpoint,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: service.credentialProvider(request),
      });
      await whoIs(client);
      service.cache.invalidateIfCurrent(credentials);
      await whoIs(client);
      expect(server.callCount('AssumeRole')).toBe(2);
      client.destroy();
    });

    it('credentials the service rejects as unknown are dropped and the SDK retry signs with fresh ones', async () => {
      const service = await app();
      const request = { roleArn: TENANT_ROLE };
      const client = service.createClient(STSClient, request, { endpoint: server.endpoint, maxAttempts: 2 });
      await whoIs(client);
      const revoked = await service.getCredentials(request);
      server.revokeCredentials(revoked.accessKeyId);
      await expect(whoIs(client)).resolves.toMatch(/assumed-role\/Tenant\//);
      expect((await service.getCredentials(request)).accessKeyId).not.toBe(revoked.accessKeyId);
      expect(server.callCount('AssumeRole')).toBe(2);
      client.destroy();
    });
  });

  describe("expiry judged by STS's clock", () => {
    let behind: LocalStsServer;
    beforeAll(async () => {
      // STS's clock runs 50 minutes ahead of this host's.
      behind = await startLocalSts({ now: () => Date.now() + 50 * 60_000 });
      behind.addRole({ arn: TENANT_ROLE, trustedPrincipals: [behind.baseIdentity.arn] });
    });
    afterAll(() => behind.close());

    it('credentials STS considers past their mandatory window are not handed out, though the host clock says otherwise', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ServerAwsStsModule.configure({
            AWS_REGION: 'us-east-1',
            credentials: { accessKeyId: behind.baseIdentity.accessKeyId, secretAccessKey: behind.baseIdentity.secretAccessKey },
            clientConfig: { endpoint: behind.endpoint, maxAttempts: 1 },
          }),
        ],
      }).compile();
      apps.push(moduleRef);
      const service = moduleRef.get(StsService);
      await service.getCallerIdentity(); // the SDK learns STS's clock from the answer's Date header
      const credentials = await service.getCredentials({ roleArn: TENANT_ROLE, durationSeconds: 3600 });
      // By the host clock they have 110 minutes left; by STS's, 60.
      expect(service.checkExpiration(credentials).remainingSeconds).toBeLessThanOrEqual(3600);
      jest.useFakeTimers({
        now: Date.now() + 59.5 * 60_000,
        doNotFake: [
          'setImmediate',
          'nextTick',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'performance',
          'hrtime',
          'queueMicrotask',
        ],
      });
      try {
        const later = await service.getCredentials({ roleArn: TENANT_ROLE, durationSeconds: 3600 });
        expect(later.accessKeyId).not.toBe(credentials.accessKeyId);
        expect(service.checkExpiration(credentials).isNearExpiration).toBe(true);
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
