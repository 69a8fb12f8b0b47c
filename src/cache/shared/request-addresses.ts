import { LRUCache } from 'lru-cache';
import type { CredentialEnvelope } from './credential-envelope.js';
import type { SharedRequest, SharedTierContext } from './shared-tier-context.js';

/**
 * The Redis keys of the requests this instance loads (its addresses: one per encryption key, named from the base
 * principal and the canonical request), and back: the fleet's log names Redis keys, the cache local ones.
 */
export class RequestAddresses {
  /** Local key → its Redis keys (one per encryption key), and back: the log names Redis keys, the cache local ones. */
  readonly #addresses: LRUCache<string, string[]>;
  readonly #localKeys = new Map<string, string>();
  /** Whether a request the cache still holds may have left `#addresses` (then a heard address is looked up anew). */
  #unnamed = false;
  #principal?: Promise<string>;
  #principalKnown?: string;

  constructor(
    private readonly envelope: CredentialEnvelope,
    private readonly context: Pick<SharedTierContext, 'principal' | 'held' | 'maxEntries'>,
    /** Called with a request's addresses once it is named: an invalidation heard at one of them before now applies. */
    private readonly onNamed: (addresses: string[]) => void,
  ) {
    this.#addresses = new LRUCache({
      max: context.maxEntries,
      dispose: (addresses, localKey, reason) => {
        addresses.forEach((address) => this.#localKeys.get(address) === localKey && this.#localKeys.delete(address));
        if (reason === 'evict') this.#unnamed = true;
      },
    });
  }

  /** Whether the base principal is known (STS said), so requests can be named. */
  get principalKnown(): boolean {
    return this.#principalKnown !== undefined;
  }

  /** The Redis keys of a request, or undefined while the base principal is unknown (STS did not say yet). */
  async addressesOf({ localKey, canonical }: SharedRequest): Promise<string[] | undefined> {
    const known = this.#addresses.get(localKey);
    if (known !== undefined) return known;
    const principal = await this.#knownPrincipal();
    if (principal === undefined) {
      this.#unnamed = true; // what the caller fetches past the tier is held unnamed
      return undefined;
    }
    return this.#name(localKey, canonical, principal);
  }

  /** The Redis keys the request under `localKey` was named with, if it still is. */
  known(localKey: string): string[] | undefined {
    return this.#addresses.get(localKey);
  }

  /** The local key of a Redis address; when the tier may have left some held request unnamed, they are named first. */
  localKeyOf(address: string): string | undefined {
    const known = this.#localKeys.get(address);
    if (known !== undefined) return known;
    this.#nameHeld();
    return this.#localKeys.get(address);
  }

  /** Held requests wait for the base principal to be named: an invalidation heard meanwhile is applied then. */
  nameHeldOncePrincipalKnown(): void {
    if (this.#unnamed && this.#principalKnown === undefined) void this.#knownPrincipal().then(() => this.#nameHeld());
  }

  /** The base principal, or undefined while STS does not say (asked again on the next call). */
  async #knownPrincipal(): Promise<string | undefined> {
    this.#principal ??= this.context.principal();
    try {
      return (this.#principalKnown = await this.#principal);
    } catch {
      this.#principal = undefined;
      return undefined;
    }
  }

  #name(localKey: string, canonical: string, principal: string): string[] {
    const addresses = this.envelope.addresses(principal, canonical);
    this.#addresses.set(localKey, addresses);
    addresses.forEach((address) => this.#localKeys.set(address, localKey));
    this.onNamed(addresses);
    return addresses;
  }

  /**
   * Names every request the cache holds that the tier has no Redis keys for: its map is by load, the cache's by use,
   * and a fetch made past the tier while the base principal was unknown was never named.
   */
  #nameHeld(): void {
    const principal = this.#principalKnown;
    if (!this.#unnamed || principal === undefined) return;
    this.#unnamed = false;
    for (const { localKey, canonical } of [...this.context.held()]) {
      if (this.#addresses.get(localKey) === undefined) this.#name(localKey, canonical, principal);
    }
  }
}
