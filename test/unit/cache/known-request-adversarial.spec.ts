/**
 * Review 21: `matchesKnown` (and `sameJson` under it) against objects built to make a comparison and a serialisation
 * disagree. Each case asserts the promise of `matchesKnown`: true only when `requestText` of the request as it is now
 * is the text the known request was made from; and the index resolves every request to the key (or refusal) a cold
 * `prepareAssumeRole` of it gives.
 */
import { PreparedRequestIndex, hashKey } from '../../../src/cache/cache-key';
import { knownRequestOf, matchesKnown } from '../../../src/cache/known-request';
import { requestText } from '../../../src/cache/request-text';
import { prepareAssumeRole } from '../../../src/sts/role-request';
import type { AssumeRoleRequest } from '../../../src';

const defaults = { defaultExternalId: () => undefined, defaultSessionDuration: 3600, maxSessionDuration: 43200 };
const ROLE = 'arn:aws:iam::123456789012:role/A';
const statement = () => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
const doc = (statements: unknown) => ({ Version: '2012-10-17', Statement: statements });

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
  const index = new PreparedRequestIndex(
    defaults,
    maxSize,
    (prepared) => hashKey('b', prepared),
    (_prepared, key) => key,
  );
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
  const CONTEXT_PROVIDER = 'arn:aws:iam::aws:contextProvider/IdentityCenter';
  const context = (user: string) => ({ providerArn: CONTEXT_PROVIDER, contextAssertion: `${user}-context` });
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
