import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { defaultRefreshWindowSeconds } from '../../../src/cache/refresh-timing';
import { type AssumeRoleRequest, type CacheEvent, type StsEvent, type StsService } from '../../../src';
import { OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from '../../support/fixtures';

const sts = mockClient(STSClient);
const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const request: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'tenant-1-external' };

/** Lets promise chains (mocked STS answers, background refreshes) settle while the clock stands still. */
const settle = () => new Promise((resolve) => setImmediate(resolve));
const at = (ms: number) => jest.setSystemTime(T0 + ms);
const MIN = 60_000;

/** STS answers AssumeRole with fresh credentials of the given lifetime, numbered 1, 2, 3… */
function answerAssumeRole(seconds = 3600) {
  let issued = 0;
  sts
    .on(AssumeRoleCommand)
    .callsFake((input: { RoleArn: string }) => Promise.resolve(assumeRoleOutput(input.RoleArn, seconds, `N${++issued}`)));
}

function collectEvents(service: StsService): StsEvent[] {
  const events: StsEvent[] = [];
  service.events$.subscribe((event) => events.push(event));
  return events;
}

const cacheEvents = (events: StsEvent[]) =>
  events.filter((event): event is CacheEvent => event.type !== 'sts-call').map((event) => event.type);

beforeEach(() => {
  sts.reset();
  jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick'] });
  jest.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('credential cache: hits and single flight', () => {
  it('serves repeated calls from one STS call, and counts hits and misses', async () => {
    answerAssumeRole();
    const service = createService();
    const first = await service.getCredentials(request);
    const again = await service.getCredentials({ ...request });
    expect(again).toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(service.cache.stats()).toMatchObject({ size: 1, hits: 1, misses: 1, refreshes: 0, inflight: 0 });
  });

  it('makes exactly one STS call for 10,000 concurrent misses of one key', async () => {
    answerAssumeRole();
    const service = createService();
    const results = await Promise.all(Array.from({ length: 10_000 }, () => service.getCredentials({ ...request })));
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    expect(new Set(results.map((credentials) => credentials.accessKeyId))).toEqual(new Set(['ASIAEXAMPLEN1']));
  });

  it('never caches a failure as a value: the next call after a retryable error goes to STS again', async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(serviceError('Throttling', 'Rate exceeded')).resolves(assumeRoleOutput());
    const service = createService();
    const callers = await Promise.allSettled([service.getCredentials(request), service.getCredentials(request)]);
    expect(callers.map((result) => result.status)).toEqual(['rejected', 'rejected']);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    await expect(service.getCredentials(request)).resolves.toBeDefined();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('with cache: false sends every call to STS', async () => {
    answerAssumeRole();
    const service = createService({ cache: false });
    await service.getCredentials(request);
    await service.getCredentials(request);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect(service.cache.stats().size).toBe(0);
  });
});

describe('credential cache: keys', () => {
  it("never lets two tenants with the same role but different ExternalIds see each other's credentials", async () => {
    sts
      .on(AssumeRoleCommand)
      .callsFake((input: { ExternalId: string }) => Promise.resolve(assumeRoleOutput(ROLE_ARN, 3600, input.ExternalId.toUpperCase())));
    const service = createService();
    const [a, b] = await Promise.all([
      service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' }),
      service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-b' }),
    ]);
    expect([a.accessKeyId, b.accessKeyId]).toEqual(['ASIAEXAMPLETENANT-A', 'ASIAEXAMPLETENANT-B']);
    expect((await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' })).accessKeyId).toBe('ASIAEXAMPLETENANT-A');
    expect((await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-b' })).accessKeyId).toBe('ASIAEXAMPLETENANT-B');
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  const base: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'ext-1' };
  it.each<[string, AssumeRoleRequest]>([
    ['role ARN', { ...base, roleArn: OTHER_ROLE_ARN }],
    ['external id', { ...base, externalId: 'ext-2' }],
    ['session name', { ...base, sessionName: 'named' }],
    ['policy', { ...base, policy: { Version: '2012-10-17', Statement: [] } }],
    ['policy ARNs', { ...base, policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'] }],
    ['tags', { ...base, tags: { tenant: '1' } }],
    ['transitive tag keys', { ...base, tags: { tenant: '1', team: 'x' }, transitiveTagKeys: ['tenant'] }],
    ['source identity', { ...base, sourceIdentity: 'alice' }],
    ['duration', { ...base, durationSeconds: 1800 }],
    ['MFA serial', { ...base, mfa: { serialNumber: 'arn:aws:iam::111111111111:mfa/alice', tokenCode: () => '123456' } }],
    ['via chain', { ...base, via: { roleArn: OTHER_ROLE_ARN } }],
  ])('gives a request that differs in its %s an entry of its own', async (_field, variant) => {
    answerAssumeRole();
    const service = createService();
    const [plain, changed] = [await service.getCredentials(base), await service.getCredentials(variant)];
    expect(changed.accessKeyId).not.toBe(plain.accessKeyId);
    expect((await service.getCredentials(base)).accessKeyId).toBe(plain.accessKeyId);
  });

  it('shares an entry between requests that mean the same (field order, default duration, policy ARN order, the policy as its text)', async () => {
    answerAssumeRole();
    const service = createService();
    const first = await service.getCredentials({
      roleArn: ROLE_ARN,
      policy: { Version: '2012-10-17', Statement: [] },
      policyArns: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B'],
    });
    const same = await service.getCredentials({
      policyArns: ['arn:aws:iam::aws:policy/B', 'arn:aws:iam::aws:policy/A'],
      durationSeconds: 3600,
      policy: '{"Version":"2012-10-17","Statement":[]}',
      roleArn: ROLE_ARN,
    });
    expect(same).toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });

  it('keeps the ExternalId out of every key and event', async () => {
    answerAssumeRole();
    const service = createService();
    const events = collectEvents(service);
    await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'secret-external-id' });
    expect(JSON.stringify(events)).not.toContain('secret-external-id');
    const keys = events.filter((event): event is CacheEvent => 'key' in event).map((event) => event.key);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('credential cache: refresh ahead', () => {
  it.each([
    [900, 300],
    [1199, 300],
    [1200, 900],
    [5399, 900],
    [5400, 3600],
    [43200, 3600],
  ])('scales the default advisory window with the lifetime: %is → %is', (lifetime, window) => {
    expect(defaultRefreshWindowSeconds(lifetime)).toBe(window);
  });

  it('starts one background refresh in the advisory window while every caller gets cached credentials at once', async () => {
    answerAssumeRole(3600);
    const service = createService();
    const events = collectEvents(service);
    const first = await service.getCredentials(request);

    at(60 * MIN - 15 * MIN - 1000); // just before the 15-minute window of 1-hour credentials
    expect(await service.getCredentials(request)).toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);

    at(60 * MIN - 15 * MIN + 1000); // inside it
    const during = await Promise.all(Array.from({ length: 50 }, () => service.getCredentials(request)));
    expect(during.every((credentials) => credentials === first)).toBe(true);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    const refreshed = await service.getCredentials(request);
    expect(refreshed.accessKeyId).toBe('ASIAEXAMPLEN2');
    expect(service.cache.stats()).toMatchObject({ refreshes: 1, misses: 1 });
    expect(cacheEvents(events)).toEqual(['refresh-started', 'refresh-succeeded', 'refresh-started', 'refresh-succeeded']);
    expect(events.find((event) => event.type === 'refresh-started' && event.background)).toBeDefined();
  });

  it('spreads refreshes with jitter: with the largest jitter the window is 25% wider', async () => {
    (Math.random as jest.Mock).mockReturnValue(1);
    answerAssumeRole(3600);
    const service = createService();
    await service.getCredentials(request);
    at(60 * MIN - 15 * MIN * 1.25 + 1000);
    await service.getCredentials(request);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('honours refreshWindowSeconds, but never refreshes more often than half the usable lifetime', async () => {
    answerAssumeRole(900);
    const service = createService({ cache: { refreshWindowSeconds: 3600 } });
    await service.getCredentials(request);
    at(5 * MIN); // 900 s credentials, 60 s mandatory: half the usable 840 s is 420 s
    await service.getCredentials(request);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    at(7 * MIN + 1000);
    await service.getCredentials(request);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('makes callers inside the mandatory window wait for one shared fetch, and never hands out credentials expiring in it', async () => {
    answerAssumeRole(3600);
    const service = createService({ cache: { refreshWindowSeconds: 0 } });
    const first = await service.getCredentials(request);
    at(60 * MIN - 59_000);
    const waiting = await Promise.all(Array.from({ length: 100 }, () => service.getCredentials(request)));
    expect(new Set(waiting.map((credentials) => credentials.accessKeyId))).toEqual(new Set(['ASIAEXAMPLEN2']));
    expect(waiting[0]).not.toBe(first);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });

  it('refuses credentials STS issues already inside the mandatory window', async () => {
    answerAssumeRole(30);
    await expect(createService().getCredentials(request)).rejects.toMatchObject({
      code: 'CredentialsExpireTooSoon',
      hint: expect.stringContaining('clock'),
    });
  });

  it('calls an MFA code function on each refresh', async () => {
    answerAssumeRole(3600);
    const codes = ['111111', '222222'];
    const tokenCode = jest.fn(() => codes.shift() as string);
    const service = createService();
    await service.getCredentials({ roleArn: ROLE_ARN, mfa: { serialNumber: 'GAHT12345678', tokenCode } });
    at(50 * MIN);
    await service.getCredentials({ roleArn: ROLE_ARN, mfa: { serialNumber: 'GAHT12345678', tokenCode } });
    await settle();
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.TokenCode)).toEqual(['111111', '222222']);
  });

  it('uses a fixed MFA code for the first fetch only: no refresh ahead, and a clear error once it must refresh', async () => {
    answerAssumeRole(3600);
    const service = createService();
    const mfaRequest = { roleArn: ROLE_ARN, mfa: { serialNumber: 'GAHT12345678', tokenCode: '123456' } };
    await service.getCredentials(mfaRequest);
    at(50 * MIN);
    await service.getCredentials(mfaRequest);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
    at(60 * MIN - 30_000);
    await expect(service.getCredentials(mfaRequest)).rejects.toMatchObject({
      field: 'mfa.tokenCode',
      message: expect.stringContaining('function'),
    });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 1);
  });
});

describe('credential cache: failures', () => {
  it('keeps serving cached credentials through a retryable failure and backs off before trying again', async () => {
    const service = createService();
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(assumeRoleOutput(ROLE_ARN, 3600, 'OLD'))
      .rejects(serviceError('Throttling', 'Rate exceeded'));
    const cached = await service.getCredentials(request);
    const events = collectEvents(service);

    at(50 * MIN);
    expect(await service.getCredentials(request)).toBe(cached);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);

    // Backoff after the first failure: 1 s × (0.5 + 0.5 × random 0) = 500 ms; nothing is sent before it.
    at(50 * MIN + 400);
    expect(await service.getCredentials(request)).toBe(cached);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    at(50 * MIN + 600);
    expect(await service.getCredentials(request)).toBe(cached);
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
    expect(service.cache.stats()).toMatchObject({ refreshFailures: 2, staleServed: 2 });
    expect(events.filter((event) => event.type === 'refresh-failed')).toEqual([
      expect.objectContaining({ errorCode: 'Throttling', background: true }),
      expect.objectContaining({ errorCode: 'Throttling', background: true }),
    ]);
  });

  it('caps the backoff so a refresh is tried again before the mandatory window', async () => {
    const service = createService();
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(assumeRoleOutput(ROLE_ARN, 3600, 'OLD'))
      .rejects(serviceError('ServiceUnavailable', 'down', 503));
    await service.getCredentials(request);
    for (let minute = 46; minute < 59; minute++) {
      at(minute * MIN);
      await service.getCredentials(request);
      await settle();
    }
    // 13 minutes of failures with backoff 0.5 s, 1 s, 2 s… capped at 5 min: far fewer than one call a lookup would make.
    const attempts = sts.commandCalls(AssumeRoleCommand).length - 1;
    expect(attempts).toBeGreaterThanOrEqual(3);
    expect(attempts).toBeLessThanOrEqual(13);
    at(60 * MIN - 30_000);
    await expect(service.getCredentials(request)).rejects.toMatchObject({ code: 'ServiceUnavailable', retryable: true });
  });

  it('evicts on a non-retryable failure, reaches the callers, and remembers it briefly so a revoked tenant cannot storm STS', async () => {
    const service = createService();
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(assumeRoleOutput(ROLE_ARN, 3600, 'OLD'))
      .rejects(serviceError('AccessDenied', 'not authorized', 403));
    await service.getCredentials(request);
    const events = collectEvents(service);
    at(50 * MIN);
    await service.getCredentials(request); // starts the background refresh, which is refused
    await settle();
    expect(cacheEvents(events)).toEqual(['refresh-started', 'refresh-failed', 'eviction']);
    expect(service.cache.stats()).toMatchObject({ size: 0, evictions: 1 });

    const storm = await Promise.allSettled(Array.from({ length: 1000 }, () => service.getCredentials(request)));
    expect(storm.every((result) => result.status === 'rejected' && (result.reason as { code: string }).code === 'AccessDenied')).toBe(true);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);

    at(50 * MIN + 5_000); // the memory lasts 2–4 s
    await expect(service.getCredentials(request)).rejects.toMatchObject({ code: 'AccessDenied' });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
  });
});

describe('credential cache: control', () => {
  it('invalidate(request) drops one entry; the next call fetches again', async () => {
    answerAssumeRole();
    const service = createService();
    const events = collectEvents(service);
    await service.getCredentials(request);
    expect(service.cache.invalidate({ ...request })).toBe(true);
    expect(service.cache.invalidate(request)).toBe(false);
    expect((await service.getCredentials(request)).accessKeyId).toBe('ASIAEXAMPLEN2');
    expect(cacheEvents(events)).toContain('invalidation');
  });

  it('invalidateWhere selects entries by their non-secret facts', async () => {
    answerAssumeRole();
    const service = createService();
    await service.getCredentials({ roleArn: ROLE_ARN });
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN, sessionName: 'named' });
    const seen: unknown[] = [];
    await expect(
      service.cache.invalidateWhere((entry) => (seen.push(Object.keys(entry).sort()), entry.accountId === '210987654321')),
    ).resolves.toBe(1);
    expect(seen[0]).toEqual(['accountId', 'expiration', 'key', 'roleArn', 'sessionName']);
    expect(service.cache.stats().size).toBe(1);
  });

  it('invalidateIfCurrent drops an entry only while it still holds those credentials', async () => {
    answerAssumeRole();
    const service = createService();
    const stale = await service.getCredentials(request);
    expect(service.cache.invalidateIfCurrent(stale)).toBe(true);
    const fresh = await service.getCredentials(request);
    expect(service.cache.invalidateIfCurrent(stale)).toBe(false);
    expect(await service.getCredentials(request)).toBe(fresh);
  });

  it('a fetch that was running when the cache was cleared does not refill it', async () => {
    let answer!: (value: unknown) => void;
    sts.on(AssumeRoleCommand).callsFake(() => new Promise((resolve) => (answer = resolve)));
    const service = createService();
    const pending = service.getCredentials(request);
    await settle();
    service.cache.clear();
    answer(assumeRoleOutput());
    await expect(pending).resolves.toBeDefined();
    expect(service.cache.stats().size).toBe(0);
  });

  it('stays within maxEntries, evicting the least recently used', async () => {
    answerAssumeRole();
    const service = createService({ cache: { maxEntries: 2 } });
    const events = collectEvents(service);
    const a = { roleArn: ROLE_ARN, externalId: 'tenant-a' };
    await service.getCredentials(a);
    await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-b' });
    await service.getCredentials(a);
    await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-c' });
    expect(service.cache.stats()).toMatchObject({ size: 2, evictions: 1 });
    expect(events.find((event) => event.type === 'eviction')).toMatchObject({ reason: 'capacity' });
    await service.getCredentials(a);
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 3);
  });
});

describe('credential cache: role chains', () => {
  it('caches the first hop and caps the chained session at 3600 s', async () => {
    answerAssumeRole();
    const service = createService({ DEFAULT_SESSION_DURATION: 7200 });
    const chained = { roleArn: OTHER_ROLE_ARN, via: { roleArn: ROLE_ARN } };
    await service.getCredentials(chained);
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN, sessionName: 'other', via: { roleArn: ROLE_ARN } });
    const inputs = sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => [input.RoleArn, input.DurationSeconds])).toEqual([
      [ROLE_ARN, 7200],
      [OTHER_ROLE_ARN, 3600],
      [OTHER_ROLE_ARN, 3600],
    ]);
  });
});

describe('events$', () => {
  it('emits one sts-call event per STS call with its facts and outcome', async () => {
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(assumeRoleOutput())
      .rejects(serviceError('AccessDenied', 'no', 403));
    const service = createService();
    const events = collectEvents(service);
    await service.assumeRole({ roleArn: ROLE_ARN, sessionName: 'audit', sourceIdentity: 'alice' });
    await service.assumeRole({ roleArn: ROLE_ARN, sessionName: 'audit' }).catch(() => undefined);
    const calls = events.filter((event) => event.type === 'sts-call');
    expect(calls).toEqual([
      {
        type: 'sts-call',
        operation: 'AssumeRole',
        roleArn: ROLE_ARN,
        accountId: '123456789012',
        sessionName: 'audit',
        sourceIdentity: 'alice',
        outcome: 'success',
        durationMs: expect.any(Number),
      },
      {
        type: 'sts-call',
        operation: 'AssumeRole',
        roleArn: ROLE_ARN,
        accountId: '123456789012',
        sessionName: 'audit',
        sourceIdentity: undefined,
        outcome: 'error',
        errorCode: 'AccessDenied',
        durationMs: expect.any(Number),
      },
    ]);
  });
});

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
