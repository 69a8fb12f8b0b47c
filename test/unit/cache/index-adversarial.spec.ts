import fc from 'fast-check';
import { hashKey } from '../../../src/cache/cache-key';
import { lookupIndex } from '../../support/key-index';
import * as roleRequest from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

jest.mock('../../../src/sts/role-request', () => {
  const actual = jest.requireActual<typeof roleRequest>('../../../src/sts/role-request');
  return { ...actual, prepareAssumeRole: jest.fn(actual.prepareAssumeRole) };
});
const { prepareAssumeRole } = roleRequest;
const prepareCalls = () => (prepareAssumeRole as jest.Mock).mock.calls.length;

const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const defaults = { defaultExternalId: () => 'config-default', defaultSessionDuration: 3600, maxSessionDuration: 43200 };
const ROLE = 'arn:aws:iam::123456789012:role/A';
const BASE = 'b';

function outcome(request: AssumeRoleRequest): string {
  try {
    return hashKey(BASE, prepareAssumeRole(request, defaults));
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}
const indexOf = (maxSize = 1_000) => {
  const index = lookupIndex(defaults, maxSize, BASE);
  return (request: AssumeRoleRequest) => {
    try {
      // The lookup is the request as prepared: what it sends hashes to the key it is cached under.
      const { key, prepared } = index.resolve(request);
      expect(hashKey(BASE, prepared)).toBe(key);
      return key;
    } catch (error) {
      return `refused: ${(error as Error).message}`;
    }
  };
};

const statement = () => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
const doc = (s: unknown = [statement()]) => ({ Version: '2012-10-17', Statement: s });
/** Policies that a hand-written comparison might think equal to `doc()` (or to each other) while JSON differs. */
const POLICIES: Record<string, () => unknown> = {
  base: () => doc(),
  reordered: () => ({ Statement: [statement()], Version: '2012-10-17' }),
  toJSON: () => ({ ...doc(), toJSON: () => doc([{ ...statement(), Resource: 'arn:aws:s3:::other/*' }]) }),
  nestedToJSON: () => doc([{ ...statement(), toJSON: () => ({ ...statement(), Action: '*' }) }]),
  undefinedValue: () => doc([{ ...statement(), Condition: undefined }]),
  functionValue: () => doc([{ ...statement(), Condition: () => 1 }]),
  symbolValue: () => doc([{ ...statement(), Condition: Symbol('x') }]),
  undefinedInArray: () => doc([statement(), undefined]),
  nullInArray: () => doc([statement(), null]),
  functionInArray: () => doc([statement(), () => 1]),
  sparse: () => {
    const statements = [statement()];
    statements.length = 2;
    return doc(statements);
  },
  minusZero: () => doc([{ ...statement(), Sid: -0 }]),
  zero: () => doc([{ ...statement(), Sid: 0 }]),
  nan: () => doc([{ ...statement(), Sid: NaN }]),
  infinity: () => doc([{ ...statement(), Sid: Infinity }]),
  nullSid: () => doc([{ ...statement(), Sid: null }]),
  date: () => doc([{ ...statement(), Sid: new Date(0) }]),
  dateText: () => doc([{ ...statement(), Sid: new Date(0).toISOString() }]),
  getter: () => {
    const s = statement() as Record<string, unknown>;
    Object.defineProperty(s, 'Sid', { enumerable: true, get: () => 'fromGetter' });
    return doc([s]);
  },
  getterText: () => doc([{ ...statement(), Sid: 'fromGetter' }]),
  hiddenGetter: () => {
    const s = statement() as Record<string, unknown>;
    Object.defineProperty(s, 'Sid', { enumerable: false, get: () => 'hidden' });
    return doc([s]);
  },
  inherited: () => doc([Object.assign(Object.create({ Sid: 'inherited' }), statement())]),
  protoKey: () => doc([JSON.parse('{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","__proto__":"x"}')]),
  protoKeyObject: () => doc([JSON.parse('{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","__proto__":{"a":1}}')]),
  protoLiteral: () => doc([{ ...statement(), __proto__: { Sid: 'x' } }]),
  symbolKey: () => doc([{ ...statement(), [Symbol('k')]: 'x' }]),
  nullProto: () => Object.assign(Object.create(null), doc()),
  classInstance: () =>
    new (class Doc {
      Version = '2012-10-17';
      Statement = [statement()];
    })(),
  boxedString: () => doc([{ ...statement(), Action: new String('s3:GetObject') }]),
  boxedNumber: () => doc([{ ...statement(), Sid: new Number(0) }]),
  arrayToJSON: () => doc(Object.assign([statement()], { toJSON: () => [] })),
  arrayExtraProp: () => doc(Object.assign([statement()], { extra: 'x' })),
  huge: () => doc([{ ...statement(), Sid: 2 ** 53 + 1 }]),
  huge2: () => doc([{ ...statement(), Sid: 2 ** 53 }]),
  e21: () => doc([{ ...statement(), Sid: 1e21 }]),
  lineSep: () => doc([{ ...statement(), Sid: 'a\u2028b' }]),
  lone: () => doc([{ ...statement(), Sid: '\ud800' }]),
  lone2: () => doc([{ ...statement(), Sid: '\udc00' }]),
  indexKeys: () => doc([{ ...statement(), Condition: { b: '1', 1: '2', a: '3' } }]),
  indexKeys2: () => doc([{ ...statement(), Condition: { 1: '2', b: '1', a: '3' } }]),
  bigIndexKey: () => doc([{ ...statement(), Condition: { 4294967295: 'x', 4294967294: 'y' } }]),
  bigIndexKey2: () => doc([{ ...statement(), Condition: { 4294967294: 'y', 4294967295: 'x' } }]),
  proxy: () => new Proxy(doc(), {}),
  proxyArray: () => doc(new Proxy([statement()], {})),
  proxyProto: () => new Proxy([doc()], { getPrototypeOf: () => Object.prototype }),
  array: () => [doc()],
  objectToJSONOnProto: () => doc([Object.assign(Object.create({ toJSON: () => ({ Effect: 'Deny' }) }), statement())]),
  emptyStatement: () => doc([]),
  emptyObjectStatement: () => doc([{}]),
  stringStatement: () => doc(['{}']),
  nestedEmptyArray: () => doc([[]]),
};
const NAMES = Object.keys(POLICIES);

describe('perf review: the index against a cold preparation of the same request', () => {
  const externalId = fc.constantFrom('tenant-a', 'tenant-b');
  const call = fc.record({ policy: fc.constantFrom(...NAMES), externalId, tags: fc.boolean() });

  it('every sequence of tricky policy objects resolves to the key (or refusal) of the request as it is now (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 30 }), fc.constantFrom(8, 1_000), (calls, maxSize) => {
        const resolve = indexOf(maxSize);
        for (const { policy, externalId: id, tags } of calls) {
          const request = { roleArn: ROLE, externalId: id, policy: POLICIES[policy](), ...(tags ? { tags: { t: 'x' } } : {}) };
          const cold = outcome({ ...request, policy: POLICIES[policy]() } as AssumeRoleRequest);
          expect([policy, resolve(request as AssumeRoleRequest)]).toEqual([policy, cold]);
        }
      }),
      { seed: SEED, numRuns: 2_000 },
    );
  });
});

describe('perf review: arbitrary values inside a policy object, on one index', () => {
  const value = fc.anything({
    withBoxedValues: true,
    withNullPrototype: true,
    withSparseArray: true,
    withDate: true,
    withObjectString: true,
    withBigInt: false,
    maxDepth: 3,
  });
  it('a policy document holding any value resolves to the key (or refusal) of a cold preparation (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('tenant-a', 'tenant-b'), value), { minLength: 1, maxLength: 12 }), (calls) => {
        const resolve = indexOf();
        for (const [externalId, condition] of calls) {
          const request = { roleArn: ROLE, externalId, policy: doc([{ ...statement(), Condition: condition }]) } as AssumeRoleRequest;
          expect(resolve(request)).toBe(outcome(request));
        }
        // and every one again, in the reverse order, on the same index
        for (const [externalId, condition] of [...calls].reverse()) {
          const request = { roleArn: ROLE, externalId, policy: doc([{ ...statement(), Condition: condition }]) } as AssumeRoleRequest;
          expect(resolve(request)).toBe(outcome(request));
        }
      }),
      { seed: SEED, numRuns: 1_500 },
    );
  });
});

describe('perf review: every field of a request, read through getters or changed after a call', () => {
  const CONTEXT_PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
  const full = (): AssumeRoleRequest => ({
    roleArn: ROLE,
    externalId: 'tenant-a',
    durationSeconds: 1800,
    sessionName: 'alice',
    policy: doc(),
    policyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
    tags: { tenant: 'a', plan: 'pro' },
    transitiveTagKeys: ['tenant'],
    sourceIdentity: 'alice',
    providedContexts: [{ providerArn: CONTEXT_PROVIDER, contextAssertion: 'alice-context' }],
    via: { roleArn: 'arn:aws:iam::999999999999:role/Hub', externalId: 'hub', policy: doc() },
  });
  /** One change per field, each to a request that means something else. */
  const CHANGES: Record<string, (r: AssumeRoleRequest) => void> = {
    roleArn: (r) => (r.roleArn = 'arn:aws:iam::123456789012:role/B'),
    externalId: (r) => (r.externalId = 'tenant-b'),
    durationSeconds: (r) => (r.durationSeconds = 1801),
    sessionName: (r) => (r.sessionName = 'bob'),
    policyNested: (r) => {
      if (typeof r.policy === 'object') (r.policy as { Statement: Array<{ Resource: string }> }).Statement[0].Resource = 'arn:aws:s3:::b/*';
    },
    policyString: (r) => (r.policy = JSON.stringify(r.policy)), // the same text: the same key
    policyArns: (r) => (r.policyArns as string[]).push('arn:aws:iam::aws:policy/PowerUserAccess'),
    tagValue: (r) => (r.tags!.tenant = 'b'),
    tagAdded: (r) => (r.tags!.team = 'x'),
    transitiveTagKeys: (r) => (r.transitiveTagKeys as string[]).push('plan'),
    sourceIdentity: (r) => (r.sourceIdentity = 'bob'),
    providedContexts: (r) => ((r.providedContexts as Array<{ contextAssertion: string }>)[0].contextAssertion = 'bob-context'),
    viaExternalId: (r) => {
      if (r.via) r.via.externalId = 'hub-2';
    },
    viaPolicy: (r) => {
      if (r.via) (r.via.policy as { Statement: Array<{ Effect: string }> }).Statement[0].Effect = 'Deny';
    },
    viaDropped: (r) => delete r.via,
    mfaAdded: (r) => (r.mfa = { serialNumber: 'arn:aws:iam::123456789012:mfa/alice', tokenCode: '123456' }),
  };

  it('a request changed after a call resolves to the key of what it says now; the first key keeps its meaning (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...Object.keys(CHANGES)), { minLength: 1, maxLength: 6 }), (changes) => {
        const resolve = indexOf();
        const request = full();
        const firstKey = resolve(request);
        expect(firstKey).toBe(outcome(full()));
        for (const change of changes) {
          CHANGES[change](request);
          expect([change, resolve(request)]).toEqual([change, outcome(structuredClone(request))]);
        }
        expect(resolve(full())).toBe(firstKey);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a request whose every field is a getter (answering the same each time) resolves as its plain copy', () => {
    const resolve = indexOf();
    const plainKey = resolve(full());
    const viaGetters = (source: AssumeRoleRequest) =>
      Object.defineProperties(
        {},
        Object.fromEntries(Object.entries(source).map(([field, value]) => [field, { enumerable: true, get: () => value }])),
      ) as AssumeRoleRequest;
    const source = full();
    expect(resolve(viaGetters({ ...source, via: viaGetters(source.via!) }))).toBe(plainKey);
    expect(resolve(viaGetters({ roleArn: ROLE, externalId: 'tenant-a' }))).toBe(outcome({ roleArn: ROLE, externalId: 'tenant-a' }));
  });

  it('a getter answering differently at each read pairs its key with what is sent, never with another reading', () => {
    const resolve = indexOf();
    for (const field of ['externalId', 'sessionName', 'sourceIdentity', 'tags', 'policy', 'roleArn'] as const) {
      const values: Record<string, unknown[]> = {
        externalId: ['tenant-a', 'tenant-b', undefined],
        sessionName: [undefined, 'alice', 'bob'],
        sourceIdentity: [undefined, 'alice', 'bob'],
        tags: [undefined, { tenant: 'a' }, { tenant: 'b' }],
        policy: [undefined, doc(), doc([])],
        roleArn: [ROLE, 'arn:aws:iam::210987654321:role/A', ROLE],
      };
      for (let start = 0; start < 3; start++) {
        let reads = start;
        const request = { roleArn: ROLE, externalId: 'tenant-a' } as AssumeRoleRequest;
        Object.defineProperty(request, field, { enumerable: true, get: () => values[field][reads++ % 3] });
        // `indexOf` checks that the key returned is the hash of the prepared request returned (what is sent).
        const key = resolve(request);
        const possible = values[field].map((value) => outcome({ roleArn: ROLE, externalId: 'tenant-a', [field]: value }));
        expect(possible).toContain(key);
      }
    }
  });
});

describe('perf review: the index stays within maxSize', () => {
  /** Every order of the keys of `tags`: texts that differ, requests that mean the same (tags are a set). */
  const orders = (keys: string[]): string[][] =>
    keys.length <= 1 ? [keys] : keys.flatMap((key) => orders(keys.filter((other) => other !== key)).map((rest) => [key, ...rest]));
  const TAG_KEYS = ['a', 'b', 'c', 'd', 'e'];
  const withTags = (order: string[], policy: unknown) =>
    ({ roleArn: ROLE, externalId: 'tenant-a', tags: Object.fromEntries(order.map((key) => [key, 'v'])), policy }) as AssumeRoleRequest;

  it.each([
    ['a policy string', () => JSON.stringify(doc())],
    ['a policy object', () => doc()],
  ])('120 texts of one request (%s, tags in every order) do not pile up past maxSize 8', (_, policy) => {
    const resolve = indexOf(8);
    const all = orders(TAG_KEYS);
    expect(all).toHaveLength(120);
    const key = resolve(withTags(all[0], policy()));
    for (const order of all) expect(resolve(withTags(order, policy()))).toBe(key);
    // A memory of at most 8 entries cannot still know the first text after 119 others: it prepares it again.
    const before = prepareCalls();
    expect(resolve(withTags(all[0], policy()))).toBe(key);
    expect(prepareCalls()).toBe(before + 1);
  });
});
