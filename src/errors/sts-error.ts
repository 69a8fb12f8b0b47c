import { types } from 'node:util';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

/** STS operations (and the library's own steps) an `StsError` can come from. */
export type StsOperation =
  | 'AssumeRole'
  | 'AssumeRoleWithWebIdentity'
  | 'AssumeRoleWithSAML'
  | 'GetSessionToken'
  | 'GetCallerIdentity'
  | 'DecodeAuthorizationMessage'
  | 'GetAccessKeyInfo'
  | 'GetFederationToken'
  | 'GetWebIdentityToken'
  | 'Configuration';

/** Fields of an `StsError` besides its message. */
export interface StsErrorDetails {
  /** The STS error code (`AccessDenied`, `Throttling`, `ExpiredTokenException`, …) or the library's own (`ValidationError`, `CredentialsProviderError`, `NetworkError`, `TimeoutError`). */
  code: string;
  /** The STS operation that failed. */
  operation: StsOperation;
  /** True when trying again later may succeed (throttling, 5xx, network, timeout, IdP unreachable). */
  retryable?: boolean;
  /** The STS request id, for AWS support, when STS answered. */
  requestId?: string;
  /** The HTTP status STS answered with, when it answered. */
  httpStatusCode?: number;
  /** What a person can do about it. */
  hint?: string;
  /** The underlying error, with any secret of the request scrubbed from it. */
  cause?: unknown;
}

/** Every failure of the library: a validation error, an STS error, or a failure to resolve base credentials. */
export class StsError extends Error {
  /** The STS error code (`AccessDenied`, `Throttling`, …) or the library's own (`ValidationError`, `TimeoutError`, …). */
  readonly code: string;
  /** The STS operation that failed (`Configuration` for a bad config). */
  readonly operation: StsOperation;
  /** True when trying again later may succeed (throttling, 5xx, network, timeout, IdP unreachable). */
  readonly retryable: boolean;
  /** The STS request id, for AWS support, when STS answered. */
  readonly requestId?: string;
  /** The HTTP status STS answered with, when it answered. */
  readonly httpStatusCode?: number;
  /** What a person can do about it. */
  readonly hint?: string;

  constructor(message: string, details: StsErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'StsError';
    this.code = details.code;
    this.operation = details.operation;
    this.retryable = details.retryable ?? false;
    this.requestId = details.requestId;
    this.httpStatusCode = details.httpStatusCode;
    this.hint = details.hint ?? hintFor(details.code, details.operation, message);
  }
}

/** A request that breaks an STS input limit. Thrown before anything is sent. */
export class StsValidationError extends StsError {
  /** The input at fault, e.g. `roleArn`, `mfa.tokenCode`, `tags`. */
  readonly field: string;
  /** What the input must be, e.g. `must be 2–64 characters matching ^[\\w+=,.@-]+$`. Never echoes the value. */
  readonly rule: string;

  constructor(operation: StsOperation, field: string, rule: string) {
    super(`${field}: ${rule}`, { code: 'ValidationError', operation, retryable: false });
    this.name = 'StsValidationError';
    this.field = field;
    this.rule = rule;
  }
}

/** Wire codes of the STS errors the SDK names `…Exception` (the SDK class name is kept in `cause`). */
const WIRE_CODES: Record<string, string> = {
  MalformedPolicyDocumentException: 'MalformedPolicyDocument',
  PackedPolicyTooLargeException: 'PackedPolicyTooLarge',
  IDPRejectedClaimException: 'IDPRejectedClaim',
  IDPCommunicationErrorException: 'IDPCommunicationError',
  InvalidIdentityTokenException: 'InvalidIdentityToken',
  InvalidAuthorizationMessageException: 'InvalidAuthorizationMessage',
  OutboundWebIdentityFederationDisabledException: 'OutboundWebIdentityFederationDisabled',
  SessionDurationEscalationException: 'SessionDurationEscalation',
  JWTPayloadSizeExceededException: 'JWTPayloadSizeExceeded',
};

/** Errors no retry can fix. */
export const NON_RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'InvalidClientTokenId',
  'RegionDisabledException',
  'MalformedPolicyDocument',
  'PackedPolicyTooLarge',
  'IDPRejectedClaim',
  'InvalidIdentityToken',
  'ExpiredTokenException',
  'ValidationError',
  'OutboundWebIdentityFederationDisabled',
  'SessionDurationEscalation',
  'JWTPayloadSizeExceeded',
]);

/**
 * Refusals of the request itself by STS or by the role's account (its trust policy, its limits, the request's
 * policy or tags): no retry fixes them and the cache evicts on them. Every other failure — throttling, timeouts,
 * the network, the base identity (its provider, expired or unknown keys), an MFA code function — is on the
 * caller's side, so cached credentials keep serving through it until the mandatory window.
 */
export const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'RegionDisabledException',
  'MalformedPolicyDocument',
  'PackedPolicyTooLarge',
  'IDPRejectedClaim',
  'InvalidIdentityToken',
  'ValidationError',
]);

/**
 * What AWS services answer when the credentials a request was signed with have expired or are unknown: a client
 * made by `createClient` drops such credentials from the cache (if still current) and retries with fresh ones.
 */
export const CREDENTIALS_REJECTED_CODES: ReadonlySet<string> = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'UnrecognizedClientException',
]);

type HintRule = (operation: StsOperation, message: string) => string | undefined;

const HINTS: Record<string, HintRule> = {
  AccessDenied: (operation) => {
    switch (operation) {
      case 'AssumeRole':
        return "The role's trust policy must name this principal (see getCallerIdentity()) in Principal, and its sts:ExternalId condition must match the externalId you sent (and aws:MultiFactorAuthPresent needs mfa). The caller also needs sts:AssumeRole on the role in its own policies.";
      case 'AssumeRoleWithWebIdentity':
        return "The role's trust policy must trust this OIDC provider (Federated principal) with sts:AssumeRoleWithWebIdentity, and its aud/sub conditions must match the token's claims.";
      case 'AssumeRoleWithSAML':
        return "The role's trust policy must trust this SAML provider with sts:AssumeRoleWithSAML, and the assertion's Role attribute must list this role and provider.";
      case 'GetFederationToken':
        return 'GetFederationToken must be signed with the long-term access key of an IAM user (not a role, a session or root) whose policies allow sts:GetFederationToken.';
      default:
        return 'The base identity lacks permission for this STS action; check its IAM policies and any SCP.';
    }
  },
  ValidationError: (_operation, message) => {
    if (/role chaining|1 hour session limit/i.test(message)) {
      return 'Role chaining limits the session to one hour: ask for durationSeconds of 3600 or less.';
    }
    if (/MaxSessionDuration/i.test(message)) {
      return "Ask for a durationSeconds within the role's MaxSessionDuration, or raise that setting on the role.";
    }
    return undefined;
  },
  ExpiredTokenException: (operation) =>
    operation === 'AssumeRoleWithWebIdentity'
      ? 'The web identity token has expired: read a fresh token (a token file is re-read on every call).'
      : 'The base credentials have expired: refresh them (SSO login, a new session token) or use a provider that refreshes.',
  RegionDisabledException: () =>
    'STS is not activated in this region: activate it in IAM account settings, or set AWS_REGION to a region where it is.',
  MalformedPolicyDocument: () => 'The session policy is not a valid IAM policy document: check its JSON and its grammar.',
  PackedPolicyTooLarge: () =>
    'The session policy and session tags are too large once packed: send fewer or shorter tags, or a smaller policy (see packedPolicySize).',
  IDPRejectedClaim: () => "The identity provider's token or assertion was rejected: check its claims (aud, sub, iss) against the role's trust policy.",
  IDPCommunicationError: () => 'STS could not reach the identity provider to validate the token: retry in a moment.',
  InvalidIdentityToken: () =>
    'The web identity token is malformed, expired or signed by a provider not registered in IAM as an OIDC provider.',
  InvalidClientTokenId: () =>
    'STS does not know the base access key: it was deleted or rotated, belongs to another partition, or the region is not enabled for this account.',
  SignatureDoesNotMatch: () => "The base secret access key is wrong, or this machine's clock is off; check both.",
  Throttling: () =>
    'STS is throttling this account (its rate cannot be raised): cache credentials with getCredentials() instead of calling assumeRole per request.',
  CredentialsProviderError: () =>
    'No base credentials could be resolved: set AWS_PROFILE, the AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY variables, a web identity token file, or the `credentials` option.',
  CredentialsExpireTooSoon: () =>
    "STS returned credentials already inside the cache's mandatory window: check this machine's clock, and keep mandatoryWindowSeconds well below the session duration.",
  TimeoutError: () =>
    'STS did not answer in time (or the base credential provider, or the MFA code function, did not): check network access to the STS endpoint, the request timeout and operationTimeoutSeconds.',
  NetworkError: () => 'STS could not be reached: check DNS, proxy and network access to the STS endpoint.',
  InvalidResponse: () => 'STS (or a proxy in between) sent an answer that is not a valid STS response: check the endpoint; retrying may help.',
  MfaTokenCodeError: () => 'Check the function that supplies the current MFA code.',
  WebIdentityTokenFileError: () => 'Check the path (on EKS: AWS_WEB_IDENTITY_TOKEN_FILE) and that this process may read it.',
  AccountMismatch: () => 'The credentials act in another account than the role ARN names: check the ARN you stored for this tenant.',
  ExternalIdNotEnforced: () =>
    "The role let this app in with a wrong ExternalId: anyone who learns the role's ARN could make this app act in the customer's account (the confused deputy). Its trust policy needs Condition { StringEquals: { 'sts:ExternalId': <the customer's ExternalId> } } (see trustPolicy()).",
  ExternalIdNotChecked: () =>
    'The ExternalId probe was not made (a request with MFA: an MFA code cannot be sent twice) or failed (throttling, a timeout: see the cause): retry later, validate the role without mfa, or without requireExternalIdEnforced.',
  InvalidAuthorizationMessage: () =>
    'STS could not decode the message: pass the encoded authorization failure message whole, as the denying service returned it, within its few hours of validity and from the account it was issued to.',
  OutboundWebIdentityFederationDisabled: () =>
    'Outbound identity federation is off for this account: enable it once in IAM (console: Account settings, or aws iam enable-outbound-web-identity-federation) before calling getWebIdentityToken.',
  SessionDurationEscalation: () =>
    'The token would outlive the session that asked for it: ask for a durationSeconds no longer than the remaining life of the calling credentials.',
  JWTPayloadSizeExceeded: () => 'The token would be too large: send fewer or shorter audiences and tags.',
  InvalidConfiguration: () => 'Fix the ServerAwsStsConfig fields named in the message.',
  NoRequestTenant: () =>
    'sts.current serves the tenant of the running request: configure tenant.resolve, and bind requests with StsTenantMiddleware (consumer.apply(StsTenantMiddleware).forRoutes(\'*\')) or nestjs-cls (ClsModule.forRoot in the app). Outside a request (a job, a timer), pass the tenant explicitly: sts.getCredentials({ roleArn, externalId }), sts.clientFor(S3Client, { roleArn, externalId }).',
};

const isRetryableSdkError = (error: Parameters<typeof isTransientError>[0]) =>
  isThrottlingError(error) || isTransientError(error) || isServerError(error);

/**
 * The encoded authorization failure message some AWS services append to an AccessDenied (`Encoded authorization
 * failure message: <blob>`): opaque, but it reveals the policies at play, so it is treated as a secret.
 */
const ENCODED_AUTHORIZATION_MESSAGE = /Encoded authorization failure message: ([\w+/=-]+)/;

/** The encoded message of errors mapped by `toStsError`, kept out of their message, cause and enumerable fields. */
const encodedMessages = new WeakMap<StsError, string>();

const DECODE_HINT =
  'The error carries an encoded authorization failure message (redacted here): sts.explainAuthorizationFailure(error) decodes it into the policies and context that denied the request (the base identity needs sts:DecodeAuthorizationMessage).';

/**
 * The encoded authorization failure message an error carries: kept aside for an `StsError`, read from the message
 * of any other error (an AWS service's AccessDenied).
 */
export function encodedAuthorizationMessageOf(error: unknown): string | undefined {
  if (error instanceof StsError) return encodedMessages.get(error);
  const message = isError(error) ? error.message : undefined;
  return message === undefined ? undefined : ENCODED_AUTHORIZATION_MESSAGE.exec(message)?.[1];
}

/** Finds a hint for an error code, if the library has one. */
export function hintFor(code: string, operation: StsOperation, message = ''): string | undefined {
  return HINTS[code]?.(operation, message);
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  stack?: string;
  $fault?: string;
  $metadata?: { requestId?: string; httpStatusCode?: number };
}

/** Errors from another realm (a jest vm context) fail `instanceof Error`; the SDK then keeps only their text. */
const isError = (value: unknown): value is Error => value instanceof Error || types.isNativeError(value);

/** A network failure's errno code: on the error, or in the text of an error the SDK wrapped. */
function systemCode(error: SdkErrorShape): string | undefined {
  return error.code ?? /^AWS SDK error wrapper for .*?\b(E[A-Z]{4,})\b/.exec(error.message ?? '')?.[1];
}

function codeOf(error: SdkErrorShape): string {
  const name = error.name ?? 'Error';
  if (WIRE_CODES[name]) return WIRE_CODES[name];
  if (name === 'CredentialsProviderError' || name === 'ProviderError') return 'CredentialsProviderError';
  const system = systemCode(error);
  // Checked before the name: the SDK reports a reset socket as a TimeoutError with code ECONNRESET.
  if (system !== undefined && NETWORK_CODES.has(system)) return 'NetworkError';
  if (/socket hang up/.test(error.message ?? '')) return 'NetworkError';
  if (name === 'TimeoutError' || system === 'ETIMEDOUT' || /wrapper for TimeoutError/.test(error.message ?? '')) return 'TimeoutError';
  if (name === 'ThrottlingException' || name === 'RequestLimitExceeded') return 'Throttling';
  // A 2xx answer the SDK could not parse (malformed XML, a proxy's HTML page).
  if (name === 'Error' && (error.$metadata?.httpStatusCode ?? 0) < 300 && /deserializ|xml|parse/i.test(error.message ?? '')) return 'InvalidResponse';
  return name;
}

/** Replaces each secret that occurs in `text` with `[redacted]`. */
export function scrub(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join('[redacted]');
  }
  return result;
}

/**
 * A copy of an SDK error fit to keep as `cause`: the SDK error itself cannot be cleaned (its raw `$response`,
 * which may hold issued credentials, is non-configurable, and the parsed body is copied onto it), so only its
 * name, scrubbed message and stack, code, fault and metadata are kept.
 */
function cleanCause(error: Error, message: string, secrets: readonly string[]): Error {
  const shape = error as SdkErrorShape;
  const clean = new Error(message);
  clean.name = error.name;
  clean.stack = scrub(String(error.stack ?? ''), secrets);
  return Object.assign(clean, { code: shape.code, $fault: shape.$fault, $metadata: shape.$metadata });
}

/**
 * Turns whatever an STS call threw into an `StsError` with a code, a retry verdict and a hint.
 * `requestSecrets` are the request's secret inputs: they are scrubbed from the message and from the cause, and so is
 * an encoded authorization failure message, kept aside for `sts.explainAuthorizationFailure(error)`.
 */
export function toStsError(error: unknown, operation: StsOperation, requestSecrets: readonly string[] = []): StsError {
  if (error instanceof StsError) return error;
  const sdkError: SdkErrorShape = isError(error) ? error : { message: String(error) };
  const code = codeOf(sdkError);
  const encodedMessage = ENCODED_AUTHORIZATION_MESSAGE.exec(sdkError.message ?? '')?.[1];
  const secrets = encodedMessage === undefined ? requestSecrets : [...requestSecrets, encodedMessage];
  const message = scrub(String(sdkError.message || code), secrets);
  const retryable =
    ['IDPCommunicationError', 'NetworkError', 'TimeoutError', 'Throttling', 'InvalidResponse'].includes(code) || (isError(error) && isRetryableSdkError(error as never));
  const text = `${operation} failed: ${code}: ${message}`;
  const hint = hintFor(code, operation, text);
  const stsError = new StsError(text, {
    code,
    operation,
    retryable: retryable && !NON_RETRYABLE_CODES.has(code),
    requestId: sdkError.$metadata?.requestId,
    httpStatusCode: sdkError.$metadata?.httpStatusCode,
    hint: encodedMessage === undefined ? hint : [hint, DECODE_HINT].filter(Boolean).join(' '),
    cause: isError(error) ? cleanCause(error, message, secrets) : undefined,
  });
  if (encodedMessage !== undefined) encodedMessages.set(stsError, encodedMessage);
  return stsError;
}
