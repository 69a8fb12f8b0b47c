import fc from 'fast-check';
import { PreparedRequestIndex, hashKey } from '../../../src/cache/cache-key';
import { prepareAssumeRole, type PreparedAssumeRole } from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

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
  const index = new PreparedRequestIndex<{ key: string; prepared: PreparedAssumeRole }>(
    defaults,
    maxSize,
    (prepared) => hashKey(BASE, prepared),
    (prepared, key) => ({ key, prepared }),
  );
  return (request: AssumeRoleRequest) => {
    try {
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
