import { STS_LIMITS } from '../sts/sts-limits.js';
import { parseIamArn } from '../sts/iam-arn.js';
import type { RequestValidator } from '../sts/sts-validation.js';
import { checkPolicyDocument } from './policy-document.js';

/** IAM's `MaxSessionDuration` of a role, in seconds: one hour to STS's longest role session. */
export const IAM_ROLE_MAX_SESSION_DURATION = { min: 3_600, max: STS_LIMITS.roleDuration.max } as const;

/** IAM role names: 1–64 of `[\w+=,.@-]`. */
const ROLE_NAME = { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/, rule: 'of [\\w+=,.@-]' } as const;

/** Managed policies one role may have attached: IAM's hard limit (the default quota is 10). */
const MAX_MANAGED_POLICIES = 20;

/** IAM's limit on a role's inline policies, in characters of JSON without whitespace. */
const MAX_INLINE_POLICY_CHARACTERS = 10_240;

/** Checks an IAM role name. */
export function checkRoleName(validate: RequestValidator, value: unknown): void {
  validate.text(value, 'roleName', ROLE_NAME);
}

/** Checks managed policy ARNs to attach to a role; returns a copy of them. */
export function checkManagedPolicyArns(validate: RequestValidator, arns: unknown): string[] | undefined {
  if (arns === undefined) return undefined;
  validate.require(
    Array.isArray(arns) && arns.length <= MAX_MANAGED_POLICIES,
    'managedPolicyArns',
    `must be an array of at most ${MAX_MANAGED_POLICIES} managed policy ARNs (IAM's limit per role; its default quota is 10)`,
  );
  const copy = [...(arns as unknown[])];
  copy.forEach((arn, index) => {
    const field = `managedPolicyArns[${index}]`;
    validate.text(arn, field, STS_LIMITS.roleArn);
    validate.require(
      parseIamArn(arn as string, 'policy') !== undefined,
      field,
      'must be an IAM policy ARN: arn:<partition>:iam::<account id or aws>:policy/<name>',
    );
  });
  return copy as string[];
}

/** Reads an inline policy, object or JSON text, into a fresh object; checks it is a policy document within IAM's size. */
export function checkInlinePolicy(validate: RequestValidator, policy: unknown): Record<string, unknown> | undefined {
  if (policy === undefined) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(typeof policy === 'string' ? policy : JSON.stringify(policy));
  } catch {
    document = undefined; // not JSON text, or not serialisable (BigInt, cycles)
  }
  validate.require(
    typeof document === 'object' && document !== null && !Array.isArray(document),
    'policy',
    'must be a JSON policy document (an object, or its JSON text)',
  );
  const characters = JSON.stringify(document).length;
  validate.require(
    characters <= MAX_INLINE_POLICY_CHARACTERS,
    'policy',
    `must be at most ${MAX_INLINE_POLICY_CHARACTERS} characters once serialised without whitespace (IAM's limit)`,
  );
  checkPolicyDocument(validate, document as Record<string, unknown>);
  return document as Record<string, unknown>;
}
