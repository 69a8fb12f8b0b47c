import { Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CacheEntryInfo } from '../observability/sts-events.js';
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

/** The request a pooled client acts for, as `clientFor` knows it (a cache lookup). */
export interface PoolRequest {
  /** The credential cache key of the request. */
  readonly key: string;
  /** Its non-secret facts (for `invalidateWhere`). */
  readonly info: Omit<CacheEntryInfo, 'key' | 'expiration'>;
}

/**
 * A client a request was given lately, and the config it was asked with, if that config was flat (primitives only).
 * Its pool key, not the client: a client that left the pool is not kept alive by the memo of every request it served.
 */
interface Recent {
  ClientClass: object;
  /** The copy the first client under `key` was built from (`PlainConfig.config`), its keys counted. */
  config: Record<string, unknown>;
  size: number;
  /** The pool key that config makes: whatever client the pool holds under it now is the one `get` would give. */
  key: string;
}

/** Clients remembered per request for `recent`: the classes and configs one request is used with are few. */
const RECENT_PER_REQUEST = 4;

/** Cycles and absurd nesting are not plain data worth comparing. */
const MAX_DEPTH = 32;
/** At most one warning per this long that clients are evicted for capacity (ms). */
const CAPACITY_WARNING_INTERVAL_MS = 60_000;

/** One value of plain data read once: its canonical text, and a copy of what was read. */
interface Snapshot {
  text: string;
  copy: unknown;
}

/** The text of a primitive (the copy is the value itself), undefined for an object or a function, symbol, bigint. */
function primitiveText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'undefined':
      return 'u'; // kept, not skipped: `{ region: undefined }` overrides AWS_REGION, `{}` does not
    case 'boolean':
      return value ? 't' : 'f';
    case 'number':
      return Number.isFinite(value) ? String(value) : `#${String(value)}`;
    case 'string':
      return JSON.stringify(value);
    default:
      return value === null ? 'n' : undefined;
  }
}

/** The snapshot of one value of plain data, or undefined when it cannot be compared by value. */
function snapshot(value: unknown, depth: number, ancestors: object[]): Snapshot | undefined {
  const text = primitiveText(value);
  if (text !== undefined) return { text, copy: value };
  if (typeof value !== 'object' || value === null) return undefined; // functions, symbols, bigints
  if (depth > MAX_DEPTH || ancestors.includes(value)) return undefined;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (Array.isArray(value) && prototype === Array.prototype) {
    ancestors.push(value);
    const items: Snapshot[] = [];
    for (let index = 0; index < value.length; index++) {
      const item = snapshot(value[index], depth + 1, ancestors);
      if (item === undefined) return undefined;
      items.push(item);
    }
    ancestors.pop();
    return { text: `[${items.map((item) => item.text).join(',')}]`, copy: items.map((item) => item.copy) };
  }
  // A plain object only: a class instance (a handler, an agent, a URL, a Date…) has state a reading cannot see.
  if ((prototype !== Object.prototype && prototype !== null) || Object.getOwnPropertySymbols(value).length > 0) return undefined;
  ancestors.push(value);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (!isSorted(keys)) keys.sort();
  // One pass: each property read once (a getter cannot answer twice), its text and its copy from that one reading.
  const copy: Record<string, unknown> = {};
  let objectText = '{';
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    const field = record[key];
    // A primitive (most fields of a client config) needs no snapshot object.
    let fieldText = primitiveText(field);
    let fieldCopy = field;
    if (fieldText === undefined) {
      const entry = snapshot(field, depth + 1, ancestors);
      if (entry === undefined) return undefined;
      ({ text: fieldText, copy: fieldCopy } = entry);
    }
    objectText += `${index === 0 ? '' : ','}${JSON.stringify(key)}:${fieldText}`;
    if (key === '__proto__') Object.defineProperty(copy, key, { value: fieldCopy, enumerable: true, writable: true, configurable: true });
    else copy[key] = fieldCopy;
  }
  ancestors.pop();
  return { text: `${objectText}}`, copy };
}

/** Whether keys are in `sort()` order already (they usually are not far from it; a sorted list needs no sort). */
function isSorted(keys: string[]): boolean {
  for (let index = 1; index < keys.length; index++) if (keys[index - 1] > keys[index]) return false;
  return true;
}

/** A value the pool key compares exactly as `===` does: not an object, not a function. */
const isPrimitive = (value: unknown) => value === null || (typeof value !== 'object' && typeof value !== 'function');

/**
 * The own keys of a config that may be flat (none for no config), or undefined for one that cannot be: an array, a
 * class instance, a symbol key. Reads no value: `sameFlat` reads each once.
 */
function flatKeys(config: unknown): string[] | undefined {
  if (config === undefined || config === null) return [];
  if (typeof config !== 'object' || Array.isArray(config)) return undefined;
  const prototype = Object.getPrototypeOf(config) as unknown;
  if ((prototype !== Object.prototype && prototype !== null) || Object.getOwnPropertySymbols(config).length > 0) return undefined;
  return Object.keys(config);
}

/**
 * Whether a config (its own `keys`) means what `recent` was built from: as many own keys, each value read once, a
 * primitive, and identical (`===`) to the copy's own value. `===` never says equal where the pool keys would differ
 * (`NaN` is never equal: such a config goes the long way).
 */
function sameFlat(config: unknown, keys: string[], recent: Recent): boolean {
  if (keys.length !== recent.size) return false;
  for (const key of keys) {
    const value = (config as Record<string, unknown>)[key];
    if (!isPrimitive(value) || !Object.hasOwn(recent.config, key) || value !== recent.config[key]) return false;
  }
  return true;
}

/** No config: the empty one (frozen, shared: nothing is read, nothing to copy). */
const NO_CONFIG: PlainConfig = Object.freeze({ key: '{}', config: Object.freeze({}) });

/** A client config read once: the pool key and the copy the client is built from, so the two cannot differ. */
export interface PlainConfig {
  /** Canonical text, object keys sorted: two configs that mean the same give the same key. */
  key: string;
  /** A copy of plain objects and arrays, made in the same reading (getters are read once, for both). */
  config: Record<string, unknown>;
}

/**
 * Reads a client config made of plain data (strings, numbers, booleans, null, undefined, arrays and plain objects,
 * nested) once, into its pool key and the copy to build from: a later change to the caller's objects, or a getter
 * that answers differently the next time, reaches neither. Undefined for a config that cannot be compared by value:
 * one holding a function, a symbol, a bigint, a class instance (a request handler, an agent, a logger object of a
 * class, a URL…), a cycle or more than 32 levels. No config is the empty one.
 */
export function canonicalConfig(config: unknown): PlainConfig | undefined {
  if (config === undefined || config === null) return NO_CONFIG;
  if (typeof config !== 'object' || Array.isArray(config)) return undefined;
  const read = snapshot(config, 0, []);
  return read && { key: read.text, config: read.copy as Record<string, unknown> };
}

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
  /**
   * Per request (its lookup object, not kept alive by this): the clients it was given lately, so a call with the same
   * class and a flat config equal by value finds its client without making the config's key (`recent`).
   */
  readonly #recent = new WeakMap<PoolRequest, Recent[]>();
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
   * The client pooled now for this request, this class and a config equal by value to one it was given lately, if
   * any: without making the config's key. Only for a config of primitives (or none): each of its own properties is read
   * once and compared with the copy that client was built from; anything else (a nested object, a symbol key, a class
   * instance) answers undefined, and `get` decides. Lookups are per request object, so nothing crosses tenants.
   */
  recent<Client>(request: PoolRequest, ClientClass: object, config: unknown): Client | undefined {
    const recents = this.#recent.get(request);
    if (recents === undefined) return undefined;
    const keys = flatKeys(config);
    if (keys === undefined) return undefined;
    for (const recent of recents) {
      if (recent.ClientClass !== ClientClass || !sameFlat(config, keys, recent)) continue;
      // The client pooled now under the key this config makes (`get`'s answer), if any; refreshes its place in the LRU.
      const pooled = this.#clients.get(recent.key);
      if (pooled === undefined) continue;
      this.#counters.hits++;
      return pooled.client as Client;
    }
    return undefined;
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
    let pooled = this.#clients.get(key);
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
    this.#remember(request, ClientClass, config.config, key);
    return pooled.client as Client;
  }

  /** Remembers the client for `recent`, when its config is flat. */
  #remember(request: PoolRequest, ClientClass: object, config: Record<string, unknown>, key: string): void {
    const values = Object.values(config);
    if (!values.every(isPrimitive)) return;
    let recents = this.#recent.get(request);
    if (recents === undefined) this.#recent.set(request, (recents = []));
    if (recents.some((recent) => recent.key === key)) return;
    if (recents.length >= RECENT_PER_REQUEST) recents.shift();
    recents.push({ ClientClass, config, size: values.length, key });
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
