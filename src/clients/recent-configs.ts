/**
 * A (client class, config) a request was given a client for lately, if that config was flat (primitives only): by the
 * client's key in the pool, not the client, so a client that left the pool is not kept alive by this.
 */
interface Recent {
  ClientClass: object;
  /** The copy the client was built from (`PlainConfig.config`), its keys counted. */
  config: Record<string, unknown>;
  size: number;
  /** The client's key in the pool: whatever client the pool holds under it is the one `get` would return. */
  key: string;
}

/** Clients remembered per request for `recent`: the classes and configs one request is used with are few. */
const RECENT_PER_REQUEST = 4;

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

/**
 * Per request (its lookup object, not kept alive by this): the clients it was given lately, so a call with the same
 * class and a flat config equal by value finds its client without making the config's key (`ClientPool.recent`).
 */
export class RecentConfigs {
  readonly #byRequest = new WeakMap<object, Recent[]>();

  /**
   * The pool key of the client this request was given lately for this class and a config equal by value, if any.
   * Only for a config of primitives (or none): each of its own properties is read once and compared with the copy that
   * client was built from; anything else (a nested object, a symbol key, a class instance) answers undefined.
   */
  find(request: object, ClientClass: object, config: unknown): string | undefined {
    const recents = this.#byRequest.get(request);
    if (recents === undefined) return undefined;
    const keys = flatKeys(config);
    if (keys === undefined) return undefined;
    for (const recent of recents) if (recent.ClientClass === ClientClass && sameFlat(config, keys, recent)) return recent.key;
    return undefined;
  }

  /** Remembers (class, config) → pool key for `find`, when the config is flat. */
  remember(request: object, ClientClass: object, config: Record<string, unknown>, key: string): void {
    const values = Object.values(config);
    if (!values.every(isPrimitive)) return;
    let recents = this.#byRequest.get(request);
    if (recents === undefined) this.#byRequest.set(request, (recents = []));
    if (recents.some((recent) => recent.key === key)) return;
    if (recents.length >= RECENT_PER_REQUEST) recents.shift();
    recents.push({ ClientClass, config, size: values.length, key });
  }
}
