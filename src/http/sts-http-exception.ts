import { STATUS_CODES } from 'node:http';
import { HttpException, HttpStatus } from '@nestjs/common';
import { rulesOf } from '../errors/error-codes.js';
import { StsValidationError, type StsError } from '../errors/sts-error.js';

/** The `Retry-After` of every retryable failure, in seconds: long enough that a retrying client does not pile on. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The body of the HTTP answer to an `StsError`. Only what the library wrote itself: never the error's message (it
 * can quote AWS, a base credentials provider, a role ARN), an ExternalId, a role ARN or an account id.
 */
export interface StsHttpErrorBody {
  /** The HTTP status, as in the status line. */
  statusCode: number;
  /** The status's reason phrase: `Bad Request`, `Forbidden`, `Service Unavailable`, … */
  error: string;
  /** The `StsError` code (`InvalidInput`, `ValidationError`, `AccessDenied`, `Throttling`, …); absent from a 500. */
  code?: string;
  /** What a person can do about it, when the library has a hint for the code; absent from a 500. */
  hint?: string;
  /** The input at fault, for a 400 from the library's own validation (`roleArn`, `externalId`, `mfa.tokenCode`, …). */
  field?: string;
  /** What that input must be; never echoes the value. */
  rule?: string;
  /** The STS request id, when STS answered (not a secret: AWS support asks for it). */
  requestId?: string;
}

/** The status an `StsError` answers with; see docs/http-errors.md for why each. */
function statusOf(error: StsError): HttpStatus {
  if (error.operation === 'Configuration') return HttpStatus.INTERNAL_SERVER_ERROR;
  if (error.retryable) {
    if (error.code === 'TimeoutError') return HttpStatus.GATEWAY_TIMEOUT;
    if (error.code === 'InvalidResponse') return HttpStatus.BAD_GATEWAY;
    return HttpStatus.SERVICE_UNAVAILABLE;
  }
  const rules = rulesOf(error.code);
  if (rules?.inputFault) return HttpStatus.BAD_REQUEST;
  if (rules?.refusal || rules?.roleCheck) return HttpStatus.FORBIDDEN;
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

/** The HTTP answer to an `StsError`: a Nest `HttpException` with a body of `StsHttpErrorBody`. */
export class StsHttpException extends HttpException {
  /** The `Retry-After` to send with it, in seconds: set for a retryable failure (502, 503, 504), else undefined. */
  readonly retryAfterSeconds?: number;

  constructor(body: StsHttpErrorBody, retryAfterSeconds?: number) {
    super(body, body.statusCode);
    this.retryAfterSeconds = retryAfterSeconds;
  }

  override getResponse(): StsHttpErrorBody {
    return super.getResponse() as StsHttpErrorBody;
  }
}

/**
 * Maps an `StsError` to the HTTP answer a client can act on: 400 for a request input STS or the library refused
 * (`field` and `rule` for the library's validation), 403 for a refusal by the customer's role or account, 503 / 504 /
 * 502 with `Retry-After` for throttling and other retryable failures / timeouts / answers that were not STS, and a
 * bare 500 for the library's configuration, the base identity and anything else. For an app's own exception filter;
 * `StsExceptionFilter` answers with it.
 */
export function toStsHttpException(error: StsError): StsHttpException {
  const statusCode = statusOf(error);
  const body: StsHttpErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error' };
  if (statusCode !== HttpStatus.INTERNAL_SERVER_ERROR) {
    body.code = error.code;
    if (error.hint !== undefined) body.hint = error.hint;
    if (error instanceof StsValidationError) Object.assign(body, { field: error.field, rule: error.rule });
  }
  if (error.requestId !== undefined) body.requestId = error.requestId;
  const retryable = error.retryable && statusCode !== HttpStatus.INTERNAL_SERVER_ERROR;
  return new StsHttpException(body, retryable ? RETRY_AFTER_SECONDS : undefined);
}
