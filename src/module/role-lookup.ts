import type { CacheLookup } from '../cache/cache-entry.js';
import type { RecentClients } from '../clients/recent-configs.js';
import type { CredentialCache } from '../cache/credential-cache.js';
import type { SharedTier } from '../cache/shared/shared-tier.js';
import type { SharedRequest } from '../cache/shared/shared-tier-context.js';
import { StsValidationError } from '../errors/sts-error.js';
import { withDeadline } from '../sts/operation-deadline.js';
import { accountOfIamArn } from '../sts/iam-arn.js';
import { canonicalOf, hasTokenCode, type PreparedAssumeRole } from '../sts/role-request.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/** What every lookup of one service shares (one object per service, not a closure per entry). */
export interface LookupContext {
  assume: (prepared: PreparedAssumeRole) => Promise<TemporaryCredentials>;
  shared: () => SharedTier | undefined;
  operationTimeoutMs: number;
}

/** What a plain request's input holds: the role, the session's length and the ExternalId, nothing else. */
const PLAIN_INPUT = new Set(['RoleArn', 'DurationSeconds', 'ExternalId']);

/** Whether a prepared request is plain: its input holds only `PLAIN_INPUT`, no MFA code, no hop to chain through. */
function isPlain(prepared: PreparedAssumeRole): boolean {
  if (prepared.tokenCode !== undefined || prepared.via !== undefined) return false;
  for (const name of Object.keys(prepared.input)) if (!PLAIN_INPUT.has(name)) return false;
  return true;
}

/**
 * The cache's lookup of one request, and that request prepared (it is its own `prepared`): one object per request,
 * since a cache of 100,000 tenants holds 100,000 of these. A plain request (role ARN, ExternalId, duration) keeps its
 * three values, as sent, in its own fields, and builds its `input` when asked (a send, a key): the prepared request,
 * its input and the index's slot took 168 B more per tenant. Any other keeps the request as prepared (`#rest`).
 * Nothing here is a copy of the caller's object: the values are the validated ones, the prepared request frozen.
 */
export abstract class RoleLookup implements CacheLookup, PreparedAssumeRole {
  /** The `clientFor` pool's memo of the flat configs this request was given clients for lately (`ClientPool.recent`). */
  recentClients: RecentClients | undefined = undefined;
  /** The index's next plain request of the same role ARN (`PreparedRequestIndex`); undefined for any other. */
  nextOfRole: RoleLookup | undefined = undefined;
  /** The role ARN sent. */
  readonly RoleArn: string;
  /** The ExternalId sent (the caller's, or `EXTERNAL_ID`'s), if any. */
  readonly ExternalId: string | undefined;
  /** The session's length sent (seconds). */
  readonly DurationSeconds: number;
  /** Whether the ExternalId is the request's own (`EXTERNAL_ID`'s does not satisfy `requireExternalId`). */
  readonly ownExternalId: boolean;
  /** The request as prepared, for one that is not plain; undefined for a plain one (its fields above say it all). */
  readonly #rest: PreparedAssumeRole | undefined;
  /** The service's, on the prototype of its lookups' class (`lookupsOf`): not a field of each lookup. */
  protected abstract readonly context: LookupContext;

  constructor(
    readonly key: string,
    prepared: PreparedAssumeRole,
  ) {
    const { input } = prepared;
    this.RoleArn = input.RoleArn;
    this.ExternalId = input.ExternalId;
    this.DurationSeconds = input.DurationSeconds;
    this.ownExternalId = prepared.ownExternalId;
    this.#rest = isPlain(prepared) ? undefined : prepared;
  }

  /** The request as prepared: this lookup. */
  get prepared(): PreparedAssumeRole {
    return this;
  }

  /** The AssumeRole input as sent (a plain request's built anew, frozen, at each read: read it once per use). */
  get input(): PreparedAssumeRole['input'] {
    if (this.#rest !== undefined) return this.#rest.input;
    const { RoleArn, DurationSeconds, ExternalId } = this;
    // As `prepareAssumeRole` builds it: only the fields given (the session name is generated at each send).
    const input = ExternalId === undefined ? { RoleArn, DurationSeconds } : { RoleArn, DurationSeconds, ExternalId };
    return Object.freeze(input) as PreparedAssumeRole['input'];
  }

  /** The role's account, read from its ARN (validated when the request was prepared). */
  get accountId(): string {
    return accountOfIamArn(this.RoleArn);
  }

  get tokenCode(): PreparedAssumeRole['tokenCode'] {
    return this.#rest?.tokenCode;
  }

  get via(): PreparedAssumeRole['via'] {
    return this.#rest?.via;
  }

  /** A new object at each read: what events, the client pool and `invalidateWhere` are shown. */
  get info(): CacheLookup['info'] {
    return { roleArn: this.RoleArn, accountId: this.accountId, sessionName: this.#rest?.input.RoleSessionName };
  }

  get refreshAhead(): boolean {
    return typeof this.tokenCode !== 'string';
  }

  get rememberRefusals(): boolean {
    return this.tokenCode === undefined;
  }

  /** Adopted from another instance: issued for the session length this request asks for. */
  issuedAt(credentials: TemporaryCredentials): number | undefined {
    return this.context.shared()?.adopted(credentials) ? credentials.expiration.getTime() - this.DurationSeconds * 1000 : undefined;
  }

  load(current: TemporaryCredentials | undefined): Promise<TemporaryCredentials> {
    const { context } = this;
    if (current !== undefined && typeof this.tokenCode === 'string') {
      return Promise.reject(
        new StsValidationError(
          'AssumeRole',
          'mfa.tokenCode',
          'a fixed MFA code serves the first fetch only: pass a function returning the current code so the cache can refresh',
        ),
      );
    }
    const shared = context.shared();
    // A request with an MFA code stays in this instance: the code proves something to this caller only.
    if (shared === undefined || hasTokenCode(this)) return context.assume(this);
    // Waiting on another instance and then fetching still settles within the operation timeout.
    const request = { localKey: this.key, canonical: canonicalOf(this) };
    return withDeadline('AssumeRole', context.operationTimeoutMs, () => shared.load(request, current, () => context.assume(this)));
  }
}

/** The class of one service's lookups: `RoleLookup`, its service's context on the prototype. */
export function lookupsOf(context: LookupContext): new (key: string, prepared: PreparedAssumeRole) => RoleLookup {
  return class ServiceRoleLookup extends RoleLookup {
    protected get context(): LookupContext {
      return context;
    }
  };
}

/**
 * The shared tier's view of a held request: one small object, its canonical text made when the tier reads it. The
 * prepared request is a private field (`#`): neither `util.inspect` nor `JSON.stringify` shows its ExternalId.
 */
class HeldRequest implements SharedRequest {
  readonly #prepared: PreparedAssumeRole;

  constructor(
    readonly localKey: string,
    prepared: PreparedAssumeRole,
  ) {
    this.#prepared = prepared;
  }

  get canonical(): string {
    return canonicalOf(this.#prepared);
  }
}

/**
 * The shared tier's view of the request whose credentials `key` holds (none for one with an MFA code); its
 * canonical text made when the tier reads it (a walk over every held request may need only the keys).
 */
export function sharedRequestOf(cache: CredentialCache | undefined, key: string): SharedRequest | undefined {
  const lookup = cache?.lookupOf(key) as RoleLookup | undefined;
  if (lookup === undefined || hasTokenCode(lookup.prepared)) return undefined;
  return new HeldRequest(key, lookup.prepared);
}
