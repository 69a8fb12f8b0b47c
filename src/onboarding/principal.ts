import { parse as parseArn, validate as isArn } from '@aws-sdk/util-arn-parser';
import { STS_LIMITS } from '../sts/sts-limits.js';
import { parseIamArn } from '../sts/iam-arn.js';
import type { RequestValidator } from '../sts/sts-validation.js';

/** Whether a partition and account id pass the library's IAM ARN rules (those of `parseIamArn`), whatever the resource. */
function isIamAccount(partition: string, accountId: string): boolean {
  return parseIamArn(`arn:${partition}:iam::${accountId}:role/x`, 'role') !== undefined;
}

/** IAM user and role names. */
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
/**
 * A segment of an IAM path: IAM takes `!` to `~`; a principal may not hold a wildcard (`*`, `?`: IAM refuses a
 * trust policy whose principal has one), and a quote would not survive being pasted into a policy by hand.
 */
const PATH_SEGMENT = /^[\x21-\x7e]+$/;
const NOT_IN_PRINCIPAL = /[*?"]/;
/** IAM's longest path, slashes included. */
const MAX_PATH = 512;

/** `user/<path>/<name>` or `role/<path>/<name>`, by IAM's grammar: the path is `/` or `/segment/…/`. */
function isUserOrRole(resource: string): boolean {
  const [type, ...rest] = resource.split('/');
  const name = rest.pop() ?? '';
  const path = `/${rest.map((segment) => `${segment}/`).join('')}`;
  const pathOk = path.length <= MAX_PATH && rest.every((segment) => PATH_SEGMENT.test(segment) && !NOT_IN_PRINCIPAL.test(segment));
  return (type === 'user' || type === 'role') && pathOk && IAM_NAME.test(name);
}

/** An IAM user or role ARN (any path), or an account's root ARN. */
function isTrustablePrincipalArn(value: string): boolean {
  if (!isArn(value)) return false;
  const { partition, service, region, accountId, resource } = parseArn(value);
  if (service !== 'iam' || region !== '' || !isIamAccount(partition, accountId)) return false;
  return resource === 'root' || isUserOrRole(resource);
}

/** `arn:<partition>:sts::<account>:assumed-role/<role>/<session>`: a session, which a trust policy cannot name. */
function isAssumedRoleSession(value: string): boolean {
  if (!isArn(value)) return false;
  const { service, resource } = parseArn(value);
  return service === 'sts' && resource.startsWith('assumed-role/');
}

/**
 * Checks the principal a trust policy names: an IAM user or role ARN, an account root ARN, or a 12-digit account id,
 * by IAM's ARN grammar (no wildcard: IAM refuses `user/*` or `role/app*` as a principal).
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
    'must be an IAM user or role ARN (arn:<partition>:iam::<12-digit account id>:user/<path/><name> or …:role/<path/><name>, ' +
      'a name of 1–64 of [\\w+=,.@-], no wildcard, quote or space), an account root ARN (…:root) or a 12-digit account id',
  );
}
