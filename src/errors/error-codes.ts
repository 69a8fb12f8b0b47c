import type { StsOperation } from './sts-operation.js';

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

/** Codes the library raises itself: none shares a name with an STS code. */
export type LibraryErrorCode =
  | 'InvalidInput'
  | 'InvalidConfiguration'
  | 'CredentialsProviderError'
  | 'NetworkError'
  | 'TimeoutError'
  | 'InvalidResponse'
  | 'CredentialsExpireTooSoon'
  | 'MfaTokenCodeError'
  | 'WebIdentityTokenFileError'
  | 'AccountMismatch'
  | 'ExternalIdNotEnforced'
  | 'ExternalIdNotChecked'
  | 'NoRequestTenant';

/** Every code an `StsError` is known to carry: STS's and the library's own. */
export type StsErrorCode = StsServiceErrorCode | LibraryErrorCode;

type HintRule = (operation: StsOperation, message: string) => string | undefined;

/** What the library does with an error of one code. */
interface ErrorCodeRules {
  /**
   * Whether trying again later may succeed: `true` always (throttling, timeouts, the network), `false` never, `'sdk'`
   * as the SDK's retry strategy judges the error it came from (throttling, transient, 5xx).
   */
  readonly retryable: boolean | 'sdk';
  /**
   * A refusal of the request itself by STS or by the role's account (its trust policy, its limits, the request's
   * policy or tags): no retry fixes it and the cache evicts on it. Every other failure — throttling, timeouts, the
   * network, the base identity (its provider, expired or unknown keys), an MFA code function — is on the caller's
   * side, so cached credentials keep serving through it until the mandatory window.
   */
  readonly refusal: boolean;
  /** The request's own input is at fault (STS's or the library's validation, the policy or tags): an HTTP 400. */
  readonly inputFault?: true;
  /** An onboarding check (`validateAccess`) did not show the customer's role safe to use: an HTTP 403. */
  readonly roleCheck?: true;
  /** AWS answers it when the credentials a request was signed with have expired or are unknown. */
  readonly rejection?: true;
  /** What a person can do about it. */
  readonly hint?: HintRule;
}

/** The hint of a session duration STS or the library refused: one hour when chained, else the role's maximum. */
function sessionDurationHint(message: string): string | undefined {
  if (/role chaining|1 hour session limit/i.test(message)) {
    return 'Role chaining limits the session to one hour: ask for durationSeconds of 3600 or less.';
  }
  if (/MaxSessionDuration/i.test(message)) {
    return "Ask for a durationSeconds within the role's MaxSessionDuration, or raise that setting on the role.";
  }
  return undefined;
}

/** The one table of codes: retry, refusal, HTTP and rejection decisions and hints all read it. */
export const ERROR_CODES: Readonly<Record<StsErrorCode, ErrorCodeRules>> = {
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
  InvalidInput: {
    retryable: false,
    refusal: true,
    inputFault: true,
    hint: (_operation, message) => sessionDurationHint(message),
  },
  CredentialsProviderError: {
    retryable: 'sdk',
    refusal: false,
    hint: () =>
      'No base credentials could be resolved: set AWS_PROFILE, the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables, a web identity token file, or the `credentials` option.',
  },
  CredentialsExpireTooSoon: {
    retryable: 'sdk',
    refusal: false,
    hint: () =>
      "STS returned credentials already inside the cache's mandatory window: check this machine's clock, and keep mandatoryWindowSeconds well below the session duration.",
  },
  TimeoutError: {
    retryable: true,
    refusal: false,
    hint: () =>
      'STS did not answer in time (or the base credential provider, or the MFA code function, did not): check network access to the STS endpoint, the request timeout and operationTimeoutSeconds.',
  },
  NetworkError: {
    retryable: true,
    refusal: false,
    hint: () => 'STS could not be reached: check DNS, proxy and network access to the STS endpoint.',
  },
  InvalidResponse: {
    retryable: true,
    refusal: false,
    hint: () => 'STS (or a proxy in between) sent an answer that is not a valid STS response: check the endpoint; retrying may help.',
  },
  MfaTokenCodeError: {
    retryable: 'sdk',
    refusal: false,
    hint: () => 'Check the function that supplies the current MFA code.',
  },
  WebIdentityTokenFileError: {
    retryable: 'sdk',
    refusal: false,
    hint: () => 'Check the path (on EKS: AWS_WEB_IDENTITY_TOKEN_FILE) and that this process may read it.',
  },
  AccountMismatch: {
    retryable: false,
    refusal: false,
    roleCheck: true,
    hint: () => 'The credentials act in another account than the role ARN names: check the ARN you stored for this tenant.',
  },
  ExternalIdNotEnforced: {
    retryable: false,
    refusal: false,
    roleCheck: true,
    hint: () =>
      "The role let this app in with a wrong ExternalId: anyone who learns the role's ARN could make this app act in the customer's account (the confused deputy). Its trust policy needs Condition { StringEquals: { 'sts:ExternalId': <the customer's ExternalId> } } (see trustPolicy()).",
  },
  ExternalIdNotChecked: {
    retryable: false,
    refusal: false,
    roleCheck: true,
    hint: () =>
      'The ExternalId probe was not made (a request with MFA: an MFA code cannot be sent twice) or failed (throttling, a timeout: see the cause): retry later, validate the role without mfa, or without requireExternalIdEnforced.',
  },
  InvalidConfiguration: {
    retryable: false,
    refusal: false,
    hint: () => 'Fix the ServerAwsStsConfig fields named in the message.',
  },
  NoRequestTenant: {
    retryable: false,
    refusal: false,
    hint: () =>
      "sts.current serves the tenant of the running request: configure tenant.resolve, and bind requests with StsTenantMiddleware (consumer.apply(StsTenantMiddleware).forRoutes('*')) or nestjs-cls (ClsModule.forRoot in the app). Outside a request (a job, a timer), pass the tenant explicitly: sts.getCredentials({ roleArn, externalId }), sts.clientFor(S3Client, { roleArn, externalId }).",
  },
};

/** The rules of a code, when the library knows it (STS may answer with codes it does not). */
export function rulesOf(code: string): ErrorCodeRules | undefined {
  return Object.hasOwn(ERROR_CODES, code) ? ERROR_CODES[code as StsErrorCode] : undefined;
}

/** True when `code` is one the library knows: narrows `StsError.code` for a `switch` checked for completeness. */
export function isStsErrorCode(code: string): code is StsErrorCode {
  return rulesOf(code) !== undefined;
}

const codesWhere = (flag: (rules: ErrorCodeRules) => boolean | undefined): ReadonlySet<string> =>
  new Set(Object.entries(ERROR_CODES).flatMap(([code, rules]) => (flag(rules) ? [code] : [])));

/** Errors no retry can fix. */
export const NON_RETRYABLE_CODES = codesWhere((rules) => rules.retryable === false);

/** Errors worth a retry whatever the SDK makes of them. */
export const ALWAYS_RETRYABLE_CODES = codesWhere((rules) => rules.retryable === true);

/** Refusals of the request itself (see `ErrorCodeRules.refusal`): the cache evicts on them. */
export const REFUSAL_CODES = codesWhere((rules) => rules.refusal);

/**
 * What AWS services answer when the credentials a request was signed with have expired or are unknown: a client
 * made by `createClient` drops such credentials from the cache (if still current) and retries with fresh ones.
 * STS's own such codes, and those of the other services (S3's `ExpiredToken` and `InvalidAccessKeyId`, the JSON
 * services' `UnrecognizedClientException`), which no `StsError` carries.
 */
export const CREDENTIALS_REJECTED_CODES: ReadonlySet<string> = new Set([
  ...codesWhere((rules) => rules.rejection),
  'ExpiredToken',
  'InvalidAccessKeyId',
  'UnrecognizedClientException',
]);

/** Finds a hint for an error code, if the library has one. */
export function hintFor(code: string, operation: StsOperation, message = ''): string | undefined {
  return rulesOf(code)?.hint?.(operation, message);
}
