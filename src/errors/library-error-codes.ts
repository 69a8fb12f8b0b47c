import { sessionDurationHint, type ErrorCodeRules } from './error-code-rules.js';

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

/** The rules of the library's own codes: the second half of the one table (`ERROR_CODES`). */
export const LIBRARY_ERROR_CODES: Readonly<Record<LibraryErrorCode, ErrorCodeRules>> = {
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
