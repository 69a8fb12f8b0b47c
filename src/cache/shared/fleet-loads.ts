import { randomUUID } from 'node:crypto';
import type { TemporaryCredentials } from '../../sts/temporary-credentials.js';
import type { CredentialEnvelope } from './credential-envelope.js';
import type { FleetInvalidations } from './fleet-invalidations.js';
import { FillWaiters } from './fill-waiters.js';
import type { RedisCommands } from './redis-commands.js';
import type { RequestAddresses } from './request-addresses.js';
import type { SharedTierStats } from '../shared-tier-stats.js';
import { READ, READ_AND_LOCK, RELEASE, RENEW, STORE_AND_RELEASE } from './tier-scripts.js';
import type { SharedRequest, SharedTierContext, SharedWaitResult } from './shared-tier-context.js';

/** A waiter looks again this often even without a `fill` message (which pub/sub may lose) (ms). */
const POLL_MS = 100;
/**
 * A lock lives this long (ms; at most the operation timeout), renewed every third of it while its holder fetches:
 * a holder that dies costs the others at most this wait.
 */
const LOCK_MS = 5_000;

/** A request's value and generation as Redis holds them (`value` is '' when there is none). */
type Found = { value: string; generation: string };

/** Where a fill is announced in Redis, and who this instance is there. */
export interface FleetLoadsSettings {
  /** The channel a stored value is announced on (`fill <instance> <address>`). */
  channel: string;
  /** This instance's id in its announcements. */
  instance: string;
}

/**
 * The fleet's loads as this instance makes them: an instance that misses (or refreshes) reads Redis before it calls
 * STS, in one script that also takes the request's lock when Redis has nothing usable; the holder fetches for all,
 * renewing its short lock meanwhile, and stores its value in one more script — only if no invalidation came since it
 * read (the request's generation is unchanged) — that also announces it and releases the lock. The others wait for
 * its value (a `fill` message, or polling) at most half the operation timeout, and take the lock themselves when its
 * holder died. Any Redis failure makes a load behave as without the tier.
 */
export class FleetLoads {
  readonly #channel: string;
  readonly #instance: string;
  readonly #lockMs: number;
  readonly #waiters = new FillWaiters();
  /** Credentials this instance read from Redis rather than fetched: their life began elsewhere. */
  readonly #adopted = new WeakSet<TemporaryCredentials>();
  #closed = false;
  readonly #stats = { hits: 0, fills: 0, waits: 0, bypassed: 0 };

  constructor(
    { channel, instance }: FleetLoadsSettings,
    private readonly commands: RedisCommands,
    private readonly envelope: CredentialEnvelope,
    private readonly addresses: RequestAddresses,
    private readonly invalidations: Pick<FleetInvalidations, 'isPending' | 'lastInvalidatedExpiration'>,
    private readonly context: Pick<SharedTierContext, 'now' | 'mandatoryWindowMs' | 'operationTimeoutMs' | 'waited'>,
  ) {
    this.#channel = channel;
    this.#instance = instance;
    this.#lockMs = Math.min(LOCK_MS, context.operationTimeoutMs);
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
    const addresses = await this.addresses.addressesOf(request);
    if (addresses === undefined || !this.commands.available) return this.#bypass(fetch);
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
      await this.#waiters.nextFill(address, Math.min(remaining, POLL_MS));
    }
  }

  /** Whether these credentials came from Redis (another instance fetched them). */
  adopted(credentials: TemporaryCredentials): boolean {
    return this.#adopted.has(credentials);
  }

  /** Another instance stored a value at `address`: the loads waiting for it look now. */
  filled(address: string): void {
    this.#waiters.filled(address);
  }

  stats(): Pick<SharedTierStats, 'hits' | 'fills' | 'waits' | 'bypassed'> {
    return { ...this.#stats };
  }

  /** From now on every load fetches directly; those waiting on another instance stop waiting. */
  close(): void {
    this.#closed = true;
    this.#waiters.wakeAll();
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
      () => void this.commands.attempt((redis) => redis.eval(RENEW, [lock], [token, String(this.#lockMs)]), { force: true }),
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
    const sealed = this.envelope.seal(address, credentials, generation);
    const args = [generation, sealed, String(ttl), token, this.#channel, `fill ${this.#instance} ${address}`];
    void this.commands
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
        await this.#waiters.nextFill(addresses[0], POLL_MS);
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
    const answer = await this.commands.attempt((redis) => redis.eval(READ_AND_LOCK, keys, [token, String(this.#lockMs), unusable]), {
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
      const answer = await this.commands.attempt((redis) => redis.eval(READ, [address, `${address}:gen`], []));
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
    if (this.invalidations.isPending(address)) return undefined; // this instance is invalidating it: Redis may not have heard yet
    const credentials = this.envelope.open(address, value, generation);
    if (credentials === undefined) return undefined; // absent, foreign, tampered, sealed with another key or before an invalidation
    const expiresAt = credentials.expiration.getTime();
    const invalidated = this.invalidations.lastInvalidatedExpiration(request.localKey);
    const usable = expiresAt - this.context.mandatoryWindowMs > this.context.now() && expiresAt > invalidated;
    return usable && (current === undefined || credentials.expiration > current.expiration) ? credentials : undefined;
  }

  /** Releases a lock by its token, even while backing off. */
  #release(address: string, token: string): void {
    void this.commands.attempt((redis) => redis.eval(RELEASE, [`${address}:lock`], [token]), { force: true });
  }
}
