import fc from 'fast-check';
import { hashKey } from '../../../src/cache/cache-key';
import { keyIndex as serviceKeyIndex } from '../../support/key-index';
import { prepareAssumeRole, type RequestDefaults } from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const defaults: RequestDefaults & { externalId: string } = {
  externalId: 'config-default',
  defaultExternalId: () => 'config-default',
  defaultSessionDuration: 3600,
  maxSessionDuration: 43200,
};
const BASE = 'b"instance-1"';

/** The index the service uses, for the keys alone. */
const keyIndex = (base = BASE, maxSize = 1_000) => {
  const index = serviceKeyIndex(defaults, maxSize, base);
  return { keyOf: (request: AssumeRoleRequest) => index.resolve(request) };
};
/** The key computed cold, straight from the prepared request. */
const coldKey = (request: AssumeRoleRequest) => hashKey(BASE, prepareAssumeRole(request, defaults));

const word = fc.stringMatching(/^[a-z0-9+=,.@-]{2,6}$/);
/** Tag keys and values allow no comma. */
const tagWord = fc.stringMatching(/^[a-z0-9+=.@-]{2,6}$/);
const roleArn = fc.constantFrom('arn:aws:iam::123456789012:role/A', 'arn:aws:iam::123456789012:role/B', 'arn:aws:iam::210987654321:role/A');
const hop: fc.Arbitrary<AssumeRoleRequest> = fc.record(
  { roleArn, externalId: fc.option(word, { nil: undefined }) },
  { requiredKeys: ['roleArn'] },
);
const request: fc.Arbitrary<AssumeRoleRequest> = fc
  .record(
    {
      roleArn,
      externalId: word,
      sessionName: word,
      policy: fc.dictionary(fc.constantFrom('Version', 'Statement', 'Id'), fc.oneof(word, fc.array(word, { maxLength: 2 })), {
        minKeys: 1,
      }),
      policyArns: fc.uniqueArray(
        word.map((name) => `arn:aws:iam::aws:policy/${name}`),
        { minLength: 1, maxLength: 3 },
      ),
      tags: fc.dictionary(tagWord, tagWord, { minKeys: 1, maxKeys: 3 }),
      sourceIdentity: word,
      durationSeconds: fc.integer({ min: 900, max: 43_200 }),
      mfa: word.map((serial) => ({ serialNumber: `arn:aws:iam::111111111111:mfa/${serial}`, tokenCode: '123456' })),
      via: hop,
    },
    { requiredKeys: ['roleArn'] },
  )
  .filter((r) => r.via === undefined || r.durationSeconds === undefined || r.durationSeconds <= 3600); // STS's chaining cap

/** An independent oracle of what changes the credentials: each field in plain, order-free form. */
function meaning(r: AssumeRoleRequest): unknown {
  const sortedEntries = (o?: object) => (o ? Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)) : null);
  const duration = r.durationSeconds ?? defaults.defaultSessionDuration;
  return {
    roleArn: r.roleArn,
    externalId: r.externalId ?? defaults.externalId,
    ownExternalId: r.externalId !== undefined, // what requireExternalId judges

    sessionName: r.sessionName ?? null,
    // The policy is a document of the exact text STS receives.
    policy: r.policy === undefined ? null : typeof r.policy === 'string' ? r.policy : JSON.stringify(r.policy),
    policyArns: r.policyArns ? [...r.policyArns].sort() : null,
    tags: sortedEntries(r.tags),
    transitiveTagKeys: r.transitiveTagKeys ? [...r.transitiveTagKeys].sort() : null,
    sourceIdentity: r.sourceIdentity ?? null,
    duration: r.via ? Math.min(duration, 3600) : duration,
    mfaSerial: r.mfa?.serialNumber ?? null,
    via: r.via ? meaning(r.via) : null,
  };
}

const shuffled = <T>(items: T[]) => [...items].reverse();

describe('cache keys', () => {
  it('are equal exactly when two requests mean the same credentials (fast-check)', () => {
    fc.assert(
      fc.property(request, request, (a, b) => {
        const index = keyIndex();
        const sameMeaning = JSON.stringify(meaning(a)) === JSON.stringify(meaning(b));
        expect(index.keyOf(a) === index.keyOf(b)).toBe(sameMeaning);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('never change when tags or policy ARNs (sets to STS) come in another order', () => {
    fc.assert(
      fc.property(request, (a) => {
        const reordered: AssumeRoleRequest = {
          ...a,
          tags: a.tags && Object.fromEntries(shuffled(Object.entries(a.tags))),
          policyArns: a.policyArns && shuffled(a.policyArns),
        };
        const index = keyIndex();
        expect(index.keyOf(reordered)).toBe(index.keyOf(a));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('differ for every single-field change, through a warm index as through a cold hash', () => {
    const fields: Array<[string, (r: AssumeRoleRequest) => AssumeRoleRequest]> = [
      ['roleArn', (r) => ({ ...r, roleArn: `${r.roleArn}X` })],
      ['externalId', (r) => ({ ...r, externalId: `${r.externalId ?? defaults.externalId}X` })],
      ['sessionName', (r) => ({ ...r, sessionName: `${r.sessionName ?? 'n'}X` })],
      ['policy', (r) => ({ ...r, policy: { ...(r.policy as object), Extra: 'X' } })],
      ['policyArns', (r) => ({ ...r, policyArns: [...(r.policyArns ?? []), 'arn:aws:iam::aws:policy/X'] })],
      ['tags', (r) => ({ ...r, tags: { ...r.tags, extra: 'X' } })],
      [
        'transitiveTagKeys',
        (r) => ({ ...r, transitiveTagKeys: r.transitiveTagKeys?.length ? undefined : Object.keys(r.tags ?? {}).slice(0, 1) }),
      ],
      ['sourceIdentity', (r) => ({ ...r, sourceIdentity: `${r.sourceIdentity ?? 's'}X` })],
      ['durationSeconds', (r) => ({ ...r, via: undefined, durationSeconds: (r.durationSeconds ?? 3600) === 900 ? 901 : 900 })],
      ['mfa', (r) => ({ ...r, mfa: { serialNumber: `${r.mfa?.serialNumber ?? 'GAHT1234567'}X`, tokenCode: '123456' } })],
      [
        'via',
        (r) => ({
          ...r,
          via: { roleArn: 'arn:aws:iam::999999999999:role/Hub' },
          durationSeconds: r.durationSeconds && Math.min(r.durationSeconds, 3600),
        }),
      ],
    ];
    fc.assert(
      fc.property(request, fc.constantFrom(...fields), (a, [, change]) => {
        const b = change(a);
        const index = keyIndex();
        const [warmA, warmB] = [index.keyOf(a), index.keyOf(b)];
        fc.pre(JSON.stringify(meaning(a)) !== JSON.stringify(meaning(b)));
        expect(warmA).not.toBe(warmB);
        expect(index.keyOf(a)).toBe(coldKey(a));
        expect(index.keyOf(b)).toBe(coldKey(b));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('hold no ExternalId or input in plain text, and differ between service instances', () => {
    const a: AssumeRoleRequest = { roleArn: 'arn:aws:iam::123456789012:role/A', externalId: 'tenant-secret-external-id' };
    const key = keyIndex(BASE, 10).keyOf(a);
    expect(key).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(key).not.toBe(keyIndex('b"instance-2"', 10).keyOf(a));
  });

  it('follow the exact policy text sent: values JSON encodes specially (a Date, a toJSON) never share a key', () => {
    const index = keyIndex();
    const withDate = (iso: string) => ({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { DateLessThan: { 'aws:CurrentTime': new Date(iso) } } },
      ],
    });
    const scoped = (prefix: string) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: { toJSON: () => `arn:aws:s3:::${prefix}/*` } }],
    });
    const base = { roleArn: 'arn:aws:iam::123456789012:role/A', externalId: 'tenant-a' };
    expect(index.keyOf({ ...base, policy: withDate('2026-01-01T00:00:00Z') })).not.toBe(
      index.keyOf({ ...base, policy: withDate('2027-01-01T00:00:00Z') }),
    );
    expect(index.keyOf({ ...base, policy: scoped('tenant-a') })).not.toBe(index.keyOf({ ...base, policy: scoped('tenant-b') }));
    // Equal text, equal key: a policy given as its JSON text is the same policy.
    expect(index.keyOf({ ...base, policy: JSON.stringify(scoped('tenant-a')) })).toBe(index.keyOf({ ...base, policy: scoped('tenant-a') }));
  });

  it('are never derived from the caller object after the call: the memory holds only prepared copies', () => {
    const index = keyIndex();
    const reused: AssumeRoleRequest = { roleArn: 'arn:aws:iam::123456789012:role/A', externalId: 'tenant-a', tags: { tenant: 'a' } };
    const keyA = index.keyOf(reused);
    reused.roleArn = 'arn:aws:iam::210987654321:role/B';
    reused.externalId = 'tenant-b';
    reused.tags!.tenant = 'b';
    expect(index.keyOf(reused)).not.toBe(keyA);
    expect(index.keyOf({ roleArn: 'arn:aws:iam::123456789012:role/A', externalId: 'tenant-a', tags: { tenant: 'a' } })).toBe(keyA);
  });
});

describe('plain requests', () => {
  it('keep their own key when one role is asked with many ExternalIds and durations (past the per-role chain)', () => {
    const index = keyIndex();
    const requests = Array.from({ length: 30 }, (_, i): AssumeRoleRequest => ({
      roleArn: 'arn:aws:iam::123456789012:role/A',
      externalId: `tenant-${i % 15}`,
      durationSeconds: i < 15 ? 900 : 1800,
    }));
    for (let pass = 0; pass < 2; pass++) for (const r of requests) expect(index.keyOf(r)).toBe(coldKey(r));
    expect(new Set(requests.map((r) => index.keyOf(r))).size).toBe(30);
  });

  /** Plain requests that send the same, or nearly, in every order of asking; `null`/objects where a value belongs. */
  const ROLE_A = 'arn:aws:iam::123456789012:role/A';
  const nearlyAlike: Array<[string, AssumeRoleRequest]> = [
    ['no ExternalId (the config default is sent)', { roleArn: ROLE_A }],
    ["the config default's ExternalId given as its own", { roleArn: ROLE_A, externalId: defaults.externalId }],
    ['another ExternalId', { roleArn: ROLE_A, externalId: 'tenant-1' }],
    ['the default duration given', { roleArn: ROLE_A, durationSeconds: 3600 }],
    ['the default duration given, with an ExternalId', { roleArn: ROLE_A, externalId: 'tenant-1', durationSeconds: 3600 }],
    ['another duration', { roleArn: ROLE_A, externalId: 'tenant-1', durationSeconds: 1800 }],
    ['a duration as text', { roleArn: ROLE_A, externalId: 'tenant-1', durationSeconds: '3600' as unknown as number }],
    ['an ExternalId as a String object', { roleArn: ROLE_A, externalId: new String('tenant-1') as unknown as string }],
    ['an ExternalId of null', { roleArn: ROLE_A, externalId: null as unknown as string }],
    ['a duration of null', { roleArn: ROLE_A, durationSeconds: null as unknown as number }],
    ['a duration of NaN', { roleArn: ROLE_A, durationSeconds: Number.NaN }],
  ];
  const coldOutcome = (request: AssumeRoleRequest) => {
    try {
      return coldKey(request);
    } catch (error) {
      return `refused: ${(error as Error).message}`;
    }
  };

  it.each([
    ['in the order listed', (list: typeof nearlyAlike) => list],
    ['in reverse', (list: typeof nearlyAlike) => [...list].reverse()],
  ])('are compared with what a known one sends, %s: each gets its cold key or its refusal, twice', (_order, order) => {
    const index = keyIndex();
    const outcome = (request: AssumeRoleRequest) => {
      try {
        return index.keyOf(request);
      } catch (error) {
        return `refused: ${(error as Error).message}`;
      }
    };
    for (let pass = 0; pass < 2; pass++) {
      for (const [name, request] of order(nearlyAlike)) expect([name, outcome(request)]).toEqual([name, coldOutcome(request)]);
    }
    // Not vacuous: the list holds requests that share a key, and requests that must not.
    const keys = nearlyAlike.map(([, request]) => coldOutcome(request)).filter((key) => !key.startsWith('refused'));
    expect(new Set(keys).size).toBeGreaterThan(2);
    expect(new Set(keys).size).toBeLessThan(keys.length);
  });
});
