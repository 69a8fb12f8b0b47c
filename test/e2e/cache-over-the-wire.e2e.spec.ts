/**
 * The credential cache under real faults: `getCredentials` through `ServerAwsStsModule` and the real
 * `@aws-sdk/client-sts` (signing, Query protocol, XML, the SDK's own retries) against LocalStsServer on loopback.
 * No real AWS is ever contacted.
 *
 * Time: only `Date` is faked (every timer, `nextTick`, `setImmediate` and `performance` stay real, so sockets,
 * request timeouts and the SDK's retry delays run normally). The cache reads `Date.now()` at each call, the server
 * issues and expires credentials by the same clock (`now: () => Date.now()`), and the SDK signs with it; the
 * server does not check signature skew (no `maxClockSkewSeconds`), so jumping hours ahead signs and verifies fine.
 *
 * The token-file re-read of `assumeRoleWithWebIdentity` is not repeated here: test/e2e/over-the-wire.e2e.spec.ts
 * ("assumeRoleWithWebIdentity with a token file re-reads the rotated token on each call") covers exactly that.
 */
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { AwsCredentialIdentity } from '@aws-sdk/types';
import {
  ServerAwsStsModule,
  StsError,
  StsService,
  TemporaryCredentials,
  type AssumeRoleRequest,
  type CacheEvent,
  type StsEvent,
} from '../../src';
import { eventually, rejection } from '../support/async-helpers';
import { startLocalSts, type LocalStsServer } from '../../src/testing';
import { fakeOnly } from '../support/fake-clock';

const ACCOUNT = '123456789012';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const STORM_ROLE = role('StormRole');
const WALK_ROLE = role('WalkRole');
const CROWD_ROLE = role('CrowdRole');
const FAN_ROLES = [0, 1, 2, 3, 4].map((i) => role(`Fan${i}`));
const CHAIN_A = role('ChainA');
const CHAIN_B = role('ChainB');
const REVOKED_ROLES = { trust: role('RevokedTrust'), externalId: role('RotatedExternalId') };
const MFA_ROLE = role('MfaTenant');
const ONBOARDED_ROLE = role('JustOnboarded');
const MFA_SERIAL = 'arn:aws:iam::111111111111:mfa/cache-test';
const VALID_MFA_CODE = '123456';
const EXTERNAL_ID = 'tenant-ext-77';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
/** Moves the (fake) wall clock to T0 + ms. */
const at = (ms: number) => jest.setSystemTime(T0 + ms);

/** Waits (in real time) until no fetch of the cache is in flight: background refreshes have landed. */
async function quiescent(service: StsService, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (service.cache.stats().inflight > 0) {
    if (performance.now() > deadline) throw new Error('a cache fetch is still in flight');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setImmediate(resolve));
}

const cacheEvents = (events: Array<StsEvent & { at: number }>) =>
  events.filter((event): event is CacheEvent & { at: number } => event.type !== 'sts-call');

describe('credential cache over the wire (real @aws-sdk/client-sts against LocalStsServer, fake Date)', () => {
  let server: LocalStsServer;
  const apps: TestingModule[] = [];
  const clients: STSClient[] = [];

  interface AppOptions {
    maxAttempts?: number;
    retryStrategy?: STSClientConfig['retryStrategy'];
  }

  /** The app as a user builds it; every event is recorded with the (fake) time it was emitted at. */
  async function app(options: AppOptions = {}): Promise<{ service: StsService; events: Array<StsEvent & { at: number }> }> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ServerAwsStsModule.configure({
          AWS_REGION: 'us-east-1',
          credentials: { accessKeyId: server.baseIdentity.accessKeyId, secretAccessKey: server.baseIdentity.secretAccessKey },
          clientConfig: {
            endpoint: server.endpoint,
            maxAttempts: options.maxAttempts ?? 1,
            ...(options.retryStrategy ? { retryStrategy: options.retryStrategy } : {}),
            requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
          },
        }),
      ],
    }).compile();
    apps.push(moduleRef);
    const service = moduleRef.get(StsService);
    const events: Array<StsEvent & { at: number }> = [];
    service.events$.subscribe((event) => events.push({ ...event, at: Date.now() }));
    return { service, events };
  }

  /** A plain SDK client signed by `credentials`: proves issued credentials really work (or are refused). */
  async function whoAmI(credentials: AwsCredentialIdentity): Promise<string | undefined> {
    const client = new STSClient({ endpoint: server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
    clients.push(client);
    return (await client.send(new GetCallerIdentityCommand({}))).Arn;
  }

  beforeAll(async () => {
    // The server reads the clock at call time, so it follows the fake Date of each test.
    server = await startLocalSts({ now: () => Date.now() });
    const base = server.baseIdentity.arn;
    for (const arn of [STORM_ROLE, WALK_ROLE, CROWD_ROLE, CHAIN_A, ...FAN_ROLES]) server.addRole({ arn, trustedPrincipals: [base] });
    server.addRole({ arn: CHAIN_B, trustedPrincipals: [CHAIN_A] });
    server.addRole({ arn: MFA_ROLE, trustedPrincipals: [base], mfaRequired: true });
    server.addRole({ arn: ONBOARDED_ROLE, trustedPrincipals: [base] });
    for (const arn of Object.values(REVOKED_ROLES)) server.addRole({ arn, trustedPrincipals: [base], externalId: EXTERNAL_ID });
  });

  beforeEach(() => {
    fakeOnly(T0);
    server.clearFaults();
    server.resetCalls();
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    for (const moduleRef of apps.splice(0)) await moduleRef.close();
    jest.useRealTimers();
  });

  afterAll(async () => {
    Logger.overrideLogger(false); // Test.compile() installs Nest's TestingLogger globally; back to quiet-logs.ts
    await server.close();
  });

  it('the fake Date drives the SDK signature, the server clock and the cache alike', async () => {
    const { service } = await app();
    at(5 * 60 * MIN);
    const credentials = await service.getCredentials({ roleArn: WALK_ROLE, sessionName: 'clock-check' });
    // STS issued one-hour credentials by the fake clock, the SDK parsed them, and they verify at that time.
    expect(credentials.expiration.getTime()).toBe(T0 + 6 * 60 * MIN);
    await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WalkRole/clock-check`);
    // Two hours on, the same credentials are expired for the server too.
    at(7 * 60 * MIN);
    await expect(whoAmI(credentials)).rejects.toMatchObject({ name: 'ExpiredTokenException' });
  });

  it('serves the cached credentials through a throttling storm, backs off, and refreshes once STS recovers', async () => {
    const { service, events } = await app({ maxAttempts: 1 });
    const request: AssumeRoleRequest = { roleArn: STORM_ROLE, sessionName: 'storm' };
    const filled = await service.getCredentials(request);
    expect(filled.expiration.getTime()).toBe(T0 + 60 * MIN);

    server.injectFault({ kind: 'throttle' }, { rate: 1, action: 'AssumeRole' });
    server.resetCalls();
    events.length = 0;

    // 1-hour credentials: the advisory window opens 15 min (plus up to 25 % jitter) before expiry, i.e. by
    // minute 45; the mandatory window at minute 59. Ten callers every 5 simulated seconds, minutes 46 to 53.
    let lookups = 0;
    const served = new Set<string>();
    let failures = 0;
    for (let t = 46 * MIN; t <= 53 * MIN; t += 5_000) {
      at(t);
      const results = await Promise.allSettled(Array.from({ length: 10 }, () => service.getCredentials(request)));
      lookups += results.length;
      for (const result of results) {
        if (result.status === 'fulfilled') served.add(result.value.accessKeyId);
        else failures++;
      }
      await quiescent(service);
    }
    expect(failures).toBe(0);
    expect([...served]).toEqual([filled.accessKeyId]);

    const stats = service.cache.stats();
    expect(stats.staleServed).toBeGreaterThan(0);
    expect(stats.refreshFailures).toBeGreaterThan(0);
    expect(stats).toMatchObject({ size: 1, inflight: 0, evictions: 0 });
    // Every call the server saw was a throttled background refresh, and far fewer than the lookups.
    const attempts = server.calls;
    expect(attempts.length).toBe(stats.refreshFailures);
    expect(attempts.every((call) => call.action === 'AssumeRole' && call.errorCode === 'Throttling' && call.status === 400)).toBe(true);
    expect(lookups).toBe(850);
    expect(attempts.length).toBeGreaterThanOrEqual(5);
    expect(attempts.length).toBeLessThanOrEqual(15);
    // The backoff grows: the first retries come within seconds, the last ones minutes apart.
    const tries = cacheEvents(events).filter((event) => event.type === 'refresh-started');
    expect(tries.every((event) => event.background === true)).toBe(true);
    expect(tries[1]!.at - tries[0]!.at).toBeLessThanOrEqual(5_000);
    expect(tries[tries.length - 1]!.at - tries[tries.length - 2]!.at).toBeGreaterThanOrEqual(30_000);
    expect(
      cacheEvents(events)
        .filter((event) => event.type === 'refresh-failed')
        .every((event) => event.errorCode === 'Throttling' && event.background),
    ).toBe(true);

    // STS recovers. The last failure was at minute 53 at the latest, so its backoff (at most 5 min) is over by
    // 58:30, still before the mandatory window (59:00): the next lookup refreshes in the background.
    server.clearFaults();
    server.resetCalls();
    at(58 * MIN + 30_000);
    const during = await service.getCredentials(request);
    expect(during.accessKeyId).toBe(filled.accessKeyId);
    await quiescent(service);
    const fresh = await service.getCredentials(request);
    expect(fresh.accessKeyId).not.toBe(filled.accessKeyId);
    expect(fresh.expiration.getTime()).toBe(T0 + 58 * MIN + 30_000 + 60 * MIN);
    expect(server.calls).toEqual([{ action: 'AssumeRole', status: 200, roleArn: STORM_ROLE }]);
    expect(cacheEvents(events).at(-1)).toMatchObject({ type: 'refresh-succeeded', roleArn: STORM_ROLE, expiration: fresh.expiration });
    const staleServed = service.cache.stats().staleServed;
    await service.getCredentials(request);
    expect(service.cache.stats().staleServed).toBe(staleServed); // fresh again: no longer counted as stale
    await expect(whoAmI(fresh)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/StormRole/storm`);
  }, 30_000);

  it.each([
    ['the trust policy no longer names the caller', 'trust' as const, { trustedPrincipals: [] as string[] }],
    ['the ExternalId was rotated', 'externalId' as const, { externalId: 'rotated-ext-78' }],
  ])(
    'evicts on a revoked role (%s), remembers the AccessDenied briefly, and recovers once access is back',
    async (_what, which, revoke) => {
      const roleArn = REVOKED_ROLES[which];
      const { service, events } = await app({ maxAttempts: 3 });
      const request: AssumeRoleRequest = { roleArn, externalId: EXTERNAL_ID, sessionName: 'revoked' };
      const filled = await service.getCredentials(request);
      server.updateRole(roleArn, revoke);
      server.resetCalls();
      events.length = 0;

      // In the advisory window: the caller still gets the cached credentials; the background refresh is refused.
      at(46 * MIN);
      await expect(service.getCredentials(request)).resolves.toBe(filled);
      await quiescent(service);
      expect(server.calls).toEqual([{ action: 'AssumeRole', status: 403, roleArn, errorCode: 'AccessDenied' }]); // not retried by the SDK
      expect(cacheEvents(events).map(({ type, reason, errorCode, background }) => ({ type, reason, errorCode, background }))).toEqual([
        { type: 'refresh-started', reason: undefined, errorCode: undefined, background: true },
        { type: 'refresh-failed', reason: undefined, errorCode: 'AccessDenied', background: true },
        { type: 'eviction', reason: 'error', errorCode: undefined, background: undefined },
      ]);
      expect(service.cache.stats()).toMatchObject({ size: 0, inflight: 0, evictions: 1 });

      // The next caller gets the AccessDenied (with its hint), not the evicted credentials.
      const error = await rejection(service.getCredentials(request));
      expect(error).toBeInstanceOf(StsError);
      expect(error).toMatchObject({ code: 'AccessDenied', operation: 'AssumeRole', retryable: false, httpStatusCode: 403 });
      expect(error.hint).toMatch(/trust policy/);
      expect(error.hint).toMatch(/sts:ExternalId/);

      // A burst right after: every caller is refused, and STS sees at most one more call (the failure is remembered).
      const burst = await Promise.allSettled(Array.from({ length: 500 }, () => service.getCredentials(request)));
      expect(burst.every((result) => result.status === 'rejected' && (result.reason as StsError).code === 'AccessDenied')).toBe(true);
      expect(server.callCount('AssumeRole')).toBeLessThanOrEqual(2);

      // Once the memory lapses (2-4 s), a burst makes exactly one call again (single flight), still refused.
      at(46 * MIN + 5_000);
      server.resetCalls();
      const later = await Promise.allSettled(Array.from({ length: 500 }, () => service.getCredentials(request)));
      expect(later.every((result) => result.status === 'rejected' && (result.reason as StsError).code === 'AccessDenied')).toBe(true);
      expect(server.callCount('AssumeRole')).toBe(1);

      // Access restored: after the memory lapses, the next caller gets new credentials that work.
      server.updateRole(roleArn, { trustedPrincipals: [server.baseIdentity.arn], externalId: EXTERNAL_ID });
      at(46 * MIN + 10_000);
      const restored = await service.getCredentials(request);
      expect(restored.accessKeyId).not.toBe(filled.accessKeyId);
      await expect(whoAmI(restored)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').pop()}/revoked`);
    },
  );

  it('never hands out credentials inside the mandatory window, and each one works: 3 hours in 2-minute steps, then an idle gap', async () => {
    const { service } = await app({ maxAttempts: 1 });
    const request: AssumeRoleRequest = { roleArn: WALK_ROLE, sessionName: 'walker' };
    const tooClose: string[] = [];
    const distinct = new Map<string, TemporaryCredentials>();
    const proven: string[] = [];
    const check = async (t: number, callers: number) => {
      at(t);
      const now = Date.now();
      const batch = await Promise.all(Array.from({ length: callers }, () => service.getCredentials(request)));
      for (const credentials of batch) {
        // More than the 60 s mandatory window left at the moment it is handed out.
        if (credentials.expiration.getTime() - now <= 60_000) tooClose.push(`${credentials.accessKeyId} at +${(now - T0) / MIN} min`);
        distinct.set(credentials.accessKeyId, credentials);
      }
      return batch[0]!;
    };

    for (let step = 0, t = 0; t <= 180 * MIN; step++, t += 2 * MIN) {
      const credentials = await check(t, 5);
      // Every 20 minutes, the credentials just handed out work against STS (by the same clock).
      if (t % (20 * MIN) === 0) {
        await expect(whoAmI(credentials)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WalkRole/walker`);
        proven.push(credentials.accessKeyId);
      }
      // Let background refreshes land on odd steps only: on even steps the clock may move on while one is in flight.
      if (step % 2 === 1) await quiescent(service);
    }
    await quiescent(service);
    // Nobody asks until 30 s before the cached set expires (inside the mandatory window): callers wait for a new set.
    const current = await check(180 * MIN, 1);
    const nearExpiry = await check(current.expiration.getTime() - T0 - 30_000, 20);
    expect(nearExpiry.accessKeyId).not.toBe(current.accessKeyId);
    await expect(whoAmI(nearExpiry)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WalkRole/walker`);
    // An idle process: nobody asks for 90 minutes, the cached set expired meanwhile; the next callers wait for fresh ones.
    const afterGap = await check(nearExpiry.expiration.getTime() - T0 + 30 * MIN, 20);
    expect(afterGap.accessKeyId).not.toBe(nearExpiry.accessKeyId);
    await expect(whoAmI(afterGap)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/WalkRole/walker`);
    await quiescent(service);

    expect(tooClose).toEqual([]);
    expect(proven).toHaveLength(10);
    expect(distinct.size).toBeGreaterThanOrEqual(6); // at least one set per lifetime walked through, and the two after idling
    const stats = service.cache.stats();
    expect(stats.refreshes).toBeGreaterThanOrEqual(5);
    expect(stats.refreshFailures).toBe(0);
    // The first set really is dead by now: the server refuses it, which is why handing it out would be a bug.
    const first = [...distinct.values()][0]!;
    await expect(whoAmI(first)).rejects.toMatchObject({ name: 'ExpiredTokenException' });
  }, 30_000);

  describe('single flight through a throttled endpoint: one call per key per attempt', () => {
    it('1,000 concurrent callers of one key, throttled twice, maxAttempts 3: all get the same credentials from 3 calls', async () => {
      const { service } = await app({ maxAttempts: 3 });
      server.injectFault({ kind: 'throttle' }, { times: 2, action: 'AssumeRole' });
      const results = await Promise.all(Array.from({ length: 1_000 }, () => service.getCredentials({ roleArn: CROWD_ROLE })));
      expect(new Set(results)).toEqual(new Set([results[0]]));
      expect(results[0]).toBeInstanceOf(TemporaryCredentials);
      expect(server.callCount('AssumeRole')).toBe(3);
      expect(server.calls.map((call) => call.status)).toEqual([400, 400, 200]);
      expect(service.cache.stats()).toMatchObject({ size: 1, misses: 1_000, hits: 0, inflight: 0, refreshFailures: 0 });
      await expect(whoAmI(results[0]!)).resolves.toMatch(/assumed-role\/CrowdRole\//);
    }, 20_000);

    it('5 keys × 200 concurrent callers, each key throttled twice, maxAttempts 3: 15 calls, 3 per key', async () => {
      // Fixed retry delays, so the 5 keys' attempts go in rounds (5 first attempts, 5 second, 5 third) and the
      // 10 injected throttles land on the first two rounds, two per key.
      const { service } = await app({ maxAttempts: 3, retryStrategy: new ConfiguredRetryStrategy(3, 400) });
      server.injectFault({ kind: 'throttle' }, { times: 10, action: 'AssumeRole' });
      const requests = FAN_ROLES.flatMap((roleArn) => Array.from({ length: 200 }, () => ({ roleArn })));
      const results = await Promise.all(requests.map((request) => service.getCredentials(request)));
      expect(server.callCount('AssumeRole')).toBe(15);
      for (const roleArn of FAN_ROLES) {
        expect(server.calls.filter((call) => call.roleArn === roleArn).map((call) => call.status)).toEqual([400, 400, 200]);
        const mine = new Set(results.filter((_, i) => requests[i]!.roleArn === roleArn));
        expect(mine.size).toBe(1);
        expect([...mine][0]!.assumedRoleUser?.arn).toMatch(new RegExp(`:assumed-role/${roleArn.split('/').pop()}/`));
      }
      expect(new Set(results.map((credentials) => credentials.accessKeyId)).size).toBe(5);
      expect(service.cache.stats()).toMatchObject({ size: 5, misses: 1_000, inflight: 0 });
    }, 20_000);
  });

  it('role chaining through getCredentials caches both hops: the second call makes no STS call', async () => {
    const { service } = await app();
    const request: AssumeRoleRequest = { roleArn: CHAIN_B, sessionName: 'hop-b', via: { roleArn: CHAIN_A, sessionName: 'hop-a' } };
    const first = await service.getCredentials(request);
    expect(first.assumedRoleUser?.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ChainB/hop-b`);
    expect(server.calls.map(({ action, roleArn, status }) => ({ action, roleArn, status }))).toEqual([
      { action: 'AssumeRole', roleArn: CHAIN_A, status: 200 },
      { action: 'AssumeRole', roleArn: CHAIN_B, status: 200 },
    ]);
    expect(service.cache.stats().size).toBe(2); // the hop A and the target B

    const second = await service.getCredentials({ ...request, via: { ...request.via! } });
    expect(second).toBe(first);
    expect(server.callCount()).toBe(2);
    // The first hop alone is cached too: asking for A directly makes no call either.
    await expect(service.getCredentials({ roleArn: CHAIN_A, sessionName: 'hop-a' })).resolves.toMatchObject({
      assumedRoleUser: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ChainA/hop-a` },
    });
    expect(server.callCount()).toBe(2);
    await expect(whoAmI(first)).resolves.toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ChainB/hop-b`);
    server.resetCalls();

    // Dropping only B: the next call re-assumes B signed by the still-cached A, a single STS call.
    expect(service.cache.invalidate(request)).toBe(true);
    const third = await service.getCredentials(request);
    expect(third.accessKeyId).not.toBe(first.accessKeyId);
    expect(server.calls.map(({ action, roleArn }) => ({ action, roleArn }))).toEqual([{ action: 'AssumeRole', roleArn: CHAIN_B }]);
  });
  describe('a fetch made obsolete by invalidate() or clear() does not act on the cache when it fails', () => {
    it('clear() while a fetch is in flight: its failure is not remembered, the next caller goes to STS again', async () => {
      const { service } = await app();
      const request: AssumeRoleRequest = { roleArn: ONBOARDED_ROLE, sessionName: 'onboarding' };
      // A role just created: IAM answers AccessDenied until the trust policy has propagated.
      server.injectFault({ kind: 'error', code: 'AccessDenied', message: 'not yet propagated' }, { times: 1, action: 'AssumeRole' });
      const first = service.getCredentials(request);
      // The operator confirms the role is ready and the app drops everything cached, with the first fetch still out.
      service.cache.clear();
      await expect(first).rejects.toMatchObject({ code: 'AccessDenied' });
      // clear() drops "remembered failures, and the results of fetches still running": this call must reach STS.
      await expect(service.getCredentials(request)).resolves.toBeInstanceOf(TemporaryCredentials);
      expect(server.callCount('AssumeRole')).toBe(2);
    });

    it("invalidating one key does not throw away another key's fetch in flight", async () => {
      const { service } = await app();
      const tenantA: AssumeRoleRequest = { roleArn: ONBOARDED_ROLE, sessionName: 'tenant-a' };
      const tenantB: AssumeRoleRequest = { roleArn: ONBOARDED_ROLE, sessionName: 'tenant-b' };
      const pending = service.getCredentials(tenantA);
      expect(service.cache.invalidate(tenantB)).toBe(false); // B was not even cached
      const credentials = await pending;
      // A's credentials were fetched and handed out; they must be cached like any other.
      await expect(service.getCredentials(tenantA)).resolves.toBe(credentials);
      expect(server.callCount('AssumeRole')).toBe(1);
      expect(service.cache.stats().size).toBe(1);
    });

    it('invalidate() during a background refresh: the obsolete refresh failing does not evict the credentials fetched after', async () => {
      const { service, events } = await app();
      // The MFA code of the first refresh arrives late (a slow code supplier); every other fetch gets it at once.
      let releaseLateCode: (code: string) => void = () => undefined;
      let fetches = 0;
      const tokenCode = () => (++fetches === 2 ? new Promise<string>((resolve) => (releaseLateCode = resolve)) : VALID_MFA_CODE);
      const request: AssumeRoleRequest = { roleArn: MFA_ROLE, sessionName: 'mfa-tenant', mfa: { serialNumber: MFA_SERIAL, tokenCode } };
      const filled = await service.getCredentials(request);

      at(46 * MIN);
      await expect(service.getCredentials(request)).resolves.toBe(filled); // starts the background refresh (waits for its code)
      expect(service.cache.stats().inflight).toBe(1);
      // A downstream service refuses the cached set: the app drops it, and the next caller fetches a fresh one.
      expect(service.cache.invalidateIfCurrent(filled)).toBe(true);
      const fresh = await service.getCredentials(request);
      expect(fresh.accessKeyId).not.toBe(filled.accessKeyId);
      // Now the obsolete refresh gets its code, already used (STS refuses a reused one-time code: AccessDenied).
      releaseLateCode('000000');
      await eventually(() => cacheEvents(events).some((event) => event.type === 'refresh-failed'));
      expect(server.calls.map((call) => call.status)).toEqual([200, 200, 403]);
      expect(cacheEvents(events).filter((event) => event.type === 'eviction')).toEqual([]);
      // The fresh set, fetched after the invalidation, is still served, and no failure is remembered for the key.
      await expect(service.getCredentials(request)).resolves.toBe(fresh);
      expect(service.cache.stats()).toMatchObject({ size: 1, staleServed: 0 });
    });
  });
});
