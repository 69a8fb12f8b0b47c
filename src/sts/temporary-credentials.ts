import { inspect } from 'node:util';
import type { AwsCredentialIdentity } from '@aws-sdk/types';

const REDACTED = '[redacted]';

/** Non-secret facts STS returned with a set of credentials. */
export interface TemporaryCredentialsDetails {
  /** The AWS account the credentials act in, when known (read from the assumed-role ARN). */
  accountId?: string;
  /** The session STS created: `arn:aws:sts::<account>:assumed-role/<role>/<session>` and `AROA…:<session>`. */
  assumedRoleUser?: { arn: string; assumedRoleId: string };
  /** The source identity set on the session, if any. */
  sourceIdentity?: string;
  /** How full the packed session policy and tags are, as a percentage of the limit (over 100 fails). */
  packedPolicySize?: number;
  /** Web identity: the `sub` claim of the token. */
  subjectFromWebIdentityToken?: string;
  /** Web identity and SAML: the audience the token or assertion was issued for. */
  audience?: string;
  /** Web identity: the issuing identity provider. */
  provider?: string;
  /** SAML: the subject (`NameID`) of the assertion. */
  subject?: string;
  /** SAML: the format of the subject (`persistent`, `transient`, …). */
  subjectType?: string;
  /** SAML: the issuer of the assertion. */
  issuer?: string;
  /** SAML: hash of the issuer, account id and provider name, unique per user. */
  nameQualifier?: string;
  /** GetFederationToken: the federated user, `arn:aws:sts::<account>:federated-user/<name>` and `<account>:<name>`. */
  federatedUser?: { arn: string; federatedUserId: string };
  /** GetDelegatedAccessToken: the ARN of the customer's principal whose permissions the credentials carry. */
  assumedPrincipal?: string;
}

/**
 * Temporary AWS credentials as STS issued them. Works as `credentials` in any AWS SDK v3 client.
 *
 * The secret access key and the session token are readable properties (the SDK signs with them), but
 * `JSON.stringify`, `util.inspect` (what loggers print) and template strings show `[redacted]` in their place.
 */
export class TemporaryCredentials implements AwsCredentialIdentity, TemporaryCredentialsDetails {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** When the credentials stop working. */
  readonly expiration: Date;
  // Declared, not defined: only the details STS returned become properties (a cache holds 100,000 of these).
  declare readonly accountId?: string;
  declare readonly assumedRoleUser?: { arn: string; assumedRoleId: string };
  declare readonly sourceIdentity?: string;
  declare readonly packedPolicySize?: number;
  declare readonly subjectFromWebIdentityToken?: string;
  declare readonly audience?: string;
  declare readonly provider?: string;
  declare readonly subject?: string;
  declare readonly subjectType?: string;
  declare readonly issuer?: string;
  declare readonly nameQualifier?: string;
  declare readonly federatedUser?: { arn: string; federatedUserId: string };
  declare readonly assumedPrincipal?: string;

  constructor(
    secrets: { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date },
    details: TemporaryCredentialsDetails = {},
  ) {
    this.accessKeyId = secrets.accessKeyId;
    this.secretAccessKey = secrets.secretAccessKey;
    this.sessionToken = secrets.sessionToken;
    this.expiration = secrets.expiration;
    for (const [key, value] of Object.entries(details)) {
      if (value !== undefined) (this as Record<string, unknown>)[key] = value;
    }
  }

  /** The credentials without their secrets: what `JSON.stringify` prints. */
  toJSON(): Record<string, unknown> {
    const { secretAccessKey: _secret, sessionToken: _token, ...visible } = this as TemporaryCredentials & { $source?: unknown };
    delete (visible as { $source?: unknown }).$source;
    return { ...visible, secretAccessKey: REDACTED, sessionToken: REDACTED };
  }

  toString(): string {
    return `TemporaryCredentials(accessKeyId=${this.accessKeyId}, expiration=${this.expiration.toISOString()})`;
  }

  [inspect.custom](depth: number, options: Parameters<typeof inspect>[1]): string {
    return `TemporaryCredentials ${inspect(this.toJSON(), { ...options, depth })}`;
  }
}
