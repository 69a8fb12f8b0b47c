import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import { TEXT_AT } from './request-text.js';
import { jsonShapeOf, sameJson, type JsonShape } from './same-json.js';

/**
 * A request the index has seen, remembered as the values of its text (`requestText`), so a later request can be
 * compared with it field by field (`matchesKnown`) instead of having its text made: no array, no serialisation, no
 * string to hash. Built from the text, never from the caller's object; read-only.
 */
export interface KnownRequest {
  /** The text's array of fields, in `TEXT_AT`'s order. */
  readonly values: ReadonlyArray<string | number | null>;
  /** The policy's text as sent, if any. */
  readonly policy: string | undefined;
  /**
   * The shape of the policy's text parsed, when that text is what `JSON.stringify` writes for the parse (a policy
   * given as an object, or a string in that form): what a policy object is compared with. Undefined otherwise: no
   * object can then mean the same text, and none matches.
   */
  readonly policyShape: JsonShape | undefined;
  /** The role-chaining hop's own known request, if any. */
  readonly via: KnownRequest | undefined;
}

/** The known request of a text `requestText` made. */
export function knownRequestOf(text: string): KnownRequest {
  const newline = text.indexOf('\n');
  // Not frozen (a frozen array's elements are several times slower to read): it is never handed out, never changed.
  const values = JSON.parse(text.slice(0, newline)) as Array<string | number | null>;
  const policyLength = values[TEXT_AT.policyLength] as number | null;
  const policy = policyLength === null ? undefined : text.slice(newline + 1, newline + 1 + policyLength);
  const via = values[TEXT_AT.via] as string | null;
  return Object.freeze({
    values,
    policy,
    policyShape: policy === undefined ? undefined : shapeOfStringified(policy),
    via: via === null ? undefined : knownRequestOf(via),
  });
}

/**
 * Whether `request`'s text would be exactly `known`'s, found without making it: each field read once (a policy
 * object's values once, by `sameJson`), compared with `===`. True only where the texts are equal; false wherever
 * they may differ (a field of an unexpected type, an MFA device, a policy object `sameJson` cannot vouch for).
 * A getter that throws throws.
 */
export function matchesKnown(request: AssumeRoleRequest, known: KnownRequest): boolean {
  if (typeof request !== 'object' || request === null) return false;
  const {
    roleArn,
    externalId,
    durationSeconds,
    sessionName,
    policy,
    policyArns,
    tags,
    transitiveTagKeys,
    sourceIdentity,
    providedContexts,
    mfa,
    via,
  } = request;
  const { values } = known;
  if (
    mfa !== undefined ||
    roleArn !== values[TEXT_AT.roleArn] ||
    !sameOptional(externalId, values[TEXT_AT.externalId]) ||
    !sameOptional(durationSeconds, values[TEXT_AT.durationSeconds]) ||
    !sameOptional(sessionName, values[TEXT_AT.sessionName]) ||
    !sameOptional(sourceIdentity, values[TEXT_AT.sourceIdentity])
  )
    return false;
  if (known.via === undefined ? via !== undefined : !matchesKnown(via as AssumeRoleRequest, known.via)) return false;
  let at = sameList(policyArns, values, TEXT_AT.lists);
  at = sameTags(tags, values, at);
  at = sameList(transitiveTagKeys, values, at);
  at = sameContexts(providedContexts, values, at);
  // The policy last: its comparison is the one that reads deep, and only a request equal in all else needs it.
  return at === values.length && samePolicy(policy, known);
}

/** A field the text holds as `null` when absent: absent here too, or the very value. */
function sameOptional(value: unknown, known: string | number | null): boolean {
  return known === null ? value === undefined : value === known;
}

function samePolicy(policy: unknown, known: KnownRequest): boolean {
  if (typeof policy === 'string' || policy === undefined) return policy === known.policy;
  return typeof policy === 'object' && policy !== null && known.policyShape !== undefined && sameJson(policy, known.policyShape);
}

/** A list (its length, then its items) at `at` of the text's values: where the next field starts, or -1. */
function sameList(list: unknown, values: KnownRequest['values'], at: number): number {
  if (at < 0) return -1;
  const length = values[at] as number | null;
  if (length === null) return list === undefined ? at + 1 : -1;
  if (!Array.isArray(list) || list.length !== length) return -1;
  for (let index = 0; index < length; index++) if (list[index] !== values[at + 1 + index]) return -1;
  return at + 1 + length;
}

/**
 * Tags (twice their count, then key, value…) at `at`, in `Object.keys` order: where the next field starts, or -1.
 * `for…in` visits the own enumerable keys in that order, then inherited ones: any of those is a difference.
 */
function sameTags(tags: unknown, values: KnownRequest['values'], at: number): number {
  if (at < 0) return -1;
  const count = values[at] as number | null;
  if (count === null) return tags === undefined ? at + 1 : -1;
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return -1;
  const record = tags as Record<string, unknown>;
  let seen = 0;
  for (const key in record) {
    if (seen >= count || key !== values[at + 1 + seen] || record[key] !== values[at + 2 + seen]) return -1;
    seen += 2;
  }
  return seen === count ? at + 1 + count : -1;
}

/** Provided contexts (twice their count, then provider ARN, assertion…) at `at`: where the next field starts, or -1. */
function sameContexts(contexts: unknown, values: KnownRequest['values'], at: number): number {
  if (at < 0) return -1;
  const count = values[at] as number | null;
  if (count === null) return contexts === undefined ? at + 1 : -1;
  if (!Array.isArray(contexts) || 2 * contexts.length !== count) return -1;
  for (let index = 0; index < count / 2; index++) {
    const context: unknown = contexts[index];
    if (typeof context !== 'object' || context === null) return -1;
    const { providerArn, contextAssertion } = context as Record<string, unknown>;
    if (providerArn !== values[at + 1 + 2 * index] || contextAssertion !== values[at + 2 + 2 * index]) return -1;
  }
  return at + 1 + count;
}

/** The shape of a JSON text's parse when `JSON.stringify` writes that very text for it; undefined otherwise. */
function shapeOfStringified(text: string): JsonShape | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return JSON.stringify(parsed) === text ? jsonShapeOf(parsed) : undefined;
  } catch {
    return undefined;
  }
}
