import { STS_LIMITS } from '../sts/sts-limits.js';
import { RequestValidator } from '../sts/sts-validation.js';
import { checkTrustPrincipal } from './principal.js';
import { checkInlinePolicy, checkManagedPolicyArns, checkRoleName, IAM_ROLE_MAX_SESSION_DURATION } from './role-properties.js';
import { trustPolicyDocument, type TrustPolicyDocument, type TrustPolicySessionOptions } from './trust-policy.js';

/** Input of `customerRoleTemplate`. */
export interface CustomerRoleTemplateOptions extends TrustPolicySessionOptions {
  /** Who may assume the role: as in `trustPolicy` (`sts.trustPrincipal()` gives it). */
  principalArn: string;
  /** The role's name, 1–64 of `[\w+=,.@-]`. Default: CloudFormation names it after the stack. A name needs `CAPABILITY_NAMED_IAM`. */
  roleName?: string;
  /** Managed policies to attach (AWS managed `arn:aws:iam::aws:policy/…` or the customer's own). At most 20. Default: none. */
  managedPolicyArns?: string[];
  /** An inline policy of the role: a JSON policy document, object or text, at most 10,240 characters. Default: none. */
  policy?: string | Record<string, unknown>;
  /** Longest session of the role, in seconds (3600–43200). Default: IAM's, 3600. */
  maxSessionDuration?: number;
}

/** The CloudFormation template `customerRoleTemplate` returns: JSON-serialisable, valid as a `TemplateBody`. */
export interface CustomerRoleTemplate {
  /** The one CloudFormation template format there is. */
  AWSTemplateFormatVersion: '2010-09-09';
  /** What the stack is for, as the customer sees it in the console (under CloudFormation's 1024 bytes). */
  Description: string;
  /** The one parameter: the ExternalId, hidden in the console (`NoEcho`) and held to STS's rules. */
  Parameters: {
    ExternalId: {
      Type: 'String';
      NoEcho: true;
      Description: string;
      MinLength: number;
      MaxLength: number;
      AllowedPattern: string;
      ConstraintDescription: string;
    };
  };
  /** The role, logical id `Role`. */
  Resources: {
    Role: {
      Type: 'AWS::IAM::Role';
      /** Only the options given are set: CloudFormation's defaults apply to the rest. */
      Properties: {
        /** `trustPolicy`'s document, with the `ExternalId` parameter as the ExternalId. */
        AssumeRolePolicyDocument: TrustPolicyDocument<{ Ref: 'ExternalId' }>;
        RoleName?: string;
        ManagedPolicyArns?: string[];
        Policies?: Array<{ PolicyName: string; PolicyDocument: Record<string, unknown> }>;
        MaxSessionDuration?: number;
      };
    };
  };
  /** `RoleArn`: the ARN the customer sends back to you. */
  Outputs: { RoleArn: { Description: string; Value: { 'Fn::GetAtt': ['Role', 'Arn'] } } };
}

const { min, max, pattern, rule } = STS_LIMITS.externalId;

/** A customer role's options, checked and copied: what both the CloudFormation and the Terraform template are made of. */
export interface CheckedCustomerRole {
  principalArn: string;
  session: TrustPolicySessionOptions;
  roleName?: string;
  managedPolicyArns?: string[];
  policyDocument?: Record<string, unknown>;
  maxSessionDuration?: number;
}

/** The name both templates give the inline policy made from `policy`. */
export const INLINE_POLICY_NAME = 'AccessPolicy';

/** Checks a customer role's options (as `customerRoleTemplate` documents); returns a copy of them. */
export function checkCustomerRole(options: CustomerRoleTemplateOptions): CheckedCustomerRole {
  const validate = new RequestValidator('Configuration');
  validate.request(options);
  const { principalArn, roleName, managedPolicyArns, policy, maxSessionDuration, allowSessionTags, allowSourceIdentity } = options;
  checkTrustPrincipal(validate, principalArn);
  if (roleName !== undefined) checkRoleName(validate, roleName);
  const arns = checkManagedPolicyArns(validate, managedPolicyArns);
  const policyDocument = checkInlinePolicy(validate, policy);
  if (maxSessionDuration !== undefined)
    validate.integer(maxSessionDuration, 'maxSessionDuration', IAM_ROLE_MAX_SESSION_DURATION.min, IAM_ROLE_MAX_SESSION_DURATION.max);
  return {
    principalArn,
    session: { allowSessionTags, allowSourceIdentity },
    roleName,
    managedPolicyArns: arns,
    policyDocument,
    maxSessionDuration,
  };
}

/**
 * A CloudFormation template that creates, in a customer's account, the role this app assumes: an `ExternalId`
 * parameter (`NoEcho`, held to STS's rules), an `AWS::IAM::Role` whose trust policy is `trustPolicy`'s with
 * `{ Ref: 'ExternalId' }` as the ExternalId, its permissions, and a `RoleArn` output. Give it to CloudFormation as
 * `JSON.stringify(template)` (`TemplateBody`), or host it in S3 for `quickCreateUrl`.
 *
 * @throws StsValidationError for a bad principal (as `trustPolicy`), role name, managed policy ARN, inline policy
 * or session length.
 */
export function customerRoleTemplate(options: CustomerRoleTemplateOptions): CustomerRoleTemplate {
  const { principalArn, session, roleName, managedPolicyArns: arns, policyDocument, maxSessionDuration } = checkCustomerRole(options);
  const properties: CustomerRoleTemplate['Resources']['Role']['Properties'] = {
    AssumeRolePolicyDocument: trustPolicyDocument(principalArn, { Ref: 'ExternalId' as const }, session),
  };
  if (roleName !== undefined) properties.RoleName = roleName;
  if (arns !== undefined) properties.ManagedPolicyArns = arns;
  if (policyDocument !== undefined) properties.Policies = [{ PolicyName: INLINE_POLICY_NAME, PolicyDocument: policyDocument }];
  if (maxSessionDuration !== undefined) properties.MaxSessionDuration = maxSessionDuration;

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'The IAM role your vendor assumes in this account, only with the ExternalId it gave you (sts:ExternalId).',
    Parameters: {
      ExternalId: {
        Type: 'String',
        NoEcho: true,
        Description: 'The ExternalId your vendor gave you for this account.',
        MinLength: min,
        MaxLength: max,
        // CloudFormation matches AllowedPattern against the whole value: STS's pattern without its anchors.
        AllowedPattern: pattern.source.replace(/^\^|\$$/g, ''),
        ConstraintDescription: `${min}–${max} characters ${rule}`,
      },
    },
    Resources: { Role: { Type: 'AWS::IAM::Role', Properties: properties } },
    Outputs: { RoleArn: { Description: 'The ARN of the role: send it to your vendor.', Value: { 'Fn::GetAtt': ['Role', 'Arn'] } } },
  };
}
