import { parse as parseArn, validate as isArn } from '@aws-sdk/util-arn-parser';
import { STS_LIMITS } from '../sts-limits.js';
import { parseIamArn, type RequestValidator } from '../sts-validation.js';

/** Whether a partition and account id pass the library's IAM ARN rules (those of `parseIamArn`), whatever the resource. */
function isIamAccount(partition: string, accountId: string): boolean {
  return parseIamArn(`arn:${partition}:iam::${accountId}:role/x`, 'role') !== undefined;
}

/** An IAM user or role ARN (any path), or an account's root ARN. */
function isTrustablePrincipalArn(value: string): boolean {
  if (!isArn(value)) return false;
  const { partition, service, region, accountId, resource } = parseArn(value);
  if (service !== 'iam' || region !== '' || !isIamAccount(partition, accountId)) return false;
  return resource === 'root' || /^(user|role)\/(.+\/)?[^/]+$/.test(resource);
}

/** `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`: a session, which a trust policy cannot name. */
function isAssumedRoleSession(value: string): boolean {
  if (!isArn(value)) return false;
  const { service, resource } = parseArn(value);
  return service === 'sts' && resource.startsWith('assumed-role/');
}

/**
 * Checks the principal a trust policy names: an IAM user or role ARN, an account root ARN, or a 12-digit account id.
 * An assumed-role session ARN (what `getCallerIdentity` shows for a role) is refused with a pointer to
 * `sts.trustPrincipal()`, which turns it into its role ARN.
 */
export function checkTrustPrincipal(validate: RequestValidator, value: unknown, field = 'principalArn'): void {
  validate.require(typeof value === 'string', field, 'must be an IAM user or role ARN, an account root ARN or a 12-digit account id');
  const principal = value as string;
  if (!principal.startsWith('arn:') && /^\d+$/.test(principal)) {
    validate.require(isIamAccount('aws', principal), field, 'must be a 12-digit account id');
    return;
  }
  validate.text(principal, field, STS_LIMITS.roleArn);
  validate.require(
    !isAssumedRoleSession(principal),
    field,
    'must name the role, not an assumed-role session (arn:…:sts::…:assumed-role/…): use sts.trustPrincipal(), which gives the role ARN',
  );
  validate.require(
    isTrustablePrincipalArn(principal),
    field,
    'must be an IAM user or role ARN (arn:<partition>:iam::<12-digit account id>:user/<name> or …:role/<name>), an account root ARN (…:root) or a 12-digit account id',
  );
}
