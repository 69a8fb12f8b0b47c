import { hash } from 'node:crypto';
import {
  canonicalOf,
  defaultDuration,
  hasTokenCode,
  prepareAssumeRole,
  type PreparedAssumeRole,
  type RequestDefaults,
} from '../sts/role-request.js';
import type { AssumeRoleRequest } from '../sts/sts-request.types.js';
import { knownRequestOf, matchesKnown, type KnownRequest } from './known-request.js';
import { requestOfText, requestText, TEXT_AT } from './request-text.js';

/**
 * A cache key for `text`: its SHA-256, cut to the first 128 bits, in base64url (22 characters). No input shows in it,
 * two texts meet one key with a chance of ~2^-64 even among 2^32 of them, and a cache of 100,000 keys holds 24 B less
 * per key than the whole hash's 43 characters.
 */
export function cacheKeyOf(text: string): string {
  return hash('sha256', text, 'buffer').toString('base64url', 0, 16);
}

/** The cache key of a prepared request: of the base identity's tag and the canonical request. */
export function hashKey(baseIdentity: string, prepared: PreparedAssumeRole): string {
  return cacheKeyOf(`${baseIdentity}${canonicalOf(prepared)}`);
}

/** Most (ExternalId, duration) pairs remembered per role ARN among plain requests (more go by their text). */
const MAX_PLAIN_CHAIN = 8;

/** Most requests that are not plain remembered per role ARN by their values (more go by their text). */
const MAX_KNOWN_CHAIN = 16;

/** One request that is not plain, remembered by the values of its text: what it resolves to, the role's next one. */
interface KnownSlot<T> {
  readonly known: KnownRequest;
  readonly value: T;
  readonly next: KnownSlot<T> | undefined;
}

/**
 * What the index reads on what a plain request resolves to, and keeps there: the values it sends (a plain request is
 * compared with them) and the next plain request of its role ARN (a chain through the values: no slot per tenant).
 */
export interface PlainIndexed<T> {
  readonly ExternalId: string | undefined;
  readonly DurationSeconds: number;
  /** Whether the ExternalId is the request's own (else `EXTERNAL_ID`'s, or none). */
  readonly ownExternalId: boolean;
  nextOfRole: T | undefined;
}

/**
 * Whether a plain request given this ExternalId and duration (as given: any type) sends what `value` sends, and so
 * means its key: its own ExternalId, or none given where `value`'s is not its own; the duration given, or none where
 * `value`'s is the default. Only values `value` was prepared from, and so validated, can be equal.
 */
function sendsAsGiven<T>(value: PlainIndexed<T>, externalId: unknown, durationSeconds: unknown, byDefault: number): boolean {
  return (
    (value.ownExternalId ? value.ExternalId === externalId : externalId === undefined) &&
    (durationSeconds === undefined ? byDefault : durationSeconds) === value.DurationSeconds
  );
}

/**
 * Turns requests into what the cache needs (the prepared request and its key, wrapped by `describe`), remembering
 * the result for requests seen before, so a hit is neither validated, serialised nor hashed again:
 * - a plain request (role ARN, ExternalId, duration, nothing else) by those three values (a map by role ARN, then a
 *   chain of at most `MAX_PLAIN_CHAIN` through the values themselves, `PlainIndexed`: no map and no slot per tenant);
 * - any other by the values of its text (`KnownRequest`), a chain of at most `MAX_KNOWN_CHAIN` per role ARN, each
 *   compared with the live request field by field (`matchesKnown`: nothing built, nothing serialised);
 * - past those chains, by its text (`requestText`: one pass over the live object, no copy).
 * A request not known yet is prepared from its text (and so validated) the first time that text is seen; a request
 * outside the text's form (an MFA device, a field of an unexpected type) is prepared at every call, and remembered by
 * its key (the hash of its canonical text).
 * Only immutable values are remembered (strings, numbers, frozen prepared requests), never the caller's object.
 * The memory lives in this process only, in private fields `util.inspect` does not show, and is dropped whole when
 * it outgrows `maxSize`.
 */
export class PreparedRequestIndex<T extends PlainIndexed<T>> {
  /** Plain requests: role ARN → the last one asked of it, whose `nextOfRole` chain holds the others (a few). */
  readonly #plain = new Map<unknown, T>();
  /** Requests that are not plain: role ARN → the requests asked of it, a short chain of their values. */
  readonly #known = new Map<unknown, KnownSlot<T>>();
  readonly #byText = new Map<string, T>();
  /** By key: a request prepared anew (outside the text's form, or a role-chaining hop) that means a known one. */
  readonly #byKey = new Map<string, T>();
  #size = 0;
  /** The duration a plain request sends when it gives none (seconds). */
  readonly #defaultDuration: number;

  constructor(
    private readonly defaults: RequestDefaults,
    private readonly maxSize: number,
    private readonly keyOf: (prepared: PreparedAssumeRole) => string,
    private readonly describe: (prepared: PreparedAssumeRole, key: string) => T,
  ) {
    this.#defaultDuration = defaultDuration(defaults);
  }

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
    if (!plain) return this.#ofKnown(request, roleArn);
    let chained = 0;
    for (let value = this.#plain.get(roleArn); value !== undefined; value = value.nextOfRole, chained++) {
      if (sendsAsGiven(value, externalId, durationSeconds, this.#defaultDuration)) return value;
    }
    // A role asked with many ExternalIds or durations: those go by their text, so no walk grows long.
    if (chained >= MAX_PLAIN_CHAIN) return this.#ofText(request);
    // Prepared from the three values just read, so what is found under them is exactly what they mean.
    const prepared = prepareAssumeRole({ roleArn, externalId, durationSeconds }, this.defaults);
    this.#makeRoom();
    // A value of its own (never one remembered by key, which may be linked in a chain already), linked to the role's
    // chain as it is after making room (which may have dropped the whole memory).
    const value = this.describe(prepared, this.keyOf(prepared));
    value.nextOfRole = this.#plain.get(roleArn);
    this.#plain.set(roleArn, value);
    this.#size++;
    return value;
  }

  /** What the cache needs for a request prepared elsewhere (a role-chaining hop). */
  resolvePrepared(prepared: PreparedAssumeRole): T {
    return this.#remembered(prepared);
  }

  clear(): void {
    this.#plain.clear();
    this.#known.clear();
    this.#byText.clear();
    this.#byKey.clear();
    this.#size = 0;
  }

  /**
   * A request that is not plain: the one of its role's chain it matches, or by its text (then remembered in that
   * chain, by the values of that text, when the chain has room). A getter that throws during a comparison leaves the
   * request to the text, which reads it again and has it prepared, and refused, from itself.
   */
  #ofKnown(request: AssumeRoleRequest, roleArn: unknown): T {
    try {
      for (let slot = this.#known.get(roleArn); slot !== undefined; slot = slot.next) {
        if (matchesKnown(request, slot.known)) return slot.value;
      }
    } catch {
      // read again below
    }
    const text = requestText(request);
    if (text === undefined) return this.#remembered(prepareAssumeRole(request, this.defaults));
    const value = this.#ofWholeText(text);
    let chained = 0;
    for (let slot = this.#known.get(roleArn); slot !== undefined; slot = slot.next) chained++;
    if (chained >= MAX_KNOWN_CHAIN) return value;
    const known = knownRequestOf(text);
    // Under the role ARN the text holds (a getter may have answered another one before).
    if (known.values[TEXT_AT.roleArn] !== roleArn) return value;
    this.#makeRoom();
    // Read after: making room may have dropped the whole memory.
    this.#known.set(roleArn, { known, value, next: this.#known.get(roleArn) });
    this.#size++;
    return value;
  }

  /** A request by its text alone (a plain one past its role's chain). */
  #ofText(request: AssumeRoleRequest): T {
    const text = requestText(request);
    return text === undefined ? this.#remembered(prepareAssumeRole(request, this.defaults)) : this.#ofWholeText(text);
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

  /** What the cache needs for a request just prepared: the one already described under its key, or a new one. */
  #remembered(prepared: PreparedAssumeRole): T {
    const key = this.keyOf(prepared);
    // An MFA code is no part of the key but is part of what is sent: each such request is described anew.
    if (hasTokenCode(prepared)) return this.describe(prepared, key);
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    this.#makeRoom();
    const described = this.describe(prepared, key);
    this.#byKey.set(key, described);
    this.#size++;
    return described;
  }
}
