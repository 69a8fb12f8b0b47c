/** customerRoleTemplate: a CloudFormation template (TemplateBody) of the customer's role, checked structurally. */
import { STS_LIMITS, customerRoleTemplate, trustPolicy } from '../../../src';
import { validationRefusal } from '../../support/async-helpers';

const PRINCIPAL = 'arn:aws:iam::111122223333:role/Connector';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] };

describe('customerRoleTemplate', () => {
  const template = customerRoleTemplate({ principalArn: PRINCIPAL });
  const role = template.Resources.Role;

  it('is a CloudFormation template with a description', () => {
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
    expect(typeof template.Description).toBe('string');
    expect(template.Description.length).toBeGreaterThan(0);
    expect(Buffer.byteLength(template.Description)).toBeLessThanOrEqual(1024); // CloudFormation's limit
  });

  it('takes the ExternalId as a hidden parameter held to the STS rules', () => {
    const { ExternalId } = template.Parameters;
    expect(ExternalId).toMatchObject({
      Type: 'String',
      NoEcho: true,
      MinLength: STS_LIMITS.externalId.min,
      MaxLength: STS_LIMITS.externalId.max,
    });
    // CloudFormation matches AllowedPattern against the whole value, so the pattern is STS's without its anchors.
    const allowed = new RegExp(`^${ExternalId.AllowedPattern}$`);
    for (const good of ['c0ffee00c0ffee00c0ffee00c0ffee00', 'a=b,c.d@e:f/g-h+i_j']) expect(good).toMatch(allowed);
    for (const bad of ['with space', 'hash#', 'clé']) expect(bad).not.toMatch(allowed);
    expect(ExternalId.ConstraintDescription).toContain('[\\w+=,.@:/-]');
  });

  it('creates one IAM role trusting the principal only with the ExternalId parameter: the trustPolicy shape', () => {
    expect(Object.keys(template.Resources)).toEqual(['Role']);
    expect(role.Type).toBe('AWS::IAM::Role');
    const shape = trustPolicy({ principalArn: PRINCIPAL, externalId: 'placeholder' });
    shape.Statement[0].Condition.StringEquals['sts:ExternalId'] = { Ref: 'ExternalId' } as never;
    expect(role.Properties.AssumeRolePolicyDocument).toEqual(shape);
  });

  it('outputs the role ARN', () => {
    expect(template.Outputs.RoleArn.Value).toEqual({ 'Fn::GetAtt': ['Role', 'Arn'] });
    expect(typeof template.Outputs.RoleArn.Description).toBe('string');
  });

  it('leaves out every option not given', () => {
    expect(Object.keys(role.Properties)).toEqual(['AssumeRolePolicyDocument']);
  });

  it('sets the role name, managed policies, inline policy and session length given', () => {
    const full = customerRoleTemplate({
      principalArn: PRINCIPAL,
      roleName: 'VendorAccess',
      managedPolicyArns: [READ_ONLY],
      policy: POLICY,
      maxSessionDuration: 7200,
    });
    expect(full.Resources.Role.Properties).toMatchObject({
      RoleName: 'VendorAccess',
      ManagedPolicyArns: [READ_ONLY],
      Policies: [{ PolicyName: expect.any(String), PolicyDocument: POLICY }],
      MaxSessionDuration: 7200,
    });
  });

  it('takes the inline policy as JSON text too, and puts it in as an object', () => {
    const full = customerRoleTemplate({ principalArn: PRINCIPAL, policy: JSON.stringify(POLICY) });
    expect(full.Resources.Role.Properties.Policies).toEqual([{ PolicyName: expect.any(String), PolicyDocument: POLICY }]);
  });

  it('copies what it is given: changing the options afterwards does not change the template', () => {
    const arns = [READ_ONLY];
    const policy = structuredClone(POLICY);
    const copy = customerRoleTemplate({ principalArn: PRINCIPAL, managedPolicyArns: arns, policy });
    arns.push('arn:aws:iam::aws:policy/AdministratorAccess');
    policy.Statement[0].Action = '*';
    expect(copy.Resources.Role.Properties.ManagedPolicyArns).toEqual([READ_ONLY]);
    expect(copy.Resources.Role.Properties.Policies?.[0].PolicyDocument).toEqual(POLICY);
  });

  it('round-trips through JSON.stringify and JSON.parse (a valid TemplateBody)', () => {
    const full = customerRoleTemplate({
      principalArn: PRINCIPAL,
      roleName: 'VendorAccess',
      managedPolicyArns: [READ_ONLY],
      policy: POLICY,
      maxSessionDuration: 43_200,
    });
    for (const each of [template, full]) expect(JSON.parse(JSON.stringify(each))).toEqual(each);
  });

  it.each([
    ['an assumed-role session principal', { principalArn: 'arn:aws:sts::111122223333:assumed-role/R/s' }, 'principalArn'],
    ['a bad principal', { principalArn: 'nope' }, 'principalArn'],
    ['an empty role name', { roleName: '' }, 'roleName'],
    ['a role name of 65 characters', { roleName: 'r'.repeat(65) }, 'roleName'],
    ['a role name with a slash', { roleName: 'team/role' }, 'roleName'],
    ['managed policies that are not an array', { managedPolicyArns: READ_ONLY }, 'managedPolicyArns'],
    ['21 managed policies', { managedPolicyArns: new Array(21).fill(READ_ONLY) }, 'managedPolicyArns'],
    ['a role ARN among the managed policies', { managedPolicyArns: [READ_ONLY, PRINCIPAL] }, 'managedPolicyArns[1]'],
    ['an inline policy that is not JSON', { policy: '{ Version:' }, 'policy'],
    ['an inline policy that is an array', { policy: [POLICY] }, 'policy'],
    [
      'an inline policy over 10,240 characters',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'x'.repeat(10_240) }] } },
      'policy',
    ],
    ['a wildcard principal', { principalArn: 'arn:aws:iam::111122223333:user/*' }, 'principalArn'],
    ['a principal with a quote', { principalArn: 'arn:aws:iam::111122223333:role/a"b' }, 'principalArn'],
    ['an inline policy that is not a policy document', { policy: { foo: 'bar' } }, 'policy.Version'],
    ['an inline policy without a Statement', { policy: { Version: '2012-10-17' } }, 'policy.Statement'],
    ['an inline policy of an unknown Version', { policy: { ...POLICY, Version: '2024-01-01' } }, 'policy.Version'],
    ['an inline policy whose Statement is empty', { policy: { Version: '2012-10-17', Statement: [] } }, 'policy.Statement'],
    ['a statement that is not an object', { policy: { Version: '2012-10-17', Statement: ['Allow'] } }, 'policy.Statement[0]'],
    [
      'a statement without an Effect',
      { policy: { Version: '2012-10-17', Statement: [{ Action: 's3:GetObject', Resource: '*' }] } },
      'policy.Statement[0].Effect',
    ],
    [
      'an Effect of "allow"',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'allow', Action: 's3:GetObject', Resource: '*' }] } },
      'policy.Statement[0].Effect',
    ],
    [
      'a statement without an Action',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*' }] } },
      'policy.Statement[0].Action',
    ],
    [
      'an Action that is not text',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: [42], Resource: '*' }] } },
      'policy.Statement[0].Action',
    ],
    [
      'a statement without a Resource',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] } },
      'policy.Statement[0].Resource',
    ],
    [
      'an empty Resource list',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: [] }] } },
      'policy.Statement[0].Resource',
    ],
    [
      'both Action and NotAction',
      { policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', NotAction: 'iam:*', Resource: '*' }] } },
      'policy.Statement[0].Action',
    ],
    [
      'a Principal in a permissions policy',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Principal: '*' }] } },
      'policy.Statement[0].Principal',
    ],
    [
      'a Condition that is not an object',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Condition: 'yes' }] } },
      'policy.Statement[0].Condition',
    ],
    [
      'a Condition operator without a block of keys',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Condition: { StringEquals: 'yes' } }] } },
      'policy.Statement[0].Condition.StringEquals',
    ],
    [
      'a Condition value that is an object',
      {
        policy: {
          Version: '2012-10-17',
          Statement: [{ ...POLICY.Statement[0], Condition: { StringEquals: { 'aws:PrincipalTag/team': { a: 1 } } } }],
        },
      },
      'policy.Statement[0].Condition.StringEquals',
    ],
    [
      'a Condition value that is null',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Condition: { Bool: { 'aws:SecureTransport': null } } }] } },
      'policy.Statement[0].Condition.Bool',
    ],
    [
      'an empty list of Condition values',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Condition: { StringLike: { 's3:prefix': [] } } }] } },
      'policy.Statement[0].Condition.StringLike',
    ],
    [
      'an unknown statement element',
      { policy: { Version: '2012-10-17', Statement: [{ ...POLICY.Statement[0], Effects: 'Deny' }] } },
      'policy.Statement[0]',
    ],
    ['an unknown top-level element', { policy: { ...POLICY, Statements: [] } }, 'policy'],
    ['an inline policy text that is not a policy document', { policy: '{"foo":"bar"}' }, 'policy.Version'],
    ['a session of 3599 seconds', { maxSessionDuration: 3599 }, 'maxSessionDuration'],
    ['a session of 43201 seconds', { maxSessionDuration: 43_201 }, 'maxSessionDuration'],
    ['a session of 1.5 hours as a fraction', { maxSessionDuration: 5400.5 }, 'maxSessionDuration'],
  ])('refuses %s', (_label, options, field) => {
    const error = validationRefusal(() => customerRoleTemplate({ principalArn: PRINCIPAL, ...(options as object) }));
    expect(error.field).toBe(field);
  });

  it.each([
    [
      'one statement as an object, NotAction and NotResource',
      { Version: '2012-10-17', Statement: { Sid: 'Read', Effect: 'Deny', NotAction: ['s3:Get*'], NotResource: 'arn:aws:s3:::x/*' } },
    ],
    [
      'the 2008 version with a Condition',
      { Version: '2008-10-17', Statement: [{ ...POLICY.Statement[0], Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] },
    ],
    [
      'Condition values as a string, a list, a number and a boolean',
      {
        Version: '2012-10-17',
        Statement: [
          {
            ...POLICY.Statement[0],
            Condition: {
              StringLike: { 's3:prefix': ['a/', 'b/'] },
              NumericLessThan: { 's3:max-keys': 10 },
              Bool: { 'aws:SecureTransport': true },
              StringEquals: { 'aws:PrincipalTag/team': 'x' },
            },
          },
        ],
      },
    ],
    [
      'an Id and several statements',
      {
        Version: '2012-10-17',
        Id: 'p1',
        Statement: [POLICY.Statement[0], { Effect: 'Deny', Action: ['s3:DeleteObject'], Resource: ['*'] }],
      },
    ],
  ])('takes a policy document with %s', (_label, policy) => {
    expect(customerRoleTemplate({ principalArn: PRINCIPAL, policy }).Resources.Role.Properties.Policies).toEqual([
      { PolicyName: 'AccessPolicy', PolicyDocument: policy },
    ]);
  });

  it('says what the session length must be, in seconds', () => {
    expect(validationRefusal(() => customerRoleTemplate({ principalArn: PRINCIPAL, maxSessionDuration: 60 })).rule).toBe(
      'must be an integer between 3600 and 43200 seconds',
    );
  });
});

describe('customerRoleTemplate: what sessions may carry', () => {
  it('gives the template the same trust actions trustPolicy would', () => {
    const template = customerRoleTemplate({ principalArn: PRINCIPAL, allowSessionTags: true, allowSourceIdentity: true });
    const [statement] = template.Resources.Role.Properties.AssumeRolePolicyDocument.Statement;
    expect(statement.Action).toEqual(
      trustPolicy({ principalArn: PRINCIPAL, externalId: 'x0', allowSessionTags: true, allowSourceIdentity: true }).Statement[0].Action,
    );
    expect(statement.Condition).toEqual({ StringEquals: { 'sts:ExternalId': { Ref: 'ExternalId' } } });
  });
});
