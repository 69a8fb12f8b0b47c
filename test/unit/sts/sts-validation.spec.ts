import { STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { StsValidationError, type AssumeRoleRequest } from '../../../src';
import { ROLE_ARN, assumeRoleOutput, createService, stsCredentials } from '../../support/fixtures';

const sts = mockClient(STSClient);
beforeEach(() => {
  sts.reset();
  sts.onAnyCommand().resolves({ ...assumeRoleOutput(), Credentials: stsCredentials() });
});

const x = (n: number, char = 'a') => char.repeat(n);
const arnOfLength = (n: number) => `arn:aws:iam::123456789012:role/${x(n - 'arn:aws:iam::123456789012:role/'.length)}`;
const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

type Case = [label: string, request: Partial<AssumeRoleRequest>, field: string | null];

const assumeRoleCases: Case[] = [
  ['roleArn of 20+ chars in partition aws-us-gov', { roleArn: 'arn:aws-us-gov:iam::123456789012:role/r' }, null],
  ['roleArn in aws-cn with a path', { roleArn: 'arn:aws-cn:iam::123456789012:role/path/to/r' }, null],
  ['roleArn in aws-iso-b', { roleArn: 'arn:aws-iso-b:iam::123456789012:role/r' }, null],
  ['roleArn of 2048 chars', { roleArn: arnOfLength(2048) }, null],
  ['roleArn of 2049 chars', { roleArn: arnOfLength(2049) }, 'roleArn'],
  ['roleArn not an ARN', { roleArn: 'TenantAccess-role-name' }, 'roleArn'],
  ['roleArn of a user', { roleArn: 'arn:aws:iam::123456789012:user/alice' }, 'roleArn'],
  ['roleArn with an 11-digit account', { roleArn: 'arn:aws:iam::12345678901:role/r' }, 'roleArn'],
  ['roleArn in a region', { roleArn: 'arn:aws:iam:us-east-1:123456789012:role/r' }, 'roleArn'],
  ['roleArn of another service', { roleArn: 'arn:aws:sts::123456789012:role/r' }, 'roleArn'],
  ['roleArn with a bad partition', { roleArn: 'arn:azure:iam::123456789012:role/r' }, 'roleArn'],
  ['sessionName of 2 chars', { sessionName: 'ab' }, null],
  ['sessionName of 64 chars', { sessionName: x(64) }, null],
  ['sessionName of 1 char', { sessionName: 'a' }, 'sessionName'],
  ['sessionName of 65 chars', { sessionName: x(65) }, 'sessionName'],
  ['sessionName with all allowed symbols', { sessionName: 'a_b+c=d,e.f@g-h' }, null],
  ['sessionName with a space', { sessionName: 'a b' }, 'sessionName'],
  ['sessionName with a slash', { sessionName: 'a/b' }, 'sessionName'],
  ['externalId of 2 chars', { externalId: 'ab' }, null],
  ['externalId of 1224 chars', { externalId: x(1224) }, null],
  ['externalId of 1 char', { externalId: 'a' }, 'externalId'],
  ['externalId of 1225 chars', { externalId: x(1225) }, 'externalId'],
  ['externalId with : and /', { externalId: 'tenant:42/prod' }, null],
  ['externalId with a space', { externalId: 'tenant 42' }, 'externalId'],
  ['sourceIdentity of 64 chars', { sourceIdentity: x(64) }, null],
  ['sourceIdentity of 65 chars', { sourceIdentity: x(65) }, 'sourceIdentity'],
  ['sourceIdentity of 1 char', { sourceIdentity: 'a' }, 'sourceIdentity'],
  ['sourceIdentity starting with aws:', { sourceIdentity: 'aws:alice' }, 'sourceIdentity'],
  ['sourceIdentity starting with AWS: in capitals', { sourceIdentity: 'AWS:alice' }, 'sourceIdentity'],
  ['durationSeconds 900', { durationSeconds: 900 }, null],
  ['durationSeconds 43200', { durationSeconds: 43200 }, null],
  ['durationSeconds 899', { durationSeconds: 899 }, 'durationSeconds'],
  ['durationSeconds 43201', { durationSeconds: 43201 }, 'durationSeconds'],
  ['durationSeconds 1000.5', { durationSeconds: 1000.5 }, 'durationSeconds'],
  ['mfa serial of 9 chars', { mfa: { serialNumber: x(9), tokenCode: '123456' } }, null],
  ['mfa serial of 8 chars', { mfa: { serialNumber: x(8), tokenCode: '123456' } }, 'mfa.serialNumber'],
  ['mfa serial of 257 chars', { mfa: { serialNumber: x(257), tokenCode: '123456' } }, 'mfa.serialNumber'],
  ['mfa serial with a space', { mfa: { serialNumber: 'GAHT 12345678', tokenCode: '123456' } }, 'mfa.serialNumber'],
  ['mfa code of 5 digits', { mfa: { serialNumber: 'GAHT12345678', tokenCode: '12345' } }, 'mfa.tokenCode'],
  ['mfa code of 7 digits', { mfa: { serialNumber: 'GAHT12345678', tokenCode: '1234567' } }, 'mfa.tokenCode'],
  ['mfa code with a letter', { mfa: { serialNumber: 'GAHT12345678', tokenCode: '12345a' } }, 'mfa.tokenCode'],
  ['mfa code function returning 5 digits', { mfa: { serialNumber: 'GAHT12345678', tokenCode: () => '12345' } }, 'mfa.tokenCode'],
  ['policy of 2048 chars', { policy: `{"a":"${x(2040)}"}` }, null],
  ['policy of 2049 chars', { policy: `{"a":"${x(2041)}"}` }, 'policy'],
  ['policy that is not JSON', { policy: 'Allow everything' }, 'policy'],
  ['policy that is a JSON array', { policy: '[]' }, 'policy'],
  ['policy with a character above U+00FF', { policy: '{"a":"\u0100"}' }, 'policy'],
  ['10 policy ARNs', { policyArns: Array.from({ length: 10 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) }, null],
  ['11 policy ARNs', { policyArns: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) }, 'policyArns'],
  ['a policy ARN of a role', { policyArns: [ROLE_ARN] }, 'policyArns[0]'],
  ['50 tags', { tags: tags(50) }, null],
  ['51 tags', { tags: tags(51) }, 'tags'],
  ['a tag key of 128 chars', { tags: { [x(128)]: 'v' } }, null],
  ['a tag key of 129 chars', { tags: { [x(129)]: 'v' } }, 'tags'],
  ['an empty tag key', { tags: { '': 'v' } }, 'tags'],
  ['a tag value of 256 chars', { tags: { k: x(256) } }, null],
  ['a tag value of 257 chars', { tags: { k: x(257) } }, 'tags'],
  ['an empty tag value', { tags: { k: '' } }, null],
  ['a tag with unicode letters and allowed symbols', { tags: { 'projét_1.:/=+-@': 'värde 2' } }, null],
  ['a tag value with a forbidden character', { tags: { k: 'a#b' } }, 'tags'],
  ['a tag key starting with aws:', { tags: { 'aws:team': 'x' } }, 'tags'],
  ['tag keys differing only in case', { tags: { Team: 'a', team: 'b' } }, 'tags'],
  ['transitive keys naming passed tags', { tags: { a: '1' }, transitiveTagKeys: ['a'] }, null],
  ['a transitive key not in tags', { tags: { a: '1' }, transitiveTagKeys: ['b'] }, 'transitiveTagKeys'],
  ['51 transitive keys', { tags: tags(50), transitiveTagKeys: Array.from({ length: 51 }, (_, i) => `k${i % 50}`) }, 'transitiveTagKeys'],
  ['a via hop with a bad role ARN', { via: { roleArn: 'not-an-arn' } }, 'via.roleArn'],
];

describe('assumeRole input validation (nothing is sent for a bad request)', () => {
  it.each(assumeRoleCases)('%s', async (_label, overrides, field) => {
    const attempt = createService().assumeRole({ roleArn: ROLE_ARN, ...overrides } as AssumeRoleRequest);
    if (field === null) {
      await expect(attempt).resolves.toBeDefined();
      return;
    }
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StsValidationError);
    expect(error).toMatchObject({ code: 'InvalidInput', field, operation: 'AssumeRole', retryable: false });
    expect(sts.calls()).toHaveLength(0);
  });

  it('checks durations against MAX_SESSION_DURATION', async () => {
    const service = createService({ MAX_SESSION_DURATION: 7200 });
    await expect(service.assumeRole({ roleArn: ROLE_ARN, durationSeconds: 7200 })).resolves.toBeDefined();
    await expect(service.assumeRole({ roleArn: ROLE_ARN, durationSeconds: 7201 })).rejects.toMatchObject({
      field: 'durationSeconds',
      message: expect.stringContaining('MAX_SESSION_DURATION'),
    });
  });
});

describe('web identity, SAML and session token validation', () => {
  const service = () => createService();
  it.each([
    ['a 4-char token', () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: 'abcd' }), null],
    ['a 20000-char token', () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: x(20000) }), null],
    ['a 3-char token', () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: 'abc' }), 'webIdentityToken'],
    [
      'a 20001-char token',
      () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: x(20001) }),
      'webIdentityToken',
    ],
    ['no token and no file', () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN }), 'webIdentityToken'],
    [
      'both token and file',
      () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: 'abcd', webIdentityTokenFile: '/t' }),
      'webIdentityToken',
    ],
    [
      'a 3-char providerId',
      () => service().assumeRoleWithWebIdentity({ roleArn: ROLE_ARN, webIdentityToken: 'abcd', providerId: 'abc' }),
      'providerId',
    ],
    ['a bad web identity role', () => service().assumeRoleWithWebIdentity({ roleArn: 'role', webIdentityToken: 'abcd' }), 'roleArn'],
    [
      'a 4-char SAML assertion',
      () =>
        service().assumeRoleWithSaml({
          roleArn: ROLE_ARN,
          principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
          samlAssertion: 'abcd',
        }),
      null,
    ],
    [
      'a 100000-char SAML assertion',
      () =>
        service().assumeRoleWithSaml({
          roleArn: ROLE_ARN,
          principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
          samlAssertion: x(100000),
        }),
      null,
    ],
    [
      'a 100001-char SAML assertion',
      () =>
        service().assumeRoleWithSaml({
          roleArn: ROLE_ARN,
          principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
          samlAssertion: x(100001),
        }),
      'samlAssertion',
    ],
    [
      'a 3-char SAML assertion',
      () =>
        service().assumeRoleWithSaml({
          roleArn: ROLE_ARN,
          principalArn: 'arn:aws:iam::123456789012:saml-provider/Okta',
          samlAssertion: 'abc',
        }),
      'samlAssertion',
    ],
    [
      'a SAML principal that is a role',
      () => service().assumeRoleWithSaml({ roleArn: ROLE_ARN, principalArn: ROLE_ARN, samlAssertion: 'abcd' }),
      'principalArn',
    ],
    [
      'a SAML provider in aws-us-gov',
      () =>
        service().assumeRoleWithSaml({
          roleArn: ROLE_ARN,
          principalArn: 'arn:aws-us-gov:iam::123456789012:saml-provider/Okta',
          samlAssertion: 'abcd',
        }),
      null,
    ],
    ['a session token of 129600 s', () => service().getSessionToken({ durationSeconds: 129600 }), null],
    ['a session token of 129601 s', () => service().getSessionToken({ durationSeconds: 129601 }), 'durationSeconds'],
    ['a session token of 899 s', () => service().getSessionToken({ durationSeconds: 899 }), 'durationSeconds'],
    [
      'a session token with a bad MFA code',
      () => service().getSessionToken({ mfa: { serialNumber: 'GAHT12345678', tokenCode: 'abcdef' } }),
      'mfa.tokenCode',
    ],
  ])('%s', async (_label, call, field) => {
    if (field === null) {
      await expect(call()).resolves.toBeDefined();
      return;
    }
    await expect(call()).rejects.toMatchObject({ name: 'StsValidationError', code: 'InvalidInput', field });
    expect(sts.calls()).toHaveLength(0);
  });
});
