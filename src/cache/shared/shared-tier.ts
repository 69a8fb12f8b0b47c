import { randomUUID } from 'node:crypto';
import type { TemporaryCredentials } from '../../sts/temporary-credentials.js';
import { CredentialEnvelope } from './credential-envelope.js';
import { FleetInvalidations } from './fleet-invalidations.js';
import { FleetLoads } from './fleet-loads.js';
import { RedisCommands } from './redis-commands.js';
import { RequestAddresses } from './request-addresses.js';
import type { SharedTierStats } from '../shared-tier-stats.js';
import type { StoreSubscription } from './redis-store.js';
import type { SharedRequest, SharedTierContext, SharedTierSettings } from './shared-tier-context.js';

export type { DroppedCredentials, SharedRequest, SharedTierContext, SharedTierSettings, SharedWaitResult } from './shared-tier-context.js';

/** Pending invalidations are sent again, and the fleet's log read, this often (ms). */
const MAINTENANCE_MS = 1_000;

/**
 * The fleet's tier behind each instance's cache, on the app's Redis: one Redis client, its subscription and a
 * maintenance timer, wired to the tier's two sides.
 *
 * Loads (`FleetLoads`): an instance that misses (or refreshes) reads Redis before it calls STS, and a request is
 * fetched once for the fleet under its lock; the others wait for that value.
 *
 * Invalidations (`FleetInvalidations`): each is a durable fact in Redis and an entry in the fleet's log, which every
 * instance reads from where it left off and applies to what it holds.
 *
 * Both name a request's Redis keys through `RequestAddresses`. Any Redis failure makes a load behave as without the tier.
 */
export class SharedTier {
  readonly #commands: RedisCommands;
  readonly #addresses: RequestAddresses;
  readonly #invalidations: FleetInvalidations;
  readonly #loads: FleetLoads;
  readonly #subscription: StoreSubscription;
  readonly #maintenance: NodeJS.Timeout;

  constructor(settings: SharedTierSettings, context: SharedTierContext) {
    const store = settings.store();
    const keyCount = settings.encryptionKeys().length;
    const channel = `${settings.keyPrefix}events`;
    const instance = randomUUID();
    this.#commands = new RedisCommands(store, settings.commandTimeoutMs, context.emit);
    const envelope = new CredentialEnvelope(settings.encryptionKeys(), settings.keyPrefix);
    this.#addresses = new RequestAddresses(envelope, context, (addresses) => this.#invalidations.applyHeardAt(addresses));
    this.#invalidations = new FleetInvalidations(
      { logKey: `${settings.keyPrefix}log`, channel, instance, keyCount },
      this.#commands,
      envelope,
      this.#addresses,
      context,
    );
    this.#loads = new FleetLoads({ channel, instance }, this.#commands, envelope, this.#addresses, this.#invalidations, context);
    this.#maintenance = setInterval(() => this.#maintain(), MAINTENANCE_MS);
    this.#maintenance.unref();
    this.#subscription = store.subscribe(channel, {
      message: (message) => this.#heard(message),
      ready: () => void this.#invalidations.catchUp(),
    });
  }

  /**
   * Credentials for `request` from the fleet: a usable value from Redis (newer than `current`, the credentials the
   * instance holds now), another instance's fetch, or `fetch()` — made once for the fleet under the key's lock.
   */
  load(
    request: SharedRequest,
    current: TemporaryCredentials | undefined,
    fetch: () => Promise<TemporaryCredentials>,
  ): Promise<TemporaryCredentials> {
    return this.#loads.load(request, current, fetch);
  }

  /**
   * Invalidates a request across the fleet — its value in Redis under every encryption key, and every instance's
   * copy — however long Redis takes to be reachable again. `droppedExpiration`: when the credentials this instance
   * dropped expire, if it held some.
   */
  invalidate(request: SharedRequest, droppedExpiration: number | undefined): void {
    this.#invalidations.invalidate(request, droppedExpiration, undefined);
  }

  /** Like `invalidate`, but only where the credentials of `accessKeyId` are still held (`invalidateIfCurrent`). */
  invalidateIfHolding(request: SharedRequest, accessKeyId: string, droppedExpiration: number | undefined): void {
    this.#invalidations.invalidate(request, droppedExpiration, accessKeyId);
  }

  /** Whether these credentials came from Redis (another instance fetched them). */
  adopted(credentials: TemporaryCredentials): boolean {
    return this.#loads.adopted(credentials);
  }

  stats(): SharedTierStats {
    return { ...this.#loads.stats(), ...this.#invalidations.stats(), ...this.#commands.outage };
  }

  /** False while Redis is failing and the tier is skipped. */
  get available(): boolean {
    return this.#commands.available;
  }

  /**
   * Closes the subscription connection and stops the timer; from now on every load fetches directly. Invalidations
   * still pending get one last try. The app's client stays open.
   */
  close(): void {
    this.#loads.close();
    clearInterval(this.#maintenance);
    this.#invalidations.close();
    this.#subscription.close();
  }

  #maintain(): void {
    this.#addresses.nameHeldOncePrincipalKnown();
    this.#invalidations.maintain();
  }

  /** `fill <instance> <address>` wakes that address's waiters; `log` says the fleet's log grew. */
  #heard(message: string): void {
    const [kind, , address] = message.split(' ');
    if (kind === 'fill') this.#loads.filled(address);
    if (kind === 'log') void this.#invalidations.catchUp();
  }
}
