import { STS_LIMITS } from '../sts/sts-limits.js';
import { RequestValidator } from '../sts/sts-validation.js';
import { checkTrustPrincipal } from './principal.js';
import { trustPolicyDocument, type TrustPolicyDocument, type TrustPolicySessionOptions } from './trust-policy.js';

/** Input of `rotationTrustPolicy`. */
export interface RotationTrustPolicyOptions extends TrustPolicySessionOptions {
  /** Who may assume the role: as in `trustPolicy` (`sts.trustPrincipal()` gives it). */
  principalArn: string;
  /** The ExternalId the app sends today. */
  currentExternalId: string;
  /** The ExternalId it will send (from `generateExternalId()`): a different value, held to STS's rules. */
  nextExternalId: string;
}

/**
 * Step 1 of an ExternalId rotation: the trust policy that accepts both the current and the next ExternalId
 * (`StringEquals` over the list `[current, next]`: IAM lets a request in when its ExternalId equals either). The
 * customer puts it on the role; the app, still sending the current value, keeps working.
 *
 * Step 2: `sts.validateAccess({ roleArn, externalId: next }, { requireExternalIdEnforced: true })` — once it is
 * `ok`, the app stores and sends the next value. Step 3: the customer puts `trustPolicy({ principalArn,
 * externalId: next })` on the role, which drops the old value. At no step is the app's value refused.
 *
 * @throws StsValidationError for a bad principal (as `trustPolicy`), an ExternalId outside STS's rules, or a next
 * ExternalId equal to the current one. The error never shows an ExternalId.
 */
export function rotationTrustPolicy(options: RotationTrustPolicyOptions): TrustPolicyDocument<[string, string]> {
  const validate = new RequestValidator('Configuration');
  validate.request(options);
  const { principalArn, currentExternalId, nextExternalId, allowSessionTags, allowSourceIdentity } = options;
  checkTrustPrincipal(validate, principalArn);
  validate.text(currentExternalId, 'currentExternalId', STS_LIMITS.externalId);
  validate.text(nextExternalId, 'nextExternalId', STS_LIMITS.externalId);
  validate.require(
    nextExternalId !== currentExternalId,
    'nextExternalId',
    'must differ from currentExternalId (a rotation needs a new value)',
  );
  return trustPolicyDocument(principalArn, [currentExternalId, nextExternalId], { allowSessionTags, allowSourceIdentity });
}
