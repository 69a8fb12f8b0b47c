import { StsError } from '../errors/sts-error.js';
import type { MfaInput } from './sts-request.types.js';
import type { RequestValidator } from './sts-validation.js';

/**
 * The MFA code to send: given as is, or asked of the caller's function (its failure is an `MfaTokenCodeError`), then
 * checked. Call it last of a request's checks, so a one-time code is not spent on a request refused earlier.
 */
export async function resolveTokenCode(
  validate: RequestValidator,
  tokenCode: MfaInput['tokenCode'] | undefined,
): Promise<string | undefined> {
  if (tokenCode === undefined) return undefined;
  let code: unknown = tokenCode;
  if (typeof tokenCode === 'function') {
    try {
      code = await tokenCode();
    } catch (error) {
      throw new StsError('The mfa.tokenCode function failed', { code: 'MfaTokenCodeError', operation: validate.operation, cause: error });
    }
  }
  validate.mfaTokenCode(code);
  return code as string;
}
