import type { CacheLookup } from '../cache/cache-entry.js';
import type { RecentClients } from '../clients/recent-configs.js';
import type { CredentialCache } from '../cache/credential-cache.js';
import type { SharedTier } from '../cache/shared/shared-tier.js';
import type { SharedRequest } from '../cache/shared/shared-tier-context.js';
import { StsValidationError } from '../errors/sts-error.js';
import { withDeadline } from '../sts/operation-deadline.js';
import { canonicalOf, hasTokenCode, type PreparedAssumeRole } from '../sts/role-request.js';
import type { TemporaryCredentials } from '../sts/temporary-credentials.js';

/** What every lookup of one service shares (one object per service, not a closure per entry). */
export interface LookupContext {
  assume: (prepared: PreparedAssumeRole) => Promise<TemporaryCredentials>;
  shared: () => SharedTier | undefined;
  operationTimeoutMs: number;
}

/**
 * The cache's lookup of one prepared request: four fields, and the rest derived on the prototype (no closure and no
 * copy per entry: a cache of 100,000 tenants holds 100,000 of these).
 */
export class RoleLookup implements CacheLookup {
  /** The `clientFor` pool's memo of the flat configs this request was given clients for lately (`ClientPool.recent`). */
  recentClients: RecentClients | undefined = undefined;

  constructor(
    readonly key: string,
    readonly prepared: PreparedAssumeRole,
    private readonly context: LookupContext,
  ) {}

  /** A new object at each read: what events, the client pool and `invalidateWhere` are shown. */
  get info(): CacheLookup['info'] {
    const { input, accountId } = this.prepared;
    return { roleArn: input.RoleArn, accountId, sessionName: input.RoleSessionName };
  }

  get refreshAhead(): boolean {
    return typeof this.prepared.tokenCode !== 'string';
  }

  get rememberRefusals(): boolean {
    return this.prepared.tokenCode === undefined;
  }

  /** Adopted from another instance: issued for the session length this request asks for. */
  issuedAt(credentials: TemporaryCredentials): number | undefined {
    return this.context.shared()?.adopted(credentials)
      ? credentials.expiration.getTime() - this.prepared.input.DurationSeconds * 1000
      : undefined;
  }

  load(current: TemporaryCredentials | undefined): Promise<TemporaryCredentials> {
    const { prepared, context } = this;
    if (current !== undefined && typeof prepared.tokenCode === 'string') {
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
    if (shared === undefined || hasTokenCode(prepared)) return context.assume(prepared);
    // Waiting on another instance and then fetching still settles within the operation timeout.
    const request = { localKey: this.key, canonical: canonicalOf(prepared) };
    return withDeadline('AssumeRole', context.operationTimeoutMs, () => shared.load(request, current, () => context.assume(prepared)));
  }
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
