import { STS_LIMITS } from '../sts/sts-limits.js';
import { RequestValidator } from '../sts/sts-validation.js';
import { checkTrustPrincipal } from './principal.js';

/** What a session of the role may carry besides AssumeRole itself: each needs its own action in the trust policy. */
export interface TrustPolicySessionOptions {
  /** Allow session tags (`tags`, `transitiveTagKeys` in a request): adds `sts:TagSession`. Default: false. */
  allowSessionTags?: boolean;
  /** Allow a `sourceIdentity` in a request: adds `sts:SetSourceIdentity`. Default: false. */
  allowSourceIdentity?: boolean;
}

/** The actions a trust policy can allow its principal. */
export type TrustPolicyAction = 'sts:AssumeRole' | 'sts:TagSession' | 'sts:SetSourceIdentity';

/** Input of `trustPolicy`. */
export interface TrustPolicyOptions extends TrustPolicySessionOptions {
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
      /** `sts:AssumeRole`, with `sts:TagSession` / `sts:SetSourceIdentity` when the options allow them. */
      Action: TrustPolicyAction | TrustPolicyAction[];
      Condition: { StringEquals: { 'sts:ExternalId': ExternalId } };
    },
  ];
}

/** The trust policy's shape, the one home of it: `trustPolicy` and `customerRoleTemplate` both build it here. */
export function trustPolicyDocument<ExternalId>(
  principal: string,
  externalId: ExternalId,
  session: TrustPolicySessionOptions = {},
): TrustPolicyDocument<ExternalId> {
  const extra: TrustPolicyAction[] = [
    ...(session.allowSessionTags ? ['sts:TagSession' as const] : []),
    ...(session.allowSourceIdentity ? ['sts:SetSourceIdentity' as const] : []),
  ];
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: principal },
        Action: extra.length === 0 ? 'sts:AssumeRole' : ['sts:AssumeRole', ...extra],
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
  const { principalArn, externalId, allowSessionTags, allowSourceIdentity } = options;
  checkTrustPrincipal(validate, principalArn);
  validate.text(externalId, 'externalId', STS_LIMITS.externalId);
  return trustPolicyDocument(principalArn, externalId, { allowSessionTags, allowSourceIdentity });
}
