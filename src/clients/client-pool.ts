import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { lruHit } from '../cache/lru-hit.js';
import type { CacheEntryInfo } from '../observability/sts-events.js';
import type { PlainConfig } from './canonical-config.js';
import { RecentClients, type RecentClientsHolder } from './recent-configs.js';
import { onStreamsSettled } from './streaming-output.js';

/** Figures of the pool behind `clientFor`, on `StsService.cache.clientStats()`. */
export interface ClientPoolStats {
  /** Pooled clients held now (at most `clients.maxEntries`). */
  size: number;
  /** `clientFor` calls answered with a pooled client. */
  hits: number;
  /** Pooled clients built (a `clientFor` call that found none). */
  created: number;
  /**
   * Clients `clientFor` built without pooling them, each the caller's to destroy as with `createClient`: a config it
   * cannot compare (a function, a handler or agent instance…), a request with an MFA code, or a request STS would refuse.
   */
  unpooled: number;
  /** Pooled clients destroyed (evicted, invalidated with their credentials, cleared, or on module destroy). */
  destroyed: number;
  /**
   * Clients out of the pool whose sends (or the streams their outputs hold) are still running: destroyed when they
   * settle, or at the deadline after module destroy.
   */
  draining: number;
}

/** The parts of an AWS SDK v3 client the pool uses. */
interface PoolableClient {
  destroy(): void;
  middlewareStack: {
    add(middleware: unknown, options: Record<string, unknown>): void;
    addRelativeTo(middleware: unknown, options: Record<string, unknown>): void;
  };
}

/** A pooled client and its sends in flight. */
interface Pooled {
  client: PoolableClient;
  /** The credential cache key of its request. */
  requestKey: string;
  /** Sends running now, each counted until its result (and any response body it streams) has settled. */
  inflight: number;
  /** In the pool; out of it with sends still in flight; or destroyed. */
  state: 'pooled' | 'draining' | 'destroyed';
  /** Destroyed at the deadline after module destroy, its sends unsettled: their remaining attempts are refused. */
  cutOff: boolean;
}

/** The clients acting for one request, and its non-secret facts (for `invalidateWhere`). */
interface RequestClients {
  info: Omit<CacheEntryInfo, 'key' | 'expiration'>;
  keys: Set<string>;
}

/** The request a pooled client acts for, as `clientFor` knows it (a cache lookup, holding the pool's memo of it). */
export interface PoolRequest extends RecentClientsHolder {
  /** The credential cache key of the request. */
  readonly key: string;
  /** Its non-secret facts (for `invalidateWhere`). */
  readonly info: Omit<CacheEntryInfo, 'key' | 'expiration'>;
}

/** At most one warning per this long that clients are evicted for capacity (ms). */
const CAPACITY_WARNING_INTERVAL_MS = 60_000;

/** What the attempts of a client destroyed at the shutdown deadline fail with (not retryable). */
const cutOffError = () =>
  Object.assign(
    new Error('The pooled client was destroyed at module destroy: its send had not settled by the deadline (operationTimeoutSeconds)'),
    {
      name: 'ClientDestroyedError',
    },
  );

/**
 * A bounded LRU of AWS SDK clients, one per (client class, credential cache key, canonical config). A client leaves
 * it when evicted for room, when its request is dropped (its credentials invalidated) or when the pool is cleared,
 * and is then destroyed — at once when idle, otherwise as soon as its sends in flight, and the streams their outputs
 * hold (bodies, event streams), have settled, so that leaving the pool never cuts off a request another caller is
 * making with it. Only `close` sets a deadline on that wait.
 */
export class ClientPool {
  readonly #clients: LRUCache<string, Pooled>;
  /** Credential cache key → the clients acting for that request. */
  readonly #byRequest = new Map<string, RequestClients>();
  /** An id per client class, so two classes never share a key (a WeakMap: classes are never kept alive). */
  readonly #classIds = new WeakMap<object, number>();
  #nextClassId = 0;
  readonly #counters = { hits: 0, created: 0, unpooled: 0, destroyed: 0 };
  /** Clients out of the pool, waiting for their sends to settle. */
  readonly #draining = new Set<Pooled>();
  /** Called when the last draining client is destroyed. */
  #onDrained: (() => void)[] = [];
  readonly #logger = new Logger('StsClientPool');
  #capacityWarning = { at: -Infinity, evictedSince: 0 };

  /** @param maxEntries most clients held (`clients.maxEntries`). */
  constructor(private readonly maxEntries: number) {
    this.#clients = new LRUCache<string, Pooled>({
      max: maxEntries,
      dispose: (pooled, key, reason) => {
        const clients = this.#byRequest.get(pooled.requestKey);
        clients?.keys.delete(key);
        if (clients?.keys.size === 0) this.#byRequest.delete(pooled.requestKey);
        if (reason === 'evict') this.#evictedForCapacity();
        this.#retire(pooled);
      },
    });
  }

  /**
   * The pooled client for this request, this class and a config equal by value to one it was given a client for
   * lately: without making the config's key. Only for a config of primitives (or none): each of its own enumerable
   * string keys is read once and compared with the copy that client was built from; anything else (a nested object, a
   * class instance) answers undefined, and `get` decides. The memo is the request's own, so nothing crosses tenants.
   */
  recent<Client>(request: PoolRequest, ClientClass: object, config: unknown): Client | undefined {
    const key = request.recentClients?.find(ClientClass, config);
    if (key === undefined) return undefined;
    const pooled = lruHit(this.#clients, key); // refreshes its place in the LRU
    if (pooled === undefined) return undefined; // it left the pool: `get` builds the next one
    this.#counters.hits++;
    return pooled.client as Client;
  }

  /**
   * The pooled client for (class, request, config), built by `build` when there is none.
   * @param config `canonicalConfig` of the client config (a config that has none is never pooled).
   */
  get<Client>(ClientClass: object, request: PoolRequest, config: PlainConfig, build: () => Client): Client {
    let classId = this.#classIds.get(ClientClass);
    if (classId === undefined) this.#classIds.set(ClientClass, (classId = this.#nextClassId++));
    const requestKey = request.key;
    const key = `${classId}\n${requestKey}\n${config.key}`;
    let pooled = lruHit(this.#clients, key);
    if (pooled !== undefined) {
      this.#counters.hits++;
    } else {
      pooled = { client: build() as PoolableClient, requestKey, inflight: 0, state: 'pooled', cutOff: false };
      this.#countInFlight(pooled);
      this.#counters.created++;
      let clients = this.#byRequest.get(requestKey);
      if (clients === undefined) this.#byRequest.set(requestKey, (clients = { info: request.info, keys: new Set() }));
      clients.keys.add(key);
      this.#clients.set(key, pooled); // after the index: a capacity eviction here may empty another request's entry
    }
    RecentClients.remember(request, ClientClass, config.config, key);
    return pooled.client as Client;
  }

  /** Counts a client `clientFor` built without pooling it (it is the caller's). */
  countUnpooled(): void {
    this.#counters.unpooled++;
  }

  /** Drops (and destroys) the clients acting for this request. */
  dropRequest(requestKey: string): void {
    const clients = this.#byRequest.get(requestKey);
    if (clients !== undefined) for (const key of [...clients.keys]) this.#clients.delete(key);
  }

  /** Drops the clients of every request the predicate selects, but for requests in `decided` (the cache asked already). */
  dropWhere(predicate: (entry: CacheEntryInfo) => boolean, decided: ReadonlySet<string>): void {
    const selected = [...this.#byRequest.entries()].filter(
      ([requestKey, { info }]) => !decided.has(requestKey) && predicate({ key: requestKey, ...info }),
    );
    for (const [requestKey] of selected) this.dropRequest(requestKey);
  }

  /** Drops (and destroys) every client. */
  clear(): void {
    this.#clients.clear();
  }

  /**
   * Drops every client, and resolves once the draining ones have settled, or at `deadlineMs` at the latest: then
   * the clients still draining are destroyed (their sockets closed, so a request waiting on a silent endpoint
   * fails now) and their sends' remaining attempts refused. The timer never keeps the process alive.
   */
  close(deadlineMs: number): Promise<void> {
    this.clear();
    if (this.#draining.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#cutOffDraining(deadlineMs), deadlineMs).unref();
      this.#onDrained.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stats(): ClientPoolStats {
    return { size: this.#clients.size, ...this.#counters, draining: this.#draining.size };
  }

  /**
   * Counts the client's sends in flight, outermost in its middleware stack, so that the count spans signing and
   * retries; a send whose output holds a stream (a body, an event stream) counts until that stream has ended or
   * been abandoned (see `onStreamsSettled`). Inside the retry loop, refuses the attempts of a client cut off.
   */
  #countInFlight(pooled: Pooled): void {
    const release = () => {
      if (--pooled.inflight > 0) return;
      if (pooled.state === 'draining') {
        this.#undrain(pooled);
        this.#destroy(pooled);
      } else if (pooled.state === 'destroyed') {
        // A caller kept the client past its time and sent again: close the sockets that send opened.
        this.#close(pooled.client);
      }
    };
    const counting =
      (next: (args: unknown) => Promise<{ output?: unknown }>) =>
      async (args: unknown): Promise<unknown> => {
        pooled.inflight++;
        let result: { output?: unknown };
        try {
          result = await next(args);
        } catch (error) {
          release();
          throw error;
        }
        if (!onStreamsSettled(result?.output, release)) release();
        return result;
      };
    const refusingWhenCutOff =
      (next: (args: unknown) => Promise<unknown>) =>
      (args: unknown): Promise<unknown> =>
        pooled.cutOff ? Promise.reject(cutOffError()) : next(args);
    const stack = pooled.client.middlewareStack;
    stack.add(counting, { step: 'initialize', priority: 'high', name: 'nestjsAwsStsPooledClientInFlight', override: true });
    // First in each attempt, before credentials are resolved and the request signed.
    stack.addRelativeTo(refusingWhenCutOff, {
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      name: 'nestjsAwsStsPooledClientCutOff',
      override: true,
    });
  }

  /** Out of the pool: destroyed now if idle, else when its last send settles. */
  #retire(pooled: Pooled): void {
    if (pooled.state !== 'pooled') return;
    if (pooled.inflight > 0) {
      pooled.state = 'draining';
      this.#draining.add(pooled);
    } else {
      this.#destroy(pooled);
    }
  }

  #undrain(pooled: Pooled): void {
    this.#draining.delete(pooled);
    if (this.#draining.size === 0) for (const drained of this.#onDrained.splice(0)) drained();
  }

  /** The deadline after `close` passed: destroys what still drains, and says so. */
  #cutOffDraining(deadlineMs: number): void {
    const late = [...this.#draining];
    this.#logger.warn(
      `Destroyed ${late.length} pooled client(s) whose sends had not settled ${deadlineMs / 1000} s after module destroy (operationTimeoutSeconds)`,
    );
    for (const pooled of late) {
      pooled.cutOff = true;
      this.#undrain(pooled);
      this.#destroy(pooled);
    }
  }

  #destroy(pooled: Pooled): void {
    pooled.state = 'destroyed';
    this.#counters.destroyed++;
    this.#close(pooled.client);
  }

  #close(client: PoolableClient): void {
    try {
      client.destroy();
    } catch (error) {
      this.#logger.warn(`A pooled client failed to close: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** The LRU made room: say so, at most once a minute — a pool smaller than what is in use rebuilds clients. */
  #evictedForCapacity(): void {
    this.#capacityWarning.evictedSince++;
    const now = Date.now();
    if (now - this.#capacityWarning.at < CAPACITY_WARNING_INTERVAL_MS) return;
    this.#logger.warn(
      `Destroyed ${this.#capacityWarning.evictedSince} pooled client(s) to make room: clients.maxEntries (${this.maxEntries}) is smaller than the set of (client class, request, config) in use, so clientFor builds clients again and again. Raise clients.maxEntries.`,
    );
    this.#capacityWarning = { at: now, evictedSince: 0 };
  }
}
