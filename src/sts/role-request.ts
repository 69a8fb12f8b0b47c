import type { AssumeRoleCommandInput } from '@aws-sdk/client-sts';
import { itemsOf } from './list-items.js';
import { STS_LIMITS } from './sts-limits.js';
import type { AssumeRoleRequest, MfaInput } from './sts-request.types.js';
import { RequestValidator } from './sts-validation.js';

/** What request preparation needs from the config. */
export interface RequestDefaults {
  defaultSessionDuration: number;
  maxSessionDuration: number;
  defaultExternalId: () => string | undefined;
}

/**
 * The one rule for a session's duration: a requested duration must fit STS, `MAX_SESSION_DURATION` and, when
 * chained, the one-hour role-chaining cap; without one, `DEFAULT_SESSION_DURATION` (capped at one hour when chained).
 */
export function sessionDuration(validate: RequestValidator, requested: unknown, chained: boolean, defaults: RequestDefaults): number {
  const { min, max } = STS_LIMITS.roleDuration;
  const ceiling = Math.min(max, defaults.maxSessionDuration);
  if (requested !== undefined)
    validate.integer(requested, 'durationSeconds', min, ceiling, { why: ceiling < max ? ' (MAX_SESSION_DURATION)' : '' });
  const cap = STS_LIMITS.roleChainingMaxDuration;
  if (chained && requested !== undefined)
    validate.integer(requested, 'durationSeconds', min, cap, { why: ' (role chaining limits sessions to one hour)' });
  const duration = (requested as number | undefined) ?? defaultDuration(defaults);
  return chained ? Math.min(duration, cap) : duration;
}

/** The duration of a session asked without one, unchained (seconds): `DEFAULT_SESSION_DURATION`, within the ceiling. */
export function defaultDuration(defaults: RequestDefaults): number {
  return Math.min(defaults.defaultSessionDuration, STS_LIMITS.roleDuration.max, defaults.maxSessionDuration);
}

/** The inputs AssumeRole, AssumeRoleWithWebIdentity and AssumeRoleWithSAML share, validated and in their wire form. */
export interface RoleSessionInput {
  readonly RoleArn: string;
  readonly DurationSeconds: number;
  readonly Policy?: string;
  readonly PolicyArns?: ReadonlyArray<{ readonly arn: string }>;
}

/** The role-session fields as a command input (the SDK types want mutable arrays; the frozen ones stay untouched). */
export function roleSessionCommandInput(
  session: RoleSessionInput,
): Omit<RoleSessionInput, 'PolicyArns'> & { PolicyArns: Array<{ arn: string }> | undefined } {
  return { ...session, PolicyArns: session.PolicyArns?.map(({ arn }) => ({ arn })) };
}

/** Validates and maps the shared role-session fields once; returns them frozen, with the role's account. */
export function prepareRoleSession(
  validate: RequestValidator,
  request: { roleArn?: unknown; durationSeconds?: unknown; policy?: unknown; policyArns?: unknown },
  chained: boolean,
  defaults: RequestDefaults,
): { session: RoleSessionInput; accountId: string } {
  const roleArn = request.roleArn;
  const { accountId } = validate.roleArn(roleArn);
  const Policy = validate.policy(request.policy as never);
  const policyArns = validate.policyArns(request.policyArns);
  const session: RoleSessionInput = {
    RoleArn: roleArn as string,
    DurationSeconds: sessionDuration(validate, request.durationSeconds, chained, defaults),
    Policy,
    PolicyArns: policyArns === undefined ? undefined : Object.freeze(policyArns.map((arn) => Object.freeze({ arn }))),
  };
  return { session: Object.freeze(session), accountId };
}

/**
 * An AssumeRole request validated and normalised once, at the public boundary, and frozen: the cache key and the
 * command sent are both derived from it and from nothing else, so a caller changing its request object later
 * cannot pair one request's key with another's inputs.
 */
export interface PreparedAssumeRole {
  /** The AssumeRole input as sent, but for a generated session name and the MFA code (resolved at each call). */
  readonly input: Readonly<
    RoleSessionInput & Pick<AssumeRoleCommandInput, 'ExternalId' | 'RoleSessionName' | 'SourceIdentity' | 'SerialNumber'>
  > & {
    readonly Tags?: ReadonlyArray<{ readonly Key: string; readonly Value: string }>;
    readonly TransitiveTagKeys?: readonly string[];
    readonly ProvidedContexts?: ReadonlyArray<{ readonly ProviderArn: string; readonly ContextAssertion: string }>;
  };
  /** The account of the role. */
  readonly accountId: string;
  /** Whether the request carried its own ExternalId (the config's `EXTERNAL_ID` does not satisfy `requireExternalId`). */
  readonly ownExternalId: boolean;
  /** The MFA code, or the function that returns the current one. */
  readonly tokenCode?: MfaInput['tokenCode'];
  /** The request to assume first (role chaining), prepared the same way. */
  readonly via?: PreparedAssumeRole;
}

/** The fields that are not undefined, in the same order (a new object: no property is deleted, no map left behind). */
function definedOnly<T extends object>(fields: T): T {
  const defined: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) defined[name] = value;
  return defined as T;
}

const sorted = (values: readonly string[] | undefined) => (values === undefined ? null : [...values].sort());

/** Validates an AssumeRole request against every STS limit and freezes what will be sent. */
export function prepareAssumeRole(request: AssumeRoleRequest, defaults: RequestDefaults, field = ''): PreparedAssumeRole {
  const validate = new RequestValidator('AssumeRole', field);
  validate.request(request);
  // Each field is read once: a getter or a concurrent change cannot make the checks and the command disagree.
  const { externalId: ownExternalId, sessionName, tags, sourceIdentity, via } = request;
  // Copied by its indices, as the cache's text reads it: what is checked is what is sent.
  const transitiveTagKeys = Array.isArray(request.transitiveTagKeys)
    ? itemsOf(request.transitiveTagKeys, STS_LIMITS.transitiveTagKeys.max)
    : request.transitiveTagKeys;
  const chained = via !== undefined;
  const { session, accountId } = prepareRoleSession(validate, request, chained, defaults);
  // Only an absent ExternalId takes EXTERNAL_ID: any other value is the request's own, and validated as such (a null
  // would otherwise send EXTERNAL_ID counted as the request's own, which requireExternalId does not accept).
  const externalId = ownExternalId === undefined ? defaults.defaultExternalId() : ownExternalId;
  validate.externalId(externalId);
  validate.sessionName(sessionName);
  validate.sourceIdentity(sourceIdentity);
  const mfa = validate.mfa(request.mfa);
  const tagPairs = validate.tags(tags, transitiveTagKeys);
  const providedContexts = validate.providedContexts(request.providedContexts);
  const preparedVia = chained ? prepareAssumeRole(via, defaults, `${field}via.`) : undefined;
  const serialNumber = mfa?.serialNumber;
  // Only the fields given (a plain request's input holds three): a cache holds one input per tenant.
  const input = Object.freeze(
    definedOnly({
      RoleArn: session.RoleArn,
      DurationSeconds: session.DurationSeconds,
      Policy: session.Policy,
      PolicyArns: session.PolicyArns,
      ExternalId: externalId,
      RoleSessionName: sessionName,
      Tags: tagPairs === undefined ? undefined : Object.freeze(tagPairs.map(([Key, Value]) => Object.freeze({ Key, Value }))),
      TransitiveTagKeys: transitiveTagKeys === undefined ? undefined : Object.freeze(transitiveTagKeys as string[]),
      SourceIdentity: sourceIdentity,
      SerialNumber: serialNumber,
      ProvidedContexts: providedContexts,
    }),
  );
  return Object.freeze(
    definedOnly({ input, accountId, ownExternalId: ownExternalId !== undefined, tokenCode: mfa?.tokenCode, via: preparedVia }),
  );
}

/**
 * An unambiguous text of every input of a prepared request that changes the credentials, each in the form sent (the
 * policy is the exact JSON text sent; tags, policy ARNs and transitive keys are sets, so sorted). Never emitted: it
 * holds the ExternalId, so only its hash is ever a key. Made when asked (a key is made, a fetch goes to the shared
 * tier), not kept: a cache of 100,000 tenants would hold 100,000 of them.
 */
export function canonicalOf(prepared: PreparedAssumeRole): string {
  const { input, via } = prepared;
  return JSON.stringify([
    input.RoleArn,
    input.ExternalId ?? null,
    // Whose ExternalId it is changes what requireExternalId allows, so it is part of the request's identity too.
    prepared.ownExternalId,
    input.RoleSessionName ?? null,
    input.Policy ?? null,
    sorted(input.PolicyArns?.map(({ arn }) => arn)),
    input.Tags === undefined ? null : input.Tags.map(({ Key, Value }) => [Key, Value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    sorted(input.TransitiveTagKeys),
    input.SourceIdentity ?? null,
    input.DurationSeconds,
    input.SerialNumber ?? null,
    // In the order sent: each assertion is another user's context, and so other credentials.
    input.ProvidedContexts?.map(({ ProviderArn, ContextAssertion }) => [ProviderArn, ContextAssertion]) ?? null,
    via === undefined ? null : canonicalOf(via),
  ]);
}

/** Whether the request, or a hop it chains through, sends an MFA code (sent, but never part of a key). */
export function hasTokenCode(prepared: PreparedAssumeRole): boolean {
  return prepared.tokenCode !== undefined || (prepared.via !== undefined && hasTokenCode(prepared.via));
}
