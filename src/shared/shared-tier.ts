import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { TemporaryCredentials } from '../temporary-credentials.js';
import { CredentialEnvelope, type SharedEncryptionKey } from './credential-envelope.js';
import { RedisCommands, type RedisOutageState } from './redis-commands.js';
import type { RedisStore, StoreSubscription } from './redis-store.js';
import type { SharedTierEvent } from '../sts-events.js';

/** The shared tier's options with their defaults applied. */
export interface SharedTierSettings {
  /** The app's Redis client, as the tier talks to it. */
  store: () => RedisStore;
  /** The first seals, every one opens. */
  encryptionKeys: () => SharedEncryptionKey[];
  keyPrefix: string;
  commandTimeoutMs: number;
}

/** What the shared tier needs from the service around it. */
export interface SharedTierContext {
  /** The base principal (an assumed-role session as its role): entries are shared only between equal ones. */
  principal(): Promise<string>;
  /** STS's clock (ms since epoch): judges whether a shared value is still usable. */
  now(): number;
  mandatoryWindowMs: number;
  /** How long a fetch (and so a lock) may take: the operation timeout (ms). */
  operationTimeoutMs: number;
  /** Requests remembered for invalidation: twice the cache's `maxEntries`. */
  maxEntries: number;
  emit(event: SharedTierEvent): void;
  /** A load that found another instance's lock has its answer, `ms` after it began to wait (off the hit path). */
  waited(ms: number, result: SharedWaitResult): void;
  /** Another instance invalidated the entry this instance holds under `localKey`: drop it, and say when it expired. */
  onRemoteInvalidation(localKey: string): number | undefined;
}

/**
 * How a load that waited on another instance ended: with that instance's value (`adopted`), with credentials it
 * fetched itself (`fetched`: the holder took too long or failed, or Redis did), or with its own fetch failing.
 */
export type SharedWaitResult = 'adopted' | 'fetched' | 'failed';

/** Counters of the shared tier since start, and where its Redis stands (`RedisOutageState`). */
export interface SharedTierStats extends RedisOutageState {
  /** Local misses and refreshes answered from Redis, with no STS call. */
  hits: number;
  /** Fetches this instance made for the fleet, holding the key's lock. */
  fills: number;
  /** Loads that waited for another instance's fetch (once each, however many times they looked). */
  waits: number;
  /** Fetches made without the tier: Redis failed or was backing off, or a holder took too long. */
  bypassed: number;
  /** Invalidations this instance set out to tell the fleet (`invalidate`, `invalidateWhere`, `invalidateIfCurrent`). */
  invalidationsQueued: number;
  /** …of those, the ones Redis carried out: the shared value deleted (or found replaced already), and the fleet told. */
  invalidationsPropagated: number;
  /** Invalidations under way now (their Redis commands not all answered); queued − propagated − pending were lost to a Redis failure. */
  invalidationsPending: number;
}

/** Deletes KEYS[1] only while it holds ARGV[1]: releases a lock only by its holder, drops a value only if unchanged. */
const COMPARE_AND_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** A waiter looks again this often even without a `fill` message (which pub/sub may lose) (ms). */
const POLL_MS = 100;

type Read = { credentials: TemporaryCredentials } | 'miss' | 'failed';

/** A request as the shared tier sees it. */
export interface SharedRequest {
  /** The instance's cache key. */
  localKey: string;
  /** The canonical request (in this process only): with the base principal, it names the Redis keys. */
  canonical: string;
}

/**
 * The fleet's tier behind each instance's cache, on the app's Redis: an instance that misses (or refreshes) reads
 * Redis before it calls STS; one instance per key holds a lock (`SET NX PX`) and fetches for all, the others wait
 * for its value (a `fill` message, or polling) — at most half the operation timeout — and fetch themselves only
 * when the holder takes longer. Invalidations delete the shared value and tell the other instances.
 * Any Redis failure makes the call behave as without the tier.
 */
export class SharedTier {
  readonly #commands: RedisCommands;
  readonly #envelope: CredentialEnvelope;
  readonly #channel: string;
  readonly #instance = randomUUID();
  readonly #subscription: StoreSubscription;
  /** Local key → the request's canonical text (in this process only), to name its Redis keys on invalidation. */
  readonly #canonicals: LRUCache<string, string>;
  /** Local key → its Redis keys, and back: messages name Redis keys, the cache knows local ones. */
  readonly #addresses: LRUCache<string, string[]>;
  readonly #localKeys: LRUCache<string, string>;
  readonly #waiters = new Map<string, Set<() => void>>();
  /** Local key → the expiration of the credentials last invalidated under it: none as old is adopted again. */
  readonly #invalidated: LRUCache<string, number>;
  /** Credentials this instance read from Redis rather than fetched: their life began elsewhere. */
  readonly #adopted = new WeakSet<TemporaryCredentials>();
  #principal?: Promise<string>;
  #closed = false;
  readonly #stats: Omit<SharedTierStats, keyof RedisOutageState> = { hits: 0, fills: 0, waits: 0, bypassed: 0, invalidationsQueued: 0, invalidationsPropagated: 0, invalidationsPending: 0 };

  constructor(settings: SharedTierSettings, private readonly context: SharedTierContext) {
    const store = settings.store();
    this.#commands = new RedisCommands(store, settings.commandTimeoutMs, context.emit);
    this.#envelope = new CredentialEnvelope(settings.encryptionKeys(), settings.keyPrefix);
    this.#channel = `${settings.keyPrefix}events`;
    this.#canonicals = new LRUCache({ max: context.maxEntries });
    this.#addresses = new LRUCache({ max: context.maxEntries });
    this.#invalidated = new LRUCache({ max: context.maxEntries });
    this.#localKeys = new LRUCache({ max: context.maxEntries * settings.encryptionKeys().length });
    this.#subscription = store.subscribe(this.#channel, { message: (message) => this.#heard(message), ready: () => undefined });
  }

  /**
   * Credentials for `localKey` from the fleet: a usable value from Redis (newer than `current`, the credentials the
   * instance holds now), another instance's fetch, or `fetch()` — made once for the fleet under the key's lock.
   */
  async load(request: SharedRequest, current: TemporaryCredentials | undefined, fetch: () => Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
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
  async #load(request: SharedRequest, current: TemporaryCredentials | undefined, fetch: () => Promise<TemporaryCredentials>, wait: { since?: number }): Promise<TemporaryCredentials> {
    const { localKey, canonical } = request;
    this.#canonicals.set(localKey, canonical);
    if (this.#closed) return this.#bypass(fetch);
    // Named even while Redis backs off, so the fleet's invalidations of this key reach this instance later.
    const addresses = await this.#addressesOf(localKey, canonical);
    if (addresses === undefined || !this.#commands.available) return this.#bypass(fetch);
    const waitUntil = performance.now() + this.context.operationTimeoutMs / 2;
    for (;;) {
      const read = await this.#read(request, addresses, current);
      if (read === 'failed') return this.#bypass(fetch);
      if (read !== 'miss') return read.credentials;
      const token = randomUUID();
      const lock = `${addresses[0]}:lock`;
      const locked = await this.#run((redis) => redis.set(lock, token, { px: this.context.operationTimeoutMs, nx: true }), (late) => {
        // Taken after we gave up, so nobody fetches under it: released at once, even while the tier backs off.
        if (late) this.#commands.store.eval(COMPARE_AND_DELETE, [lock], [token]).catch(() => undefined);
      });
      if (locked === 'failed') return this.#bypass(fetch);
      if (locked) return this.#fill(request, addresses, current, token, fetch);
      const remaining = waitUntil - performance.now();
      if (remaining <= 0 || this.#closed) return this.#fetchWhileWatching(request, addresses, current, fetch); // the holder takes long, or vanished
      if (wait.since === undefined) {
        this.#stats.waits++;
        wait.since = performance.now();
      }
      await this.#nextFill(addresses[0], Math.min(remaining, POLL_MS));
    }
  }

  /**
   * Deletes the shared value of a request this instance dropped (credentials expiring at `droppedExpiration`, when it
   * held some), and tells the other instances to drop theirs.
   */
  invalidate(localKey: string, droppedExpiration: number | undefined, canonical = this.#canonicals.get(localKey)): void {
    this.#remember(localKey, droppedExpiration);
    if (canonical === undefined || this.#closed) return;
    this.#propagate(localKey, canonical, async (address) => {
      const deleted = await this.#run((redis) => redis.del(address));
      const published = await this.#run((redis) => redis.publish(this.#channel, `invalidate ${this.#instance} ${address}`));
      return deleted !== 'failed' && published !== 'failed';
    });
  }

  /** Like `invalidate`, but only where the shared value still holds the credentials of `accessKeyId`. */
  invalidateIfHolding(localKey: string, accessKeyId: string, droppedExpiration: number | undefined): void {
    this.#remember(localKey, droppedExpiration);
    const canonical = this.#canonicals.get(localKey);
    if (canonical === undefined || this.#closed) return;
    this.#propagate(localKey, canonical, async (address) => {
      const value = await this.#run((redis) => redis.get(address));
      if (value === 'failed') return false;
      if (typeof value !== 'string' || this.#envelope.open(address, value)?.accessKeyId !== accessKeyId) return true; // replaced already
      const deleted = await this.#run((redis) => redis.eval(COMPARE_AND_DELETE, [address], [value]));
      const published = await this.#run((redis) => redis.publish(this.#channel, `invalidate ${this.#instance} ${address}`));
      return deleted !== 'failed' && published !== 'failed';
    });
  }

  /** Runs an invalidation's commands on each of the request's Redis keys, counted as queued, then propagated or not. */
  #propagate(localKey: string, canonical: string, invalidateAt: (address: string) => Promise<boolean>): void {
    this.#stats.invalidationsQueued++;
    this.#stats.invalidationsPending++;
    void this.#addressesOf(localKey, canonical).then(async (addresses) => {
      let propagated = addresses !== undefined;
      for (const address of addresses ?? []) if (!(await invalidateAt(address))) propagated = false;
      this.#stats.invalidationsPending--;
      if (propagated) this.#stats.invalidationsPropagated++;
    });
  }

  /** A value put back after an invalidation (a DEL that failed, a late fill) holds these or older credentials. */
  #remember(localKey: string, droppedExpiration: number | undefined): void {
    if (droppedExpiration !== undefined) this.#invalidated.set(localKey, Math.max(droppedExpiration, this.#invalidated.get(localKey) ?? -Infinity));
  }

  /** Whether these credentials came from Redis (another instance fetched them). */
  adopted(credentials: TemporaryCredentials): boolean {
    return this.#adopted.has(credentials);
  }

  stats(): SharedTierStats {
    return { ...this.#stats, ...this.#commands.outage };
  }

  /** False while Redis is failing and the tier is skipped. */
  get available(): boolean {
    return this.#commands.available;
  }

  /** Closes the subscription connection; from now on every load fetches directly. The app's client stays open. */
  close(): void {
    this.#closed = true;
    this.#subscription.close();
    for (const wake of [...this.#waiters.values()].flatMap((waiters) => [...waiters])) wake();
  }

  #bypass(fetch: () => Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
    this.#stats.bypassed++;
    return fetch();
  }

  /** Fetches under the lock, then stores, announces and releases — after the caller has its answer. */
  async #fill(request: SharedRequest, addresses: string[], current: TemporaryCredentials | undefined, token: string, fetch: () => Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
    const lock = `${addresses[0]}:lock`;
    // A holder that finished between our read and our lock has shared its value already.
    const again = await this.#read(request, addresses, current);
    if (again !== 'miss' && again !== 'failed') {
      this.#release(lock, token);
      return again.credentials;
    }
    let credentials: TemporaryCredentials;
    try {
      this.#stats.fills++;
      credentials = await fetch();
    } catch (error) {
      this.#release(lock, token);
      throw error;
    }
    const ttl = credentials.expiration.getTime() - this.context.mandatoryWindowMs - this.context.now();
    void (async () => {
      if (ttl > 0 && !this.#closed) {
        const sealed = this.#envelope.seal(addresses[0], credentials);
        const stored = await this.#run((redis) => redis.set(addresses[0], sealed, { px: Math.floor(ttl) }));
        if (stored === true) await this.#run((redis) => redis.publish(this.#channel, `fill ${this.#instance} ${addresses[0]}`));
      }
      this.#release(lock, token);
    })();
    return credentials;
  }

  /**
   * Its own fetch, for a waiter that gave up on the holder; should the holder's value arrive first, that one. Without
   * the tier the caller would have fetched at once, so the holder's slowness must not cost it its answer.
   */
  #fetchWhileWatching(request: SharedRequest, addresses: string[], current: TemporaryCredentials | undefined, fetch: () => Promise<TemporaryCredentials>): Promise<TemporaryCredentials> {
    let settled = false;
    const own = this.#bypass(fetch).finally(() => (settled = true));
    const watched = (async (): Promise<TemporaryCredentials> => {
      while (!settled && !this.#closed) {
        await this.#nextFill(addresses[0], POLL_MS);
        const read = settled ? 'miss' : await this.#read(request, addresses, current);
        if (read === 'failed') break;
        if (read !== 'miss') return read.credentials;
      }
      return own;
    })();
    return Promise.race([own, watched]);
  }

  /**
   * The first usable value among the request's Redis keys: unexpired past the mandatory window, newer than `current`,
   * and newer than what was last invalidated under the key (a late fill, or a delete that failed, must not undo it).
   */
  async #read(request: SharedRequest, addresses: string[], current: TemporaryCredentials | undefined): Promise<Read> {
    const invalidated = this.#invalidated.get(request.localKey) ?? -Infinity;
    for (const address of addresses) {
      const value = await this.#run((redis) => redis.get(address));
      if (value === 'failed') return 'failed';
      const credentials = this.#envelope.open(address, value);
      if (credentials === undefined) continue; // absent, foreign, tampered or sealed with another key: a miss
      const expiresAt = credentials.expiration.getTime();
      const usable = expiresAt - this.context.mandatoryWindowMs > this.context.now() && expiresAt > invalidated;
      if (usable && (current === undefined || credentials.expiration > current.expiration)) {
        this.#stats.hits++;
        this.#adopted.add(credentials);
        return { credentials };
      }
    }
    return 'miss';
  }

  /** A command's answer, or `'failed'` (logged and backed off by `RedisCommands`, never thrown). */
  #run<T>(command: (redis: RedisStore) => Promise<T>, late?: (answer: T) => void): Promise<T | 'failed'> {
    return this.#commands.run(command, late).catch(() => 'failed' as const);
  }

  #release(lock: string, token: string): void {
    void this.#run((redis) => redis.eval(COMPARE_AND_DELETE, [lock], [token]));
  }

  /** The Redis keys of a request, or undefined while the base principal is unknown (STS did not say yet). */
  async #addressesOf(localKey: string, canonical: string): Promise<string[] | undefined> {
    const known = this.#addresses.get(localKey);
    if (known !== undefined) return known;
    this.#principal ??= this.context.principal();
    let principal: string;
    try {
      principal = await this.#principal;
    } catch {
      this.#principal = undefined; // asked again next time
      return undefined;
    }
    const addresses = this.#envelope.addresses(principal, canonical);
    this.#addresses.set(localKey, addresses);
    addresses.forEach((address) => this.#localKeys.set(address, localKey));
    return addresses;
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

  #heard(message: string): void {
    const [kind, sender, address] = message.split(' ');
    if (kind === 'fill') this.#waiters.get(address)?.forEach((wake) => wake());
    if (kind !== 'invalidate' || sender === this.#instance) return;
    const localKey = this.#localKeys.get(address);
    if (localKey !== undefined) this.#remember(localKey, this.context.onRemoteInvalidation(localKey));
  }
}
