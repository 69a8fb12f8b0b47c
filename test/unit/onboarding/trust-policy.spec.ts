/** trustPolicy: the document a customer's role needs, and the principals and ExternalIds it refuses. */
import { trustPolicy } from '../../../src';
import { visibleText } from '../../support/visible-text';
import { validationRefusal } from '../../support/async-helpers';

const PRINCIPAL = 'arn:aws:iam::111122223333:role/vendor/Connector';
const EXTERNAL_ID = 'c0ffee00c0ffee00c0ffee00c0ffee00';

describe('trustPolicy', () => {
  it('allows sts:AssumeRole to the principal only with the ExternalId', () => {
    expect(trustPolicy({ principalArn: PRINCIPAL, externalId: EXTERNAL_ID })).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: PRINCIPAL },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } },
        },
      ],
    });
  });

  it.each([
    ['a role', 'arn:aws:iam::111122223333:role/Connector'],
    ['a role with a path', PRINCIPAL],
    ['a user', 'arn:aws:iam::111122223333:user/app'],
    ['a user with a path', 'arn:aws:iam::111122223333:user/apps/app'],
    [
      'a role with a deep path and every name character',
      'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123+=,.@-x',
    ],
    ['a role name of 64 characters', `arn:aws:iam::111122223333:role/${'r'.repeat(64)}`],
    ['an account root', 'arn:aws:iam::111122223333:root'],
    ['an account id', '111122223333'],
    ['a role in aws-cn', 'arn:aws-cn:iam::111122223333:role/Connector'],
    ['a user in aws-us-gov', 'arn:aws-us-gov:iam::111122223333:user/app'],
  ])('names %s as given', (_label, principalArn) => {
    expect(trustPolicy({ principalArn, externalId: EXTERNAL_ID }).Statement[0].Principal).toEqual({ AWS: principalArn });
  });

  it('is plain JSON: it round-trips through JSON.stringify', () => {
    const policy = trustPolicy({ principalArn: PRINCIPAL, externalId: EXTERNAL_ID });
    expect(JSON.parse(JSON.stringify(policy))).toEqual(policy);
  });

  it('refuses an assumed-role session ARN and says to use sts.trustPrincipal()', () => {
    const error = validationRefusal(() =>
      trustPolicy({ principalArn: 'arn:aws:sts::111122223333:assumed-role/Connector/session-1', externalId: EXTERNAL_ID }),
    );
    expect(error.field).toBe('principalArn');
    expect(error.rule).toMatch(/assumed-role session/);
    expect(error.rule).toContain('sts.trustPrincipal()');
  });

  it.each([
    ['a federated user session', 'arn:aws:sts::111122223333:federated-user/bob'],
    ['a role ARN without a name', 'arn:aws:iam::111122223333:role/'],
    ['a group', 'arn:aws:iam::111122223333:group/admins'],
    ['a policy', 'arn:aws:iam::111122223333:policy/p'],
    ['an S3 ARN', 'arn:aws:s3:::bucket'],
    ['an 11-digit account', 'arn:aws:iam::11112222333:root'],
    ['an 11-digit account id', '11112222333'],
    ['a region in an IAM ARN', 'arn:aws:iam:us-east-1:111122223333:role/r'],
    ['a service principal', 'lambda.amazonaws.com'],
    ['a wildcard', '*'],
    ['every user of an account', 'arn:aws:iam::111122223333:user/*'],
    ['roles by a name prefix', 'arn:aws:iam::111122223333:role/app*'],
    ['a name with a ? wildcard', 'arn:aws:iam::111122223333:role/app?'],
    ['a wildcard path', 'arn:aws:iam::111122223333:role/*/Connector'],
    ['a quoted name', 'arn:aws:iam::111122223333:role/"Connector"'],
    ['a name with a space', 'arn:aws:iam::111122223333:role/My Connector'],
    ['a name with a trailing space', 'arn:aws:iam::111122223333:user/app '],
    ['a path with a space', 'arn:aws:iam::111122223333:role/my team/Connector'],
    ['a role name of 65 characters', `arn:aws:iam::111122223333:role/${'r'.repeat(65)}`],
    ['a user name of 65 characters', `arn:aws:iam::111122223333:user/${'u'.repeat(65)}`],
    ['a path without its closing slash segment', 'arn:aws:iam::111122223333:role/team//Connector'],
    ['an empty string', ''],
    ['a number', 111122223333],
    ['undefined', undefined],
  ])('refuses %s as the principal', (_label, principalArn) => {
    const error = validationRefusal(() => trustPolicy({ principalArn: principalArn as string, externalId: EXTERNAL_ID }));
    expect(error.field).toBe('principalArn');
    expect(error.code).toBe('InvalidInput');
  });

  it.each([
    ['one character', 'a'],
    ['1225 characters', 'a'.repeat(1225)],
    ['a space', 'customer secret'],
    ['a character outside [\\w+=,.@:/-]', 'customer#secret'],
    ['unicode', 'clé-du-client'],
    ['empty', ''],
    ['missing', undefined],
  ])('refuses an ExternalId with %s, without echoing it', (_label, externalId) => {
    const error = validationRefusal(() => trustPolicy({ principalArn: PRINCIPAL, externalId: externalId as string }));
    expect(error.field).toBe('externalId');
    expect(error.rule).toBe('must be 2–1224 characters of [\\w+=,.@:/-]');
    if (externalId && externalId.length > 1) expect(visibleText(error)).not.toContain(externalId); // one letter is in any text
  });

  it('never shows the ExternalId in the error for a bad principal', () => {
    const error = validationRefusal(() =>
      trustPolicy({ principalArn: 'arn:aws:sts::111122223333:assumed-role/R/s', externalId: EXTERNAL_ID }),
    );
    expect(visibleText(error)).not.toContain(EXTERNAL_ID);
  });

  it('refuses a request that is not an object', () => {
    expect(validationRefusal(() => trustPolicy(undefined as never)).field).toBe('request');
  });
});

describe('trustPolicy: what sessions may carry', () => {
  const actionOf = (options: { allowSessionTags?: boolean; allowSourceIdentity?: boolean }) =>
    trustPolicy({ principalArn: PRINCIPAL, externalId: EXTERNAL_ID, ...options }).Statement[0].Action;

  it('allows only sts:AssumeRole by default', () => {
    expect(actionOf({})).toBe('sts:AssumeRole');
  });

  it('adds sts:TagSession for session tags and sts:SetSourceIdentity for a source identity, which STS requires in the trust policy', () => {
    expect(actionOf({ allowSessionTags: true })).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(actionOf({ allowSourceIdentity: true })).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    expect(actionOf({ allowSessionTags: true, allowSourceIdentity: true })).toEqual([
      'sts:AssumeRole',
      'sts:TagSession',
      'sts:SetSourceIdentity',
    ]);
  });
});
