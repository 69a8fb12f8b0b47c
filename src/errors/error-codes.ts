import type { StsOperation } from './sts-operation.js';
import type { ErrorCodeRules } from './error-code-rules.js';
import { LIBRARY_ERROR_CODES, type LibraryErrorCode } from './library-error-codes.js';
import { STS_SERVICE_ERROR_CODES, type StsServiceErrorCode } from './sts-service-error-codes.js';

export type { LibraryErrorCode, StsServiceErrorCode };

/** Every code an `StsError` is known to carry: STS's and the library's own. */
export type StsErrorCode = StsServiceErrorCode | LibraryErrorCode;

/** A name in both halves would take the library's rules silently: this fails to compile when one is. */
const _noSharedName: [Extract<StsServiceErrorCode, LibraryErrorCode>] extends [never] ? true : never = true;

/** The one table of codes: retry, refusal, HTTP and rejection decisions and hints all read it. */
export const ERROR_CODES: Readonly<Record<StsErrorCode, ErrorCodeRules>> = { ...STS_SERVICE_ERROR_CODES, ...LIBRARY_ERROR_CODES };

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
