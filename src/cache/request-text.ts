import { STS_LIMITS } from '../sts/sts-limits.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';

/**
 * A request's text: everything `prepareAssumeRole` reads from it, in one pass over the live object, each field read
 * once, in a form `requestOfText` turns back into a request of exactly those values. So the prepared request
 * remembered under a text is the one every request of that text means, whatever the caller does to its object later.
 *
 * The form: a JSON array of the fields (`null` for an absent field, the policy's length), then a newline, then the
 * policy's JSON text as sent (JSON text never holds a raw newline, so the first one ends the array). Undefined for a
 * request outside the form (an MFA device, a field of an unexpected type, a getter that throws): those are prepared,
 * and so validated, at every call.
 */
export function requestText(request: AssumeRoleRequest): string | undefined {
  try {
    return textOf(request);
  } catch {
    return undefined; // outside the form, or a getter or a policy's toJSON that throws: prepareAssumeRole reports it
  }
}

/** The request a text stands for (a text `requestText` made). */
export function requestOfText(text: string): AssumeRoleRequest {
  const newline = text.indexOf('\n');
  const values = JSON.parse(text.slice(0, newline)) as Array<string | number | null>;
  let at = 0;
  const next = () => values[at++];
  const list = () => {
    const length = next() as number | null;
    return length === null ? undefined : (values.slice(at, (at += length)) as string[]);
  };
  const request: AssumeRoleRequest = { roleArn: next() as string };
  const [externalId, durationSeconds, sessionName, policyLength, sourceIdentity, via] = [next(), next(), next(), next(), next(), next()];
  if (externalId !== null) request.externalId = externalId as string;
  if (durationSeconds !== null) request.durationSeconds = durationSeconds as number;
  if (sessionName !== null) request.sessionName = sessionName as string;
  if (policyLength !== null) request.policy = text.slice(newline + 1, newline + 1 + (policyLength as number));
  if (sourceIdentity !== null) request.sourceIdentity = sourceIdentity as string;
  if (via !== null) request.via = requestOfText(via as string);
  const policyArns = list();
  if (policyArns !== undefined) request.policyArns = policyArns;
  const tagPairs = list();
  // Own data properties, `__proto__` included, as the caller's object had them.
  if (tagPairs !== undefined)
    request.tags = Object.fromEntries(
      Array.from({ length: tagPairs.length / 2 }, (_, index) => [tagPairs[2 * index], tagPairs[2 * index + 1]]),
    );
  const transitiveTagKeys = list();
  if (transitiveTagKeys !== undefined) request.transitiveTagKeys = transitiveTagKeys;
  const contextPairs = list();
  if (contextPairs !== undefined) {
    request.providedContexts = Array.from({ length: contextPairs.length / 2 }, (_, index) => ({
      providerArn: contextPairs[2 * index],
      contextAssertion: contextPairs[2 * index + 1],
    }));
  }
  return request;
}

/**
 * Every field of `AssumeRoleRequest`, as the text holds it: a field added to the type does not compile until it is
 * decided here (and in `textOf`, `requestOfText` and `matchesKnown`), so no field can be left out of the text and served from the
 * credentials of a request without it.
 */
const FIELDS_IN_TEXT: { readonly [K in keyof Required<AssumeRoleRequest>]: 'text' | 'outside' } = {
  roleArn: 'text',
  externalId: 'text',
  durationSeconds: 'text',
  sessionName: 'text',
  policy: 'text',
  policyArns: 'text',
  tags: 'text',
  transitiveTagKeys: 'text',
  sourceIdentity: 'text',
  providedContexts: 'text',
  via: 'text',
  mfa: 'outside',
};
/** The fields a plain request leaves undefined (all but role ARN, ExternalId and duration). */
export const NOT_PLAIN_FIELDS = Object.freeze(
  (Object.keys(FIELDS_IN_TEXT) as Array<keyof AssumeRoleRequest>).filter(
    (field) => field !== 'roleArn' && field !== 'externalId' && field !== 'durationSeconds',
  ),
);

/**
 * Where each field is in the text's array: the scalars, then from `lists` on policy ARNs, tags, transitive tag keys
 * and provided contexts, each as its length and then its items. `textOf` writes in this order, `requestOfText` and
 * `matchesKnown` read in it.
 */
export const TEXT_AT = Object.freeze({
  roleArn: 0,
  externalId: 1,
  durationSeconds: 2,
  sessionName: 3,
  policyLength: 4,
  sourceIdentity: 5,
  via: 6,
  lists: 7,
});

/**
 * The longest list a request may hold (STS's limits): a longer one is outside the text's form, and its preparation
 * refuses it after reading one item past the limit, so a list of 2^32 − 1 holes is never walked.
 */
const LONGEST_LIST = Math.max(
  STS_LIMITS.policyArns.max,
  STS_LIMITS.tags.max,
  STS_LIMITS.transitiveTagKeys.max,
  STS_LIMITS.providedContexts.max,
);

/** Thrown (and caught) for a request outside the text's form. */
const OUTSIDE = Symbol('outside');

/**
 * The fields as one flat array of strings, numbers and nulls (`null` for an absent field; a list as its length then
 * its items; tags as key, value, key, value…), serialised by one `JSON.stringify`, then the policy's text (a policy
 * object serialised as it is sent). The order of the array is `FIELDS_AT`'s; `requestOfText` and `matchesKnown` read it.
 */
function textOf(request: AssumeRoleRequest): string {
  if (typeof request !== 'object' || request === null) throw OUTSIDE;
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
  if (mfa !== undefined || typeof roleArn !== 'string') throw OUTSIDE;
  if (durationSeconds !== undefined && !Number.isFinite(durationSeconds)) throw OUTSIDE;
  const policyText: unknown = policy === undefined || typeof policy === 'string' ? policy : JSON.stringify(policy);
  if (policyText !== undefined && typeof policyText !== 'string') throw OUTSIDE;
  const values: Array<string | number | null> = [
    roleArn,
    optional(externalId),
    durationSeconds ?? null,
    optional(sessionName),
    policyText === undefined ? null : (policyText as string).length,
    optional(sourceIdentity),
    via === undefined ? null : textOf(via),
  ];
  pushList(values, policyArns);
  pushTags(values, tags);
  pushList(values, transitiveTagKeys);
  pushContexts(values, providedContexts);
  return `${JSON.stringify(values)}\n${(policyText as string | undefined) ?? ''}`;
}

/** An optional string field: itself, or `null` when absent. */
function optional(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw OUTSIDE;
  return value;
}

/** An optional array of strings, each element read once: its length, then its items. */
function pushList(values: Array<string | number | null>, list: unknown): void {
  if (list === undefined) return void values.push(null);
  if (!Array.isArray(list)) throw OUTSIDE;
  const length = list.length;
  if (length > LONGEST_LIST) throw OUTSIDE;
  values.push(length);
  for (let index = 0; index < length; index++) {
    const value: unknown = list[index];
    if (typeof value !== 'string') throw OUTSIDE;
    values.push(value);
  }
}

/** Session tags, their own enumerable keys as `Object.entries` reads them: twice their count, then key, value… */
function pushTags(values: Array<string | number | null>, tags: unknown): void {
  if (tags === undefined) return void values.push(null);
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) throw OUTSIDE;
  const record = tags as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > LONGEST_LIST) throw OUTSIDE;
  values.push(2 * keys.length);
  for (const key of keys) {
    const value = record[key];
    if (typeof value !== 'string') throw OUTSIDE;
    values.push(key, value);
  }
}

/** Provided contexts: twice their count, then provider ARN, assertion… (each element and field read once). */
function pushContexts(values: Array<string | number | null>, contexts: unknown): void {
  if (contexts === undefined) return void values.push(null);
  if (!Array.isArray(contexts)) throw OUTSIDE;
  const length = contexts.length;
  if (length > LONGEST_LIST) throw OUTSIDE;
  values.push(2 * length);
  for (let index = 0; index < length; index++) {
    const context: unknown = contexts[index];
    if (typeof context !== 'object' || context === null) throw OUTSIDE;
    const { providerArn, contextAssertion } = context as Record<string, unknown>;
    if (typeof providerArn !== 'string' || typeof contextAssertion !== 'string') throw OUTSIDE;
    values.push(providerArn, contextAssertion);
  }
}
