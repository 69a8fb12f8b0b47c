import { checkCustomerRole, INLINE_POLICY_NAME, type CustomerRoleTemplateOptions } from './customer-role-template.js';
import { trustPolicyDocument } from './trust-policy.js';

/** Stands for the ExternalId in the trust policy until the document is serialised: no policy or ARN can hold it. */
const EXTERNAL_ID_SLOT = '\u0000external-id\u0000';
/** Terraform's reference to the ExternalId variable. */
const EXTERNAL_ID_REFERENCE = '${var.external_id}';
/** The logical name of the role in Terraform: `aws_iam_role.customer_role`. */
const ROLE = 'aws_iam_role.customer_role';

/**
 * Serialises a policy document into a Terraform JSON string. Terraform reads every string of a `*.tf.json` file as a
 * template, so `${` and `%{` (IAM policy variables such as `${aws:username}`) are escaped as `$${` and `%%{`.
 */
function terraformString(document: object): string {
  return JSON.stringify(document).replace(/([$%])\{/g, (_match, sign: string) => `${sign}${sign}{`);
}

/**
 * The customer's role as Terraform JSON syntax (the text of a `*.tf.json` file, for customers who accept Terraform
 * only): the same role as `customerRoleTemplate` — trust policy, name, session length, managed and inline policies —
 * for the `hashicorp/aws` provider:
 * - `variable.external_id`: the ExternalId, a `sensitive` string (Terraform hides it in plans and output). It has no
 *   `validation` block on purpose: Terraform prints the value of a variable that fails its validation, sensitive or
 *   not (opentofu/opentofu#2219), and a near miss of the real ExternalId is as secret as the ExternalId;
 * - `aws_iam_role.customer_role`, whose `assume_role_policy` is `trustPolicy`'s document with `${var.external_id}` as
 *   the ExternalId; one `aws_iam_role_policy_attachment` per managed policy; an `aws_iam_role_policy` `AccessPolicy`
 *   for the inline policy;
 * - `output.role_arn`: the ARN the customer sends back to you.
 * The customer gives the ExternalId as `TF_VAR_external_id` or in a `*.tfvars` file, never in the file itself.
 *
 * @throws StsValidationError for what `customerRoleTemplate` refuses, with the same fields.
 */
export function customerRoleTerraform(options: CustomerRoleTemplateOptions): string {
  const { principalArn, session, roleName, managedPolicyArns, policyDocument, maxSessionDuration } = checkCustomerRole(options);
  const trustDocument = trustPolicyDocument(principalArn, EXTERNAL_ID_SLOT, session);
  const trust = terraformString(trustDocument).replace(JSON.stringify(EXTERNAL_ID_SLOT), JSON.stringify(EXTERNAL_ID_REFERENCE));

  const role: Record<string, unknown> = {
    description: 'The IAM role your vendor assumes in this account, only with the ExternalId it gave you (sts:ExternalId).',
    assume_role_policy: trust,
  };
  if (roleName !== undefined) role.name = roleName;
  if (maxSessionDuration !== undefined) role.max_session_duration = maxSessionDuration;
  const resource: Record<string, unknown> = { aws_iam_role: { customer_role: role } };
  if (managedPolicyArns !== undefined && managedPolicyArns.length > 0) {
    const attachments = managedPolicyArns.map((arn, index) => [`managed_policy_${index}`, { role: `\${${ROLE}.name}`, policy_arn: arn }]);
    resource.aws_iam_role_policy_attachment = Object.fromEntries(attachments);
  }
  if (policyDocument !== undefined) {
    resource.aws_iam_role_policy = {
      access_policy: { name: INLINE_POLICY_NAME, role: `\${${ROLE}.id}`, policy: terraformString(policyDocument) },
    };
  }

  const template = {
    terraform: { required_providers: { aws: { source: 'hashicorp/aws' } } },
    variable: {
      external_id: {
        type: 'string',
        sensitive: true,
        description: 'The ExternalId your vendor gave you for this account.',
      },
    },
    resource,
    output: { role_arn: { description: 'The ARN of the role: send it to your vendor.', value: `\${${ROLE}.arn}` } },
  };
  return `${JSON.stringify(template, null, 2)}\n`;
}
