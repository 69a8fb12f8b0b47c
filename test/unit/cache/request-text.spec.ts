import fc from 'fast-check';
import { keyIndex } from '../../support/key-index';
import { NOT_PLAIN_FIELDS, requestOfText, requestText } from '../../../src/cache/request-text';
import { jsonShapeOf, sameJson } from '../../../src/cache/same-json';
import * as roleRequest from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

jest.mock('../../../src/sts/role-request', () => {
  const actual = jest.requireActual<typeof roleRequest>('../../../src/sts/role-request');
  return { ...actual, prepareAssumeRole: jest.fn(actual.prepareAssumeRole) };
});
const { canonicalOf, prepareAssumeRole } = roleRequest;
const prepareCalls = () => (prepareAssumeRole as jest.Mock).mock.calls.length;

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const defaults = { defaultExternalId: () => 'config-default', defaultSessionDuration: 3600, maxSessionDuration: 43200 };
const ROLE = 'arn:aws:iam::123456789012:role/A';
const scoped = (): AssumeRoleRequest => ({
  roleArn: ROLE,
  externalId: 'tenant-a',
  sourceIdentity: 'alice',
  tags: { tenant: 'a', plan: 'pro', region: 'eu', tier: 'gold', team: 'x' },
  policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::a/*' }] },
});

/** What preparing a request gives: its canonical text, or the field and rule of its refusal. */
function outcome(request: AssumeRoleRequest): string {
  try {
    return canonicalOf(prepareAssumeRole(request, defaults));
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

/** Values of every type where each field expects one, and odd shapes (null, numbers, getters' worth of objects). */
const anything = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.stringMatching(/^[a-z0-9:=,.@/-]{0,8}$/),
);
const word = fc.stringMatching(/^[a-z0-9+=,.@-]{2,6}$/);
const request: fc.Arbitrary<AssumeRoleRequest> = fc.record(
  {
    roleArn: fc.oneof(fc.constant(ROLE), fc.constant('arn:aws:iam::210987654321:role/B'), anything),
    externalId: fc.oneof(word, anything),
    durationSeconds: fc.oneof(fc.integer({ min: 800, max: 44_000 }), anything),
    sessionName: fc.oneof(word, anything),
    policy: fc.oneof(
      fc.constant({ Version: '2012-10-17', Statement: [] }),
      fc.constant('{"Version":"2012-10-17"}'),
      fc.constant(' {"a":1}'),
      fc.constant('[1]'),
      fc.dictionary(word, anything),
      anything,
    ),
    policyArns: fc.oneof(
      fc.array(
        fc.oneof(
          word.map((name) => `arn:aws:iam::aws:policy/${name}`),
          anything,
        ),
        { maxLength: 3 },
      ),
      anything,
    ),
    tags: fc.oneof(
      fc.dictionary(fc.oneof(word, fc.constant('__proto__'), fc.constant('aws:x')), fc.oneof(word, anything), { maxKeys: 3 }),
      anything,
    ),
    transitiveTagKeys: fc.oneof(fc.array(word, { maxLength: 2 }), anything),
    sourceIdentity: fc.oneof(word, anything),
    providedContexts: fc.oneof(
      fc.array(
        fc.oneof(
          fc.record({
            providerArn: fc.constant('arn:aws:iam::aws:contextProvider/IdentityCenter'),
            contextAssertion: fc.oneof(word, anything),
          }),
          anything,
        ),
        { maxLength: 2 },
      ),
      anything,
    ),
    via: fc.oneof(
      fc.record(
        { roleArn: fc.constant('arn:aws:iam::999999999999:role/Hub'), externalId: fc.oneof(word, anything) },
        { requiredKeys: ['roleArn'] },
      ),
      anything,
    ),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<AssumeRoleRequest>;

describe('request texts', () => {
  it('stand for exactly what preparing the request itself gives: the same canonical text, or the same refusal (fast-check)', () => {
    fc.assert(
      fc.property(request, (r) => {
        const text = requestText(r);
        if (text === undefined) return; // prepared at every call, from the caller's object
        expect(outcome(requestOfText(text))).toBe(outcome(r));
      }),
      { seed: SEED, numRuns: 3_000 },
    );
  });

  it('read each field once: a getter that answers differently each time cannot pair one text with other values', () => {
    let reads = 0;
    const shifty = { roleArn: ROLE, externalId: 'tenant-a' } as AssumeRoleRequest;
    Object.defineProperty(shifty, 'tags', { enumerable: true, get: () => ({ tenant: reads++ % 2 === 0 ? 'a' : 'b' }) });
    const text = requestText(shifty)!;
    expect(reads).toBe(1);
    expect(requestOfText(text).tags).toEqual({ tenant: 'a' });
  });

  it('leave requests with an MFA device, or a throwing getter, to be prepared at every call', () => {
    expect(requestText({ ...scoped(), mfa: { serialNumber: 'GAHT12345678', tokenCode: '123456' } })).toBeUndefined();
    const throwing = {
      roleArn: ROLE,
      policy: {
        toJSON: () => {
          throw new Error('no');
        },
      },
    } as unknown as AssumeRoleRequest;
    expect(requestText(throwing)).toBeUndefined();
  });
});

describe('the index of prepared requests', () => {
  it('answers a request whose text it knows without preparing (validating, serialising) it again', () => {
    const index = keyIndex(defaults, 1_000, 'b');
    const first = index.resolve(scoped());
    const before = prepareCalls();
    for (let i = 0; i < 10; i++) expect(index.resolve(scoped())).toBe(first);
    expect(prepareCalls()).toBe(before);
  });

  it('validates a request whose text is new, even when it means the same as one it knows', () => {
    const index = keyIndex(defaults, 1_000, 'b');
    const key = index.resolve(scoped());
    const before = prepareCalls();
    const reordered = { ...scoped(), tags: { team: 'x', tier: 'gold', region: 'eu', plan: 'pro', tenant: 'a' } };
    expect(index.resolve(reordered)).toBe(key);
    expect(prepareCalls()).toBe(before + 1);
    expect(() => index.resolve({ ...scoped(), tags: { ...scoped().tags, 'aws:bad': 'x' } })).toThrow(/tags/);
    expect(() => index.resolve({ ...scoped(), tags: { tenant: undefined as unknown as string } })).toThrow(/tags/);
  });
});

describe('a policy given as an object', () => {
  const index = () => keyIndex(defaults, 1_000, 'b');

  it('is compared on a hit, not serialised: JSON.stringify never sees the policy object of a known request', () => {
    const keys = index();
    const first = keys.resolve(scoped());
    const stringify = jest.spyOn(JSON, 'stringify');
    try {
      const request = scoped();
      expect(keys.resolve(request)).toBe(first);
      expect(stringify.mock.calls.some(([value]) => value === request.policy)).toBe(false);
    } finally {
      stringify.mockRestore();
    }
  });

  it('changed after a call, gets the key of what it says now; the first policy keeps its own', () => {
    const keys = index();
    const request = scoped();
    const first = keys.resolve(request);
    (request.policy as { Statement: Array<{ Action: string[] }> }).Statement[0].Action.push('s3:PutObject');
    const widened = keys.resolve(request);
    expect(widened).not.toBe(first);
    expect(widened).toBe(index().resolve(JSON.parse(JSON.stringify(request)) as AssumeRoleRequest));
    expect(keys.resolve(scoped())).toBe(first);
  });

  it('read once per call: a getter in it that answers differently each time never pairs one reading with another key', () => {
    const keys = index();
    let reads = 0;
    const actions = ['s3:GetObject', 's3:DeleteObject'];
    const shifty = () => {
      const statement = { Effect: 'Allow', Resource: '*' } as Record<string, unknown>;
      Object.defineProperty(statement, 'Action', { enumerable: true, get: () => actions[reads++ % 2] });
      return { roleArn: ROLE, externalId: 'tenant-a', policy: { Version: '2012-10-17', Statement: [statement] } };
    };
    const fixed = (action: string) =>
      index().resolve({
        roleArn: ROLE,
        externalId: 'tenant-a',
        policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*', Action: action }] },
      });
    for (let call = 0; call < 6; call++) {
      const before = reads;
      const key = keys.resolve(shifty());
      // Whatever the number of readings (a comparison, then a serialisation), the key is that of the last one.
      expect(key).toBe(fixed(actions[(reads - 1) % 2]));
      expect(reads - before).toBeLessThanOrEqual(2);
    }
  });

  it('sameJson says equal only where JSON.stringify would write the same text (fast-check)', () => {
    fc.assert(
      fc.property(fc.anything({ withBoxedValues: true, withNullPrototype: true, withSparseArray: true }), fc.jsonValue(), (live, json) => {
        const text = JSON.stringify(json);
        if (sameJson(live, jsonShapeOf(JSON.parse(text)))) expect(JSON.stringify(live)).toBe(text);
      }),
      { seed: SEED, numRuns: 3_000 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const text = JSON.stringify(json);
        expect(sameJson(JSON.parse(text), jsonShapeOf(JSON.parse(text)))).toBe(true);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
    for (const [live, known] of [
      [new String('ab'), { 0: 'a', 1: 'b' }],
      [{ toJSON: () => 'x', a: 1 }, { a: 1 }],
      [{ a: undefined, b: 1 }, { b: 1 }],
      [[undefined], [null]],
      [NaN, null],
      [new Date(0), {}],
    ] as const) {
      expect(sameJson(live, jsonShapeOf(known))).toBe(false);
    }
  });
});

describe('no field of a request is left out of its key', () => {
  const CONTEXT_PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
  // Typed over every field a plain request leaves undefined: a field added to the request type fails to compile here.
  const valueOf: { readonly [K in (typeof NOT_PLAIN_FIELDS)[number]]-?: Required<AssumeRoleRequest>[K] } = {
    sessionName: 'named',
    policy: { Version: '2012-10-17', Statement: [] },
    policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    tags: { tenant: 'a' },
    transitiveTagKeys: ['tenant'],
    sourceIdentity: 'alice',
    providedContexts: [{ providerArn: CONTEXT_PROVIDER, contextAssertion: 'signed-context' }],
    mfa: { serialNumber: 'arn:aws:iam::123456789012:mfa/alice', tokenCode: '123456' },
    via: { roleArn: 'arn:aws:iam::999999999999:role/Hub' },
  };

  it.each(NOT_PLAIN_FIELDS.map((field) => [field]))("a request with %s set is not served the plain request's key", (field) => {
    const index = keyIndex(defaults, 1_000, 'b');
    const plainKey = index.resolve({ roleArn: ROLE, externalId: 'tenant-a' });
    const withField = { roleArn: ROLE, externalId: 'tenant-a', [field]: valueOf[field] } as AssumeRoleRequest;
    // Another key, or a refusal (transitiveTagKeys without tags): never the plain request's credentials.
    let outcome: string;
    try {
      outcome = index.resolve(withField);
    } catch (error) {
      outcome = `refused: ${(error as Error).message}`;
    }
    expect(outcome).not.toBe(plainKey);
    // and once its key is known, the plain request still gets its own
    expect(index.resolve({ roleArn: ROLE, externalId: 'tenant-a' })).toBe(plainKey);
  });

  it("provided contexts are part of the text: two users' contexts never share a key", () => {
    const index = keyIndex(defaults, 1_000, 'b');
    const asUser = (assertion: string): AssumeRoleRequest => ({
      roleArn: ROLE,
      sessionName: 'tip',
      providedContexts: [{ providerArn: CONTEXT_PROVIDER, contextAssertion: assertion }],
    });
    const alice = index.resolve(asUser('alice-context'));
    expect(index.resolve(asUser('bob-context'))).not.toBe(alice);
    expect(index.resolve(asUser('alice-context'))).toBe(alice);
    expect(requestOfText(requestText(asUser('bob-context'))!).providedContexts).toEqual(asUser('bob-context').providedContexts);
  });
});
