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
  | 'AssumeRoot'
  | 'GetDelegatedAccessToken'
  | 'Configuration';
