import fc from 'fast-check';
import { keyIndex } from '../../support/key-index';
import { knownRequestOf, matchesKnown } from '../../../src/cache/known-request';
import { requestText } from '../../../src/cache/request-text';
import type { AssumeRoleRequest } from '../../../src';

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const defaults = { defaultExternalId: () => undefined, defaultSessionDuration: 3600, maxSessionDuration: 43200 };
const ROLE = 'arn:aws:iam::123456789012:role/A';

/** Small alphabets, so that two draws are often equal and the comparison is tried on near misses too. */
const word = fc.constantFrom('a', 'b', 'tenant-a');
const oddValue = fc.constantFrom(undefined, null, 0, -0, 1, NaN, '', true, [], {});
/** Mostly `usual`, sometimes a value of another type (which most often puts the request outside the text's form). */
const orOdd = <T>(usual: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: usual }, { weight: 1, arbitrary: oddValue });
const policy = fc.oneof(
  fc.constant({ Version: '2012-10-17', Statement: [] }),
  fc.record({
    Version: fc.constant('2012-10-17'),
    Statement: fc.array(fc.record({ Effect: word, Action: fc.array(word) }), { maxLength: 2 }),
  }),
  fc.constant('{"Version":"2012-10-17","Statement":[]}'),
  fc.constant('{ "Version": "2012-10-17", "Statement": [] }'),
  fc.constant(Object.assign(Object.create(null) as object, { Version: '2012-10-17', Statement: [] })),
  fc.constant({ Version: '2012-10-17', Statement: [], toJSON: () => ({ Version: '2012-10-17', Statement: [] }) }),
  oddValue,
);
const request: fc.Arbitrary<AssumeRoleRequest> = fc.record(
  {
    roleArn: orOdd(fc.constant(ROLE)),
    externalId: orOdd(word),
    durationSeconds: orOdd(fc.constantFrom(900, 3600)),
    sessionName: orOdd(word),
    sourceIdentity: orOdd(word),
    policy,
    policyArns: orOdd(fc.array(word, { maxLength: 2 })),
    tags: orOdd(fc.dictionary(fc.constantFrom('a', 'b', '1', '__proto__'), orOdd(word), { maxKeys: 3 })),
    transitiveTagKeys: orOdd(fc.array(word, { maxLength: 2 })),
    providedContexts: orOdd(fc.array(fc.record({ providerArn: word, contextAssertion: orOdd(word) }), { maxLength: 2 })),
    via: orOdd(fc.record({ roleArn: fc.constant(ROLE), externalId: orOdd(word), policy }, { requiredKeys: ['roleArn'] })),
    mfa: fc.constantFrom(undefined, { serialNumber: 'arn:aws:iam::123456789012:mfa/a', tokenCode: '123456' }),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<AssumeRoleRequest>;

/** A policy `sameJson` can vouch for: absent, a string, or plain objects, arrays and JSON primitives throughout. */
function plainPolicy(policy: unknown): boolean {
  if (policy === undefined || typeof policy === 'string') return true;
  const plainJson = (value: unknown): boolean => {
    if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
    if (typeof value === 'number') return Number.isFinite(value);
    if (Array.isArray(value)) return value.every(plainJson);
    return (
      typeof value === 'object' &&
      Object.getPrototypeOf(value) === Object.prototype &&
      !('toJSON' in value) &&
      Object.values(value).every(plainJson)
    );
  };
  return typeof policy === 'object' && policy !== null && plainJson(policy);
}

const FIELDS = ['roleArn', 'externalId', 'durationSeconds', 'sessionName', 'sourceIdentity', 'policy', 'policyArns', 'tags'];
const MORE_FIELDS = ['transitiveTagKeys', 'providedContexts', 'via', 'mfa'];
/** A request, and another like it with up to two fields (present or not) taken from a third: near misses, and hits. */
const pairs = fc.tuple(request, request, fc.subarray([...FIELDS, ...MORE_FIELDS], { maxLength: 2 })).map(([seen, other, fields]) => {
  const live: Record<string, unknown> = { ...seen };
  for (const field of fields) {
    if (field in other) live[field] = (other as unknown as Record<string, unknown>)[field];
    else delete live[field];
  }
  return [seen, live as unknown as AssumeRoleRequest] as const;
});

describe('a known request', () => {
  it('matches a request only when that request has the very same text (fast-check)', () => {
    let matched = 0;
    fc.assert(
      fc.property(pairs, ([seen, live]) => {
        const text = requestText(seen);
        fc.pre(text !== undefined);
        const known = knownRequestOf(text!);
        if (matchesKnown(live, known)) {
          matched++;
          expect(requestText(live)).toBe(text);
        }
      }),
      { seed: SEED, numRuns: 4_000 },
    );
    // Not vacuous: many pairs matched.
    expect(matched).toBeGreaterThan(100);
  });

  it('matches the request it was made from, whenever its policies are absent, strings or plain JSON (fast-check)', () => {
    fc.assert(
      fc.property(request, (seen) => {
        const text = requestText(seen);
        fc.pre(text !== undefined && plainPolicy(seen.policy) && (seen.via === undefined || plainPolicy(seen.via.policy)));
        expect(matchesKnown(seen, knownRequestOf(text!))).toBe(true);
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });

  it('is what a hit of a request with tags, a policy object and a hop is found by: nothing is serialised', () => {
    const index = keyIndex(defaults, 1_000, 'b');
    const scoped = (): AssumeRoleRequest => ({
      roleArn: ROLE,
      externalId: 'tenant-a',
      sourceIdentity: 'alice',
      tags: { tenant: 'a', plan: 'pro' },
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' }] },
      via: { roleArn: 'arn:aws:iam::999999999999:role/Hub', policy: { Version: '2012-10-17', Statement: [] } },
    });
    const key = index.resolve(scoped());
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      expect(index.resolve(scoped())).toBe(key);
      expect(stringify).not.toHaveBeenCalled();
    } finally {
      stringify.mockRestore();
    }
  });

  it('past 16 requests of one role, the rest are found by their text, each with its own key', () => {
    const index = keyIndex(defaults, 1_000, 'b');
    const cold = (user: number) => keyIndex(defaults, 1_000, 'b').resolve({ roleArn: ROLE, sourceIdentity: `user-${user}` });
    const keys = Array.from({ length: 40 }, (_, user) => index.resolve({ roleArn: ROLE, sourceIdentity: `user-${user}` }));
    expect(new Set(keys).size).toBe(40);
    for (let user = 39; user >= 0; user--) expect(index.resolve({ roleArn: ROLE, sourceIdentity: `user-${user}` })).toBe(cold(user));
  });
});
