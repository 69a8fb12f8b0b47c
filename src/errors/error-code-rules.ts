import type { StsOperation } from './sts-operation.js';

export type HintRule = (operation: StsOperation, message: string) => string | undefined;

/** What the library does with an error of one code. */
export interface ErrorCodeRules {
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
export function sessionDurationHint(message: string): string | undefined {
  if (/role chaining|1 hour session limit/i.test(message)) {
    return 'Role chaining limits the session to one hour: ask for durationSeconds of 3600 or less.';
  }
  if (/MaxSessionDuration/i.test(message)) {
    return "Ask for a durationSeconds within the role's MaxSessionDuration, or raise that setting on the role.";
  }
  return undefined;
}
