import { parse as parseArn, validate as isArn } from '@aws-sdk/util-arn-parser';

/** The parts of an IAM ARN the library relies on. */
export interface IamArn {
  partition: string;
  accountId: string;
  /** `role/path/Name`, `saml-provider/Name`, `policy/Name`… */
  resource: string;
}

const PARTITION = /^aws(-[a-z]+)*$/;
const ACCOUNT_ID = /^\d{12}$/;

/** Parses an IAM ARN (`arn:<partition>:iam::<account>:<type>/<name>`), or returns undefined if it is not one. */
export function parseIamArn(arn: string, resourceType: 'role' | 'saml-provider' | 'policy'): IamArn | undefined {
  if (typeof arn !== 'string' || !isArn(arn)) return undefined;
  const { partition, service, region, accountId, resource } = parseArn(arn);
  const isAwsManagedPolicy = resourceType === 'policy' && accountId === 'aws';
  if (!PARTITION.test(partition) || service !== 'iam' || region !== '') return undefined;
  if (!ACCOUNT_ID.test(accountId) && !isAwsManagedPolicy) return undefined;
  if (!resource.startsWith(`${resourceType}/`) || resource.length <= resourceType.length + 1) return undefined;
  return { partition, accountId, resource };
}

/**
 * The account id of an ARN `parseIamArn` accepted: its fifth field, read without parsing the ARN again (a lookup's
 * facts are read for every entry `invalidateWhere` judges: one small string each, no parts array).
 */
export function accountOfIamArn(arn: string): string {
  let colon = -1;
  for (let field = 0; field < 4; field++) colon = arn.indexOf(':', colon + 1);
  return arn.slice(colon + 1, arn.indexOf(':', colon + 1));
}
