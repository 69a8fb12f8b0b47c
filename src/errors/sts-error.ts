import { types } from 'node:util';
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { hintFor, NON_RETRYABLE_CODES, ALWAYS_RETRYABLE_CODES, rulesOf, type StsErrorCode } from './error-codes.js';
import type { StsOperation } from './sts-operation.js';

export type { StsOperation } from './sts-operation.js';

/** Fields of an `StsError` besides its message. */
export interface StsErrorDetails {
  /**
   * The STS error code (`AccessDenied`, `Throttling`, `ExpiredTokenException`, …) or the library's own (`InvalidInput`,
   * `CredentialsProviderError`, `NetworkError`, `TimeoutError`, …); any other string is a code STS or the SDK raised
   * that the library does not know.
   */
  code: StsErrorCode | (string & {});
  /** The STS operation that failed. */
  operation: StsOperation;
  /** True when trying again later may succeed (throttling, 5xx, network, timeout, IdP unreachable). Default: as the code's rules say, else false. */
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
  /**
   * The STS error code (`AccessDenied`, `Throttling`, …) or the library's own (`InvalidInput`, `TimeoutError`, …):
   * `isStsErrorCode(code)` narrows it to the codes the library knows; STS may answer with others.
   */
  readonly code: StsErrorCode | (string & {});
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
    this.retryable = details.retryable ?? rulesOf(details.code)?.retryable === true;
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
    super(`${field}: ${rule}`, { code: 'InvalidInput', operation, retryable: false });
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
  ExpiredTradeInTokenException: 'ExpiredTradeInToken',
};

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

const isRetryableSdkError = (error: Parameters<typeof isTransientError>[0]) =>
  isThrottlingError(error) || isTransientError(error) || isServerError(error);

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
  // The SDK could not make an endpoint of the client's config (a variant the partition lacks, FIPS with a custom endpoint).
  if (name === 'EndpointError') return 'InvalidConfiguration';
  const system = systemCode(error);
  // Checked before the name: the SDK reports a reset socket as a TimeoutError with code ECONNRESET.
  if (system !== undefined && NETWORK_CODES.has(system)) return 'NetworkError';
  if (/socket hang up/.test(error.message ?? '')) return 'NetworkError';
  if (name === 'TimeoutError' || system === 'ETIMEDOUT' || /wrapper for TimeoutError/.test(error.message ?? '')) return 'TimeoutError';
  if (name === 'ThrottlingException' || name === 'RequestLimitExceeded') return 'Throttling';
  // A 2xx answer the SDK could not parse (malformed XML, a proxy's HTML page).
  if (name === 'Error' && (error.$metadata?.httpStatusCode ?? 0) < 300 && /deserializ|xml|parse/i.test(error.message ?? ''))
    return 'InvalidResponse';
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
  const retryable = ALWAYS_RETRYABLE_CODES.has(code) || (isError(error) && isRetryableSdkError(error as never));
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
