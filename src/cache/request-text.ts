import type { AssumeRoleRequest } from '../sts/sts-request.types.js';

/**
 * A request's text: everything `prepareAssumeRole` reads from it, in one pass over the live object, each field read
 * once, in a form `requestOfText` turns back into a request of exactly those values. So the prepared request
 * remembered under a text is the one every request of that text means, whatever the caller does to its object later.
 *
 * The form: a JSON array of the fields (`null` for an absent field, the policy's length), then a newline, then the
 * policy's JSON text as sent (JSON text never holds a raw newline, so the first one ends the array). Undefined for a request outside the form (an MFA device, a field of an unexpected type, a getter that
 * throws): those are prepared, and so validated, at every call.
 */
export function requestText(request: AssumeRoleRequest): string | undefined {
  const reading = readRequest(request);
  return reading?.policy === undefined ? reading?.text : textWithPolicy(reading, reading.policy);
}

/**
 * A request read in one pass, as `requestText` reads it, but for a policy given as an object: that object is not
 * serialised, and `text` is the text of everything else (the policy's place marked). The cache compares such a policy
 * with the ones it has seen under that text (`sameJson`) before serialising it.
 */
export interface RequestReading {
  /** The request's text, or with `policy`, the text of the rest. */
  readonly text: string;
  /** The policy object as given (not a string), when `text` leaves it out. */
  readonly policy?: object;
  /** The fields read, for `textWithPolicy`. */
  readonly values: ReadonlyArray<string | number | null>;
}

/** A request read in one pass (see `RequestReading`); undefined for a request outside the text's form. */
export function readRequest(request: AssumeRoleRequest): RequestReading | undefined {
  try {
    return readingOf(request, true);
  } catch {
    return undefined; // outside the form, or a getter or a policy's toJSON that throws: prepareAssumeRole reports it
  }
}

/**
 * The whole request's text, from a reading that left its policy object out: that object serialised now, as it is
 * sent. Undefined when it cannot be (its `toJSON` throws, or it serialises to nothing): prepare such a request itself.
 */
export function textWithPolicy(reading: RequestReading, policy: object): string | undefined {
  let policyText: unknown;
  try {
    policyText = JSON.stringify(policy);
  } catch {
    return undefined;
  }
  if (typeof policyText !== 'string') return undefined;
  const values = [...reading.values];
  values[POLICY_AT] = policyText.length;
  return `${JSON.stringify(values)}\n${policyText}`;
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
 * decided here (and in `textOf` / `requestOfText`), so no field can be left out of the text and served from the
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

/** Thrown (and caught) for a request outside the text's form. */
const OUTSIDE = Symbol('outside');
/** Where the policy's length is among the fields; -1 there marks a policy object left out of the text. */
const POLICY_AT = 4;
const POLICY_LEFT_OUT = -1;

/**
 * The fields as one flat array of strings, numbers and nulls (`null` for an absent field; a list as its length then
 * its items; tags as key, value, key, value…), serialised by one `JSON.stringify`, then the policy's text. With
 * `leavePolicyOut`, a policy object is left out (a hop's is not: its text is the hop's whole text).
 */
function readingOf(request: AssumeRoleRequest, leavePolicyOut: boolean): RequestReading {
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
  const leftOut = leavePolicyOut && typeof policy === 'object' && policy !== null ? (policy as object) : undefined;
  const policyText: unknown = policy === undefined || typeof policy === 'string' || leftOut !== undefined ? policy : JSON.stringify(policy);
  if (leftOut === undefined && policyText !== undefined && typeof policyText !== 'string') throw OUTSIDE;
  const values: Array<string | number | null> = [
    roleArn,
    optional(externalId),
    durationSeconds ?? null,
    optional(sessionName),
    leftOut !== undefined ? POLICY_LEFT_OUT : policyText === undefined ? null : (policyText as string).length,
    optional(sourceIdentity),
    via === undefined ? null : readingOf(via, false).text,
  ];
  pushList(values, policyArns);
  pushTags(values, tags);
  pushList(values, transitiveTagKeys);
  pushContexts(values, providedContexts);
  // The rest's text has no policy to follow it (no newline to add, no second string to join and flatten).
  if (leftOut !== undefined) return { text: JSON.stringify(values), policy: leftOut, values };
  return { text: `${JSON.stringify(values)}\n${(policyText as string | undefined) ?? ''}`, values };
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
  values.push(2 * length);
  for (let index = 0; index < length; index++) {
    const context: unknown = contexts[index];
    if (typeof context !== 'object' || context === null) throw OUTSIDE;
    const { providerArn, contextAssertion } = context as Record<string, unknown>;
    if (typeof providerArn !== 'string' || typeof contextAssertion !== 'string') throw OUTSIDE;
    values.push(providerArn, contextAssertion);
  }
}
