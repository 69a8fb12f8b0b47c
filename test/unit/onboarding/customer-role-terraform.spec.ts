/** customerRoleTerraform: the customer's role as Terraform JSON (`*.tf.json`), parsed back and held to customerRoleTemplate. */
import { customerRoleTemplate, customerRoleTerraform, trustPolicy, type CustomerRoleTemplateOptions } from '../../../src';
import { validationRefusal } from '../../support/async-helpers';

const PRINCIPAL = 'arn:aws:iam::111122223333:role/Connector';
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const BILLING = 'arn:aws:iam::aws:policy/job-function/Billing';
const POLICY = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/*' }] };
const FULL: CustomerRoleTemplateOptions = {
  principalArn: PRINCIPAL,
  roleName: 'VendorAccess',
  managedPolicyArns: [READ_ONLY, BILLING],
  policy: POLICY,
  maxSessionDuration: 7200,
  allowSessionTags: true,
};

/** What Terraform makes of a literal string of Terraform JSON: `$${` and `%%{` are escapes of `${` and `%{`. */
const unescapeTemplate = (text: string) => text.replace(/\$\$\{/g, '${').replace(/%%\{/g, '%{');

/** Terraform JSON as a reader sees it: the text `customerRoleTerraform` returns, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Terraform document read back field by field in the specs
const parsed = (options: CustomerRoleTemplateOptions): any => JSON.parse(customerRoleTerraform(options));

describe('customerRoleTerraform', () => {
  const minimal = parsed({ principalArn: PRINCIPAL });
  const full = parsed(FULL);

  it('is the text of a *.tf.json file: a JSON object of terraform, variable, resource and output blocks', () => {
    expect(typeof customerRoleTerraform({ principalArn: PRINCIPAL })).toBe('string');
    expect(Object.keys(minimal).sort()).toEqual(['output', 'resource', 'terraform', 'variable']);
    expect(minimal.terraform.required_providers.aws.source).toBe('hashicorp/aws');
  });

  it('takes the ExternalId as a sensitive string variable with no default and no validation block (Terraform prints a failing value)', () => {
    expect(minimal.variable.external_id).toEqual({ type: 'string', sensitive: true, description: expect.any(String) });
  });

  it("the role's assume_role_policy is trustPolicy's document with ${var.external_id} as the ExternalId", () => {
    const role = minimal.resource.aws_iam_role.customer_role;
    expect(typeof role.assume_role_policy).toBe('string');
    const shape = trustPolicy({ principalArn: PRINCIPAL, externalId: 'placeholder' });
    shape.Statement[0].Condition.StringEquals['sts:ExternalId'] = '${var.external_id}';
    expect(JSON.parse(role.assume_role_policy)).toEqual(shape);
    expect(Object.keys(role).sort()).toEqual(['assume_role_policy', 'description']);
    expect(minimal.resource.aws_iam_role_policy_attachment).toBeUndefined();
    expect(minimal.resource.aws_iam_role_policy).toBeUndefined();
  });

  it('is the same role as customerRoleTemplate: trust policy, name, session length, managed and inline policies', () => {
    const cloudFormation = customerRoleTemplate(FULL).Resources.Role.Properties;
    const role = full.resource.aws_iam_role.customer_role;
    const trust = JSON.parse(role.assume_role_policy);
    trust.Statement[0].Condition.StringEquals['sts:ExternalId'] = { Ref: 'ExternalId' };
    expect(trust).toEqual(cloudFormation.AssumeRolePolicyDocument);
    expect(role.name).toBe(cloudFormation.RoleName);
    expect(role.max_session_duration).toBe(cloudFormation.MaxSessionDuration);

    const attachments = Object.values(full.resource.aws_iam_role_policy_attachment) as Array<{ role: string; policy_arn: string }>;
    expect(attachments.map((attachment) => attachment.policy_arn)).toEqual(cloudFormation.ManagedPolicyArns);
    for (const attachment of attachments) expect(attachment.role).toBe('${aws_iam_role.customer_role.name}');

    const inline = Object.values(full.resource.aws_iam_role_policy) as Array<{ name: string; role: string; policy: string }>;
    expect(inline.map(({ name, policy }) => ({ PolicyName: name, PolicyDocument: JSON.parse(policy) }))).toEqual(cloudFormation.Policies);
    expect(inline[0].role).toBe('${aws_iam_role.customer_role.id}');
  });

  it('outputs the role ARN', () => {
    expect(minimal.output.role_arn.value).toBe('${aws_iam_role.customer_role.arn}');
  });

  it('escapes IAM policy variables, which Terraform would otherwise read as its own interpolation', () => {
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/%{x}' }],
    };
    const [inline] = Object.values(parsed({ principalArn: PRINCIPAL, policy }).resource.aws_iam_role_policy) as Array<{ policy: string }>;
    expect(inline.policy).toContain('$${aws:username}');
    expect(inline.policy).toContain('%%{x}');
    expect(JSON.parse(unescapeTemplate(inline.policy))).toEqual(policy);
  });

  it('refuses what customerRoleTemplate refuses, with the same field', () => {
    for (const [options, field] of [
      [{ principalArn: 'arn:aws:sts::111122223333:assumed-role/R/s' }, 'principalArn'],
      [{ principalArn: PRINCIPAL, roleName: 'team/role' }, 'roleName'],
      [{ principalArn: PRINCIPAL, managedPolicyArns: [PRINCIPAL] }, 'managedPolicyArns[0]'],
      [{ principalArn: PRINCIPAL, policy: { foo: 'bar' } }, 'policy.Version'],
      [{ principalArn: PRINCIPAL, maxSessionDuration: 60 }, 'maxSessionDuration'],
    ] as Array<[CustomerRoleTemplateOptions, string]>) {
      expect(validationRefusal(() => customerRoleTerraform(options)).field).toBe(field);
    }
  });
});
