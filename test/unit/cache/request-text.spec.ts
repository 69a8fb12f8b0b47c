import fc from 'fast-check';
import { PreparedRequestIndex, hashKey } from '../../../src/cache/cache-key';
import { requestOfText, requestText } from '../../../src/cache/request-text';
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
    return prepareAssumeRole(request, defaults).canonical;
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

/** Values of every type where each field expects one, and odd shapes (null, numbers, getters' worth of objects). */
const anything = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.stringMatching(/^[a-z0-9:=,.@/-]{0,8}$/));
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
    policyArns: fc.oneof(fc.array(fc.oneof(word.map((name) => `arn:aws:iam::aws:policy/${name}`), anything), { maxLength: 3 }), anything),
    tags: fc.oneof(fc.dictionary(fc.oneof(word, fc.constant('__proto__'), fc.constant('aws:x')), fc.oneof(word, anything), { maxKeys: 3 }), anything),
    transitiveTagKeys: fc.oneof(fc.array(word, { maxLength: 2 }), anything),
    sourceIdentity: fc.oneof(word, anything),
    via: fc.oneof(fc.record({ roleArn: fc.constant('arn:aws:iam::999999999999:role/Hub'), externalId: fc.oneof(word, anything) }, { requiredKeys: ['roleArn'] }), anything),
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
    const throwing = { roleArn: ROLE, policy: { toJSON: () => { throw new Error('no'); } } } as unknown as AssumeRoleRequest;
    expect(requestText(throwing)).toBeUndefined();
  });
});

describe('the index of prepared requests', () => {
  it('answers a request whose text it knows without preparing (validating, serialising) it again', () => {
    const index = new PreparedRequestIndex(defaults, 1_000, (prepared) => hashKey('b', prepared));
    const first = index.resolve(scoped());
    const before = prepareCalls();
    for (let i = 0; i < 10; i++) expect(index.resolve(scoped())).toBe(first);
    expect(prepareCalls()).toBe(before);
  });

  it('validates a request whose text is new, even when it means the same as one it knows', () => {
    const index = new PreparedRequestIndex(defaults, 1_000, (prepared) => hashKey('b', prepared));
    const key = index.resolve(scoped());
    const before = prepareCalls();
    const reordered = { ...scoped(), tags: { team: 'x', tier: 'gold', region: 'eu', plan: 'pro', tenant: 'a' } };
    expect(index.resolve(reordered)).toBe(key);
    expect(prepareCalls()).toBe(before + 1);
    expect(() => index.resolve({ ...scoped(), tags: { ...scoped().tags, 'aws:bad': 'x' } })).toThrow(/tags/);
    expect(() => index.resolve({ ...scoped(), tags: { tenant: undefined as unknown as string } })).toThrow(/tags/);
  });
});
