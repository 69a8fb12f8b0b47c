import { sessionDurationHint, type ErrorCodeRules } from './error-code-rules.js';

/** Codes STS answers with that the library knows (the SDK's `…Exception` names are turned into these wire codes). */
export type StsServiceErrorCode =
  | 'AccessDenied'
  | 'ExpiredTokenException'
  | 'ExpiredTradeInToken'
  | 'IDPCommunicationError'
  | 'IDPRejectedClaim'
  | 'InvalidAuthorizationMessage'
  | 'InvalidClientTokenId'
  | 'InvalidIdentityToken'
  | 'JWTPayloadSizeExceeded'
  | 'MalformedPolicyDocument'
  | 'OutboundWebIdentityFederationDisabled'
  | 'PackedPolicyTooLarge'
  | 'RegionDisabledException'
  | 'SessionDurationEscalation'
  | 'SignatureDoesNotMatch'
  | 'Throttling'
  | 'ValidationError';

/** The rules of STS's codes: the first half of the one table (`ERROR_CODES`). */
export const STS_SERVICE_ERROR_CODES: Readonly<Record<StsServiceErrorCode, ErrorCodeRules>> = {
  AccessDenied: {
    retryable: false,
    refusal: true,
    hint: (operation) => {
      switch (operation) {
        case 'AssumeRole':
          return "The role's trust policy must name this principal (see getCallerIdentity()) in Principal, and its sts:ExternalId condition must match the externalId you sent (and aws:MultiFactorAuthPresent needs mfa). The caller also needs sts:AssumeRole on the role in its own policies.";
        case 'AssumeRoleWithWebIdentity':
          return "The role's trust policy must trust this OIDC provider (Federated principal) with sts:AssumeRoleWithWebIdentity, and its aud/sub conditions must match the token's claims.";
        case 'AssumeRoleWithSAML':
          return "The role's trust policy must trust this SAML provider with sts:AssumeRoleWithSAML, and the assertion's Role attribute must list this role and provider.";
        case 'GetFederationToken':
          return 'GetFederationToken must be signed with the long-term access key of an IAM user (not a role, a session or root) whose policies allow sts:GetFederationToken.';
        case 'AssumeRoot':
          return 'AssumeRoot needs centralized root access enabled for the organization (IAM console: Root access management, or aws iam enable-organizations-root-sessions), a caller in the management account or the delegated administrator account for IAM (never root) allowed sts:AssumeRoot, and a targetPrincipal that is a member account of that organization.';
        case 'GetDelegatedAccessToken':
          return 'The base identity may not exchange this trade-in token: check that it is the identity the delegation was granted to, and that its policies allow sts:GetDelegatedAccessToken.';
        default:
          return 'The base identity lacks permission for this STS action; check its IAM policies and any SCP.';
      }
    },
  },
  ValidationError: {
    retryable: false,
    refusal: true,
    inputFault: true,
    hint: (_operation, message) => sessionDurationHint(message),
  },
  ExpiredTokenException: {
    retryable: false,
    refusal: false,
    rejection: true,
    hint: (operation) =>
      operation === 'AssumeRoleWithWebIdentity'
        ? 'The web identity token has expired: read a fresh token (a token file is re-read on every call).'
        : 'The base credentials have expired: refresh them (SSO login, a new session token) or use a provider that refreshes.',
  },
  ExpiredTradeInToken: {
    retryable: false,
    refusal: false,
    hint: () =>
      'The trade-in token has expired: have the customer approve the delegation request again for a fresh token, and exchange it at once.',
  },
  RegionDisabledException: {
    retryable: false,
    refusal: true,
    hint: () => 'STS is not activated in this region: activate it in IAM account settings, or set AWS_REGION to a region where it is.',
  },
  MalformedPolicyDocument: {
    retryable: false,
    refusal: true,
    inputFault: true,
    hint: () => 'The session policy is not a valid IAM policy document: check its JSON and its grammar.',
  },
  PackedPolicyTooLarge: {
    retryable: false,
    refusal: true,
    inputFault: true,
    hint: () =>
      'The session policy and session tags are too large once packed: send fewer or shorter tags, or a smaller policy (see packedPolicySize).',
  },
  IDPRejectedClaim: {
    retryable: false,
    refusal: true,
    hint: () =>
      "The identity provider's token or assertion was rejected: check its claims (aud, sub, iss) against the role's trust policy.",
  },
  IDPCommunicationError: {
    retryable: true,
    refusal: false,
    hint: () => 'STS could not reach the identity provider to validate the token: retry in a moment.',
  },
  InvalidIdentityToken: {
    retryable: false,
    refusal: true,
    hint: () => 'The web identity token is malformed, expired or signed by a provider not registered in IAM as an OIDC provider.',
  },
  InvalidAuthorizationMessage: {
    retryable: 'sdk',
    refusal: false,
    hint: () =>
      'STS could not decode the message: pass the encoded authorization failure message whole, as the denying service returned it, within its few hours of validity and from the account it was issued to.',
  },
  OutboundWebIdentityFederationDisabled: {
    retryable: false,
    refusal: false,
    hint: () =>
      'Outbound identity federation is off for this account: enable it once in IAM (console: Account settings, or aws iam enable-outbound-web-identity-federation) before calling getWebIdentityToken.',
  },
  SessionDurationEscalation: {
    retryable: false,
    refusal: false,
    hint: () =>
      'The token would outlive the session that asked for it: ask for a durationSeconds no longer than the remaining life of the calling credentials.',
  },
  JWTPayloadSizeExceeded: {
    retryable: false,
    refusal: false,
    hint: () => 'The token would be too large: send fewer or shorter audiences and tags.',
  },
  InvalidClientTokenId: {
    retryable: false,
    refusal: false,
    rejection: true,
    hint: () =>
      'STS does not know the base access key: it was deleted or rotated, belongs to another partition, or the region is not enabled for this account.',
  },
  SignatureDoesNotMatch: {
    retryable: 'sdk',
    refusal: false,
    hint: () => "The base secret access key is wrong, or this machine's clock is off; check both.",
  },
  Throttling: {
    retryable: true,
    refusal: false,
    hint: () =>
      'STS is throttling this account (its rate cannot be raised): cache credentials with getCredentials() instead of calling assumeRole per request.',
  },
};
