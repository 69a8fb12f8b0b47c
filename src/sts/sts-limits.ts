// The characters STS accepts in ARNs and in a session policy: tab, LF and CR are the only control characters allowed.
// eslint-disable-next-line no-control-regex
const ARN_CHARACTERS = /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]+$/u;
// eslint-disable-next-line no-control-regex
const POLICY_CHARACTERS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;

/**
 * Input limits of the STS API (API reference and IAM user guide), checked before any call. Lengths count Unicode
 * code points; `rule` words a pattern for error messages.
 */
export const STS_LIMITS = {
  /** AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML durations, in seconds. */
  roleDuration: { min: 900, max: 43_200, default: 3_600 },
  /** GetFederationToken durations, in seconds (a root caller gets at most 3600). */
  federationTokenDuration: { min: 900, max: 129_600, default: 43_200 },
  /** GetFederationToken's `Name`: the federated user's name. */
  federatedUserName: { min: 2, max: 32, pattern: /^[\w+=,.@-]+$/, rule: 'of [\\w+=,.@-]' },
  /** GetWebIdentityToken: token lifetimes in seconds, its audiences, signing algorithms and scope. */
  webIdentityTokenDuration: { min: 60, max: 3_600, default: 300 },
  webIdentityTokenAudience: { maxItems: 10, min: 1, max: 1_000 },
  webIdentityTokenSigningAlgorithms: ['RS256', 'ES384'],
  /** Space-separated scope values of printable ASCII without `"`, `,` or `\\`, no leading or trailing space. */
  webIdentityTokenScope: {
    min: 1,
    max: 2_048,
    pattern: /^[!#-+\--[\]-~]+( [!#-+\--[\]-~]+)*$/,
    rule: 'of space-separated values of printable ASCII without " , or \\',
  },
  /** GetSessionToken durations, in seconds. */
  sessionTokenDuration: { min: 900, max: 129_600, default: 43_200 },
  /** STS refuses a chained AssumeRole (role credentials calling AssumeRole) above one hour. */
  roleChainingMaxDuration: 3_600,
  /** Role, policy and SAML provider ARNs: length, and the characters STS accepts (no control characters). */
  roleArn: { min: 20, max: 2_048, pattern: ARN_CHARACTERS, rule: 'without control characters' },
  roleSessionName: { min: 2, max: 64, pattern: /^[\w+=,.@-]+$/, rule: 'of [\\w+=,.@-]' },
  externalId: { min: 2, max: 1_224, pattern: /^[\w+=,.@:/-]+$/, rule: 'of [\\w+=,.@:/-]' },
  sourceIdentity: { min: 2, max: 64, pattern: /^[\w+=,.@-]+$/, rule: 'of [\\w+=,.@-]' },
  mfaSerialNumber: { min: 9, max: 256, pattern: /^[\w+=/:,.@-]+$/, rule: 'of [\\w+=/:,.@-]' },
  mfaTokenCode: { pattern: /^\d{6}$/ },
  webIdentityToken: { min: 4, max: 20_000 },
  samlAssertion: { min: 4, max: 100_000 },
  providerId: { min: 4, max: 2_048 },
  /** Plaintext session policy length; STS also reports the packed size as `packedPolicySize` (%). */
  policy: { max: 2_048, pattern: POLICY_CHARACTERS },
  policyArns: { max: 10 },
  tags: { max: 50, keyMax: 128, valueMax: 256, pattern: /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u },
  transitiveTagKeys: { max: 50 },
  /** AssumeRole's `ProvidedContexts` (trusted identity propagation): how many, the provider ARN and the signed assertion. */
  providedContexts: { max: 5 },
  contextProviderArn: {
    min: 20,
    max: 2_048,
    pattern: /^arn:aws[\w-]*:iam::aws:contextProvider\/[\w+=,.@-]+$/,
    rule: 'of the form arn:aws:iam::aws:contextProvider/<name>',
  },
  contextAssertion: { min: 4, max: 2_048 },
  /** DecodeAuthorizationMessage's `EncodedMessage`. */
  encodedAuthorizationMessage: { min: 1, max: 10_240 },
  /** AssumeRoot: the member account (a 12-digit id), the session's length in seconds (at most 15 minutes). */
  rootTargetPrincipal: { min: 12, max: 12, pattern: /^\d{12}$/, rule: 'of digits: a member account id' },
  rootSessionDuration: { min: 0, max: 900, default: 900 },
  /** The AWS managed task policies AssumeRoot accepts (`arn:<partition>:iam::aws:policy/root-task/<name>`). */
  rootTaskPolicies: [
    'IAMAuditRootUserCredentials',
    'IAMCreateRootUserPassword',
    'IAMDeleteRootUserCredentials',
    'S3UnlockBucketPolicy',
    'SQSUnlockQueuePolicy',
  ],
  /** GetDelegatedAccessToken's `TradeInToken`. STS documents no length: this bound of the library's stops a runaway string. */
  tradeInToken: { min: 1, max: 16_384 },
  /** GetAccessKeyInfo's `AccessKeyId` (`AKIA…` long-term, `ASIA…` temporary). */
  accessKeyId: { min: 16, max: 128, pattern: /^\w+$/, rule: 'of [\\w]' },
} as const;
