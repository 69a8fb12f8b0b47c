import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { CredentialEnvelope } from './credential-envelope.js';
import { FleetLog, type LoggedInvalidation } from './fleet-log.js';
import { InvalidationQueue, type PendingInvalidation } from './invalidation-queue.js';
import type { RedisCommands } from './redis-commands.js';
import type { RequestAddresses } from './request-addresses.js';
import type { SharedTierStats } from '../shared-tier-stats.js';
import { APPEND, INVALIDATE, READ } from './tier-scripts.js';
import type { SharedRequest, SharedTierContext } from './shared-tier-context.js';

/** A request's generation outlives every value sealed at it: the longest role session, and an hour (ms). */
const GENERATION_MS = 13 * 3600_000;
/** Entries kept in the fleet's log (`XADD MAXLEN ~`), and how long it outlives its last entry (ms). */
const LOG_ENTRIES = 10_000;
const LOG_MS = GENERATION_MS;
/** Invalidations remembered as applied or relayed, so each is relayed at most once. */
const ORIGINS_REMEMBERED = 10_000;

/** Where the fleet's invalidations go in Redis, and who this instance is there. */
export interface FleetInvalidationsSettings {
  /** The fleet's log (a capped stream). */
  logKey: string;
  /** The channel a new log entry is announced on. */
  channel: string;
  /** This instance's id in the log: it does not apply its own entries. */
  instance: string;
  /** How many encryption keys the tier has (so how many addresses each request). */
  keyCount: number;
}

/**
 * The fleet's invalidations as this instance makes and hears them. Each is a durable fact in Redis — the value
 * deleted and the generation bumped (so nothing sealed before is adopted or stored again), then an entry in the
 * fleet's log (a capped stream) — queued and retried past any backoff until Redis takes it. Every instance reads the
 * log from where it left off (on every message, on every resubscription, and each second), drops what it holds, and
 * relays the invalidation to the request's addresses under its other encryption keys, so replicas of both sides of a
 * key rotation converge.
 */
export class FleetInvalidations {
  readonly #log: FleetLog;
  readonly #logKey: string;
  readonly #channel: string;
  readonly #instance: string;
  readonly #keyCount: number;
  readonly #queue: InvalidationQueue;
  /** Local key → the expiration of the credentials last invalidated under it: none as old is adopted again. */
  readonly #invalidated: LRUCache<string, number>;
  /**
   * Invalidations made before the base principal was known (STS did not answer yet), so their Redis keys are not
   * either: named and queued on a later maintenance round, once it is.
   */
  readonly #unnamedInvalidations: LRUCache<string, { request: SharedRequest; origin: string; accessKeyId?: string }>;
  /**
   * Invalidations the log named at an address this instance could not tell the request of, kept while that matters:
   * with several encryption keys (an `[old]` replica's invalidation made while no `[new, old]` replica knew the request
   * must still reach the value `[new]` sealed), or while the base principal is unknown (what the instance fetched past
   * the tier meanwhile is held unnamed). Applied when the instance names the request.
   */
  readonly #heardUnknown = new LRUCache<string, LoggedInvalidation>({ max: LOG_ENTRIES });
  /** Invalidations this instance made or applied: applied and relayed once each. */
  readonly #origins = new LRUCache<string, true>({ max: ORIGINS_REMEMBERED });
  #closed = false;

  constructor(
    { logKey, channel, instance, keyCount }: FleetInvalidationsSettings,
    private readonly commands: RedisCommands,
    private readonly envelope: CredentialEnvelope,
    private readonly addresses: RequestAddresses,
    private readonly context: Pick<SharedTierContext, 'emit' | 'maxEntries' | 'held' | 'onRemoteInvalidation'>,
  ) {
    this.#logKey = logKey;
    this.#channel = channel;
    this.#instance = instance;
    this.#keyCount = keyCount;
    this.#invalidated = new LRUCache({ max: context.maxEntries });
    this.#unnamedInvalidations = new LRUCache({ max: context.maxEntries });
    this.#queue = new InvalidationQueue((invalidation) => this.#propagate(invalidation), context.emit, context.maxEntries * keyCount);
    this.#log = new FleetLog(
      logKey,
      LOG_ENTRIES,
      (command) => this.commands.attempt(command, { force: true }),
      (entry) => this.#apply(entry),
      () => this.#dropHeld(),
    );
  }

  /**
   * Invalidates a request across the fleet — its value in Redis under every encryption key, and every instance's
   * copy — however long Redis takes to be reachable again; with `accessKeyId`, only where those credentials are still
   * held. `droppedExpiration`: when the credentials this instance dropped expire, if it held some.
   */
  invalidate(request: SharedRequest, droppedExpiration: number | undefined, accessKeyId: string | undefined): void {
    this.#remember(request.localKey, droppedExpiration);
    if (this.#closed) return;
    const origin = randomUUID();
    this.#origins.set(origin, true);
    void this.#queueInvalidation(request, origin, accessKeyId);
  }

  /** Whether an invalidation of `address` this instance made still waits for Redis (Redis may not have heard yet). */
  isPending(address: string): boolean {
    return this.#queue.has(address);
  }

  /** The expiration of the credentials last invalidated under `localKey` (-Infinity when none). */
  lastInvalidatedExpiration(localKey: string): number {
    return this.#invalidated.get(localKey) ?? -Infinity;
  }

  /** Reads the fleet's log from where this instance left off, and applies what it finds. */
  catchUp(): Promise<void> {
    return this.#log.catchUp();
  }

  /** Queues the invalidations that wait to be named, sends the pending ones again, and reads the fleet's log. */
  maintain(): void {
    for (const [name, { request, origin, accessKeyId }] of [...this.#unnamedInvalidations.entries()]) {
      this.#unnamedInvalidations.delete(name);
      void this.#queueInvalidation(request, origin, accessKeyId);
    }
    if (this.#queue.size > 0) void this.#queue.flush();
    if (this.commands.available) void this.#log.catchUp();
  }

  stats(): Pick<SharedTierStats, 'invalidationsQueued' | 'invalidationsPropagated' | 'invalidationsPending'> {
    const { queued, propagated } = this.#queue.counts;
    const pending = this.#queue.size + this.#unnamedInvalidations.size;
    return { invalidationsQueued: queued, invalidationsPropagated: propagated, invalidationsPending: pending };
  }

  /** Stops making invalidations; those still pending get one last try. */
  close(): void {
    this.#closed = true;
    this.#unnamedInvalidations.clear();
    void this.#queue.flush().finally(() => this.#queue.clear());
  }

  /** Applies the invalidations heard at these addresses before this instance could tell their request. */
  applyHeardAt(addresses: string[]): void {
    for (const address of addresses) {
      const heard = this.#heardUnknown.get(address);
      this.#heardUnknown.delete(address);
      if (heard !== undefined) this.#apply(heard);
    }
  }

  /** Queues an invalidation at each Redis key of the request, or keeps it for later while they cannot be named. */
  async #queueInvalidation(request: SharedRequest, origin: string, accessKeyId: string | undefined): Promise<void> {
    const addresses = await this.addresses.addressesOf(request);
    if (addresses === undefined) {
      if (!this.#closed) this.#unnamedInvalidations.set(`${request.localKey}\n${accessKeyId ?? ''}`, { request, origin, accessKeyId });
      return;
    }
    addresses.forEach((address, index) => this.#queue.add(this.#pending(address, index, origin, accessKeyId, addresses)));
  }

  /**
   * Makes one invalidation a fact in Redis: the value deleted (for `invalidateIfCurrent`, only if it holds those
   * credentials) and the generation bumped, then the entry in the fleet's log. Sent past any backoff: true once Redis
   * took it all.
   */
  async #propagate({ address, origin, accessKeyId, accessKeyTag = '', covered }: PendingInvalidation): Promise<boolean> {
    let expected = '';
    if (accessKeyId !== undefined) {
      const found = await this.commands.attempt((redis) => redis.eval(READ, [address, `${address}:gen`], []), { force: true });
      if (found === 'failed') return false;
      const [value, generation] = found as [string, string];
      if (this.envelope.open(address, value, generation)?.accessKeyId === accessKeyId) expected = value;
    }
    if (accessKeyId === undefined || expected !== '') {
      const args = [String(GENERATION_MS), expected];
      const invalidated = await this.commands.attempt((redis) => redis.eval(INVALIDATE, [address, `${address}:gen`], args), {
        force: true,
      });
      if (invalidated === 'failed') return false;
    }
    const args = [String(LOG_ENTRIES), address, origin, this.#instance, accessKeyTag, this.#channel, String(LOG_MS), covered.join(' ')];
    return (await this.commands.attempt((redis) => redis.eval(APPEND, [this.#logKey], args), { force: true })) !== 'failed';
  }

  /**
   * The fleet's log lost entries this instance had not read: any credentials it holds may have been invalidated, so
   * it drops them all (a next load adopts from Redis what is still valid there, at its current generation).
   */
  #dropHeld(): number {
    return [...this.context.held()].filter(({ localKey }) => this.context.onRemoteInvalidation(localKey) !== undefined).length;
  }

  /** An invalidation from the fleet's log: the instance drops what it holds, and relays it to its other addresses. */
  #apply(entry: LoggedInvalidation): void {
    const { address, origin, instance, accessKeyTag } = entry;
    if (instance === this.#instance || this.#origins.has(origin)) return;
    const localKey = this.addresses.localKeyOf(address);
    if (localKey === undefined) {
      if (this.#keyCount > 1 || !this.addresses.principalKnown) this.#heardUnknown.set(address, entry);
      return;
    }
    this.#origins.set(origin, true);
    const addresses = this.addresses.known(localKey) ?? [];
    const heardIndex = addresses.indexOf(address);
    const onlyIf =
      accessKeyTag === undefined
        ? undefined
        : (accessKeyId: string) => this.envelope.accessKeyTag(heardIndex, address, accessKeyId) === accessKeyTag;
    const dropped = this.context.onRemoteInvalidation(localKey, onlyIf);
    this.#remember(localKey, dropped?.expiration);
    if (onlyIf !== undefined && dropped === undefined) return; // held other credentials: nothing to relay
    this.#relay(entry, addresses, onlyIf && dropped?.accessKeyId);
  }

  /**
   * Relays a heard invalidation to the request's addresses its writer did not cover (under encryption keys it lacks):
   * replicas that share the writer's keys add nothing to the log.
   */
  #relay({ origin, covered }: LoggedInvalidation, addresses: string[], accessKeyId: string | undefined): void {
    if (this.#closed) return;
    const all = [...new Set([...covered, ...addresses])];
    addresses.forEach((other, index) => !covered.includes(other) && this.#queue.add(this.#pending(other, index, origin, accessKeyId, all)));
  }

  /**
   * An invalidation of `addresses[index]` of a request, named for the log under that address's key; `covered`: every
   * address the invalidation reaches from this instance.
   */
  #pending(address: string, index: number, origin: string, accessKeyId: string | undefined, covered: string[]): PendingInvalidation {
    if (accessKeyId === undefined) return { address, origin, covered };
    return { address, origin, covered, accessKeyId, accessKeyTag: this.envelope.accessKeyTag(index, address, accessKeyId) };
  }

  /** A value put back after an invalidation (a DEL not yet sent, a late fill) holds these or older credentials. */
  #remember(localKey: string, droppedExpiration: number | undefined): void {
    if (droppedExpiration !== undefined)
      this.#invalidated.set(localKey, Math.max(droppedExpiration, this.lastInvalidatedExpiration(localKey)));
  }
}
