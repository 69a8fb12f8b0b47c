/**
 * Property tests of StsService over a mocked STSClient (aws-sdk-client-mock):
 *  1. whatever a caller passes, each operation settles with TemporaryCredentials or an StsError: never another
 *     error, never a synchronous throw;
 *  2. whenever a command is sent, its input is within every STS input limit (an independent checker, written from
 *     the STS API reference, not from src/sts.constants.ts);
 *  3. secrets planted in the request and echoed back by STS never show in the error (message, stack, cause,
 *     inspect, JSON), the Nest logs or `events$`.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { Logger } from '@nestjs/common';
import {
  AssumeRoleCommand,
  AssumeRoleWithSAMLCommand,
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import {
  StsError,
  TemporaryCredentials,
  type AssumeRoleRequest,
  type AssumeRoleWithSamlRequest,
  type AssumeRoleWithWebIdentityRequest,
  type GetSessionTokenRequest,
  type StsEvent,
} from '../src';
import type { StsService } from '../src';
import { assumeRoleOutput, createService, serviceError, stsCredentials } from './support/fixtures';
import { capturingLogger, visibleText } from './support/visible-text';

const sts = mockClient(STSClient);
const RUNS = 300;
/** Fixed so CI is repeatable; `FUZZ_SEED=<n>` explores other inputs (a failure prints its seed). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const tmp = mkdtempSync(join(tmpdir(), 'nestjs-aws-sts-fuzz-'));
const VALID_TOKEN_FILE = join(tmp, 'token');
writeFileSync(VALID_TOKEN_FILE, 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJmdXp6In0.sig\n');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------------------------
// Generators: valid, near-valid (boundaries) and adversarial values for every field.
// ---------------------------------------------------------------------------------------------------------------

/** Anything at all: any code point (control characters, astral planes), huge numbers, NaN, nested objects… */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('\u0000', '\u0007', '\n', '\r', '\t', '\u0085', '\u2028', '\uFEFF', '\uD800', 'a', ':'), maxLength: 30 }),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 900.5, 2 ** 53, Number.MAX_VALUE, 1e-300),
  fc.integer(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true }),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: arb });
/** A field: mostly valid (or absent when optional), sometimes near-valid, sometimes anything at all. */
const field = (valid: fc.Arbitrary<unknown>, near: fc.Arbitrary<unknown>, optional = true): fc.Arbitrary<unknown> =>
  fc.oneof(
    ...(optional ? [{ weight: 4, arbitrary: fc.constant(undefined) }] : []),
    { weight: 4, arbitrary: valid },
    { weight: 1, arbitrary: near },
    { weight: 1, arbitrary: junk },
  );
const ofLength = (char: string, length: number) => char.repeat(length);

const accountId = fc.stringMatching(/^\d{12}$/);
const roleName = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
const roleArn: fc.Arbitrary<unknown> = field(
  fc.tuple(fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'), accountId, fc.constantFrom('', 'team/', 'a/b/'), roleName).map(([p, a, path, n]) => `arn:${p}:iam::${a}:role/${path}${n}`),
  fc.oneof(
    fc.tuple(accountId, fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })).map(([a, n]) => `arn:aws:iam::${a}:role/${n}`),
    fc.constantFrom('arn:aws:iam::123456789012:role/tab\there', 'arn:aws:iam::123456789012:role/nul\u0000', 'arn:aws:iam::123456789012:role/bell\u0007', 'arn:aws:iam::123456789012:user/Bob', 'arn:aws:iam::12345678901:role/X', 'arn:aws:sts::123456789012:role/X', 'arn:aws:iam::123456789012:role/', `arn:aws:iam::123456789012:role/${'r'.repeat(2030)}`, 'arn:aws:iam:us-east-1:123456789012:role/X'),
  ),
  false,
);
const sessionName = field(fc.stringMatching(/^[\w+=,.@-]{2,64}$/), fc.constantFrom('a', ofLength('s', 65), 'has space', 'tab\there', 'ünïcode'));
const externalId = field(fc.stringMatching(/^[\w+=,.@:/-]{2,40}$/), fc.constantFrom('x', ofLength('e', 1224), ofLength('e', 1225), 'with space', 'semi;colon'));
const sourceIdentity = field(fc.stringMatching(/^[\w+=,.@-]{2,64}$/), fc.constantFrom('aws:x', 'AWS:admin', 'Aws:x', 'a', ofLength('s', 65), 'with space'));
const sixDigits = fc.stringMatching(/^\d{6}$/);
const tokenCode = fc.oneof(
  sixDigits,
  fc.constantFrom('12345', '1234567', '12345a', '١٢٣٤٥٦', ' 123456', '123456\n'),
  sixDigits.map((code) => () => code),
  sixDigits.map((code) => async () => code),
  junk.map((value) => () => value as string),
  junk.map((value) => async () => value as string),
  junk,
);
const mfa = field(
  fc.record({ serialNumber: fc.oneof(fc.stringMatching(/^[\w+=/:,.@-]{9,60}$/), fc.constant('arn:aws:iam::123456789012:mfa/alice')), tokenCode }),
  fc.record({ serialNumber: fc.oneof(fc.constantFrom('GAHT1234', ofLength('s', 257), 'has space in it'), junk), tokenCode }),
);
const durationSeconds = field(
  fc.oneof(fc.integer({ min: 900, max: 3600 }), fc.constantFrom(900, 3600, 43_200)),
  fc.oneof(fc.integer({ min: 0, max: 140_000 }), fc.constantFrom(899, 3601, 7200, 43_201, 129_600, 129_601, 900.5, -900, NaN, Infinity, -Infinity, 2 ** 31, '3600'), fc.double()),
);
const statement = fc.record({ Effect: fc.constantFrom('Allow', 'Deny'), Action: fc.string({ maxLength: 30 }), Resource: fc.constant('*') });
const policy = field(
  fc.oneof(
    fc.record({ Version: fc.constant('2012-10-17'), Statement: fc.array(statement, { maxLength: 3 }) }),
    fc.record({ Version: fc.constant('2012-10-17'), Statement: fc.array(statement, { maxLength: 3 }) }).map((doc) => JSON.stringify(doc)),
  ),
  fc.oneof(
    fc.record({ Version: fc.constant('2012-10-17'), Statement: fc.array(statement, { maxLength: 40 }) }),
    fc.string({ unit: 'binary', maxLength: 30 }).map((text) => ({ Version: '2012-10-17', Sid: text })),
    fc.constantFrom('{}', '[]', 'null', '42', '"x"', '{not json', '', ' ', `{"a":"${'x'.repeat(2050)}"}`),
    fc.bigInt().map((n) => ({ Version: '2012-10-17', Condition: n })),
  ),
);
const validPolicyArn = fc.oneof(fc.tuple(fc.oneof(accountId, fc.constant('aws')), roleName).map(([a, n]) => `arn:aws:iam::${a}:policy/${n}`), fc.constant('arn:aws:iam::aws:policy/ReadOnlyAccess'));
const policyArn = fc.oneof(
  { weight: 6, arbitrary: validPolicyArn },
  { weight: 1, arbitrary: fc.constantFrom('arn:aws:iam::123456789012:role/NotAPolicy', `arn:aws:iam::aws:policy/${'p'.repeat(2030)}`) },
  { weight: 1, arbitrary: fc.tuple(accountId, fc.string({ unit: 'binary', minLength: 1, maxLength: 10 })).map(([a, n]) => `arn:aws:iam::${a}:policy/${n}`) },
  { weight: 1, arbitrary: junk },
);
const policyArns = field(fc.array(validPolicyArn, { maxLength: 10 }), fc.array(policyArn, { maxLength: 12 }));
const tagKey = fc.oneof(
  fc.constantFrom('Team', 'team', 'Env', 'Project', 'aws:reserved', 'AWS:x', '', ofLength('k', 128), ofLength('k', 129), 'ключ', '𝒜𝒷', 'a b', 'a\tb', 'a;b'),
  fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,20}$/u),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const tagValue = fc.oneof(
  fc.constantFrom('', 'v', ofLength('v', 256), ofLength('v', 257), 'значение', 'a;b', 'line\nbreak'),
  fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u),
  junk,
);
const tags = field(fc.dictionary(fc.constantFrom('Team', 'Env', 'Project'), fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u), { maxKeys: 3 }), fc.dictionary(tagKey, tagValue, { maxKeys: 55 }));
const transitiveTagKeys = field(fc.subarray(['Team', 'Env']), fc.array(fc.oneof(fc.constantFrom('Team', 'team', 'Env', 'Project', 'Nope'), junk), { maxLength: 52 }));

const assumeRoleFields = {
  roleArn,
  durationSeconds,
  policy,
  policyArns,
  externalId,
  sessionName,
  tags,
  transitiveTagKeys,
  sourceIdentity,
  mfa,
};
/** Only valid values, so that many requests reach the wire and the limit checker has inputs to judge. */
const validAssumeRoleFields = {
  roleArn: fc.tuple(accountId, roleName).map(([a, n]) => `arn:aws:iam::${a}:role/${n}`),
  durationSeconds: maybe(fc.integer({ min: 900, max: 3600 })),
  policy: maybe(fc.record({ Version: fc.constant('2012-10-17'), Statement: fc.array(statement, { maxLength: 3 }) })),
  policyArns: maybe(fc.array(validPolicyArn, { maxLength: 10 })),
  externalId: maybe(fc.stringMatching(/^[\w+=,.@:/-]{2,40}$/)),
  sessionName: maybe(fc.stringMatching(/^[\w+=,.@-]{2,64}$/)),
  tags: maybe(fc.dictionary(fc.constantFrom('Team', 'Env', 'Project'), fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u), { maxKeys: 3 })),
  sourceIdentity: maybe(fc.stringMatching(/^[\w+=,.@-]{2,64}$/)),
  mfa: maybe(fc.record({ serialNumber: fc.stringMatching(/^[\w+=/:,.@-]{9,60}$/), tokenCode: fc.oneof(sixDigits, sixDigits.map((code) => async () => code)) })),
};
const assumeRoleRequest: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ ...assumeRoleFields, via: maybe(fc.oneof(fc.record(assumeRoleFields, { requiredKeys: [] }), junk)) }, { requiredKeys: [] }) },
  { weight: 2, arbitrary: fc.record({ ...validAssumeRoleFields, via: fc.oneof(fc.constant(undefined), fc.record(validAssumeRoleFields, { requiredKeys: ['roleArn'] })) }, { requiredKeys: ['roleArn'] }) },
  { weight: 1, arbitrary: junk },
);
const webIdentityRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        roleArn,
        durationSeconds,
        policy,
        policyArns,
        sessionName,
        webIdentityToken: field(fc.string({ minLength: 4, maxLength: 200 }), fc.constantFrom('abc', ofLength('t', 20_000), ofLength('t', 20_001), '😀😀', '😀😀😀😀')),
        // Paths stay inside a temporary directory: no special file (/dev/zero, a FIFO) can be hit by chance.
        webIdentityTokenFile: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.constant(VALID_TOKEN_FILE) },
          { weight: 1, arbitrary: fc.oneof(fc.constant(join(tmp, 'missing')), fc.constant(tmp), fc.string({ unit: 'binary', maxLength: 20 }).map((name) => join(tmp, name))) },
          { weight: 1, arbitrary: fc.constantFrom(null, true, 0, 1, 2, -1, NaN, {}, [], { path: 'x' }, Object.create(null), Buffer.from(VALID_TOKEN_FILE)) },
        ),
        providerId: field(fc.constantFrom('www.amazon.com', 'graph.facebook.com'), fc.constantFrom('abc', ofLength('p', 2049))),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
);
const samlRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        roleArn,
        durationSeconds,
        policy,
        policyArns,
        principalArn: field(accountId.map((a) => `arn:aws:iam::${a}:saml-provider/Okta`), fc.constantFrom('arn:aws:iam::123456789012:role/Okta', 'arn:aws:iam::123456789012:saml-provider/'), false),
        samlAssertion: field(fc.base64String({ minLength: 4, maxLength: 400 }), fc.constantFrom('abc', ofLength('A', 100_000), ofLength('A', 100_001), '😀😀', '😀😀😀😀'), false),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
);
const sessionTokenRequest: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ durationSeconds, mfa }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: junk },
);
const serviceConfig = fc.record({
  requireExternalId: fc.boolean(),
  EXTERNAL_ID: maybe(fc.stringMatching(/^[\w+=,.@:/-]{2,20}$/)),
  MAX_SESSION_DURATION: maybe(fc.constantFrom(3600, 7200, 43_200)),
});
/** What the mocked STS answers: success, or some error an SDK could throw. */
const stsAnswer = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ ok: true as const }) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.tuple(fc.constantFrom('AccessDenied', 'Throttling', 'ValidationError', 'MalformedPolicyDocumentException', 'ExpiredTokenException', 'TimeoutError', 'Error'), fc.string(), fc.constantFrom(400, 403, 500, 503)).map(([name, message, status]) => serviceError(name, message, status) as unknown),
        fc.string(),
        fc.constantFrom(undefined, null, 0, { message: 'plain object' }),
      )
      .map((error) => ({ ok: false as const, error })),
  },
);

// ---------------------------------------------------------------------------------------------------------------
// An independent checker of the STS input limits (AWS STS API reference), counting characters as code points.
// ---------------------------------------------------------------------------------------------------------------

type Input = Record<string, unknown>;
const chars = (value: string) => [...value].length;
const WORD_SESSION = /^[\w+=,.@-]*$/;
const WORD_EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
const WORD_SERIAL = /^[\w+=/:,.@-]*$/;
const ARN_CHARS = /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
const POLICY_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function stringWithin(violations: string[], rule: string, value: unknown, min: number, max: number, pattern?: RegExp, required = false): void {
  if (value === undefined) {
    if (required) violations.push(`${rule}: missing`);
    return;
  }
  if (typeof value !== 'string') return void violations.push(`${rule}: not a string`);
  if (chars(value) < min || chars(value) > max) violations.push(`${rule}: length ${min}–${max}`);
  if (pattern && !pattern.test(value)) violations.push(`${rule}: characters`);
}

function durationWithin(violations: string[], value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) violations.push(`DurationSeconds: integer ${min}–${max}`);
}

function roleSessionLimits(violations: string[], input: Input): void {
  stringWithin(violations, 'RoleArn', input.RoleArn, 20, 2048, ARN_CHARS, true);
  durationWithin(violations, input.DurationSeconds, 900, 43_200);
  stringWithin(violations, 'Policy', input.Policy, 1, 2048, POLICY_CHARS);
  if (input.PolicyArns !== undefined) {
    if (!Array.isArray(input.PolicyArns) || input.PolicyArns.length > 10) violations.push('PolicyArns: at most 10');
    else for (const entry of input.PolicyArns as Array<{ arn?: unknown }>) stringWithin(violations, 'PolicyArns[].arn', entry?.arn, 20, 2048, ARN_CHARS, true);
  }
}

function checkAssumeRole(input: Input, chained: boolean): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  if (chained && typeof input.DurationSeconds === 'number' && input.DurationSeconds > 3600) violations.push('DurationSeconds: at most 3600 when chained');
  stringWithin(violations, 'RoleSessionName', input.RoleSessionName, 2, 64, WORD_SESSION, true);
  stringWithin(violations, 'ExternalId', input.ExternalId, 2, 1224, WORD_EXTERNAL_ID);
  stringWithin(violations, 'SourceIdentity', input.SourceIdentity, 2, 64, WORD_SESSION);
  if (typeof input.SourceIdentity === 'string' && input.SourceIdentity.toLowerCase().startsWith('aws:')) violations.push('SourceIdentity: aws: prefix');
  stringWithin(violations, 'SerialNumber', input.SerialNumber, 9, 256, WORD_SERIAL);
  if (input.TokenCode !== undefined && !(typeof input.TokenCode === 'string' && /^\d{6}$/.test(input.TokenCode))) violations.push('TokenCode: 6 digits');
  if ((input.TokenCode === undefined) !== (input.SerialNumber === undefined)) violations.push('SerialNumber and TokenCode: both or neither');
  const tagKeys: string[] = [];
  if (input.Tags !== undefined) {
    const list = input.Tags as Array<{ Key?: unknown; Value?: unknown }>;
    if (!Array.isArray(list) || list.length > 50) violations.push('Tags: at most 50');
    else {
      for (const { Key, Value } of list) {
        stringWithin(violations, 'Tags[].Key', Key, 1, 128, TAG_CHARS, true);
        stringWithin(violations, 'Tags[].Value', Value, 0, 256, TAG_CHARS, true);
        if (typeof Key === 'string') {
          if (Key.toLowerCase().startsWith('aws:')) violations.push('Tags[].Key: aws: prefix');
          if (tagKeys.some((other) => other.toLowerCase() === Key.toLowerCase())) violations.push('Tags[].Key: unique ignoring case');
          tagKeys.push(Key);
        }
      }
    }
  }
  if (input.TransitiveTagKeys !== undefined) {
    const keys = input.TransitiveTagKeys as unknown[];
    if (!Array.isArray(keys) || keys.length > 50) violations.push('TransitiveTagKeys: at most 50');
    else if (!keys.every((key) => typeof key === 'string' && tagKeys.includes(key))) violations.push('TransitiveTagKeys: subset of the tag keys');
  }
  return violations;
}

function checkWebIdentity(input: Input): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  stringWithin(violations, 'RoleSessionName', input.RoleSessionName, 2, 64, WORD_SESSION, true);
  stringWithin(violations, 'WebIdentityToken', input.WebIdentityToken, 4, 20_000, undefined, true);
  stringWithin(violations, 'ProviderId', input.ProviderId, 4, 2048);
  return violations;
}

function checkSaml(input: Input): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  stringWithin(violations, 'PrincipalArn', input.PrincipalArn, 20, 2048, ARN_CHARS, true);
  stringWithin(violations, 'SAMLAssertion', input.SAMLAssertion, 4, 100_000, undefined, true);
  return violations;
}

function checkSessionToken(input: Input): string[] {
  const violations: string[] = [];
  durationWithin(violations, input.DurationSeconds, 900, 129_600);
  stringWithin(violations, 'SerialNumber', input.SerialNumber, 9, 256, WORD_SERIAL);
  if (input.TokenCode !== undefined && !(typeof input.TokenCode === 'string' && /^\d{6}$/.test(input.TokenCode))) violations.push('TokenCode: 6 digits');
  if ((input.TokenCode === undefined) !== (input.SerialNumber === undefined)) violations.push('SerialNumber and TokenCode: both or neither');
  return violations;
}

// ---------------------------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------------------------

type Outcome = { kind: 'sync-throw'; error: unknown } | { kind: 'resolved'; value: unknown } | { kind: 'rejected'; error: unknown };

/** Calls an operation, telling a synchronous throw from a rejection. */
async function settle(call: () => Promise<unknown>): Promise<Outcome> {
  let promise: Promise<unknown>;
  try {
    promise = call();
  } catch (error) {
    return { kind: 'sync-throw', error };
  }
  if (!(promise instanceof Promise)) return { kind: 'sync-throw', error: new Error('did not return a promise') };
  return promise.then(
    (value) => ({ kind: 'resolved', value }),
    (error: unknown) => ({ kind: 'rejected', error }),
  );
}

/** Long runs of one character (the boundary-length strings) shown as `<'A'×100000>`. */
const compact = (text: string) => text.replace(/(.)\1{39,}/gsu, (run: string, char: string) => `<'${char}'×${[...run].length}>`);

/** fc.assert with a readable report: counterexamples with huge strings are compacted. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function check(property: fc.IAsyncProperty<any>, numRuns = RUNS): Promise<void> {
  const details = await fc.check(property, { numRuns, seed: SEED });
  if (details.failed) {
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(compact(`Property failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}):\n  counterexample: ${fc.stringify(details.counterexample)}\n  ${cause}`));
  }
}

const describeValue = (value: unknown) => inspect(value, { depth: 3, breakLength: Infinity, maxStringLength: 120, maxArrayLength: 8 });

function isAcceptable(outcome: Outcome): boolean {
  if (outcome.kind === 'resolved') return outcome.value instanceof TemporaryCredentials;
  return outcome.kind === 'rejected' && outcome.error instanceof StsError;
}

function mockAnswers(answer: { ok: true } | { ok: false; error: unknown }): void {
  sts.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012', Arn: 'arn:aws:iam::123456789012:user/base', UserId: 'AIDABASE' });
  if (answer.ok) {
    sts.on(AssumeRoleCommand).callsFake((input: { RoleArn?: string }) => {
      const arn = typeof input.RoleArn === 'string' && input.RoleArn.split(':').length >= 6 && input.RoleArn.includes('/') ? input.RoleArn : undefined;
      return arn ? assumeRoleOutput(arn) : { Credentials: stsCredentials() };
    });
    sts.on(AssumeRoleWithWebIdentityCommand).resolves({ Credentials: stsCredentials(), SubjectFromWebIdentityToken: 'sub' });
    sts.on(AssumeRoleWithSAMLCommand).resolves({ Credentials: stsCredentials(), Subject: 'subject' });
    sts.on(GetSessionTokenCommand).resolves({ Credentials: stsCredentials() });
  } else {
    for (const command of [AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, AssumeRoleWithSAMLCommand, GetSessionTokenCommand] as const) {
      sts.on(command as typeof AssumeRoleCommand).callsFake(() => Promise.reject(answer.error));
    }
  }
}

interface Operation {
  name: string;
  request: fc.Arbitrary<unknown>;
  call: (service: StsService, request: unknown) => Promise<unknown>;
  sent: (service: StsService) => string[][];
}

const OPERATIONS: Operation[] = [
  {
    name: 'assumeRole',
    request: assumeRoleRequest,
    call: (service, request) => service.assumeRole(request as AssumeRoleRequest),
    sent: (service) => sts.commandCalls(AssumeRoleCommand).map((call) => checkAssumeRole(call.args[0].input as unknown as Input, call.thisValue !== service.stsClient)),
  },
  {
    name: 'assumeRoleWithWebIdentity',
    request: webIdentityRequest,
    call: (service, request) => service.assumeRoleWithWebIdentity(request as AssumeRoleWithWebIdentityRequest),
    sent: () => sts.commandCalls(AssumeRoleWithWebIdentityCommand).map((call) => checkWebIdentity(call.args[0].input as unknown as Input)),
  },
  {
    name: 'assumeRoleWithSaml',
    request: samlRequest,
    call: (service, request) => service.assumeRoleWithSaml(request as AssumeRoleWithSamlRequest),
    sent: () => sts.commandCalls(AssumeRoleWithSAMLCommand).map((call) => checkSaml(call.args[0].input as unknown as Input)),
  },
  {
    name: 'getSessionToken',
    request: sessionTokenRequest,
    call: (service, request) => service.getSessionToken(request as GetSessionTokenRequest),
    sent: () => sts.commandCalls(GetSessionTokenCommand).map((call) => checkSessionToken(call.args[0].input as unknown as Input)),
  },
];

describe.each(OPERATIONS)('$name with arbitrary requests', ({ request, call, sent }) => {
  it('settles with TemporaryCredentials or an StsError: nothing else, never a synchronous throw', async () => {
    await check(
      fc.asyncProperty(request, serviceConfig, stsAnswer, async (input, config, answer) => {
        mockAnswers(answer);
        const service = createService(config);
        const outcome = await settle(() => call(service, input));
        await service.onModuleDestroy();
        if (!isAcceptable(outcome)) {
          throw new Error(`unexpected outcome ${outcome.kind}: ${describeValue('error' in outcome ? outcome.error : outcome.value)}`);
        }
      }),
    );
  });

  it('sends only inputs within every STS limit', async () => {
    const violations = new Map<string, string>();
    let sentCount = 0;
    await check(
      fc.asyncProperty(request, serviceConfig, async (input, config) => {
        mockAnswers({ ok: true });
        const service = createService(config);
        await settle(() => call(service, input));
        await service.onModuleDestroy();
        for (const found of sent(service)) {
          sentCount += 1;
          for (const rule of found) if (!violations.has(rule)) violations.set(rule, compact(describeValue(input)));
        }
      }),
    );
    // The generators reach the wire often enough for the check to mean something.
    expect(sentCount).toBeGreaterThan(RUNS / 20);
    expect(Object.fromEntries(violations)).toEqual({});
  });
});

describe('targeted cases', () => {
  it('webIdentityTokenFile given as a number is not read as a file descriptor', async () => {
    const file = join(tmp, 'fd-token');
    writeFileSync(file, 'token-read-through-a-file-descriptor');
    const fd = openSync(file, 'r');
    try {
      mockAnswers({ ok: true });
      const outcome = await settle(() => createService().assumeRoleWithWebIdentity({ roleArn: 'arn:aws:iam::123456789012:role/Web', webIdentityTokenFile: fd as unknown as string }));
      expect(sts.commandCalls(AssumeRoleWithWebIdentityCommand)).toHaveLength(0);
      expect(outcome).toMatchObject({ kind: 'rejected', error: expect.any(StsError) });
    } finally {
      closeSync(fd);
    }
  });

  it('an MFA tokenCode function that throws rejects with an StsError', async () => {
    mockAnswers({ ok: true });
    const outcome = await settle(() =>
      createService().assumeRole({ roleArn: 'arn:aws:iam::123456789012:role/X', mfa: { serialNumber: 'GAHT12345678', tokenCode: () => { throw new Error('authenticator app unreachable'); } } }),
    );
    expect(outcome).toMatchObject({ kind: 'rejected', error: expect.any(StsError) });
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Planted secrets
// ---------------------------------------------------------------------------------------------------------------

describe('planted secrets never leak', () => {
  const capture = capturingLogger();
  const logged = capture.lines;
  beforeAll(() => Logger.overrideLogger(capture));
  afterAll(() => Logger.overrideLogger(false));

  type Position = 'webIdentityToken' | 'webIdentityTokenFile' | 'samlAssertion' | 'externalId' | 'configExternalId' | 'mfaAssumeRole' | 'mfaSessionToken';
  const POSITIONS: Position[] = ['webIdentityToken', 'webIdentityTokenFile', 'samlAssertion', 'externalId', 'configExternalId', 'mfaAssumeRole', 'mfaSessionToken'];
  const marker = fc.stringMatching(/^SECRET[A-Za-z0-9]{10,30}$/);
  const ROLE = 'arn:aws:iam::123456789012:role/Tenant';
  const SAML_PROVIDER = 'arn:aws:iam::123456789012:saml-provider/Okta';

  /** Runs the operation for `position` with `secret` in it. */
  function callWith(position: Position, secret: string, tokenFile: string): { config: { EXTERNAL_ID?: string }; run: (service: StsService) => Promise<unknown> } {
    switch (position) {
      case 'webIdentityToken':
        return { config: {}, run: (s) => s.assumeRoleWithWebIdentity({ roleArn: ROLE, webIdentityToken: secret }) };
      case 'webIdentityTokenFile':
        writeFileSync(tokenFile, `${secret}\n`);
        return { config: {}, run: (s) => s.assumeRoleWithWebIdentity({ roleArn: ROLE, webIdentityTokenFile: tokenFile }) };
      case 'samlAssertion':
        return { config: {}, run: (s) => s.assumeRoleWithSaml({ roleArn: ROLE, principalArn: SAML_PROVIDER, samlAssertion: secret }) };
      case 'externalId':
        return { config: {}, run: (s) => s.assumeRole({ roleArn: ROLE, externalId: secret }) };
      case 'configExternalId':
        return { config: { EXTERNAL_ID: secret }, run: (s) => s.assumeRole({ roleArn: ROLE }) };
      case 'mfaAssumeRole':
        return { config: {}, run: (s) => s.assumeRole({ roleArn: ROLE, mfa: { serialNumber: 'GAHT12345678', tokenCode: async () => secret } }) };
      case 'mfaSessionToken':
        return { config: {}, run: (s) => s.getSessionToken({ mfa: { serialNumber: 'GAHT12345678', tokenCode: secret } }) };
    }
  }

  /** The MFA code is 6 digits: look for it as a whole number, not inside timestamps or durations. */
  const leaks = (text: string, secret: string) => (/^\d{6}$/.test(secret) ? new RegExp(`(?<![\\d.])${secret}(?!\\d)`).test(text) : text.includes(secret));

  interface Echo {
    name: string;
    before: string;
    after: string;
    times: number;
    status: number;
  }
  const echo: fc.Arbitrary<Echo> = fc.record({
    name: fc.constantFrom('ValidationError', 'AccessDenied', 'InvalidIdentityTokenException', 'IDPRejectedClaimException', 'ExpiredTokenException', 'Throttling', 'InternalFailure'),
    before: fc.string({ maxLength: 30 }),
    after: fc.string({ maxLength: 30 }),
    times: fc.integer({ min: 1, max: 3 }),
    status: fc.constantFrom(400, 403, 500),
  });

  /** An error as a mock can build it: the echo in the message, the raw body in plain `$response` fields. */
  function plainError(secret: string, e: Echo) {
    const message = `${e.before}Value '${Array.from({ length: e.times }, () => secret).join("', '")}' failed${e.after}`;
    return serviceError(e.name, message, e.status, {
      $response: { statusCode: e.status, headers: {}, body: `<Error><Message>${secret}</Message></Error>` },
      $responseBodyText: `<Error><Message>${secret}</Message></Error>`,
    });
  }

  /**
   * An error shaped exactly as @aws-sdk/client-sts builds one from an STS error response (seen over the wire in
   * over-the-wire.e2e.spec.ts): `$response` non-enumerable and non-configurable, and the parsed body copied onto
   * the error (`Error: { Type, Code, Message }`, `Type`, `Code`, `RequestId`).
   */
  function sdkShapedError(secret: string, e: Echo) {
    const error = plainError(secret, e) as unknown as Error & Record<string, unknown>;
    delete error.$response;
    delete error.$responseBodyText;
    Object.defineProperty(error, '$response', { value: { statusCode: e.status, headers: {}, body: `<Error><Message>${error.message}</Message></Error>` }, enumerable: false, writable: false, configurable: false });
    Object.assign(error, { Type: 'Sender', Code: e.name, Error: { Type: 'Sender', Code: e.name, Message: error.message }, RequestId: 'req-0001' });
    return error;
  }

  async function plantAndCheck(position: Position, secret: string, error: unknown): Promise<void> {
    logged.length = 0;
    const tokenFile = join(tmp, `token-${position}`);
    const { config, run } = callWith(position, secret, tokenFile);
    sts.reset();
    for (const command of [AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, AssumeRoleWithSAMLCommand, GetSessionTokenCommand] as const) {
      sts.on(command as typeof AssumeRoleCommand).callsFake(() => Promise.reject(error));
    }
    const service = createService(config);
    const events: StsEvent[] = [];
    service.events$.subscribe((event) => events.push(event));
    const outcome = await settle(() => run(service));
    await service.onModuleDestroy();
    expect(sts.calls()).toHaveLength(1);
    if (outcome.kind !== 'rejected' || !(outcome.error instanceof StsError)) {
      throw new Error(`expected an StsError, got ${outcome.kind}: ${describeValue('error' in outcome ? outcome.error : outcome.value)}`);
    }
    const seen = [visibleText(outcome.error), ...logged, inspect(events, { depth: 10 }), JSON.stringify(events)].join('\n');
    if (leaks(seen, secret)) {
      const line = seen.split('\n').find((text) => leaks(text, secret));
      throw new Error(`secret at ${position} leaked: ${line?.slice(0, 300)}`);
    }
    expect(logged.length).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
  }

  const secretFor = (position: Position) => (position.startsWith('mfa') ? fc.stringMatching(/^\d{6}$/) : marker);
  const planted = fc.constantFrom(...POSITIONS).chain((position) => fc.record({ position: fc.constant(position), secret: secretFor(position), echo }));

  it('when STS echoes them in a message and a plain $response body', async () => {
    await check(
      fc.asyncProperty(planted, async ({ position, secret, echo: e }) => plantAndCheck(position, secret, plainError(secret, e))),
    );
  });

  it('when the error is shaped as @aws-sdk/client-sts shapes it (hidden non-configurable $response, parsed body copied on)', async () => {
    await check(
      fc.asyncProperty(planted, async ({ position, secret, echo: e }) => plantAndCheck(position, secret, sdkShapedError(secret, e))),
    );
  });
});
