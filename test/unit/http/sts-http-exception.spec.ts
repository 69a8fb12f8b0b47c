import { HttpException } from '@nestjs/common';
import { StsError, StsHttpException, StsValidationError, toStsHttpException, type StsErrorDetails } from '../../../src';
import { hintFor } from '../../../src/errors/error-codes';
import { toStsError } from '../../../src/errors/sts-error';
import { serviceError } from '../../support/fixtures';
import { visibleText } from '../../support/visible-text';

const failure = (code: string, details: Partial<StsErrorDetails> = {}) =>
  new StsError(`${code} happened`, { code, operation: 'AssumeRole', ...details });

const STATUS_CASES: Array<[StsError, number]> = [
  // The request's own inputs: the library's validation, and what STS refuses in the request itself.
  [new StsValidationError('AssumeRole', 'externalId', 'must be 2–1224 characters of [\\w+=,.@:/-]'), 400],
  [
    toStsError(
      serviceError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.'),
      'AssumeRole',
    ),
    400,
  ],
  [toStsError(serviceError('MalformedPolicyDocumentException', 'bad policy'), 'AssumeRole'), 400],
  [toStsError(serviceError('PackedPolicyTooLargeException', 'too large'), 'AssumeRole'), 400],
  // Refusals by the customer's role or account, and the onboarding checks that do not clear a role.
  [toStsError(serviceError('AccessDenied', 'not authorized', 403), 'AssumeRole'), 403],
  [toStsError(serviceError('AccessDenied', 'not authorized', 403), 'AssumeRoleWithWebIdentity'), 403],
  [toStsError(serviceError('RegionDisabledException', 'region disabled', 403), 'AssumeRole'), 403],
  [toStsError(serviceError('IDPRejectedClaimException', 'rejected', 403), 'AssumeRoleWithSAML'), 403],
  [toStsError(serviceError('InvalidIdentityTokenException', 'invalid'), 'AssumeRoleWithWebIdentity'), 403],
  [failure('ExternalIdNotEnforced'), 403],
  [failure('ExternalIdNotChecked'), 403],
  [failure('AccountMismatch', { operation: 'GetCallerIdentity' }), 403],
  // Retryable: timeouts, an answer that was not STS, and everything else retryable.
  [toStsError(Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'AssumeRole'), 504],
  [failure('TimeoutError', { retryable: true }), 504],
  [toStsError(Object.assign(new Error('Deserialization error: bad xml'), { $metadata: { httpStatusCode: 200 } }), 'AssumeRole'), 502],
  [toStsError(serviceError('Throttling', 'Rate exceeded'), 'AssumeRole'), 503],
  [toStsError(serviceError('ThrottlingException', 'Rate exceeded'), 'AssumeRole'), 503],
  [toStsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'AssumeRole'), 503],
  [toStsError(serviceError('IDPCommunicationErrorException', 'idp down', 400), 'AssumeRoleWithWebIdentity'), 503],
  [toStsError(serviceError('InternalFailure', 'oops', 500), 'AssumeRole'), 503],
  // The app's own deployment: its configuration, its base identity; and anything the library does not know.
  [
    new StsError('Invalid ServerAwsStsConfig: AWS_REGION must be a region name', {
      code: 'InvalidConfiguration',
      operation: 'Configuration',
    }),
    500,
  ],
  [new StsValidationError('Configuration', 'maxAgeSeconds', 'must be an integer from 0 to 3600 (seconds)'), 500],
  [failure('CredentialsProviderError'), 500],
  [toStsError(serviceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403), 'AssumeRole'), 500],
  [toStsError(serviceError('SignatureDoesNotMatch', 'signature', 403), 'GetCallerIdentity'), 500],
  [toStsError(serviceError('ExpiredTokenException', 'expired'), 'AssumeRole'), 500],
  [failure('WebIdentityTokenFileError', { operation: 'AssumeRoleWithWebIdentity' }), 500],
  [failure('MfaTokenCodeError'), 500],
  [failure('CredentialsExpireTooSoon'), 500],
  [failure('SomethingNew'), 500],
];

describe('toStsHttpException: the status of each kind of failure', () => {
  const cases = STATUS_CASES.map(
    ([error, status]) => [`${error.operation} ${error.code}${error.retryable ? ' (retryable)' : ''}`, status, error] as const,
  );
  it.each(cases)('%s → %i', (_label, status, error) => {
    const exception = toStsHttpException(error);
    expect(exception).toBeInstanceOf(HttpException);
    expect(exception.getStatus()).toBe(status);
    expect(exception.getResponse().statusCode).toBe(status);
    expect(exception.retryAfterSeconds).toBe([502, 503, 504].includes(status) ? 5 : undefined);
  });
});

describe('toStsHttpException: the body', () => {
  it('a refusal: the code, the hint and the request id, with the reason phrase', () => {
    const error = toStsError(serviceError('AccessDenied', 'not authorized', 403), 'AssumeRole');
    expect(toStsHttpException(error).getResponse()).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      code: 'AccessDenied',
      hint: hintFor('AccessDenied', 'AssumeRole'),
      requestId: 'req-0001',
    });
  });

  it('a validation error: the field and the rule, never the value', () => {
    const body = toStsHttpException(new StsValidationError('AssumeRole', 'mfa.tokenCode', 'must be exactly 6 digits')).getResponse();
    expect(body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      code: 'InvalidInput',
      field: 'mfa.tokenCode',
      rule: 'must be exactly 6 digits',
    });
  });

  it('a retryable failure: the code and hint, and Retry-After on the exception', () => {
    const exception = toStsHttpException(toStsError(serviceError('Throttling', 'Rate exceeded'), 'AssumeRole'));
    expect(exception.getResponse()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'Throttling',
      hint: hintFor('Throttling', 'AssumeRole'),
      requestId: 'req-0001',
    });
    expect(exception).toBeInstanceOf(StsHttpException);
    expect(exception.retryAfterSeconds).toBe(5);
  });

  it('a 500: no code, no hint, no field — only the request id when STS answered', () => {
    expect(
      toStsHttpException(
        new StsValidationError('Configuration', 'maxAgeSeconds', 'must be an integer from 0 to 3600 (seconds)'),
      ).getResponse(),
    ).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
    });
    const unknownKey = toStsError(
      serviceError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403),
      'AssumeRole',
    );
    expect(toStsHttpException(unknownKey).getResponse()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      requestId: 'req-0001',
    });
  });
});

describe('toStsHttpException: what never reaches the client', () => {
  const EXTERNAL_ID = 'planted-external-id-4ae1';
  const TENANT_ACCOUNT = '987654321098';
  const TENANT_ROLE = `arn:aws:iam::${TENANT_ACCOUNT}:role/PlantedTenantRole`;
  const BASE_ARN = 'arn:aws:iam::111111111111:user/planted-base-user';
  const SESSION_TOKEN = 'FwoGZXIvYXdzEPlantedSessionToken';
  const planted = [
    EXTERNAL_ID,
    TENANT_ACCOUNT,
    TENANT_ROLE,
    'PlantedTenantRole',
    BASE_ARN,
    'planted-base-user',
    SESSION_TOKEN,
    'not authorized',
  ];

  /** AWS's message quotes the caller and the role; the SDK error carries the raw response too. */
  const awsErrors = () => [
    serviceError(
      'AccessDenied',
      `User: ${BASE_ARN} is not authorized to perform: sts:AssumeRole on resource: ${TENANT_ROLE} (ExternalId ${EXTERNAL_ID})`,
      403,
      {
        $response: { body: SESSION_TOKEN },
      },
    ),
    serviceError('Throttling', `Rate exceeded for ${TENANT_ROLE}; not authorized ${EXTERNAL_ID}`, 400),
    serviceError('ValidationError', `Value ${EXTERNAL_ID} at 'externalId' failed; ${TENANT_ROLE}`, 400),
    serviceError('InternalFailure', `${SESSION_TOKEN} ${TENANT_ROLE}`, 500),
    Object.assign(new Error(`socket hang up talking about ${TENANT_ROLE}`), { code: 'ECONNRESET' }),
    serviceError('RegionDisabledException', `STS is not activated in ${TENANT_ACCOUNT} for ${BASE_ARN}`, 403),
  ];

  it.each(awsErrors().map((error) => [error.name, error]))(
    '%s: not the AWS message, nor a role, account, ExternalId or token in it',
    (_name, raw) => {
      // Without the request's secrets to scrub, as for an error an app built itself: the body must still hold none.
      const exception = toStsHttpException(toStsError(raw, 'AssumeRole'));
      const shown = [JSON.stringify(exception.getResponse()), visibleText(exception)].join('\n');
      for (const secret of planted) expect(shown).not.toContain(secret);
    },
  );

  it("the library's own errors: a message naming the role and account, a cause holding a token", () => {
    const errors = [
      new StsError(`The role ${TENANT_ROLE} resolved to account ${TENANT_ACCOUNT}, not 123456789012`, {
        code: 'AccountMismatch',
        operation: 'GetCallerIdentity',
      }),
      new StsError(`The role ${TENANT_ROLE} was not shown to require its ExternalId`, {
        code: 'ExternalIdNotEnforced',
        operation: 'AssumeRole',
        cause: new Error(SESSION_TOKEN),
      }),
      new StsError(`Could not read the web identity token file /var/run/${TENANT_ACCOUNT}/token`, {
        code: 'WebIdentityTokenFileError',
        operation: 'AssumeRoleWithWebIdentity',
      }),
    ];
    for (const error of errors) {
      const exception = toStsHttpException(error);
      const shown = [JSON.stringify(exception.getResponse()), visibleText(exception)].join('\n');
      for (const secret of planted) expect(shown).not.toContain(secret);
    }
  });
});
