/**
 * The STS actions the local server answers: each reads its parameters, applies the IAM rules, issues
 * credentials and returns the content of its `<Action>Result` element. They check in the order STS does, so
 * the first failing check decides the error.
 */
import type { Caller, CredentialStore, IssuedCredential } from './credentials.js';
import { decodeSamlAssertion, parseJwt, readSamlClaims, samlNameQualifier } from './identity-tokens.js';
import {
  authorizeAssumeRole,
  authorizeSaml,
  authorizeWebIdentity,
  checkChainedDuration,
  checkSessionTokenMfa,
  principalOf,
  roleSessionSeconds,
  sessionSourceIdentity,
  sessionTokenIdentity,
  type RoleRegistry,
} from './iam-rules.js';
import { roleAccount } from './role-arn.js';
import { packedPolicySize, parseDuration, requireRoleArn, requireSessionName } from './query-parameters.js';
import { LocalStsFailure, validationFailure, type XmlNode } from './wire-format.js';

const DEFAULT_SESSION_TOKEN_DURATION = 43200;

/** What the actions need from the server. */
export interface StsActionContext {
  roles: RoleRegistry;
  credentials: CredentialStore;
  /** Server clock, epoch ms. */
  now: () => number;
  /** The only accepted MFA TokenCode. */
  validMfaCode: string;
  /** The decoded document of each encoded authorization message the server made (`encodeAuthorizationMessage`). */
  authorizationMessages: Map<string, string>;
  /** The organization of the first base identity's account (its management account), for AssumeRoot. */
  organization: { rootSessionsEnabled: boolean; memberAccounts: Set<string> };
  /** The trade-in tokens the server issued (`issueTradeInToken`): the principal each delegates, and when it expires. */
  tradeInTokens: Map<string, { principalArn: string; expiresAt: number }>;
}

const ROOT_TASK_POLICY =
  /^arn:aws:iam::aws:policy\/root-task\/(IAMAuditRootUserCredentials|IAMCreateRootUserPassword|IAMDeleteRootUserCredentials|S3UnlockBucketPolicy|SQSUnlockQueuePolicy)$/;
const DELEGATED_SESSION_SECONDS = 3600;

/** The value of a required parameter, or the ValidationError STS answers without it. */
function requireParameter(params: URLSearchParams, name: string, member: string): string {
  const value = params.get(name);
  if (value === null) {
    throw validationFailure(`1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function credentialsXml(cred: IssuedCredential): XmlNode {
  return {
    AccessKeyId: cred.accessKeyId,
    SecretAccessKey: cred.secretAccessKey,
    SessionToken: cred.sessionToken,
    Expiration: new Date(cred.expiresAt).toISOString(),
  };
}

/** AssumeRole, signed by `caller`. */
export function assumeRole(sts: StsActionContext, params: URLSearchParams, caller: Caller): XmlNode {
  const roleArn = requireRoleArn(params.get('RoleArn'));
  const sessionName = requireSessionName(params.get('RoleSessionName'));
  const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
  const role = sts.roles.get(roleArn);
  authorizeAssumeRole(role, roleArn, caller, params, sts.validMfaCode);
  checkChainedDuration(caller, duration);
  const seconds = roleSessionSeconds(role, duration);
  const packed = packedPolicySize(params);
  const sourceIdentity = sessionSourceIdentity(caller, params.get('SourceIdentity') ?? undefined, roleArn);
  const cred = sts.credentials.issueAssumedRole(role.arn, sessionName, seconds, {
    mfaAuthenticated: caller.kind === 'issued' ? caller.cred.mfaAuthenticated : Boolean(params.get('SerialNumber')),
    sourceIdentity,
  });
  return {
    Credentials: credentialsXml(cred),
    AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
    PackedPolicySize: packed,
    SourceIdentity: sourceIdentity,
  };
}

/** AssumeRoleWithWebIdentity (unsigned). */
export function assumeRoleWithWebIdentity(sts: StsActionContext, params: URLSearchParams): XmlNode {
  const roleArn = requireRoleArn(params.get('RoleArn'));
  const sessionName = requireSessionName(params.get('RoleSessionName'));
  const token = params.get('WebIdentityToken');
  if (token === null) {
    throw validationFailure(
      "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null",
    );
  }
  const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
  const claims = parseJwt(token);
  if (!claims) {
    throw new LocalStsFailure(
      'InvalidIdentityToken',
      'The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)',
    );
  }
  if (claims.exp !== undefined && claims.exp * 1000 <= sts.now()) {
    throw new LocalStsFailure(
      'ExpiredTokenException',
      `Token expired: current date/time ${Math.floor(sts.now() / 1000)} must be before the expiration date/time ${claims.exp}`,
    );
  }
  const role = sts.roles.get(roleArn);
  authorizeWebIdentity(role, claims.aud);
  const seconds = roleSessionSeconds(role, duration);
  const packed = packedPolicySize(params);
  const cred = sts.credentials.issueAssumedRole(role.arn, sessionName, seconds, { mfaAuthenticated: false });
  return {
    Credentials: credentialsXml(cred),
    SubjectFromWebIdentityToken: claims.sub,
    AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
    PackedPolicySize: packed,
    Provider: params.get('ProviderId') ?? claims.iss.replace(/^https?:\/\//, ''),
    Audience: role.webIdentityAudience,
  };
}

/** AssumeRoleWithSAML (unsigned). */
export function assumeRoleWithSaml(sts: StsActionContext, params: URLSearchParams): XmlNode {
  const roleArn = requireRoleArn(params.get('RoleArn'));
  const principalArn = params.get('PrincipalArn');
  if (principalArn === null) {
    throw validationFailure(
      "1 validation error detected: Value null at 'principalArn' failed to satisfy constraint: Member must not be null",
    );
  }
  const assertion = params.get('SAMLAssertion');
  if (assertion === null) {
    throw validationFailure(
      "1 validation error detected: Value null at 'sAMLAssertion' failed to satisfy constraint: Member must not be null",
    );
  }
  const duration = parseDuration(params.get('DurationSeconds'), 900, 43200);
  const xml = decodeSamlAssertion(assertion);
  const role = sts.roles.get(roleArn);
  authorizeSaml(role, principalArn);
  const { issuer, subject, subjectType, sessionName } = readSamlClaims(xml);
  const nameQualifier = samlNameQualifier(issuer, principalArn, roleAccount(roleArn));
  const seconds = roleSessionSeconds(role, duration);
  const packed = packedPolicySize(params);
  const cred = sts.credentials.issueAssumedRole(role.arn, sessionName, seconds, { mfaAuthenticated: false });
  return {
    Credentials: credentialsXml(cred),
    AssumedRoleUser: { Arn: cred.arn, AssumedRoleId: cred.userId },
    PackedPolicySize: packed,
    Subject: subject,
    SubjectType: subjectType,
    Issuer: issuer,
    Audience: 'https://signin.aws.amazon.com/saml',
    NameQualifier: nameQualifier,
  };
}

/** GetSessionToken, signed by `caller`. */
export function getSessionToken(sts: StsActionContext, params: URLSearchParams, caller: Caller): XmlNode {
  const identity = sessionTokenIdentity(caller);
  const seconds = parseDuration(params.get('DurationSeconds'), 900, 129600) ?? DEFAULT_SESSION_TOKEN_DURATION;
  const mfaAuthenticated = checkSessionTokenMfa(params, sts.validMfaCode);
  const cred = sts.credentials.issueSession(identity, seconds, mfaAuthenticated);
  return { Credentials: credentialsXml(cred) };
}

/** GetFederationToken, signed by `caller`: only an IAM user's long-term key may call it. */
export function getFederationToken(sts: StsActionContext, params: URLSearchParams, caller: Caller): XmlNode {
  if (caller.kind === 'issued') throw new LocalStsFailure('AccessDenied', 'Cannot call GetFederationToken with session credentials');
  const name = requireParameter(params, 'Name', 'name');
  if (!/^[\w+=,.@-]{2,32}$/.test(name)) {
    throw validationFailure(
      "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  const requested = parseDuration(params.get('DurationSeconds'), 900, 129600) ?? DEFAULT_SESSION_TOKEN_DURATION;
  // A root caller's session is cut to one hour, as STS does.
  const seconds = caller.identity.arn.endsWith(':root') ? Math.min(requested, 3600) : requested;
  const packed = packedPolicySize(params);
  const cred = sts.credentials.issueFederated(caller.identity, name, seconds);
  return { Credentials: credentialsXml(cred), FederatedUser: { Arn: cred.arn, FederatedUserId: cred.userId }, PackedPolicySize: packed };
}

/**
 * AssumeRoot, signed by `caller`: only a non-root principal of the organization's management account (the first base
 * identity's), once centralized root access is enabled (`setCentralizedRootAccess`), for a member account.
 */
export function assumeRoot(sts: StsActionContext, params: URLSearchParams, caller: Caller, managementAccount: string): XmlNode {
  const { arn, account } = principalOf(caller);
  if (arn.endsWith(':root')) throw new LocalStsFailure('AccessDenied', 'Root user credentials cannot call AssumeRoot');
  const target = requireParameter(params, 'TargetPrincipal', 'targetPrincipal');
  const taskPolicyArn = requireParameter(params, 'TaskPolicyArn.arn', 'taskPolicyArn.arn');
  const seconds = parseDuration(params.get('DurationSeconds'), 0, 900) ?? 900;
  if (!ROOT_TASK_POLICY.test(taskPolicyArn)) {
    throw validationFailure('The TaskPolicyArn must be one of the AWS managed root-task policies.');
  }
  if (account !== managementAccount || !sts.organization.rootSessionsEnabled) {
    throw new LocalStsFailure(
      'AccessDenied',
      `User: ${arn} is not authorized to perform: sts:AssumeRoot: centralized root access is not enabled for this organization`,
    );
  }
  if (!sts.organization.memberAccounts.has(target)) {
    throw new LocalStsFailure('AccessDenied', `The target principal ${target} is not a member account of this organization`);
  }
  return { Credentials: credentialsXml(sts.credentials.issueRoot(target, seconds)) };
}

/** GetDelegatedAccessToken, signed: exchanges a trade-in token the server issued, until it expires. */
export function getDelegatedAccessToken(sts: StsActionContext, params: URLSearchParams): XmlNode {
  const delegation = sts.tradeInTokens.get(requireParameter(params, 'TradeInToken', 'tradeInToken'));
  if (delegation === undefined) throw new LocalStsFailure('AccessDenied', 'The trade-in token is not valid');
  if (delegation.expiresAt <= sts.now()) throw new LocalStsFailure('ExpiredTradeInTokenException');
  const { principalArn } = delegation;
  const cred = sts.credentials.issueAssumedRole(principalArn, 'delegated-access', DELEGATED_SESSION_SECONDS, { mfaAuthenticated: false });
  return { Credentials: credentialsXml(cred), AssumedPrincipal: principalArn };
}

/** GetCallerIdentity, signed by `caller`. */
export function getCallerIdentity(caller: Caller): XmlNode {
  const { userId, account, arn } = principalOf(caller);
  return { UserId: userId, Account: account, Arn: arn };
}

/** DecodeAuthorizationMessage, signed (any caller may; real STS asks for sts:DecodeAuthorizationMessage). */
export function decodeAuthorizationMessage(sts: StsActionContext, params: URLSearchParams): XmlNode {
  const encoded = requireParameter(params, 'EncodedMessage', 'encodedMessage');
  if (encoded.length > 10_240) {
    throw validationFailure(
      "1 validation error detected: Value at 'encodedMessage' failed to satisfy constraint: Member must have length less than or equal to 10240",
    );
  }
  const decoded = sts.authorizationMessages.get(encoded);
  if (decoded === undefined) throw new LocalStsFailure('InvalidAuthorizationMessageException');
  return { DecodedMessage: decoded };
}

/** GetAccessKeyInfo, signed: the account of a base identity's key or of credentials the server issued. */
export function getAccessKeyInfo(sts: StsActionContext, params: URLSearchParams): XmlNode {
  const accessKeyId = requireParameter(params, 'AccessKeyId', 'accessKeyId');
  if (!/^\w{16,128}$/.test(accessKeyId)) {
    throw validationFailure(
      "1 validation error detected: Value at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]*",
    );
  }
  // Real STS reads the account out of any key id; the local one only knows the keys it holds or issued.
  const account = sts.credentials.identity(accessKeyId)?.account ?? sts.credentials.issuedCredential(accessKeyId)?.account;
  if (account === undefined) throw validationFailure('The local STS does not know this access key id.');
  return { Account: account };
}
