import { randomUUID } from 'node:crypto';
import type { TemporaryCredentials } from '../../sts/temporary-credentials.js';
import { CredentialEnvelope } from './credential-envelope.js';
import { RedisCommands } from './redis-commands.js';
import { RequestAddresses } from './request-addresses.js';
import { FleetInvalidations } from './fleet-invalidations.js';
import type { SharedTierStats } from '../shared-tier-stats.js';
import type { StoreSubscription } from './redis-store.js';
import { READ, READ_AND_LOCK, RELEASE, RENEW, STORE_AND_RELEASE } from './tier-scripts.js';
import type { SharedRequest, SharedTierContext, SharedTierSettings, SharedWaitResult } from './shared-tier-context.js';

export type { DroppedCredentials, SharedRequest, SharedTierContext, SharedTierSettings, SharedWaitResult } from './shared-tier-context.js';

/** A waiter looks again this often even without a `fill` message (which pub/sub may lose) (ms). */
const POLL_MS = 100;
/**
 * A lock lives this long (ms; at most the operation timeout), renewed every third of it while its holder fetches:
 * a holder that dies costs the others at most this wait.
 */
const LOCK_MS = 5_000;
/** Pending invalidations are sent again, and the fleet's log read, this often (ms). */
const MAINTENANCE_MS = 1_000;
/** A request's value and generation as Redis holds them (`value` is '' when there is none). */
type Found = { value: string; generation: string };

/**
 * The fleet's tier behind each instance's cache, on the app's Redis.
 *
 * Loads: an instance that misses (or refreshes) reads Redis before it calls STS, in one script that also takes the
 * request's lock when Redis has nothing usable; the holder fetches for all, renewing its short lock meanwhile, and
 * stores its value in one more script — only if no invalidation came since it read (the request's generation is
 * unchanged) — that also announces it and releases the lock. The others wait for its value (a `fill` message, or
 * polling) at most half the operation timeout, and take the lock themselves when its holder died.
 *
 * Invalidations: each is a durable fact in Redis — the value deleted and the generation bumped (so nothing sealed
 * before is adopted or stored again), then an entry in the fleet's log (a capped stream) — queued and retried past
 * any backoff until Redis takes it. Every instance reads the log from where it left off (on every message, on every
 * resubscription, and each second), drops what it holds, and relays the invalidation to the request's addresses
 * under its other encryption keys, so replicas of both sides of a key rotation converge.
 *
 * Any Redis failure makes a load behave as without the tier.
 */
export class SharedTier {
  readonly #commands: RedisCommands;
  readonly #envelope: CredentialEnvelope;
  readonly #channel: string;
  readonly #instance = randomUUID();
  readonly #subscription: StoreSubscription;
  readonly #maintenance: NodeJS.Timeout;
  readonly #lockMs: number;
  readonly #addresses: RequestAddresses;
  readonly #invalidations: FleetInvalidations;
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Credentials this instance read from Redis rather than fetched: their life began elsewhere. */
  readonly #adopted = new WeakSet<TemporaryCredentials>();
  #closed = false;
  readonly #stats = { hits: 0, fills: 0, waits: 0, bypassed: 0 };

  constructor(
    settings: SharedTierSettings,
    private readonly context: SharedTierContext,
  ) {
    const store = settings.store();
    const keyCount = settings.encryptionKeys().length;
    this.#commands = new RedisCommands(store, settings.commandTimeoutMs, context.emit);
    this.#envelope = new CredentialEnvelope(settings.encryptionKeys(), settings.keyPrefix);
    this.#channel = `${settings.keyPrefix}events`;
    this.#lockMs = Math.min(LOCK_MS, context.operationTimeoutMs);
    this.#addresses = new RequestAddresses(this.#envelope, context, (addresses) => this.#invalidations.applyHeardAt(addresses));
    const invalidations = { logKey: `${settings.keyPrefix}log`, channel: this.#channel, instance: this.#instance, keyCount };
    this.#invalidations = new FleetInvalidations(invalidations, this.#commands, this.#envelope, this.#addresses, context);
    this.#maintenance = setInterval(() => this.#maintain(), MAINTENANCE_MS);
    this.#maintenance.unref();
    this.#subscription = store.subscribe(this.#channel, {
      message: (message) => this.#heard(message),
      ready: () => void this.#invalidations.catchUp(),
    });
  }

  /**
   * Credentials for `request` from the fleet: a usable value from Redis (newer than `current`, the credentials the
   * instance holds now), another instance's fetch, or `fetch()` — made once for the fleet under the key's lock.
   */
  async load(
    request: SharedRequest,
    current: TemporaryCredentials | undefined,
    fetch: () => Promise<TemporaryCredentials>,
  ): Promise<TemporaryCredentials> {
    const wait: { since?: number } = {};
    let result: SharedWaitResult = 'failed';
    try {
      const credentials = await this.#load(request, current, fetch, wait);
      result = this.#adopted.has(credentials) ? 'adopted' : 'fetched';
      return credentials;
    } finally {
      if (wait.since !== undefined) this.context.waited(performance.now() - wait.since, result);
    }
  }

  /** `load`, noting in `wait.since` when it began to wait on another instance's lock (once, however often it looks). */
  async #load(
    request: SharedRequest,
    current: TemporaryCredentials | undefined,
    fetch: () => Promise<TemporaryCredentials>,
    wait: { since?: number },
  ): Promise<TemporaryCredentials> {
    if (this.#closed) return this.#bypass(fetch);
    // Named even while Redis backs off, so the fleet's invalidations of this key reach this instance later.
    const addresses = await this.#addresses.addressesOf(request);
    if (addresses === undefined || !this.#commands.available) return this.#bypass(fetch);
    const [address] = addresses;
    const waitUntil = performance.now() + this.context.operationTimeoutMs / 2;
    let unusable = '';
    for (;;) {
      const token = randomUUID();
      const found = await this.#readAndLock(address, token, unusable);
      if (found === 'failed') return this.#bypass(fetch);
      const usable = this.#usable(request, address, found, current) ?? (await this.#readAll(request, addresses.slice(1), current));
      if (usable === 'failed' || usable !== undefined) {
        if (found.locked) this.#release(address, token);
        return usable === 'failed' ? this.#bypass(fetch) : this.#adopt(usable);
      }
      if (found.locked) return this.#fill(address, found.generation, token, fetch);
      if (found.refused) return this.#bypass(fetch); // Redis cannot take a lock (full): nobody would fill
      if (found.value !== '' && found.value !== unusable) {
        unusable = found.value; // take the lock past it, unless it changed meanwhile
        continue;
      }
      const remaining = waitUntil - performance.now();
      if (remaining <= 0 || this.#closed) return this.#fetchWhileWatching(request, addresses, current, fetch); // the holder takes long
      if (wait.since === undefined) {
        this.#stats.waits++;
        wait.since = performance.now();
      }
      await this.#nextFill(address, Math.min(remaining, POLL_MS));
    }
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
    return this.#adopted.has(credentials);
  }

  stats(): SharedTierStats {
    return { ...this.#stats, ...this.#invalidations.stats(), ...this.#commands.outage };
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
    this.#closed = true;
    clearInterval(this.#maintenance);
    this.#invalidations.close();
    this.#subscription.close();
    for (const wake of [...this.#waiters.values()].flatMap((waiters) => [...waiters])) wake();
  }

  #maintain(): void {
    this.#addresses.nameHeldOncePrincipalKnown();
    this.#invalidations.maintain();
  }

  #bypass(fetch: () => Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
    this.#stats.bypassed++;
    return fetch();
  }

  #adopt(credentials: TemporaryCredentials): TemporaryCredentials {
    this.#stats.hits++;
    this.#adopted.add(credentials);
    return credentials;
  }

  /**
   * Fetches under the lock (renewing it meanwhile), then — after the caller has its answer — stores the value unless
   * an invalidation came since `generation` was read, announces it and releases the lock, in one script sent past any
   * backoff: a store Redis refuses still releases the lock.
   */
  async #fill(
    address: string,
    generation: string,
    token: string,
    fetch: () => Promise<TemporaryCredentials>,
  ): Promise<TemporaryCredentials> {
    const lock = `${address}:lock`;
    this.#stats.fills++;
    const renewal = setInterval(
      () => void this.#commands.attempt((redis) => redis.eval(RENEW, [lock], [token, String(this.#lockMs)]), { force: true }),
      this.#lockMs / 3,
    );
    renewal.unref();
    let credentials: TemporaryCredentials;
    try {
      credentials = await fetch();
    } catch (error) {
      this.#release(address, token);
      throw error;
    } finally {
      clearInterval(renewal);
    }
    const ttl = Math.floor(credentials.expiration.getTime() - this.context.mandatoryWindowMs - this.context.now());
    if (ttl <= 0 || this.#closed) {
      this.#release(address, token);
      return credentials;
    }
    const sealed = this.#envelope.seal(address, credentials, generation);
    const args = [generation, sealed, String(ttl), token, this.#channel, `fill ${this.#instance} ${address}`];
    void this.#commands
      .attempt((redis) => redis.eval(STORE_AND_RELEASE, [address, `${address}:gen`, lock], args), { force: true })
      .then((stored) => {
        if (stored === 'failed') this.#release(address, token);
      });
    return credentials;
  }

  /**
   * Its own fetch, for a waiter that gave up on the holder; should the holder's value arrive first, that one. Without
   * the tier the caller would have fetched at once, so the holder's slowness must not cost it its answer.
   */
  #fetchWhileWatching(
    request: SharedRequest,
    addresses: string[],
    current: TemporaryCredentials | undefined,
    fetch: () => Promise<TemporaryCredentials>,
  ): Promise<TemporaryCredentials> {
    let settled = false;
    const own = this.#bypass(fetch).finally(() => (settled = true));
    const watched = (async (): Promise<TemporaryCredentials> => {
      while (!settled && !this.#closed) {
        await this.#nextFill(addresses[0], POLL_MS);
        const read = settled ? undefined : await this.#readAll(request, addresses, current);
        if (read === 'failed') break;
        if (read !== undefined) return this.#adopt(read);
      }
      return own;
    })();
    return Promise.race([own, watched]);
  }

  /** The value and generation at `address`, and its lock when there is no value (or only `unusable`). */
  async #readAndLock(
    address: string,
    token: string,
    unusable: string,
  ): Promise<(Found & { locked: boolean; refused: boolean }) | 'failed'> {
    const keys = [address, `${address}:gen`, `${address}:lock`];
    const answer = await this.#commands.attempt((redis) => redis.eval(READ_AND_LOCK, keys, [token, String(this.#lockMs), unusable]), {
      // Taken after we gave up, so nobody fetches under it: released at once.
      late: (late) => Array.isArray(late) && late[2] === 1 && this.#release(address, token),
    });
    if (answer === 'failed' || !Array.isArray(answer)) return 'failed';
    const [value, generation, locked] = answer as [string, string, number];
    return { value, generation, locked: locked === 1, refused: locked === -1 };
  }

  /** The first usable value at these addresses (see `#usable`), undefined when none is. */
  async #readAll(
    request: SharedRequest,
    addresses: string[],
    current: TemporaryCredentials | undefined,
  ): Promise<TemporaryCredentials | undefined | 'failed'> {
    for (const address of addresses) {
      const answer = await this.#commands.attempt((redis) => redis.eval(READ, [address, `${address}:gen`], []));
      if (answer === 'failed' || !Array.isArray(answer)) return 'failed';
      const [value, generation] = answer as [string, string];
      const usable = this.#usable(request, address, { value, generation }, current);
      if (usable !== undefined) return usable;
    }
    return undefined;
  }

  /**
   * The credentials of a value when they are usable: sealed at the request's current generation, unexpired past the
   * mandatory window, newer than `current`, and newer than what this instance last invalidated under the key (an
   * invalidation still waiting for Redis must not be undone here).
   */
  #usable(
    request: SharedRequest,
    address: string,
    { value, generation }: Found,
    current: TemporaryCredentials | undefined,
  ): TemporaryCredentials | undefined {
    if (this.#invalidations.isPending(address)) return undefined; // this instance is invalidating it: Redis may not have heard yet
    const credentials = this.#envelope.open(address, value, generation);
    if (credentials === undefined) return undefined; // absent, foreign, tampered, sealed with another key or before an invalidation
    const expiresAt = credentials.expiration.getTime();
    const invalidated = this.#invalidations.lastInvalidatedExpiration(request.localKey);
    const usable = expiresAt - this.context.mandatoryWindowMs > this.context.now() && expiresAt > invalidated;
    return usable && (current === undefined || credentials.expiration > current.expiration) ? credentials : undefined;
  }

  /** Releases a lock by its token, even while backing off. */
  #release(address: string, token: string): void {
    void this.#commands.attempt((redis) => redis.eval(RELEASE, [`${address}:lock`], [token]), { force: true });
  }

  /** Resolves at the next `fill` of `address`, or after `ms`. */
  #nextFill(address: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const waiters = this.#waiters.get(address) ?? new Set();
      this.#waiters.set(address, waiters);
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.#waiters.get(address) === waiters) this.#waiters.delete(address);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  /** `fill <instance> <address>` wakes that address's waiters; `log` says the fleet's log grew. */
  #heard(message: string): void {
    const [kind, , address] = message.split(' ');
    if (kind === 'fill') this.#waiters.get(address)?.forEach((wake) => wake());
    if (kind === 'log') void this.#invalidations.catchUp();
  }
}
