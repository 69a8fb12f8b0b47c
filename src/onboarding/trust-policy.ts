import { STS_LIMITS } from '../sts-limits.js';
import { RequestValidator } from '../sts-validation.js';
import { checkTrustPrincipal } from './principal.js';

/** Input of `trustPolicy`. */
export interface TrustPolicyOptions {
  /**
   * Who may assume the role: this app's base identity, as `sts.trustPrincipal()` gives it — an IAM user or role ARN,
   * an account root ARN (`arn:aws:iam::<account>:root`) or a 12-digit account id. Not an assumed-role session ARN.
   */
  principalArn: string;
  /** The customer's ExternalId (from `generateExternalId()`): 2–1224 characters of `[\w+=,.@:/-]`. */
  externalId: string;
}

/**
 * An IAM role trust policy that lets one principal call `sts:AssumeRole` only with the customer's ExternalId.
 * `ExternalId` is the condition's value: the ExternalId itself, or a CloudFormation `{ Ref: 'ExternalId' }`.
 */
export interface TrustPolicyDocument<ExternalId = string> {
  /** The IAM policy language version. */
  Version: '2012-10-17';
  /** The one statement. */
  Statement: [
    /** Allow `sts:AssumeRole` to the principal, only when the caller sends the ExternalId. */
    {
      Effect: 'Allow';
      Principal: { AWS: string };
      Action: 'sts:AssumeRole';
      Condition: { StringEquals: { 'sts:ExternalId': ExternalId } };
    },
  ];
}

/** The trust policy's shape, the one home of it: `trustPolicy` and `customerRoleTemplate` both build it here. */
export function trustPolicyDocument<ExternalId>(principal: string, externalId: ExternalId): TrustPolicyDocument<ExternalId> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  };
}

/**
 * The trust policy a customer's role needs so this app can assume it: `sts:AssumeRole` allowed to `principalArn`
 * under `StringEquals` `sts:ExternalId`. A plain JSON object (pass it to `JSON.stringify` for the IAM console or
 * `CreateRole`'s `AssumeRolePolicyDocument`).
 *
 * @throws StsValidationError for a principal that is not an IAM user, role, root ARN or account id (an assumed-role
 * session ARN is refused: `sts.trustPrincipal()` converts it), or an ExternalId outside STS's rules. The error never
 * shows the ExternalId.
 */
export function trustPolicy(options: TrustPolicyOptions): TrustPolicyDocument {
  const validate = new RequestValidator('Configuration');
  validate.request(options);
  const { principalArn, externalId } = options;
  checkTrustPrincipal(validate, principalArn);
  validate.text(externalId, 'externalId', STS_LIMITS.externalId);
  return trustPolicyDocument(principalArn, externalId);
}
