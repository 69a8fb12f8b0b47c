/**
 * An independent checker of the STS input limits (AWS STS API reference), counting characters as code points.
 * It restates the limits on purpose, as an oracle: it must not import anything from src/ (src/sts/sts-limits.ts
 * and the validation code are what it checks).
 */

/** A command input as sent to STS (the SDK's field names). */
export type CommandInput = Record<string, unknown>;

const chars = (value: string) => [...value].length;
const WORD_SESSION = /^[\w+=,.@-]*$/;
const WORD_EXTERNAL_ID = /^[\w+=,.@:/-]*$/;
const WORD_SERIAL = /^[\w+=/:,.@-]*$/;
// eslint-disable-next-line no-control-regex -- STS accepts tab, LF and CR and no other control character
const ARN_CHARS = /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
// eslint-disable-next-line no-control-regex -- STS accepts tab, LF and CR and no other control character
const POLICY_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function stringWithin(
  violations: string[],
  rule: string,
  value: unknown,
  min: number,
  max: number,
  pattern?: RegExp,
  required = false,
): void {
  if (value === undefined) {
    if (required) violations.push(`${rule}: missing`);
    return;
  }
  if (typeof value !== 'string') return void violations.push(`${rule}: not a string`);
  if (chars(value) < min || chars(value) > max) violations.push(`${rule}: length ${min}–${max}`);
  if (pattern && !pattern.test(value)) violations.push(`${rule}: characters`);
}

function durationWithin(violations: string[], value: unknown, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max)
    violations.push(`DurationSeconds: integer ${min}–${max}`);
}

function roleSessionLimits(violations: string[], input: CommandInput): void {
  stringWithin(violations, 'RoleArn', input.RoleArn, 20, 2048, ARN_CHARS, true);
  durationWithin(violations, input.DurationSeconds, 900, 43_200);
  stringWithin(violations, 'Policy', input.Policy, 1, 2048, POLICY_CHARS);
  if (input.PolicyArns !== undefined) {
    if (!Array.isArray(input.PolicyArns) || input.PolicyArns.length > 10) violations.push('PolicyArns: at most 10');
    else
      for (const entry of input.PolicyArns as Array<{ arn?: unknown }>)
        stringWithin(violations, 'PolicyArns[].arn', entry?.arn, 20, 2048, ARN_CHARS, true);
  }
}

/** Violations of the AssumeRole limits; `chained` when the caller is a role session (role chaining). */
export function checkAssumeRole(input: CommandInput, chained: boolean): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  if (chained && typeof input.DurationSeconds === 'number' && input.DurationSeconds > 3600)
    violations.push('DurationSeconds: at most 3600 when chained');
  stringWithin(violations, 'RoleSessionName', input.RoleSessionName, 2, 64, WORD_SESSION, true);
  stringWithin(violations, 'ExternalId', input.ExternalId, 2, 1224, WORD_EXTERNAL_ID);
  stringWithin(violations, 'SourceIdentity', input.SourceIdentity, 2, 64, WORD_SESSION);
  if (typeof input.SourceIdentity === 'string' && input.SourceIdentity.toLowerCase().startsWith('aws:'))
    violations.push('SourceIdentity: aws: prefix');
  stringWithin(violations, 'SerialNumber', input.SerialNumber, 9, 256, WORD_SERIAL);
  if (input.TokenCode !== undefined && !(typeof input.TokenCode === 'string' && /^\d{6}$/.test(input.TokenCode)))
    violations.push('TokenCode: 6 digits');
  if ((input.TokenCode === undefined) !== (input.SerialNumber === undefined))
    violations.push('SerialNumber and TokenCode: both or neither');
  const tagKeys: string[] = [];
  if (input.Tags !== undefined) {
    const list = input.Tags as Array<{ Key?: unknown; Value?: unknown }>;
    if (!Array.isArray(list) || list.length > 50) violations.push('Tags: at most 50');
    else {
      for (const { Key, Value } of list) {
        stringWithin(violations, 'Tags[].Key', Key, 1, 128, TAG_CHARS, true);
        stringWithin(violations, 'Tags[].Value', Value, 0, 256, TAG_CHARS, true);
        if (typeof Key === 'string') {
          if (Key.toLowerCase().startsWith('aws:')) violations.push('Tags[].Key: aws: prefix');
          if (tagKeys.some((other) => other.toLowerCase() === Key.toLowerCase())) violations.push('Tags[].Key: unique ignoring case');
          tagKeys.push(Key);
        }
      }
    }
  }
  if (input.TransitiveTagKeys !== undefined) {
    const keys = input.TransitiveTagKeys as unknown[];
    if (!Array.isArray(keys) || keys.length > 50) violations.push('TransitiveTagKeys: at most 50');
    else if (!keys.every((key) => typeof key === 'string' && tagKeys.includes(key)))
      violations.push('TransitiveTagKeys: subset of the tag keys');
  }
  return violations;
}

/** Violations of the AssumeRoleWithWebIdentity limits. */
export function checkWebIdentity(input: CommandInput): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  stringWithin(violations, 'RoleSessionName', input.RoleSessionName, 2, 64, WORD_SESSION, true);
  stringWithin(violations, 'WebIdentityToken', input.WebIdentityToken, 4, 20_000, undefined, true);
  stringWithin(violations, 'ProviderId', input.ProviderId, 4, 2048);
  return violations;
}

/** Violations of the AssumeRoleWithSAML limits. */
export function checkSaml(input: CommandInput): string[] {
  const violations: string[] = [];
  roleSessionLimits(violations, input);
  stringWithin(violations, 'PrincipalArn', input.PrincipalArn, 20, 2048, ARN_CHARS, true);
  stringWithin(violations, 'SAMLAssertion', input.SAMLAssertion, 4, 100_000, undefined, true);
  return violations;
}

/** Violations of the GetSessionToken limits. */
export function checkSessionToken(input: CommandInput): string[] {
  const violations: string[] = [];
  durationWithin(violations, input.DurationSeconds, 900, 129_600);
  stringWithin(violations, 'SerialNumber', input.SerialNumber, 9, 256, WORD_SERIAL);
  if (input.TokenCode !== undefined && !(typeof input.TokenCode === 'string' && /^\d{6}$/.test(input.TokenCode)))
    violations.push('TokenCode: 6 digits');
  if ((input.TokenCode === undefined) !== (input.SerialNumber === undefined))
    violations.push('SerialNumber and TokenCode: both or neither');
  return violations;
}

/** Violations of the AssumeRoot limits: a 12-digit member account, one of the five root-task policies, at most 900 s. */
export function checkAssumeRoot(input: CommandInput): string[] {
  const violations: string[] = [];
  if (typeof input.TargetPrincipal !== 'string' || !/^\d{12}$/.test(input.TargetPrincipal)) violations.push('TargetPrincipal: account id');
  const arn = (input.TaskPolicyArn as { arn?: unknown } | undefined)?.arn;
  const task =
    /^arn:aws[\w-]*:iam::aws:policy\/root-task\/(IAMAuditRootUserCredentials|IAMCreateRootUserPassword|IAMDeleteRootUserCredentials|S3UnlockBucketPolicy|SQSUnlockQueuePolicy)$/;
  if (typeof arn !== 'string' || !task.test(arn)) violations.push('TaskPolicyArn: a root-task policy');
  durationWithin(violations, input.DurationSeconds, 0, 900);
  return violations;
}

/** Violations of the GetDelegatedAccessToken limits: a non-empty token (STS documents no length). */
export function checkDelegatedAccessToken(input: CommandInput): string[] {
  const violations: string[] = [];
  stringWithin(violations, 'TradeInToken', input.TradeInToken, 1, Infinity, undefined, true);
  return violations;
}
