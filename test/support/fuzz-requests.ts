/**
 * fast-check generators of StsService requests for the fuzz spec: valid, near-valid (boundaries) and adversarial
 * values for every field, plus service options and what the mocked STS answers.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { serviceError } from './fixtures';

/** Anything at all: any code point (control characters, astral planes), huge numbers, NaN, nested objects… */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom('\u0000', '\u0007', '\n', '\r', '\t', '\u0085', '\u2028', '\uFEFF', '\uD800', 'a', ':'),
    maxLength: 30,
  }),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, -1, 900.5, 2 ** 53, Number.MAX_VALUE, 1e-300),
  fc.integer(),
  fc.bigInt(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.date({ noInvalidDate: false }),
  fc.anything({
    maxDepth: 2,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
  }),
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
  fc
    .tuple(fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'), accountId, fc.constantFrom('', 'team/', 'a/b/'), roleName)
    .map(([p, a, path, n]) => `arn:${p}:iam::${a}:role/${path}${n}`),
  fc.oneof(
    fc.tuple(accountId, fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })).map(([a, n]) => `arn:aws:iam::${a}:role/${n}`),
    fc.constantFrom(
      'arn:aws:iam::123456789012:role/tab\there',
      'arn:aws:iam::123456789012:role/nul\u0000',
      'arn:aws:iam::123456789012:role/bell\u0007',
      'arn:aws:iam::123456789012:user/Bob',
      'arn:aws:iam::12345678901:role/X',
      'arn:aws:sts::123456789012:role/X',
      'arn:aws:iam::123456789012:role/',
      `arn:aws:iam::123456789012:role/${'r'.repeat(2030)}`,
      'arn:aws:iam:us-east-1:123456789012:role/X',
    ),
  ),
  false,
);
const sessionName = field(
  fc.stringMatching(/^[\w+=,.@-]{2,64}$/),
  fc.constantFrom('a', ofLength('s', 65), 'has space', 'tab\there', 'ünïcode'),
);
const externalId = field(
  fc.stringMatching(/^[\w+=,.@:/-]{2,40}$/),
  fc.constantFrom('x', ofLength('e', 1224), ofLength('e', 1225), 'with space', 'semi;colon'),
);
const sourceIdentity = field(
  fc.stringMatching(/^[\w+=,.@-]{2,64}$/),
  fc.constantFrom('aws:x', 'AWS:admin', 'Aws:x', 'a', ofLength('s', 65), 'with space'),
);
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
  fc.record({
    serialNumber: fc.oneof(fc.stringMatching(/^[\w+=/:,.@-]{9,60}$/), fc.constant('arn:aws:iam::123456789012:mfa/alice')),
    tokenCode,
  }),
  fc.record({ serialNumber: fc.oneof(fc.constantFrom('GAHT1234', ofLength('s', 257), 'has space in it'), junk), tokenCode }),
);
const durationSeconds = field(
  fc.oneof(fc.integer({ min: 900, max: 3600 }), fc.constantFrom(900, 3600, 43_200)),
  fc.oneof(
    fc.integer({ min: 0, max: 140_000 }),
    fc.constantFrom(899, 3601, 7200, 43_201, 129_600, 129_601, 900.5, -900, NaN, Infinity, -Infinity, 2 ** 31, '3600'),
    fc.double(),
  ),
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
const validPolicyArn = fc.oneof(
  fc.tuple(fc.oneof(accountId, fc.constant('aws')), roleName).map(([a, n]) => `arn:aws:iam::${a}:policy/${n}`),
  fc.constant('arn:aws:iam::aws:policy/ReadOnlyAccess'),
);
const policyArn = fc.oneof(
  { weight: 6, arbitrary: validPolicyArn },
  { weight: 1, arbitrary: fc.constantFrom('arn:aws:iam::123456789012:role/NotAPolicy', `arn:aws:iam::aws:policy/${'p'.repeat(2030)}`) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(accountId, fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }))
      .map(([a, n]) => `arn:aws:iam::${a}:policy/${n}`),
  },
  { weight: 1, arbitrary: junk },
);
const policyArns = field(fc.array(validPolicyArn, { maxLength: 10 }), fc.array(policyArn, { maxLength: 12 }));
const tagKey = fc.oneof(
  fc.constantFrom(
    'Team',
    'team',
    'Env',
    'Project',
    'aws:reserved',
    'AWS:x',
    '',
    ofLength('k', 128),
    ofLength('k', 129),
    'ключ',
    '𝒜𝒷',
    'a b',
    'a\tb',
    'a;b',
  ),
  fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,20}$/u),
  fc.string({ unit: 'binary', maxLength: 10 }),
);
const tagValue = fc.oneof(
  fc.constantFrom('', 'v', ofLength('v', 256), ofLength('v', 257), 'значение', 'a;b', 'line\nbreak'),
  fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u),
  junk,
);
const tags = field(
  fc.dictionary(fc.constantFrom('Team', 'Env', 'Project'), fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u), { maxKeys: 3 }),
  fc.dictionary(tagKey, tagValue, { maxKeys: 55 }),
);
const transitiveTagKeys = field(
  fc.subarray(['Team', 'Env']),
  fc.array(fc.oneof(fc.constantFrom('Team', 'team', 'Env', 'Project', 'Nope'), junk), { maxLength: 52 }),
);

/** The fields AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML share, in the order each record lists them. */
const roleSessionFields = { roleArn, durationSeconds, policy, policyArns };

const assumeRoleFields = {
  ...roleSessionFields,
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
  tags: maybe(
    fc.dictionary(fc.constantFrom('Team', 'Env', 'Project'), fc.stringMatching(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,30}$/u), { maxKeys: 3 }),
  ),
  sourceIdentity: maybe(fc.stringMatching(/^[\w+=,.@-]{2,64}$/)),
  mfa: maybe(
    fc.record({
      serialNumber: fc.stringMatching(/^[\w+=/:,.@-]{9,60}$/),
      tokenCode: fc.oneof(
        sixDigits,
        sixDigits.map((code) => async () => code),
      ),
    }),
  ),
};

/** assumeRole requests: mostly fields of every kind, some with only valid values (and a `via` chain), some junk. */
export const assumeRoleRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record(
      { ...assumeRoleFields, via: maybe(fc.oneof(fc.record(assumeRoleFields, { requiredKeys: [] }), junk)) },
      { requiredKeys: [] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      { ...validAssumeRoleFields, via: fc.oneof(fc.constant(undefined), fc.record(validAssumeRoleFields, { requiredKeys: ['roleArn'] })) },
      { requiredKeys: ['roleArn'] },
    ),
  },
  { weight: 1, arbitrary: junk },
);

/**
 * webIdentityToken / webIdentityTokenFile requests. Token file paths stay inside `tokenDir` (where
 * `validTokenFile` holds a readable token), so no special file (/dev/zero, a FIFO) can be hit by chance.
 */
export function webIdentityRequest(tokenDir: string, validTokenFile: string): fc.Arbitrary<unknown> {
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record(
        {
          ...roleSessionFields,
          sessionName,
          webIdentityToken: field(
            fc.string({ minLength: 4, maxLength: 200 }),
            fc.constantFrom('abc', ofLength('t', 20_000), ofLength('t', 20_001), '😀😀', '😀😀😀😀'),
          ),
          webIdentityTokenFile: fc.oneof(
            { weight: 4, arbitrary: fc.constant(undefined) },
            { weight: 2, arbitrary: fc.constant(validTokenFile) },
            {
              weight: 1,
              arbitrary: fc.oneof(
                fc.constant(join(tokenDir, 'missing')),
                fc.constant(tokenDir),
                fc.string({ unit: 'binary', maxLength: 20 }).map((name) => join(tokenDir, name)),
              ),
            },
            {
              weight: 1,
              arbitrary: fc.constantFrom(
                null,
                true,
                0,
                1,
                2,
                -1,
                NaN,
                {},
                [],
                { path: 'x' },
                Object.create(null),
                Buffer.from(validTokenFile),
              ),
            },
          ),
          providerId: field(fc.constantFrom('www.amazon.com', 'graph.facebook.com'), fc.constantFrom('abc', ofLength('p', 2049))),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: junk },
  );
}

/** assumeRoleWithSaml requests. */
export const samlRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record(
      {
        ...roleSessionFields,
        principalArn: field(
          accountId.map((a) => `arn:aws:iam::${a}:saml-provider/Okta`),
          fc.constantFrom('arn:aws:iam::123456789012:role/Okta', 'arn:aws:iam::123456789012:saml-provider/'),
          false,
        ),
        samlAssertion: field(
          fc.base64String({ minLength: 4, maxLength: 400 }),
          fc.constantFrom('abc', ofLength('A', 100_000), ofLength('A', 100_001), '😀😀', '😀😀😀😀'),
          false,
        ),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: junk },
);

/** getSessionToken requests. */
export const sessionTokenRequest: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ durationSeconds, mfa }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: junk },
);

const ROOT_TASKS = [
  'IAMAuditRootUserCredentials',
  'IAMCreateRootUserPassword',
  'IAMDeleteRootUserCredentials',
  'S3UnlockBucketPolicy',
  'SQSUnlockQueuePolicy',
];
export const assumeRootRequest: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      targetPrincipal: field(
        accountId,
        fc.constantFrom('12345678901', '1234567890123', 'arn:aws:iam::123456789012:root', '12345678901a'),
        false,
      ),
      taskPolicyArn: field(
        fc
          .tuple(fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'), fc.constantFrom(...ROOT_TASKS))
          .map(([p, n]) => `arn:${p}:iam::aws:policy/root-task/${n}`),
        fc.oneof(
          fc.constantFrom(...ROOT_TASKS).map((n) => `arn:aws:iam::123456789012:policy/root-task/${n}`),
          fc.constantFrom('arn:aws:iam::aws:policy/root-task/AdministratorAccess', 'arn:aws:iam::aws:policy/AdministratorAccess'),
          fc.constantFrom(...ROOT_TASKS).map((n) => `arn:aws:iam::aws:policy/root-task/${n}\n`),
        ),
        false,
      ),
      durationSeconds: field(fc.integer({ min: 0, max: 900 }), fc.constantFrom(-1, 901, 899.5, 3600)),
    }),
  },
  { weight: 1, arbitrary: junk },
);

export const tradeInToken: fc.Arbitrary<unknown> = field(
  fc.string({ minLength: 1, maxLength: 200 }),
  fc.constantFrom('', ofLength('t', 16_384), ofLength('t', 16_385), ofLength('😀', 16_384)),
  false,
);

/** The service options that change validation: requireExternalId, EXTERNAL_ID, MAX_SESSION_DURATION. */
export const serviceConfig = fc.record({
  requireExternalId: fc.boolean(),
  EXTERNAL_ID: maybe(fc.stringMatching(/^[\w+=,.@:/-]{2,20}$/)),
  MAX_SESSION_DURATION: maybe(fc.constantFrom(3600, 7200, 43_200)),
});

/** What the mocked STS answers: success, or some error an SDK could throw. */
export const stsAnswer = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ ok: true as const }) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc
          .tuple(
            fc.constantFrom(
              'AccessDenied',
              'Throttling',
              'ValidationError',
              'MalformedPolicyDocumentException',
              'ExpiredTokenException',
              'TimeoutError',
              'Error',
            ),
            fc.string(),
            fc.constantFrom(400, 403, 500, 503),
          )
          .map(([name, message, status]) => serviceError(name, message, status) as unknown),
        fc.string(),
        fc.constantFrom(undefined, null, 0, { message: 'plain object' }),
      )
      .map((error) => ({ ok: false as const, error })),
  },
);
