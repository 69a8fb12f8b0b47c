import { hash } from 'node:crypto';
import { canonicalOf, hasTokenCode, prepareAssumeRole, type PreparedAssumeRole, type RequestDefaults } from '../sts/role-request.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import { readRequest, requestOfText, textWithPolicy } from './request-text.js';
import { sameJson } from './same-json.js';

/** The cache key: a SHA-256 of the base identity's tag and the canonical request, so no input shows in it. */
export function hashKey(baseIdentity: string, prepared: PreparedAssumeRole): string {
  return hash('sha256', `${baseIdentity}${canonicalOf(prepared)}`, 'base64url');
}

/** Most (ExternalId, duration) pairs remembered per role ARN among plain requests (more go by their text). */
const MAX_PLAIN_CHAIN = 8;

/** Most policy objects remembered per text of the rest of a request (more are serialised at each call). */
const MAX_POLICIES_PER_TEXT = 4;

/** A policy object seen under a text: a parse of its JSON text (never the caller's object), and what it resolves to. */
interface PolicySeen<T> {
  readonly policy: unknown;
  readonly value: T;
}

/** One plain request remembered: its ExternalId and duration as given, what it resolves to, the role's next one. */
interface PlainSlot<T> {
  readonly externalId: unknown;
  readonly durationSeconds: unknown;
  readonly value: T;
  readonly next: PlainSlot<T> | undefined;
}

/**
 * Turns requests into what the cache needs (the prepared request and its key, wrapped by `describe`), remembering
 * the result for requests seen before, so a hit is neither validated, serialised nor hashed again:
 * - a plain request (role ARN, ExternalId, duration, nothing else) by those three values (a map by role ARN, then a
 *   chain of at most `MAX_PLAIN_CHAIN`: no map per tenant);
 * - any other by its text (`requestText`: one pass over the live object, no copy), prepared from that text (and so
 *   validated) the first time the text is seen; a request outside that text's form (an MFA device, a field of an
 *   unexpected type) is prepared at every call, and remembered by its key (the hash of its canonical text).
 * Only immutable values are remembered (strings, numbers, frozen prepared requests), never the caller's object.
 * The memory lives in this process only, in private fields `util.inspect` does not show, and is dropped whole when
 * it outgrows `maxSize`.
 */
export class PreparedRequestIndex<T> {
  /** Plain requests: role ARN → the (ExternalId, duration) pairs asked of it, a short chain (no map per tenant). */
  readonly #plain = new Map<unknown, PlainSlot<T>>();
  readonly #byText = new Map<string, T>();
  /** Requests with a policy object: the text of the rest → the policies seen with it (compared, not serialised). */
  readonly #byTextAndPolicy = new Map<string, PolicySeen<T>[]>();
  /** By key: a request prepared anew (outside the text's form, or a role-chaining hop) that means a known one. */
  readonly #byKey = new Map<string, T>();
  #size = 0;

  constructor(
    private readonly defaults: RequestDefaults,
    private readonly maxSize: number,
    private readonly keyOf: (prepared: PreparedAssumeRole) => string,
    private readonly describe: (prepared: PreparedAssumeRole, key: string) => T,
  ) {}

  /** What the cache needs for this request; throws `StsValidationError` for a request STS would refuse. */
  resolve(request: AssumeRoleRequest): T {
    if (typeof request !== 'object' || request === null) return this.#remembered(prepareAssumeRole(request, this.defaults));
    const { roleArn, externalId, durationSeconds } = request;
    // Named reads, not a loop over NOT_PLAIN_FIELDS (a keyed read per field costs a plain hit more); a spec holds
    // this list equal to NOT_PLAIN_FIELDS, which does not compile without every field of the request type.
    const plain =
      request.sessionName === undefined &&
      request.policy === undefined &&
      request.policyArns === undefined &&
      request.tags === undefined &&
      request.transitiveTagKeys === undefined &&
      request.sourceIdentity === undefined &&
      request.providedContexts === undefined &&
      request.mfa === undefined &&
      request.via === undefined;
    if (!plain) return this.#ofText(request);
    const first = this.#plain.get(roleArn);
    let chained = 0;
    for (let slot = first; slot !== undefined; slot = slot.next, chained++) {
      if (slot.externalId === externalId && slot.durationSeconds === durationSeconds) return slot.value;
    }
    // A role asked with many ExternalIds or durations: those go by their text, so no walk grows long.
    if (chained >= MAX_PLAIN_CHAIN) return this.#ofText(request);
    // Prepared from the three values just read, so what is remembered under them is exactly what they mean.
    const value = this.#remembered(prepareAssumeRole({ roleArn, externalId, durationSeconds }, this.defaults), false);
    this.#plain.set(roleArn, { externalId, durationSeconds, value, next: this.#plain.get(roleArn) });
    this.#size++;
    return value;
  }

  /** What the cache needs for a request prepared elsewhere (a role-chaining hop). */
  resolvePrepared(prepared: PreparedAssumeRole): T {
    return this.#remembered(prepared);
  }

  clear(): void {
    this.#plain.clear();
    this.#byText.clear();
    this.#byTextAndPolicy.clear();
    this.#byKey.clear();
    this.#size = 0;
  }

  /**
   * A request that is not plain: by its text, prepared from that text (never from the caller's object) when new. A
   * policy given as an object is first compared with the policies seen with the same rest (`sameJson`: each value read
   * once, nothing serialised); only one not seen is serialised, and remembered as a parse of that text.
   */
  #ofText(request: AssumeRoleRequest): T {
    const reading = readRequest(request);
    if (reading === undefined) return this.#remembered(prepareAssumeRole(request, this.defaults));
    if (reading.policy === undefined) return this.#ofWholeText(reading.text);
    const { text: rest, policy } = reading;
    const seen = this.#byTextAndPolicy.get(rest);
    try {
      for (const { policy: known, value } of seen ?? []) if (sameJson(policy, known)) return value;
    } catch {
      // a getter that throws: serialising it below throws too, and the request is prepared, and refused, from itself
    }
    const text = textWithPolicy(reading, policy);
    if (text === undefined) return this.#remembered(prepareAssumeRole(request, this.defaults));
    const value = this.#ofWholeText(text);
    this.#makeRoom();
    // Read after: preparing, or making room, may have dropped the whole memory.
    let policies = this.#byTextAndPolicy.get(rest);
    if (policies === undefined) this.#byTextAndPolicy.set(rest, (policies = []));
    if (policies.length >= MAX_POLICIES_PER_TEXT) policies.shift();
    else this.#size++;
    policies.push({ policy: JSON.parse(text.slice(text.indexOf('\n') + 1)), value });
    return value;
  }

  /** A request's whole text: what it resolves to, prepared from that text the first time. */
  #ofWholeText(text: string): T {
    const known = this.#byText.get(text);
    if (known !== undefined) return known;
    const described = this.#remembered(prepareAssumeRole(requestOfText(text), this.defaults));
    // Many texts may mean one known request (tags in another order): each is an entry, and counts.
    this.#makeRoom();
    this.#byText.set(text, described);
    this.#size++;
    return described;
  }

  /** Room for one more entry: the whole memory is dropped when it holds `maxSize` (the next requests rebuild it). */
  #makeRoom(): void {
    if (this.#size >= this.maxSize) this.clear();
  }

  /**
   * What the cache needs for a request just prepared: the one already described under its key, or a new one. A plain
   * request's is found by its three values from then on, so it is not indexed by key too (`byKey`: false).
   */
  #remembered(prepared: PreparedAssumeRole, byKey = true): T {
    const key = this.keyOf(prepared);
    // An MFA code is no part of the key but is part of what is sent: each such request is described anew.
    if (hasTokenCode(prepared)) return this.describe(prepared, key);
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    this.#makeRoom();
    const described = this.describe(prepared, key);
    if (byKey) {
      this.#byKey.set(key, described);
      this.#size++;
    }
    return described;
  }
}
