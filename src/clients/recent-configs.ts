/**
 * A (client class, config) a request was given a client for lately, if that config was flat (primitives only): by the
 * client's key in the pool, not the client, so a client that left the pool is not kept alive by this.
 */
interface Recent {
  ClientClass: object;
  /** The own keys of the copy the client was built from (`PlainConfig.config`), in the order callers last gave them… */
  keys: readonly string[];
  /** …and the copy's values, each a primitive, in the same order. */
  values: readonly unknown[];
  /** The client's key in the pool: whatever client the pool holds under it is the one `get` would return. */
  key: string;
}

/** Clients remembered per request for `recent`: the classes and configs one request is used with are few. */
const RECENT_PER_REQUEST = 4;

/** A value the pool key compares exactly as `===` does: not an object, not a function. */
const isPrimitive = (value: unknown) => value === null || (typeof value !== 'object' && typeof value !== 'function');

/** Called in a `for…in` over the same object, V8 answers this from the loop's own bookkeeping (`Object.hasOwn` it does not). */
const hasOwnProperty = Object.prototype.hasOwnProperty;

/**
 * Whether a config may be flat: none, or a plain object (no class instance, no array). Reads no value: `sameFlat`
 * reads each once. A symbol key is not the config's (`canonicalConfig` reads none either).
 */
function mayBeFlat(config: unknown): config is Record<string, unknown> | undefined | null {
  if (config === undefined || config === null) return true;
  if (typeof config !== 'object' || Array.isArray(config)) return false;
  const prototype = Object.getPrototypeOf(config) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * Whether a config that may be flat means what `recent` was built from: as many own enumerable keys (the ones
 * `Object.keys` lists), each one of the copy's, its value read once and identical (`===`) to the copy's. The copy's values
 * are primitives, so `===` also says the config's is one, and never says equal where the pool keys would differ
 * (`NaN` is never equal: it goes the long way). An inherited enumerable key sends it the long way too; a key a getter
 * deletes while the config is read is not read, as if it were absent. A match whose keys came in another order leaves
 * `recent` in that order: the next such call finds each in its place.
 */
function sameFlat(config: Record<string, unknown> | undefined | null, recent: Recent): boolean {
  const recentKeys = recent.keys;
  let count = 0;
  /** The caller's order, collected once a key is out of place. */
  let order: string[] | undefined;
  for (const key in config) {
    if (!hasOwnProperty.call(config, key)) return false;
    let at = count;
    if (recentKeys[count] !== key) {
      at = recentKeys.indexOf(key);
      order ??= recentKeys.slice(0, count);
    }
    // `for…in` lists each key once: every key found among as many distinct keys means the same set.
    if (at < 0 || (config as Record<string, unknown>)[key] !== recent.values[at]) return false;
    order?.push(key);
    count++;
  }
  if (count !== recentKeys.length) return false;
  if (order !== undefined) putInOrder(recent, order);
  return true;
}

/** Puts `recent`'s keys (and their values) in the order of `keys`, the same set. */
function putInOrder(recent: Recent, keys: readonly string[]): void {
  const { keys: recentKeys, values } = recent;
  recent.values = keys.map((key) => values[recentKeys.indexOf(key)]);
  recent.keys = keys;
}

/** What a request's lookup holds for the pool: its memo, made at the first flat config it is given a client for. */
export interface RecentClientsHolder {
  recentClients: RecentClients | undefined;
}

/**
 * The clients one request was given lately, kept on its lookup object (a field: no `WeakMap` read per call; nothing
 * shared between requests, so nothing crosses tenants), so a call with the same class and a flat config equal by value
 * finds its client without making the config's key (`ClientPool.recent`). Private: inspecting a lookup shows nothing.
 */
export class RecentClients {
  readonly #recents: Recent[] = [];

  /** Remembers (class, config) → pool key on the request for `find`, when the config is flat. */
  static remember(request: RecentClientsHolder, ClientClass: object, config: Record<string, unknown>, key: string): void {
    const values = Object.values(config);
    if (!values.every(isPrimitive)) return;
    const recents = (request.recentClients ??= new RecentClients()).#recents;
    if (recents.some((recent) => recent.key === key)) return;
    if (recents.length >= RECENT_PER_REQUEST) recents.shift();
    recents.push({ ClientClass, keys: Object.keys(config), values, key });
  }

  /**
   * The pool key of the client this request was given lately for this class and a config equal by value, if any.
   * Only for a config of primitives (or none): each of its own enumerable string keys is read once and compared with
   * the copy that client was built from; anything else (a nested object, a class instance) answers undefined.
   */
  find(ClientClass: object, config: unknown): string | undefined {
    if (!mayBeFlat(config)) return undefined;
    for (const recent of this.#recents) if (recent.ClientClass === ClientClass && sameFlat(config, recent)) return recent.key;
    return undefined;
  }
}
