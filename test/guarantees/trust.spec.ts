/**
 * What users' code does to the library, unit level (STS mocked with aws-sdk-client-mock): reused and mutated
 * request objects, policies JSON encodes specially, a global EXTERNAL_ID, MFA functions that hang, base identity
 * blips during refresh, retries with a fresh MFA code, windows that would switch refresh-ahead off, full caches,
 * and everything a user can inspect. Over-the-wire counterparts are in trust-over-the-wire.e2e.spec.ts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssumeRoleRequest, CacheEvent, StsEvent, StsService } from '../../src';
import { rejection } from '../support/async-helpers';
import { BASE_ACCOUNT, OTHER_ROLE_ARN, ROLE_ARN, assumeRoleOutput, createService, serviceError } from '../support/fixtures';
import { capturingLogger, visibleText } from '../support/visible-text';

const sts = mockClient(STSClient);
const T0 = new Date('2026-01-01T00:00:00Z').getTime();
const MIN = 60_000;
const at = (ms: number) => jest.setSystemTime(T0 + ms);
const settle = () => new Promise((resolve) => setImmediate(resolve));
const OWN_ROLE_ARN = `arn:aws:iam::${BASE_ACCOUNT}:role/Own`;

/** STS answers each AssumeRole for the role it names, after a turn of the event loop, numbered N1, N2… */
function answerEachRole(seconds = 3600) {
  let issued = 0;
  sts.on(AssumeRoleCommand).callsFake(async (input: { RoleArn: string }) => {
    await settle();
    return assumeRoleOutput(input.RoleArn, seconds, `N${++issued}`);
  });
  sts.on(GetCallerIdentityCommand).resolves({ Account: BASE_ACCOUNT, Arn: `arn:aws:iam::${BASE_ACCOUNT}:user/app`, UserId: 'AIDA' });
}

const sent = () => sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input);
const accountOf = (credentials: { assumedRoleUser?: { arn: string } }) => credentials.assumedRoleUser?.arn.split(':')[4];

function cacheEvents(service: StsService): CacheEvent[] {
  const events: CacheEvent[] = [];
  service.events$.subscribe((event: StsEvent) => {
    if (event.type !== 'sts-call' && event.type !== 'shared-tier') events.push(event);
  });
  return events;
}

beforeEach(() => {
  sts.reset();
  jest.useFakeTimers({ now: T0, doNotFake: ['setImmediate', 'nextTick', 'setTimeout', 'clearTimeout'] });
  jest.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

describe('never the wrong tenant: a request object changed after the call', () => {
  it('a reused request object cannot store tenant B under tenant A: each call sends what it was given', async () => {
    answerEachRole();
    const service = createService();
    const request: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'tenant-a', tags: { tenant: 'a' } };
    const forA = service.getCredentials(request);
    request.roleArn = OTHER_ROLE_ARN;
    request.externalId = 'tenant-b';
    request.tags!.tenant = 'b';
    const forB = service.getCredentials(request);
    expect(accountOf(await forA)).toBe('123456789012');
    expect(accountOf(await forB)).toBe('210987654321');
    expect(sent()).toEqual([
      expect.objectContaining({ RoleArn: ROLE_ARN, ExternalId: 'tenant-a', Tags: [{ Key: 'tenant', Value: 'a' }] }),
      expect.objectContaining({ RoleArn: OTHER_ROLE_ARN, ExternalId: 'tenant-b', Tags: [{ Key: 'tenant', Value: 'b' }] }),
    ]);
    // Every later correct caller of A gets A's credentials.
    expect(accountOf(await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a', tags: { tenant: 'a' } }))).toBe(
      '123456789012',
    );
    expect(sent()).toHaveLength(2);
  });

  it.each(['tag', 'policy', 'hop'] as const)(
    'one scoped request object whose %s changes back and forth while a fetch runs: each call gets the credentials of what it said',
    async (changed) => {
      answerEachRole();
      const service = createService();
      const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::tenant-a/*' };
      const request: AssumeRoleRequest = {
        roleArn: ROLE_ARN,
        externalId: 'tenant-a',
        tags: { tenant: 'a' },
        policy: { Version: '2012-10-17', Statement: [statement] },
        via: { roleArn: OWN_ROLE_ARN, externalId: 'hub-a' },
      };
      const set = (tenant: 'a' | 'b') => {
        if (changed === 'tag') request.tags!.tenant = tenant;
        if (changed === 'policy') statement.Resource = `arn:aws:s3:::tenant-${tenant}/*`;
        if (changed === 'hop') request.via!.externalId = `hub-${tenant}`;
      };
      const forA = await service.getCredentials(request);
      set('b');
      const forB = service.getCredentials(request); // a fetch, running
      set('a');
      const againA = service.getCredentials(request); // a hit meanwhile
      set('b');
      const againB = service.getCredentials(request); // joins the running fetch
      expect(await againA).toBe(forA);
      expect(await againB).toBe(await forB);
      expect(await forB).not.toBe(forA);
      const scoped = sent().filter((input) => input.RoleArn === ROLE_ARN);
      const hops = sent().filter((input) => input.RoleArn === OWN_ROLE_ARN);
      const said = (tenant: 'a' | 'b') => [
        changed === 'tag' ? tenant : 'a',
        `arn:aws:s3:::tenant-${changed === 'policy' ? tenant : 'a'}/*`,
      ];
      expect(scoped.map((input) => [input.Tags![0].Value, JSON.parse(input.Policy!).Statement[0].Resource])).toEqual([
        said('a'),
        said('b'),
      ]);
      expect(hops.map((input) => input.ExternalId)).toEqual(changed === 'hop' ? ['hub-a', 'hub-b'] : ['hub-a']);
    },
  );

  it('the same for a plain request in a loop (the fast path)', async () => {
    answerEachRole();
    const service = createService();
    const request: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'tenant-a' };
    const pending = [ROLE_ARN, OTHER_ROLE_ARN].map((roleArn) => {
      request.roleArn = roleArn;
      request.externalId = roleArn === ROLE_ARN ? 'tenant-a' : 'tenant-b';
      return service.getCredentials(request);
    });
    const [a, b] = await Promise.all(pending);
    expect([accountOf(a), accountOf(b)]).toEqual(['123456789012', '210987654321']);
    expect(accountOf(await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' }))).toBe('123456789012');
  });

  it('requireExternalId cannot approve an own-account ARN and then send a foreign one without an ExternalId', async () => {
    answerEachRole();
    const service = createService({ requireExternalId: true });
    const request: AssumeRoleRequest = { roleArn: OWN_ROLE_ARN };
    const call = service.assumeRole(request);
    request.roleArn = OTHER_ROLE_ARN;
    await call;
    expect(sent()).toEqual([expect.objectContaining({ RoleArn: OWN_ROLE_ARN })]);
    expect(sent().some((input) => input.RoleArn === OTHER_ROLE_ARN && input.ExternalId === undefined)).toBe(false);
  });

  it('a role-chaining hop changed after the call does not change the hop assumed', async () => {
    answerEachRole();
    const service = createService();
    const via: AssumeRoleRequest = { roleArn: ROLE_ARN, externalId: 'hub' };
    const call = service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'spoke', via });
    via.roleArn = 'arn:aws:iam::999999999999:role/Elsewhere';
    await call;
    expect(sent().map((input) => input.RoleArn)).toEqual([ROLE_ARN, OTHER_ROLE_ARN]);
  });

  it('assumeRoleWithWebIdentity sends the role it was called with, though it reads a token file first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sts-trust-'));
    writeFileSync(join(dir, 'token'), 'eyJ.header.payload');
    sts.on(AssumeRoleWithWebIdentityCommand).resolves(assumeRoleOutput());
    const request = { roleArn: ROLE_ARN, webIdentityTokenFile: join(dir, 'token') };
    const call = createService().assumeRoleWithWebIdentity(request);
    request.roleArn = OTHER_ROLE_ARN;
    await call;
    expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)[0].args[0].input.RoleArn).toBe(ROLE_ARN);
  });
});

describe('what a hit returns', () => {
  it('is one settled promise per entry, awaited as usual once an AsyncLocalStorage (nestjs-cls, OpenTelemetry) starts after it was stored', async () => {
    answerEachRole();
    const service = createService();
    const fetching = service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' });
    expect(Object.isExtensible(fetching)).toBe(true); // the fetch's promise, handed to every caller while it runs
    const first = await fetching;
    const handed = service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' });
    // One promise per entry: no allocation per hit.
    expect(service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' })).toBe(handed);
    // async_hooks tag a promise the first time it is awaited under them when it was made before they started (plain
    // node; under Jest they run from the start): a frozen or sealed one then throws "object is not extensible".
    expect(Object.isExtensible(handed)).toBe(true);
    const storage = new AsyncLocalStorage<string>();
    try {
      const seen = await storage.run('request-1', async () => {
        const credentials = await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-a' });
        return { credentials, store: storage.getStore(), chained: await handed.then((value) => value.accessKeyId) };
      });
      expect(seen).toEqual({ credentials: first, store: 'request-1', chained: first.accessKeyId });
    } finally {
      storage.disable();
    }
    expect(sent()).toHaveLength(1);
  });
});

describe('never the wrong tenant: policies JSON encodes specially', () => {
  it('two policies that differ only in a Date or a toJSON value are two entries, each scoped by its own policy', async () => {
    answerEachRole();
    const service = createService();
    const until = (iso: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': new Date(iso) } } }],
    });
    const bucket = (name: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: { toJSON: () => `arn:aws:s3:::${name}/*` } }],
    });
    const first = await service.getCredentials({ roleArn: ROLE_ARN, policy: until('2026-01-02T00:00:00Z') });
    const second = await service.getCredentials({ roleArn: ROLE_ARN, policy: until('2027-01-02T00:00:00Z') });
    const third = await service.getCredentials({ roleArn: ROLE_ARN, policy: bucket('tenant-a') });
    const fourth = await service.getCredentials({ roleArn: ROLE_ARN, policy: bucket('tenant-b') });
    expect(new Set([first, second, third, fourth].map((c) => c.accessKeyId)).size).toBe(4);
    expect(sent().map((input) => input.Policy)).toEqual([
      expect.stringContaining('2026-01-02'),
      expect.stringContaining('2027-01-02'),
      expect.stringContaining('tenant-a'),
      expect.stringContaining('tenant-b'),
    ]);
  });
});

describe('never the wrong tenant: a global EXTERNAL_ID and requireExternalId', () => {
  it('a cross-account request must carry its own externalId: the config default does not satisfy requireExternalId', async () => {
    answerEachRole();
    const service = createService({ requireExternalId: true, EXTERNAL_ID: 'one-partner-id' });
    const error = await rejection(service.getCredentials({ roleArn: OTHER_ROLE_ARN }));
    expect(error).toMatchObject({ name: 'StsValidationError', field: 'externalId' });
    expect(sent()).toHaveLength(0);
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-own-id' });
    expect(sent()).toEqual([expect.objectContaining({ RoleArn: OTHER_ROLE_ARN, ExternalId: 'tenant-own-id' })]);
  });

  it('in either order, a request relying on EXTERNAL_ID and one carrying the same value never share an entry or a verdict', async () => {
    answerEachRole();
    const service = createService({ requireExternalId: true, EXTERNAL_ID: 'one-partner-id' });
    await expect(service.getCredentials({ roleArn: OTHER_ROLE_ARN })).rejects.toMatchObject({ field: 'externalId' });
    const own = await service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'one-partner-id' });
    await expect(service.getCredentials({ roleArn: OTHER_ROLE_ARN })).rejects.toMatchObject({ field: 'externalId' });
    expect(await service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'one-partner-id' })).toBe(own);
    expect(sent()).toHaveLength(1);
  });

  it.each([
    ['getCredentials', 'externalId', (service: StsService, request: AssumeRoleRequest) => service.getCredentials(request)],
    ['assumeRole', 'externalId', (service: StsService, request: AssumeRoleRequest) => service.assumeRole(request)],
    [
      'a role-chaining hop',
      'via.externalId',
      (service: StsService, request: AssumeRoleRequest) =>
        service.assumeRole({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-own-id', via: request }),
    ],
  ])(
    'an externalId of null (a tenant row without one) is refused through %s: never sent as EXTERNAL_ID counted as its own',
    async (_path, field, call) => {
      answerEachRole();
      const service = createService({ requireExternalId: true, EXTERNAL_ID: 'one-partner-id' });
      const request = { roleArn: OTHER_ROLE_ARN, externalId: null } as unknown as AssumeRoleRequest;
      expect(await rejection(call(service, request))).toMatchObject({ code: 'InvalidInput', field });
      expect(sent()).toHaveLength(0);
    },
  );

  it('within its own account the default is still sent', async () => {
    answerEachRole();
    await createService({ requireExternalId: true, EXTERNAL_ID: 'one-partner-id' }).assumeRole({ roleArn: OWN_ROLE_ARN });
    expect(sent()).toEqual([expect.objectContaining({ RoleArn: OWN_ROLE_ARN, ExternalId: 'one-partner-id' })]);
  });
});

describe('never a hang: lists as long as an array can be', () => {
  /** 2^32 − 1 holes: walking them, or copying them, would take the process down. */
  const endless = () => Object.assign([], { length: 2 ** 32 - 1 });

  it.each(['policyArns', 'transitiveTagKeys', 'providedContexts'])(
    'a %s of 2^32 − 1 items is refused as InvalidInput at once, nothing sent',
    async (field) => {
      answerEachRole();
      const service = createService();
      const request = { roleArn: ROLE_ARN, externalId: 'tenant-a', tags: { tenant: 'a' }, [field]: endless() } as AssumeRoleRequest;
      expect(await rejection(service.getCredentials(request))).toMatchObject({ code: 'InvalidInput' });
      expect(await rejection(service.assumeRole(request))).toMatchObject({ code: 'InvalidInput' });
      expect(sent()).toHaveLength(0);
    },
  );
});

describe('never a hang: an MFA code function nobody answers', () => {
  it('rejects every waiting caller with a retryable TimeoutError, then lets the next caller start afresh', async () => {
    answerEachRole();
    const service = createService({ operationTimeoutSeconds: 1 });
    const mfa = { serialNumber: 'arn:aws:iam::111111111111:mfa/ops', tokenCode: () => new Promise<string>(() => undefined) };
    const callers = Array.from({ length: 5 }, () => service.getCredentials({ roleArn: ROLE_ARN, mfa }));
    for (const caller of callers)
      await expect(caller).rejects.toMatchObject({
        code: 'TimeoutError',
        retryable: true,
        hint: expect.stringContaining('operationTimeoutSeconds'),
      });
    expect(service.cache.stats().inflight).toBe(0);
    const answered = await service.getCredentials({ roleArn: ROLE_ARN, mfa: { ...mfa, tokenCode: async () => '123456' } });
    expect(answered.accessKeyId).toBe('ASIAEXAMPLEN1');
  });
});

describe('stale-if-error on our side too', () => {
  it.each([
    [
      'the base credential provider fails',
      () => Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
    ],
    ['the base session expired', () => serviceError('ExpiredTokenException', 'The security token included in the request is expired')],
    ['the base key is unknown', () => serviceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)],
    ['the call timed out', () => Object.assign(new Error('socket timed out'), { name: 'TimeoutError' })],
  ])('keeps serving cached credentials when %s during a background refresh, and backs off', async (_case, failure) => {
    let calls = 0;
    sts.on(AssumeRoleCommand).callsFake(async () => {
      calls++;
      if (calls === 2) throw failure();
      return assumeRoleOutput(ROLE_ARN, 3600, `N${calls}`);
    });
    const service = createService();
    const events = cacheEvents(service);
    const first = await service.getCredentials({ roleArn: ROLE_ARN });
    at(50 * MIN); // inside the advisory window (15 min before expiry)
    expect(await service.getCredentials({ roleArn: ROLE_ARN })).toBe(first);
    await settle();
    await settle();
    expect(events.map((event) => event.type)).toContain('refresh-failed');
    expect(events.some((event) => event.type === 'eviction')).toBe(false);
    // Still served, without a new STS call, during the backoff.
    expect(await service.getCredentials({ roleArn: ROLE_ARN })).toBe(first);
    expect(calls).toBe(2);
    at(51 * MIN);
    await service.getCredentials({ roleArn: ROLE_ARN });
    await settle();
    await settle();
    expect((await service.getCredentials({ roleArn: ROLE_ARN })).accessKeyId).toBe('ASIAEXAMPLEN3');
  });

  it('a retry with a fresh MFA code reaches STS instead of the remembered refusal', async () => {
    sts.on(AssumeRoleCommand).callsFake(async (input: { TokenCode?: string }) => {
      if (input.TokenCode !== '222222')
        throw serviceError('AccessDenied', 'MultiFactorAuthentication failed with invalid MFA one time pass code.', 403);
      return assumeRoleOutput();
    });
    const service = createService();
    const serialNumber = 'arn:aws:iam::111111111111:mfa/ops';
    await expect(service.getCredentials({ roleArn: ROLE_ARN, mfa: { serialNumber, tokenCode: '111111' } })).rejects.toMatchObject({
      code: 'AccessDenied',
    });
    await expect(service.getCredentials({ roleArn: ROLE_ARN, mfa: { serialNumber, tokenCode: '222222' } })).resolves.toMatchObject({
      accountId: '123456789012',
    });
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
  });
});

describe('every valid configuration refreshes ahead before the mandatory window', () => {
  it.each([
    ['900-s sessions with a 600-s mandatory window', 900, { mandatoryWindowSeconds: 600 }, 280_000],
    ['refreshWindowSeconds 30 with the default 60-s mandatory window', 3600, { refreshWindowSeconds: 30 }, 3600_000 - 80_000],
    ['refreshWindowSeconds 0', 3600, { refreshWindowSeconds: 0 }, 3600_000 - 80_000],
  ])('%s: a caller before the mandatory window starts a background refresh and never waits', async (_case, seconds, cache, refreshAtMs) => {
    answerEachRole(seconds);
    const service = createService({ cache, DEFAULT_SESSION_DURATION: seconds });
    const first = await service.getCredentials({ roleArn: ROLE_ARN });
    at(refreshAtMs);
    expect(await service.getCredentials({ roleArn: ROLE_ARN })).toBe(first);
    await settle();
    await settle();
    expect(sts).toHaveReceivedCommandTimes(AssumeRoleCommand, 2);
    expect((await service.getCredentials({ roleArn: ROLE_ARN })).accessKeyId).toBe('ASIAEXAMPLEN2');
    expect(service.cache.stats()).toMatchObject({ misses: 1, hits: 2 });
  });
});

describe('sized for many tenants', () => {
  let logger: ReturnType<typeof capturingLogger>;
  beforeEach(() => {
    logger = capturingLogger();
    Logger.overrideLogger(logger);
    answerEachRole();
  });
  afterEach(() => Logger.overrideLogger(false));

  it('says so when valid entries are evicted for capacity: an eviction event (capacity) and one warning naming maxEntries', async () => {
    const service = createService({ cache: { maxEntries: 2 } });
    const events = cacheEvents(service);
    for (const account of ['100000000001', '100000000002', '100000000003', '100000000004'])
      await service.getCredentials({ roleArn: `arn:aws:iam::${account}:role/T` });
    expect(events.filter((event) => event.type === 'eviction').map((event) => event.reason)).toEqual(['capacity', 'capacity']);
    const warnings = logger.lines.filter((line) => line.includes('maxEntries'));
    expect(warnings).toHaveLength(1); // rate-limited
    expect(warnings[0]).toMatch(/cache\.maxEntries \(2\)/);
  });

  it('an expired entry pushed out for capacity is an expired eviction, not a warning', async () => {
    const service = createService({ cache: { maxEntries: 1 } });
    const events = cacheEvents(service);
    await service.getCredentials({ roleArn: ROLE_ARN });
    at(2 * 60 * MIN);
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN });
    expect(events.filter((event) => event.type === 'eviction').map((event) => event.reason)).toEqual(['expired']);
    expect(logger.lines.filter((line) => line.includes('maxEntries'))).toEqual([]);
  });

  it('reserves memory for maxEntries only once it holds credentials: ~28 B a slot at the highest bound, empty services nothing', async () => {
    answerEachRole();
    // Bounds a collection meanwhile cannot break: it only lowers the heap, and frees no large typed array made here.
    const heap = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const before = heap();
    const services = Array.from({ length: 3 }, () => createService({ cache: { maxEntries: 1_000_000 } }));
    expect(heap() - before).toBeLessThan(8 * 1024 * 1024); // lru-cache's `max` would reserve ~28 MB per cache here
    const [beforeUse, buffersBeforeUse] = [heap(), process.memoryUsage().arrayBuffers];
    await services[0].getCredentials({ roleArn: ROLE_ARN });
    // One cache's tables for 1,000,000 entries: its typed arrays (three of 4 MB)…
    expect(process.memoryUsage().arrayBuffers - buffersBeforeUse).toBeGreaterThan(10 * 1_000_000);
    // …and no more in all: its web identity tokens' cache reserves nothing
    expect(heap() - beforeUse).toBeLessThan(40 * 1_000_000);
  });
});

describe('nothing a user can inspect shows an ExternalId or a secret', () => {
  it('inspect(service, { depth: Infinity }) after calls shows neither EXTERNAL_ID nor any tenant ExternalId', async () => {
    answerEachRole();
    const service = createService({ EXTERNAL_ID: 'partner-default-external' });
    await service.getCredentials({ roleArn: ROLE_ARN, externalId: 'tenant-one-external' });
    await service.getCredentials({ roleArn: OTHER_ROLE_ARN, externalId: 'tenant-two-external', tags: { t: '2' } });
    await service.getCredentials({ roleArn: ROLE_ARN });
    const text = `${inspect(service, { depth: Infinity, showHidden: true })}\n${visibleText(service)}`;
    for (const secret of [
      'partner-default-external',
      'tenant-one-external',
      'tenant-two-external',
      'secret-N1',
      'token-N1',
      'base-secret-key-example',
    ]) {
      expect(text).not.toContain(secret);
    }
  });

  it('an STS answer without credentials is InvalidResponse with its hint', async () => {
    sts.on(AssumeRoleCommand).resolves({});
    await expect(createService().assumeRole({ roleArn: ROLE_ARN })).rejects.toMatchObject({
      code: 'InvalidResponse',
      retryable: true,
      hint: expect.stringContaining('valid STS response'),
    });
  });
});

describe('invalidateIfCurrent', () => {
  it('finds the entry by access key among many, and never drops credentials a refresh already replaced', async () => {
    answerEachRole();
    const service = createService();
    const all = [];
    for (let i = 0; i < 200; i++)
      all.push(await service.getCredentials({ roleArn: `arn:aws:iam::1000000${String(i).padStart(5, '0')}:role/T` }));
    expect(service.cache.invalidateIfCurrent(all[150])).toBe(true);
    expect(service.cache.invalidateIfCurrent(all[150])).toBe(false);
    expect(service.cache.stats().size).toBe(199);
    const replaced = all[3];
    service.cache.invalidate({ roleArn: `arn:aws:iam::100000000003:role/T` });
    const fresh = await service.getCredentials({ roleArn: `arn:aws:iam::100000000003:role/T` });
    expect(service.cache.invalidateIfCurrent(replaced)).toBe(false);
    expect(await service.getCredentials({ roleArn: `arn:aws:iam::100000000003:role/T` })).toBe(fresh);
  });
});
