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
} as const;
