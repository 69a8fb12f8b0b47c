import { parse as parseArn } from '@aws-sdk/util-arn-parser';
import { StsError } from '../errors/sts-error.js';
import type { CallerIdentity } from './sts-request.types.js';
import { parseIamArn } from './iam-arn.js';

/**
 * The principal a customer's trust policy must name so that `identity` can assume the customer's role:
 * - an IAM user or role ARN as is;
 * - an assumed-role session (`arn:aws:sts::1:assumed-role/R/s`) as its role (`arn:aws:iam::1:role/R`): a trust policy
 *   naming a session stops working when the session ends. STS's ARN drops the role's path; `knownRoleArn` (e.g. the
 *   `AWS_ROLE_ARN` of a web identity set-up) restores it when it names the same role;
 * - root, a federated user or anything else as the account's root (`arn:aws:iam::1:root`), which lets the account's
 *   own IAM policies decide.
 */
export function trustPrincipalOf(identity: CallerIdentity, knownRoleArn?: string): string {
  if (identity.type === 'unknown') {
    throw new StsError('STS answered GetCallerIdentity with an ARN that names no IAM principal', {
      code: 'InvalidResponse',
      operation: 'GetCallerIdentity',
    });
  }
  const { partition, accountId, resource } = parseArn(identity.arn);
  if (identity.type === 'user' || identity.type === 'role') return identity.arn;
  if (identity.type === 'assumed-role') {
    const roleName = resource.split('/')[1];
    const known = knownRoleArn === undefined ? undefined : parseIamArn(knownRoleArn, 'role');
    if (known?.accountId === accountId && known.partition === partition && known.resource.split('/').pop() === roleName)
      return knownRoleArn as string;
    return `arn:${partition}:iam::${accountId}:role/${roleName}`;
  }
  return `arn:${partition}:iam::${accountId}:root`;
}

/**
 * The principal whose instances may share cached credentials (`cache.shared`): an assumed-role session counts as its
 * role (replicas each have their own session), any other principal as its own ARN.
 */
export function sharingPrincipalOf(identity: CallerIdentity): string {
  return identity.type === 'assumed-role' ? trustPrincipalOf(identity) : identity.arn;
}
