/** Cycles and absurd nesting are not plain data worth comparing. */
const MAX_DEPTH = 32;

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
  // A plain object only: a class instance (a handler, an agent, a URL, a Date…) has state a reading cannot see. Its
  // value is its own enumerable string keys, as `structuredClone` copies it: a symbol key is neither read nor copied.
  if (prototype !== Object.prototype && prototype !== null) return undefined;
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
 * that answers differently the next time, reaches neither. An object's own enumerable string keys are read (neither a
 * non-enumerable nor a symbol key: the SDK reads none). Undefined for a config that cannot be compared by value:
 * one holding a function, a symbol, a bigint, a class instance (a request handler, an agent, a logger object of a
 * class, a URL…), a cycle or more than 32 levels. No config is the empty one.
 */
export function canonicalConfig(config: unknown): PlainConfig | undefined {
  if (config === undefined || config === null) return NO_CONFIG;
  if (typeof config !== 'object' || Array.isArray(config)) return undefined;
  const read = snapshot(config, 0, []);
  return read && { key: read.text, config: read.copy as Record<string, unknown> };
}
