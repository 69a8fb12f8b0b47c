/**
 * The IAM side of the local STS: the roles it knows and the rules STS applies before issuing a session — trust,
 * the ExternalId condition (StringEquals, StringLike), MFA, MaxSessionDuration, the 1-hour role-chaining limit, SourceIdentity inheritance, and which
 * roles accept web identity and SAML — with STS's own error codes and messages.
 */
import type { Caller, LocalStsIdentity } from './credentials.js';
import { ROLE_ARN_PATTERN, roleAccount } from './role-arn.js';
import { constantTimeEqual } from './sigv4.js';
import { LocalStsFailure, validationFailure } from './wire-format.js';

/** A role the server can issue sessions of. */
export interface LocalStsRole {
  /** arn:aws:iam::123456789012:role/Name (a path such as role/team/Name is allowed). */
  arn: string;
  /**
   * Caller ARNs allowed to AssumeRole: a base identity ARN, an assumed-role
   * session ARN, a role ARN (matches any session of that role),
   * `arn:aws:iam::ACCT:root` (any principal of that account) or `'*'` (any
   * signed caller). When omitted, any signed caller of the role's own account
   * is trusted (like a trust policy naming the account root).
   */
  trustedPrincipals?: string[];
  /** ExternalId the caller must send (`StringEquals`); when neither this nor `externalIdCondition` is set, any/no ExternalId is accepted. */
  externalId?: string;
  /**
   * The trust policy's condition on `sts:ExternalId`, evaluated as IAM does: `StringEquals` matches exactly,
   * `StringLike` with `*` (any run of characters, none included) and `?` (one character), both case-sensitive; the
   * request passes when its ExternalId matches any of `values` (a condition's list is OR'ed, as a `ForAnyValue`
   * list naming several customers' values is). A request without an ExternalId never matches. Not with `externalId`.
   */
  externalIdCondition?: { operator: 'StringEquals' | 'StringLike'; values: string[] };
  /** Requires SerialNumber + TokenCode (or MFA-authenticated GetSessionToken credentials). */
  mfaRequired?: boolean;
  /** 3600..43200, default 3600. */
  maxSessionDuration?: number;
  /** When set, AssumeRoleWithWebIdentity is allowed for tokens with this `aud`. */
  webIdentityAudience?: string;
  /** When set, AssumeRoleWithSAML is allowed with this PrincipalArn. */
  samlProviderArn?: string;
}

const DEFAULT_ROLE_DURATION = 3600;
const CHAINED_ROLE_MAX_DURATION = 3600;
const MFA_FAILED = 'MultiFactorAuthentication failed with invalid MFA one time pass code. ';

/** The principal a caller acts as: its ARN, account and user id (what GetCallerIdentity answers). */
export function principalOf(caller: Caller): { arn: string; account: string; userId: string } {
  return caller.kind === 'identity' ? caller.identity : caller.cred;
}

/** The roles by ARN; the methods back LocalStsServer's addRole/updateRole/removeRole. */
export class RoleRegistry {
  private readonly roles = new Map<string, LocalStsRole>();

  /** Adds a role; throws on an invalid ARN, a duplicate or an invalid maxSessionDuration. */
  add(role: LocalStsRole): void {
    if (!ROLE_ARN_PATTERN.test(role.arn)) throw new Error(`LocalStsServer: invalid role ARN ${role.arn}`);
    if (this.roles.has(role.arn)) throw new Error(`LocalStsServer: role ${role.arn} already exists`);
    this.roles.set(role.arn, checkRole({ ...role }));
  }

  /** Changes a role's settings (never its ARN). */
  update(arn: string, patch: Partial<LocalStsRole>): void {
    const current = this.roles.get(arn);
    if (!current) throw new Error(`LocalStsServer: unknown role ${arn}`);
    if (patch.arn !== undefined && patch.arn !== arn) throw new Error('LocalStsServer: a role ARN cannot be changed');
    this.roles.set(arn, checkRole({ ...current, ...patch, arn }));
  }

  /** Forgets a role (no-op when unknown). */
  remove(arn: string): void {
    this.roles.delete(arn);
  }

  /** The role with this ARN. */
  get(arn: string): LocalStsRole | undefined {
    return this.roles.get(arn);
  }
}

function checkRole(role: LocalStsRole): LocalStsRole {
  const condition = role.externalIdCondition;
  if (condition !== undefined && role.externalId !== undefined) {
    throw new Error('LocalStsServer: give externalId or externalIdCondition, not both');
  }
  if (condition !== undefined && (!['StringEquals', 'StringLike'].includes(condition.operator) || condition.values.length === 0)) {
    throw new Error('LocalStsServer: externalIdCondition needs StringEquals or StringLike and at least one value');
  }
  const max = role.maxSessionDuration;
  if (max !== undefined && (!Number.isInteger(max) || max < 3600 || max > 43200)) {
    throw new Error('LocalStsServer: maxSessionDuration must be an integer between 3600 and 43200');
  }
  return role;
}

function trusts(role: LocalStsRole, caller: Caller): boolean {
  const { arn, account } = principalOf(caller);
  const candidates = [arn, `arn:aws:iam::${account}:root`];
  if (caller.kind === 'issued' && caller.cred.roleArn) candidates.push(caller.cred.roleArn);
  if (role.trustedPrincipals === undefined) return account === roleAccount(role.arn);
  return role.trustedPrincipals.some((p) => p === '*' || candidates.includes(p));
}

/** IAM's `StringLike`: `*` matches any run of characters, `?` one character, everything else itself. */
function stringLike(pattern: string, value: string): boolean {
  const source = [...pattern]
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/** Whether the trust policy's `sts:ExternalId` condition (if any) lets `externalId` in. */
function externalIdAllowed(role: LocalStsRole, externalId: string | null): boolean {
  const condition =
    role.externalIdCondition ?? (role.externalId === undefined ? undefined : { operator: 'StringEquals', values: [role.externalId] });
  if (condition === undefined) return true;
  if (externalId === null) return false;
  return condition.values.some((value) => (condition.operator === 'StringLike' ? stringLike(value, externalId) : value === externalId));
}

/** STS's AccessDenied for an AssumeRole the caller may not make. */
export function assumeRoleDenied(caller: Caller, roleArn: string): LocalStsFailure {
  return new LocalStsFailure(
    'AccessDenied',
    `User: ${principalOf(caller).arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
  );
}

/** AssumeRole: the role exists and trusts the caller, the ExternalId matches, and MFA is present when required. */
export function authorizeAssumeRole(
  role: LocalStsRole | undefined,
  roleArn: string,
  caller: Caller,
  params: URLSearchParams,
  validMfaCode: string,
): asserts role is LocalStsRole {
  if (!role || !trusts(role, caller)) throw assumeRoleDenied(caller, roleArn);
  if (!externalIdAllowed(role, params.get('ExternalId'))) throw assumeRoleDenied(caller, roleArn);
  if (role.mfaRequired) {
    const serial = params.get('SerialNumber');
    const code = params.get('TokenCode');
    if (serial && code !== null) {
      if (!constantTimeEqual(code, validMfaCode)) throw new LocalStsFailure('AccessDenied', MFA_FAILED);
    } else if (!(caller.kind === 'issued' && caller.cred.mfaAuthenticated)) {
      throw assumeRoleDenied(caller, roleArn);
    }
  }
}

/** A role session assumed with role-session credentials (role chaining) lasts at most 1 hour. */
export function checkChainedDuration(caller: Caller, duration: number | undefined): void {
  const chained = caller.kind === 'issued' && caller.cred.kind === 'assumed-role';
  if (chained && duration !== undefined && duration > CHAINED_ROLE_MAX_DURATION) {
    throw validationFailure('The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
  }
}

/** The session length: the requested one within the role's MaxSessionDuration, else 1 hour. */
export function roleSessionSeconds(role: LocalStsRole, duration: number | undefined): number {
  const max = role.maxSessionDuration ?? DEFAULT_ROLE_DURATION;
  if (duration !== undefined && duration > max) {
    throw validationFailure('The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
  }
  return duration ?? DEFAULT_ROLE_DURATION;
}

/** The session's SourceIdentity: a chained session inherits its caller's, and may not change it. */
export function sessionSourceIdentity(caller: Caller, requested: string | undefined, roleArn: string): string | undefined {
  const inherited = caller.kind === 'issued' ? caller.cred.sourceIdentity : undefined;
  if (inherited !== undefined && requested !== undefined && requested !== inherited) throw assumeRoleDenied(caller, roleArn);
  return requested ?? inherited;
}

/** AssumeRoleWithWebIdentity: the role accepts web identity, for one of the token's audiences. */
export function authorizeWebIdentity(
  role: LocalStsRole | undefined,
  audiences: string[],
): asserts role is LocalStsRole & { webIdentityAudience: string } {
  if (!role || role.webIdentityAudience === undefined) {
    throw new LocalStsFailure('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity');
  }
  if (!audiences.includes(role.webIdentityAudience)) {
    throw new LocalStsFailure('InvalidIdentityToken', 'Incorrect token audience');
  }
}

/** AssumeRoleWithSAML: the role accepts SAML from this provider. */
export function authorizeSaml(role: LocalStsRole | undefined, principalArn: string): asserts role is LocalStsRole {
  if (!role || role.samlProviderArn === undefined || role.samlProviderArn !== principalArn) {
    throw new LocalStsFailure('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithSAML');
  }
}

/** GetSessionToken: only a base identity may call it, not credentials STS issued. */
export function sessionTokenIdentity(caller: Caller): LocalStsIdentity {
  if (caller.kind === 'issued') {
    throw new LocalStsFailure('AccessDenied', 'Cannot call GetSessionToken with session credentials');
  }
  return caller.identity;
}

/** GetSessionToken: SerialNumber and TokenCode come together, with the valid code. True when MFA was given. */
export function checkSessionTokenMfa(params: URLSearchParams, validMfaCode: string): boolean {
  const serial = params.get('SerialNumber');
  const code = params.get('TokenCode');
  if (serial !== null || code !== null) {
    if (serial === null || code === null || !constantTimeEqual(code, validMfaCode)) {
      throw new LocalStsFailure('AccessDenied', MFA_FAILED);
    }
  }
  return serial !== null;
}
