/**
 * Review 21: `matchesKnown` (and `sameJson` under it) against objects built to make a comparison and a serialisation
 * disagree. Each case asserts the promise of `matchesKnown`: true only when `requestText` of the request as it is now
 * is the text the known request was made from; and the index resolves every request to the key (or refusal) a cold
 * `prepareAssumeRole` of it gives.
 */
import fc from 'fast-check';
import { hashKey } from '../../../src/cache/cache-key';
import { keyIndex } from '../../support/key-index';
import { knownRequestOf, matchesKnown } from '../../../src/cache/known-request';
import { requestText } from '../../../src/cache/request-text';
import { prepareAssumeRole } from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

const defaults = { defaultExternalId: () => undefined, defaultSessionDuration: 3600, maxSessionDuration: 43200 };
const ROLE = 'arn:aws:iam::123456789012:role/A';
const statement = () => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
const doc = (statements: unknown) => ({ Version: '2012-10-17', Statement: statements });
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const HUB = 'arn:aws:iam::999999999999:role/Hub';
const HUB2 = 'arn:aws:iam::888888888888:role/Hub2';
const P1 = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const P2 = 'arn:aws:iam::aws:policy/AdministratorAccess';
const CONTEXT_PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
const context = (user: string) => ({ providerArn: CONTEXT_PROVIDER, contextAssertion: `${user}-context` });

/** The key (or refusal) of a cold preparation of the request as it is now. */
function cold(request: AssumeRoleRequest): string {
  try {
    return hashKey('b', prepareAssumeRole(request, defaults));
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

/** An index whose answers are checked to be its keys. */
function indexOf(maxSize = 1_000): (request: AssumeRoleRequest) => string {
  const index = keyIndex(defaults, maxSize, 'b');
  return (request) => {
    try {
      return index.resolve(request);
    } catch (error) {
      return `refused: ${(error as Error).message}`;
    }
  };
}

/** `seen` is resolved first, then `live`: each must resolve to its own cold key, and match only its own text. */
function expectEachItsOwn(seen: () => AssumeRoleRequest, live: () => AssumeRoleRequest): void {
  const resolve = indexOf();
  expect(resolve(seen())).toBe(cold(seen()));
  expect(resolve(live())).toBe(cold(live()));
  expect(resolve(seen())).toBe(cold(seen()));
  const known = knownRequestOf(requestText(seen())!);
  expect(matchesKnown(live(), known)).toBe(requestText(live()) === requestText(seen()));
}

describe('review 21: a policy object that is not what its prototype says', () => {
  it('an array behind a proxy that reports Object.prototype is not the object {"0": …}', () => {
    const asObject = () => ({ roleArn: ROLE, policy: doc({ 0: statement() }) });
    const asArray = () => ({ roleArn: ROLE, policy: doc(new Proxy([statement()], { getPrototypeOf: () => Object.prototype })) });
    expect(JSON.stringify(asArray().policy)).toContain('"Statement":[');
    expectEachItsOwn(asObject, asArray);
  });

  it.each([
    ['Boolean', () => new Boolean(false)],
    ['Number', () => new Number(7)],
    ['String', () => new String('')],
  ])('a boxed %s whose prototype is reset to Object.prototype is serialised as its primitive, not as {…}', (_, boxed) => {
    const masked = () => Object.assign(Object.setPrototypeOf(boxed(), Object.prototype) as object, statement());
    const plain = () => ({ roleArn: ROLE, policy: doc([statement()]) });
    const live = () => ({ roleArn: ROLE, policy: doc([masked()]) });
    expect(JSON.stringify(live().policy)).not.toBe(JSON.stringify(plain().policy));
    expectEachItsOwn(plain, live);
  });
});

describe('review 21: a list whose iterator says something else than its indices', () => {
  /** An array of `items` whose own iterator yields `iterated` instead (what a spread reads). */
  const iteratingAs = <T>(items: T[], iterated: T[]): T[] =>
    Object.defineProperty([...items], Symbol.iterator, { value: () => iterated[Symbol.iterator]() });
  class Listed<T> extends Array<T> {
    static of<T>(...items: T[]): Listed<T> {
      return Object.assign(new Listed<T>(), items);
    }
  }

  it.each([
    ['providedContexts', () => [context('alice')], () => iteratingAs([context('alice')], [context('bob')])],
    [
      'policyArns',
      () => ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      () => iteratingAs(['arn:aws:iam::aws:policy/ReadOnlyAccess'], ['arn:aws:iam::aws:policy/AdministratorAccess']),
    ],
    ['transitiveTagKeys', () => ['tenant'], () => iteratingAs(['tenant'], ['plan'])],
  ])('%s: resolved by what a cold preparation reads, never by the known list its indices repeat', (field, seenList, liveList) => {
    const base = { roleArn: ROLE, tags: { tenant: 'a', plan: 'pro' } };
    expectEachItsOwn(
      () => ({ ...base, [field]: seenList() }),
      () => ({ ...base, [field]: liveList() }),
    );
  });

  it('an array subclass of the same items is the same request', () => {
    const base = { roleArn: ROLE, tags: { tenant: 'a' } };
    expectEachItsOwn(
      () => ({ ...base, transitiveTagKeys: ['tenant'], providedContexts: [context('alice')] }),
      () => ({ ...base, transitiveTagKeys: Listed.of('tenant'), providedContexts: Listed.of(context('alice')) }),
    );
  });
});

describe('review 21: sequences of odd requests on one index, against cold preparations (fast-check)', () => {
  const B = 'arn:aws:iam::123456789012:role/B';
  const policyDoc = (resource = '*') =>
    doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: resource }]) as { Version: string; Statement: object[] };
  const holey = <T>(item: T): T[] => {
    const list = [item];
    list.length = 2;
    return list;
  };
  const withGetterAt = <T>(items: T[], index: number): T[] => {
    const value = items[index];
    return Object.defineProperty([...items], index, { enumerable: true, get: () => value });
  };
  class Listed<T> extends Array<T> {}
  const listed = <T>(...items: T[]): T[] => Object.assign(new Listed<T>(), items);
  class Tags {
    tenant = 'a';
  }
  class Statement {
    Effect = 'Allow';
    Action = 's3:GetObject';
    Resource = '*';
  }
  const nullProto = <T extends object>(fields: T): T => Object.assign(Object.create(null) as T, fields);

  /** Per field, named ways to give it: each builds a fresh value that behaves the same every time it is built. */
  const VARIANTS: Record<string, Record<string, () => unknown>> = {
    roleArn: { A: () => ROLE, B: () => B, boxed: () => new String(ROLE), absent: () => undefined },
    externalId: { absent: () => undefined, a: () => 'tenant-a', b: () => 'tenant-b', boxed: () => new String('tenant-a'), number: () => 7 },
    durationSeconds: {
      absent: () => undefined,
      d900: () => 900,
      d3600: () => 3600,
      minusZero: () => -0,
      zero: () => 0,
      nan: () => NaN,
      infinity: () => Infinity,
      fraction: () => 3600.5,
      text: () => '3600',
      boxed: () => new Number(3600),
      huge: () => 1e21,
    },
    sessionName: { absent: () => undefined, s: () => 'session', boxed: () => new String('session'), other: () => 'other' },
    sourceIdentity: { absent: () => undefined, alice: () => 'alice', bob: () => 'bob' },
    policy: {
      absent: () => undefined,
      text: () => JSON.stringify(policyDoc()),
      spacedText: () => JSON.stringify(policyDoc(), null, 1),
      object: () => policyDoc(),
      other: () => policyDoc('arn:aws:s3:::b/*'),
      reordered: () => ({ Statement: policyDoc().Statement, Version: '2012-10-17' }),
      inheritedToJSON: () => Object.assign(Object.create({ toJSON: () => policyDoc('arn:aws:s3:::b/*') }) as object, policyDoc()),
      classStatement: () => doc([new Statement()]),
      nullProto: () => nullProto(policyDoc()),
      nullProtoStatement: () => doc([nullProto({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })]),
      holeyStatements: () => doc(holey(policyDoc().Statement[0])),
      extraProp: () => doc(Object.assign([...policyDoc().Statement], { extra: 'x' })),
      subclass: () => doc(listed(...policyDoc().Statement)),
      getterIndex: () => doc(withGetterAt(policyDoc().Statement, 0)),
      proxy: () => new Proxy(policyDoc(), {}),
      stringObject: () => new String(JSON.stringify(policyDoc())),
      indexedObject: () => doc({ 0: policyDoc().Statement[0] }),
      proxiedArray: () => doc(new Proxy(policyDoc().Statement, { getPrototypeOf: () => Object.prototype })),
      boxedStatement: () =>
        doc([Object.assign(Object.setPrototypeOf(new Boolean(false), Object.prototype) as object, policyDoc().Statement[0])]),
    },
    policyArns: {
      absent: () => undefined,
      one: () => [P1],
      two: () => [P1, P2],
      swapped: () => [P2, P1],
      holey: () => holey(P1),
      subclass: () => listed(P1),
      extraProp: () => Object.assign([P1], { extra: P2 }),
      getterIndex: () => withGetterAt([P1], 0),
      proxy: () => new Proxy([P1], {}),
      iteratorLies: () => Object.defineProperty([P1], Symbol.iterator, { value: () => [P2][Symbol.iterator]() }),
    },
    tags: {
      absent: () => undefined,
      a: () => ({ tenant: 'a' }),
      b: () => ({ tenant: 'b' }),
      two: () => ({ plan: 'pro', tenant: 'a' }),
      twoSwapped: () => ({ tenant: 'a', plan: 'pro' }),
      integerLike: () => ({ '01': 'y', 1: 'x' }),
      protoKey: () => JSON.parse('{"__proto__":"a"}') as object,
      protoLiteral: () => ({ __proto__: { tenant: 'b' }, tenant: 'a' }),
      inherited: () => Object.assign(Object.create({ plan: 'pro' }) as object, { tenant: 'a' }),
      nullProto: () => nullProto({ tenant: 'a' }),
      classInstance: () => new Tags(),
      symbolKey: () => ({ tenant: 'a', [Symbol('plan')]: 'pro' }),
      proxy: () => new Proxy({ tenant: 'a' }, {}),
      hiddenKey: () => Object.defineProperty({ tenant: 'a' }, 'plan', { value: 'pro', enumerable: false }),
      getterValue: () => Object.defineProperty({}, 'tenant', { enumerable: true, get: () => 'a' }),
    },
    transitiveTagKeys: {
      absent: () => undefined,
      tenant: () => ['tenant'],
      plan: () => ['plan'],
      subclass: () => listed('tenant'),
      holey: () => holey('tenant'),
    },
    providedContexts: {
      absent: () => undefined,
      alice: () => [context('alice')],
      bob: () => [context('bob')],
      nullProto: () => [nullProto(context('alice'))],
      inherited: () => [Object.create(context('bob')) as object],
      holey: () => holey(context('alice')),
    },
    mfa: {
      absent: () => undefined,
      device: () => ({ serialNumber: 'arn:aws:iam::123456789012:mfa/alice', tokenCode: '123456' }),
    },
    via: {
      absent: () => undefined,
      hub: () => ({ roleArn: HUB }),
      hubWithId: () => ({ roleArn: HUB, externalId: 'hub' }),
      hubViaHub2: () => ({ roleArn: HUB, via: { roleArn: HUB2 } }),
      hubViaHub2WithId: () => ({ roleArn: HUB, via: { roleArn: HUB2, externalId: 'x' } }),
      anotherChainsRole: () => ({ roleArn: ROLE }),
      hubWithPolicy: () => ({ roleArn: HUB, policy: policyDoc() }),
      hubWithOtherPolicy: () => ({ roleArn: HUB, policy: policyDoc('arn:aws:s3:::b/*') }),
    },
  };
  const FIELDS = Object.keys(VARIANTS);
  /** Mostly the usual values, so requests repeat and hit; the odd ones often enough to meet every chain. */
  const variant = (field: string) => {
    const names = Object.keys(VARIANTS[field]);
    return fc.oneof({ weight: 6, arbitrary: fc.constant(names[0]) }, { weight: 1, arbitrary: fc.constantFrom(...names) });
  };
  const spec = fc.record({
    fields: fc.record(Object.fromEntries(FIELDS.map((field) => [field, variant(field)])) as Record<string, fc.Arbitrary<string>>),
    /** Many session names on one role: past its 16 known requests, and past maxSize. */
    user: fc.option(fc.integer({ min: 0, max: 23 }), { nil: undefined }),
  });
  /** One field (or two) of a request given another way: a near miss of it, or the same request written otherwise. */
  const edit = fc.array(
    fc.constantFrom(...FIELDS).chain((field) => fc.tuple(fc.constant(field), fc.constantFrom(...Object.keys(VARIANTS[field])))),
    { minLength: 1, maxLength: 2 },
  );
  /** A valid request with every field: its near misses are what `matchesKnown` must tell apart. */
  const FULL = {
    fields: {
      roleArn: 'A',
      externalId: 'a',
      durationSeconds: 'd900',
      sessionName: 's',
      sourceIdentity: 'alice',
      policy: 'object',
      policyArns: 'one',
      tags: 'a',
      transitiveTagKeys: 'tenant',
      providedContexts: 'alice',
      via: 'hub',
      mfa: 'absent',
    } as Record<string, string>,
    user: undefined,
  };
  /** A request and near misses of it, then calls that repeat them (hits), each polluted or not. */
  const scenario = fc
    .tuple(
      fc.oneof({ weight: 3, arbitrary: fc.constant(FULL) }, { weight: 1, arbitrary: spec }),
      fc.array(fc.tuple(edit, fc.option(fc.integer({ min: 0, max: 23 }), { nil: undefined })), { maxLength: 24 }),
      fc.array(fc.tuple(fc.nat(), fc.constantFrom('none', 'none', 'none', 'object', 'arrayIndex')), { minLength: 1, maxLength: 60 }),
    )
    .map(([base, edits, calls]) => {
      const specs = [base, ...edits.map(([changes, user]) => ({ fields: { ...base.fields, ...Object.fromEntries(changes) }, user }))];
      return calls.map(([at, pollution]) => ({ ...specs[at % specs.length], pollution }));
    });
  type Call = typeof scenario extends fc.Arbitrary<Array<infer T>> ? T : never;
  const build = ({ fields, user }: Call): AssumeRoleRequest => {
    const request: Record<string, unknown> = {};
    for (const field of FIELDS) {
      const value = VARIANTS[field][fields[field]]();
      if (value !== undefined) request[field] = value;
    }
    if (user !== undefined) request.sessionName = `user-${user}`;
    return request as unknown as AssumeRoleRequest;
  };
  /** Runs `work` with Object.prototype or Array.prototype given an enumerable key (index 1: a hole's value). */
  function polluted<T>(pollution: Call['pollution'], work: () => T): T {
    const target: Record<string, unknown> | undefined =
      pollution === 'object'
        ? (Object.prototype as Record<string, unknown>)
        : pollution === 'arrayIndex'
          ? (Array.prototype as never)
          : undefined;
    const key = pollution === 'object' ? 'plan' : '1';
    if (target !== undefined) target[key] = pollution === 'object' ? 'pro' : P2;
    try {
      return work();
    } finally {
      if (target !== undefined) delete target[key];
    }
  }

  it('each call resolves to the key (or refusal) of a cold preparation of the same request, polluted or not', () => {
    let hits = 0;
    fc.assert(
      fc.property(scenario, fc.constantFrom(4, 8, 1_000), (calls, maxSize) => {
        const resolve = indexOf(maxSize);
        const seen = new Set<string>();
        for (const each of calls) {
          const [got, expected] = polluted(each.pollution, () => [resolve(build(each)), cold(build(each))]);
          if (!expected.startsWith('refused') && seen.has(expected)) hits++;
          seen.add(expected);
          expect([each, got]).toEqual([each, expected]);
        }
      }),
      { seed: SEED, numRuns: 700 },
    );
    // Not vacuous: many calls repeated a valid request (a hit, unless maxSize dropped it).
    expect(hits).toBeGreaterThan(1_000);
  });
});

describe('review 21: a nested value that answers differently at each read', () => {
  type Pick = () => 0 | 1;
  const getter = <T extends object>(target: T, key: PropertyKey, values: [unknown, unknown], pick: Pick): T =>
    Object.defineProperty(target, key, { enumerable: true, configurable: true, get: () => values[pick()] });
  const statement = (resource: string) => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: resource });
  /** A valid request with every field, one place of which is read through `pick`. */
  const base = (place: string, pick: Pick): AssumeRoleRequest => {
    const tags: Record<string, string> = { tenant: 'a', plan: 'pro' };
    const request = {
      roleArn: ROLE,
      externalId: 'tenant-a',
      sessionName: 'session',
      sourceIdentity: 'alice',
      policy: doc([statement('*')]),
      policyArns: [P1, P2],
      tags,
      transitiveTagKeys: ['tenant'],
      providedContexts: [{ providerArn: CONTEXT_PROVIDER, contextAssertion: 'alice-context' }],
      via: { roleArn: HUB, externalId: 'hub' } as AssumeRoleRequest,
    };
    const PLACES: Record<string, () => void> = {
      tagValue: () => getter(tags, 'tenant', ['a', 'b'], pick),
      tagKeys: () =>
        (request.tags = new Proxy(tags, {
          ownKeys: (target) => (pick() === 0 ? Reflect.ownKeys(target) : ['tenant']),
        })),
      policyArn: () => getter(request.policyArns, 0, [P1, 'arn:aws:iam::aws:policy/PowerUserAccess'], pick),
      policyArnsLength: () =>
        (request.policyArns = new Proxy(request.policyArns, {
          get: (target, key, receiver) => (key === 'length' ? [2, 1][pick()] : Reflect.get(target, key, receiver)),
        })),
      resource: () => getter((request.policy.Statement as object[])[0], 'Resource', ['*', 'arn:aws:s3:::b/*'], pick),
      statements: () => getter(request.policy, 'Statement', [[statement('*')], [statement('*'), statement('arn:aws:s3:::b/*')]], pick),
      transitiveKey: () => getter(request.transitiveTagKeys, 0, ['tenant', 'plan'], pick),
      assertion: () => getter(request.providedContexts[0], 'contextAssertion', ['alice-context', 'bob-context'], pick),
      viaExternalId: () => getter(request.via, 'externalId', ['hub', undefined], pick),
      viaVia: () => getter(request.via, 'via', [undefined, { roleArn: HUB2 }], pick),
      viaRole: () => getter(request.via, 'roleArn', [HUB, HUB2], pick),
    };
    PLACES[place]();
    return request as AssumeRoleRequest;
  };
  const PLACE_NAMES = [
    'tagValue',
    'tagKeys',
    'policyArn',
    'policyArnsLength',
    'resource',
    'statements',
    'transitiveKey',
    'assertion',
    'viaExternalId',
    'viaVia',
    'viaRole',
  ];

  it('every call resolves to the key of one of its readings, with the steady requests known or not (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PLACE_NAMES),
        fc.array(fc.oneof(fc.constantFrom('steady0', 'steady1'), fc.array(fc.constantFrom(0, 1), { minLength: 1, maxLength: 40 })), {
          minLength: 1,
          maxLength: 12,
        }),
        (place, calls) => {
          const resolve = indexOf();
          const readings = [cold(base(place, () => 0)), cold(base(place, () => 1))];
          expect(readings[0]).not.toBe(readings[1]);
          expect(readings.join()).not.toContain('refused');
          for (const each of calls) {
            if (typeof each === 'string') {
              const steady = each === 'steady0' ? 0 : 1;
              expect(resolve(base(place, () => steady))).toBe(readings[steady]);
              continue;
            }
            let read = 0;
            const key = resolve(base(place, () => each[read++ % each.length] as 0 | 1));
            expect(readings).toContain(key);
          }
        },
      ),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('review 21: one policy object changed between calls', () => {
  const other = () => doc([{ Effect: 'Deny', Action: '*', Resource: '*' }]);
  const policyOf = () => doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]) as Record<string, unknown>;

  it.each([
    ['an own toJSON added', (policy: Record<string, unknown>) => (policy.toJSON = other)],
    ['a toJSON inherited through a new prototype', (policy: Record<string, unknown>) => Object.setPrototypeOf(policy, { toJSON: other })],
    ['a statement given a toJSON', (policy: Record<string, unknown>) => ((policy.Statement as object[])[0] = { toJSON: () => other() })],
    ['a key added, then deleted', (policy: Record<string, unknown>) => (policy.Id = 'x')],
  ])('%s after the first call: the next call resolves to what the object says now', (_, change) => {
    const resolve = indexOf();
    const policy = policyOf();
    const request = () => ({ roleArn: ROLE, tags: { tenant: 'a' }, policy }) as AssumeRoleRequest;
    const first = resolve(request());
    expect(first).toBe(cold({ ...request(), policy: policyOf() }));
    change(policy);
    expect(resolve(request())).toBe(cold(request()));
    expect(resolve(request())).not.toBe(first);
  });

  it('Object.prototype given a toJSON during a call: the request is refused, and known again once it is gone', () => {
    const resolve = indexOf();
    const request = () => ({ roleArn: ROLE, tags: { tenant: 'a' }, policy: policyOf() }) as AssumeRoleRequest;
    const first = resolve(request());
    const prototype = Object.prototype as Record<string, unknown>;
    Object.defineProperty(prototype, 'toJSON', { configurable: true, writable: true, value: () => 'polluted' });
    try {
      expect(JSON.stringify(request().policy)).toBe('"polluted"');
      // Both refuse (the index with another message: its own text is written by JSON.stringify too); nothing is kept.
      expect(cold(request())).toMatch(/^refused/);
      expect(resolve(request())).toMatch(/^refused/);
    } finally {
      delete prototype.toJSON;
    }
    expect(resolve(request())).toBe(first);
  });
});

describe('review 21: one role past its 16 known requests, with the memory dropped in the middle of its chain', () => {
  const scoped = (user: number, tenant: string): AssumeRoleRequest => ({
    roleArn: ROLE,
    sourceIdentity: `user-${user}`,
    tags: { tenant },
    policy: doc([{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${tenant}/*` }]),
  });

  it.each([7, 17, 48, 1_000])(
    'maxSize %i: 30 users of one role, in three passes and two tenants, each resolve to their cold key',
    (maxSize) => {
      const resolve = indexOf(maxSize);
      const keys = new Set<string>();
      for (const pass of [0, 1, 2]) {
        for (let user = 0; user < 30; user++) {
          const tenant = (user + pass) % 2 === 0 ? 'a' : 'b';
          const key = resolve(scoped(user, tenant));
          expect([pass, user, key]).toEqual([pass, user, cold(scoped(user, tenant))]);
          keys.add(key);
        }
      }
      expect(keys.size).toBe(60);
    },
  );
});
