import type { Credentials } from '@aws-sdk/client-sts';
import { StsError, type StsOperation } from '../errors/sts-error.js';
import { TemporaryCredentials, type TemporaryCredentialsDetails } from './temporary-credentials.js';

/** Builds `TemporaryCredentials` from an answer, with the session facts every role operation returns. */
export function toCredentials(
  operation: StsOperation,
  output: {
    Credentials?: Credentials;
    AssumedRoleUser?: { Arn?: string; AssumedRoleId?: string };
    SourceIdentity?: string;
    PackedPolicySize?: number;
  },
  accountId: string | undefined,
  details: TemporaryCredentialsDetails = {},
): TemporaryCredentials {
  const credentials = output.Credentials;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
    throw new StsError(`${operation} returned no credentials`, { code: 'InvalidResponse', operation });
  }
  const user = output.AssumedRoleUser;
  return new TemporaryCredentials(
    {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: new Date(credentials.Expiration),
    },
    {
      accountId,
      assumedRoleUser: user && { arn: user.Arn ?? '', assumedRoleId: user.AssumedRoleId ?? '' },
      sourceIdentity: output.SourceIdentity,
      packedPolicySize: output.PackedPolicySize,
      ...details,
    },
  );
}
