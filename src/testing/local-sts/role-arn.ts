/** Role ARNs as the local STS reads them: the credential store and the IAM rules both need their parts. */
export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The account of a role ARN. */
export function roleAccount(roleArn: string): string {
  return ROLE_ARN_PATTERN.exec(roleArn)?.[1] ?? '000000000000';
}

/** The role name (last path segment) of a role ARN. */
export function roleName(roleArn: string): string {
  return ROLE_ARN_PATTERN.exec(roleArn)?.[2] ?? roleArn.split('/').pop() ?? 'unknown';
}
