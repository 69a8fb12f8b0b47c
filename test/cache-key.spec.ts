import fc from 'fast-check';
import { CacheKeyIndex, canonicalRequest, hashKey, type KeyDefaults } from '../src/cache-key';
import type { AssumeRoleRequest } from '../src';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const defaults: KeyDefaults = { externalId: 'config-default', defaultSessionDuration: 3600, maxSessionDuration: 43200, chainingMaxDuration: 3600 };
const BASE = 'b"instance-1"';

const word = fc.stringMatching(/^[a-z0-9+=,.@-]{2,6}$/);
const roleArn = fc.constantFrom('arn:aws:iam::123456789012:role/A', 'arn:aws:iam::123456789012:role/B', 'arn:aws:iam::210987654321:role/A');
const hop: fc.Arbitrary<AssumeRoleRequest> = fc.record({ roleArn, externalId: fc.option(word, { nil: undefined }) }, { requiredKeys: ['roleArn'] });
const request: fc.Arbitrary<AssumeRoleRequest> = fc.record(
  {
    roleArn,
    externalId: word,
    sessionName: word,
    policy: fc.dictionary(fc.constantFrom('Version', 'Statement', 'Id'), fc.oneof(word, fc.array(word, { maxLength: 2 })), { minKeys: 1 }),
    policyArns: fc.uniqueArray(word.map((name) => `arn:aws:iam::aws:policy/${name}`), { minLength: 1, maxLength: 3 }),
    tags: fc.dictionary(word, word, { minKeys: 1, maxKeys: 3 }),
    sourceIdentity: word,
    durationSeconds: fc.integer({ min: 900, max: 43_200 }),
    mfa: word.map((serial) => ({ serialNumber: `arn:aws:iam::111111111111:mfa/${serial}`, tokenCode: '123456' })),
    via: hop,
  },
  { requiredKeys: ['roleArn'] },
);

/** An independent oracle of what changes the credentials: each field in plain, order-free form. */
function meaning(r: AssumeRoleRequest): unknown {
  const sortedEntries = (o?: object) => (o ? Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)) : null);
  const duration = r.durationSeconds ?? defaults.defaultSessionDuration;
  return {
    roleArn: r.roleArn,
    externalId: r.externalId ?? defaults.externalId,
    sessionName: r.sessionName ?? null,
    policy: r.policy === undefined ? null : sortedEntries(typeof r.policy === 'string' ? JSON.parse(r.policy) : r.policy),
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
        const index = new CacheKeyIndex(defaults, BASE, 1_000);
        const sameMeaning = JSON.stringify(meaning(a)) === JSON.stringify(meaning(b));
        expect(index.keyOf(a) === index.keyOf(b)).toBe(sameMeaning);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('never change when tags, policy keys or policy ARNs come in another order', () => {
    fc.assert(
      fc.property(request, (a) => {
        const reordered: AssumeRoleRequest = {
          ...a,
          tags: a.tags && Object.fromEntries(shuffled(Object.entries(a.tags))),
          policy: a.policy && Object.fromEntries(shuffled(Object.entries(a.policy))),
          policyArns: a.policyArns && shuffled(a.policyArns),
        };
        const index = new CacheKeyIndex(defaults, BASE, 1_000);
        expect(index.keyOf(reordered)).toBe(index.keyOf(a));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('differ for every single-field change, through a warm index as through a cold hash', () => {
    const fields: Array<[string, (r: AssumeRoleRequest) => AssumeRoleRequest]> = [
      ['roleArn', (r) => ({ ...r, roleArn: `${r.roleArn}X` })],
      ['externalId', (r) => ({ ...r, externalId: `${r.externalId ?? defaults.externalId}X` })],
      ['sessionName', (r) => ({ ...r, sessionName: `${r.sessionName ?? ''}X` })],
      ['policy', (r) => ({ ...r, policy: { ...(r.policy as object), Extra: 'X' } })],
      ['policyArns', (r) => ({ ...r, policyArns: [...(r.policyArns ?? []), 'arn:aws:iam::aws:policy/X'] })],
      ['tags', (r) => ({ ...r, tags: { ...r.tags, extra: 'X' } })],
      ['transitiveTagKeys', (r) => ({ ...r, transitiveTagKeys: r.transitiveTagKeys?.length ? undefined : Object.keys(r.tags ?? {}).slice(0, 1) })],
      ['sourceIdentity', (r) => ({ ...r, sourceIdentity: `${r.sourceIdentity ?? ''}X` })],
      ['durationSeconds', (r) => ({ ...r, via: undefined, durationSeconds: (r.durationSeconds ?? 3600) === 900 ? 901 : 900 })],
      ['mfa', (r) => ({ ...r, mfa: { serialNumber: `${r.mfa?.serialNumber ?? 'GAHT1234567'}X`, tokenCode: '123456' } })],
      ['via', (r) => ({ ...r, via: { roleArn: 'arn:aws:iam::999999999999:role/Hub' } })],
    ];
    fc.assert(
      fc.property(request, fc.constantFrom(...fields), (a, [, change]) => {
        const b = change(a);
        const index = new CacheKeyIndex(defaults, BASE, 1_000);
        const [warmA, warmB] = [index.keyOf(a), index.keyOf(b)];
        fc.pre(JSON.stringify(meaning(a)) !== JSON.stringify(meaning(b)));
        expect(warmA).not.toBe(warmB);
        expect(index.keyOf(a)).toBe(hashKey(canonicalRequest(a, defaults, BASE)));
        expect(index.keyOf(b)).toBe(hashKey(canonicalRequest(b, defaults, BASE)));
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('hold no ExternalId or input in plain text, and differ between service instances', () => {
    const a: AssumeRoleRequest = { roleArn: 'arn:aws:iam::123456789012:role/A', externalId: 'tenant-secret-external-id' };
    const key = new CacheKeyIndex(defaults, BASE, 10).keyOf(a);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(new CacheKeyIndex(defaults, 'b"instance-2"', 10).keyOf(a));
  });
});
