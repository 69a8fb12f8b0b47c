/** The one table of error codes: the sets the cache, the clients and the retry verdict read are those it had by hand. */
import {
  CREDENTIALS_REJECTED_CODES,
  ERROR_CODES,
  NON_RETRYABLE_CODES,
  REFUSAL_CODES,
  hintFor,
  isStsErrorCode,
  type StsErrorCode,
} from '../../../src/errors/error-codes';
import { StsError, StsValidationError, toStsError } from '../../../src/errors/sts-error';
import { serviceError } from '../../support/fixtures';

describe('the error codes table', () => {
  it('derives the refusals: the STS refusals, and the library validation renamed InvalidInput', () => {
    expect([...REFUSAL_CODES].sort()).toEqual(
      [
        'AccessDenied',
        'IDPRejectedClaim',
        'InvalidIdentityToken',
        'InvalidInput',
        'MalformedPolicyDocument',
        'PackedPolicyTooLarge',
        'RegionDisabledException',
        'ValidationError',
      ].sort(),
    );
  });

  it('derives the codes no retry fixes and those of rejected credentials', () => {
    expect([...NON_RETRYABLE_CODES]).toEqual(
      expect.arrayContaining(['AccessDenied', 'InvalidClientTokenId', 'ExpiredTokenException', 'ValidationError', 'InvalidInput']),
    );
    expect(NON_RETRYABLE_CODES.has('Throttling')).toBe(false);
    expect([...CREDENTIALS_REJECTED_CODES].sort()).toEqual(
      ['ExpiredToken', 'ExpiredTokenException', 'InvalidAccessKeyId', 'InvalidClientTokenId', 'UnrecognizedClientException'].sort(),
    );
  });

  it("keeps the library's validation apart from STS's ValidationError", () => {
    expect(new StsValidationError('AssumeRole', 'roleArn', 'must be an IAM role ARN')).toMatchObject({
      code: 'InvalidInput',
      retryable: false,
    });
    expect(
      toStsError(
        serviceError(
          'ValidationError',
          'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
          400,
        ),
        'AssumeRole',
      ),
    ).toMatchObject({
      code: 'ValidationError',
      retryable: false,
      hint: hintFor('ValidationError', 'AssumeRole', 'role chaining'),
    });
  });

  it('gives an error thrown without a retry verdict the one of its code', () => {
    expect(new StsError('slow', { code: 'TimeoutError', operation: 'AssumeRole' }).retryable).toBe(true);
    expect(new StsError('refused', { code: 'AccessDenied', operation: 'AssumeRole' }).retryable).toBe(false);
    expect(new StsError('new', { code: 'SomethingStsAddsLater', operation: 'AssumeRole' }).retryable).toBe(false);
  });

  it('narrows a code for a switch checked for completeness', () => {
    const error = toStsError(serviceError('AccessDenied', 'no', 403), 'AssumeRole');
    const known = (code: StsErrorCode): string => code;
    expect(isStsErrorCode(error.code) && known(error.code)).toBe('AccessDenied');
    expect(isStsErrorCode('InternalFailure')).toBe(false);
    expect(isStsErrorCode('toString')).toBe(false);
    expect(Object.keys(ERROR_CODES).every(isStsErrorCode)).toBe(true);
  });
});
