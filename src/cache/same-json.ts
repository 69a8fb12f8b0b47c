import { types } from 'node:util';

/**
 * A JSON value laid out for comparison: a primitive as itself, an array as its items' shapes, an object as its keys
 * in `JSON.stringify`'s order and their values' shapes. Made once per known policy (`jsonShapeOf`), so comparing a
 * live object with it builds nothing (no key array per object, per call).
 */
export type JsonShape = string | number | boolean | null | ArrayShape | ObjectShape;

class ArrayShape {
  constructor(readonly items: readonly JsonShape[]) {
    Object.freeze(this);
  }
}

class ObjectShape {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly JsonShape[],
  ) {
    Object.freeze(this);
  }
}

/** The shape of a value `JSON.parse` returned. */
export function jsonShapeOf(json: unknown): JsonShape {
  if (typeof json !== 'object' || json === null) return json as JsonShape;
  // Arrays not frozen (a frozen array's elements are several times slower to read): shapes are never handed out.
  if (Array.isArray(json)) return new ArrayShape(json.map(jsonShapeOf));
  const record = json as Record<string, unknown>;
  const keys = Object.keys(record);
  return new ObjectShape(
    keys,
    keys.map((key) => jsonShapeOf(record[key])),
  );
}

/**
 * Whether `JSON.stringify(live)` would give exactly the text `shape` was made from (`jsonShapeOf(JSON.parse(text))` of
 * a text `JSON.stringify` made), found without serialising `live`: each property and element read once, compared in
 * the order `JSON.stringify` writes them. It answers true only where the texts are equal; where it cannot tell so
 * cheaply it answers false, and the caller serialises (anything with a `toJSON`, a class instance, a boxed primitive,
 * an undefined or function value `JSON.stringify` would drop, `NaN`, a hole, an enumerable property inherited from a
 * changed `Object.prototype`). A getter that throws throws.
 */
export function sameJson(live: unknown, shape: JsonShape): boolean {
  if (shape instanceof ObjectShape) return sameObject(live, shape);
  if (shape instanceof ArrayShape) return sameArray(live, shape);
  return live === shape; // a string, a finite number, a boolean, null
}

function sameArray(live: unknown, { items }: ArrayShape): boolean {
  if (!Array.isArray(live) || typeof (live as { toJSON?: unknown }).toJSON === 'function') return false;
  const length = live.length;
  if (length !== items.length) return false;
  for (let index = 0; index < length; index++) if (!sameJson(live[index], items[index])) return false;
  return true;
}

/**
 * A plain object only: JSON.stringify writes a boxed primitive, a class instance or a raw JSON object otherwise. Its
 * prototype is not enough: an array behind a proxy, or a boxed primitive whose prototype was reset, reports
 * Object.prototype and is still written as an array or as its primitive (`isBoxedPrimitive`: ~25 ns per object).
 */
function sameObject(live: unknown, { keys, values }: ObjectShape): boolean {
  if (typeof live !== 'object' || live === null || Object.getPrototypeOf(live) !== Object.prototype) return false;
  if (Array.isArray(live) || types.isBoxedPrimitive(live)) return false;
  const record = live as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return false;
  let index = 0;
  // `for…in` visits own enumerable string keys in `JSON.stringify`'s order, then inherited ones: any of those (or
  // one key too many) is a difference.
  for (const key in record) {
    if (index >= keys.length || key !== keys[index] || !sameJson(record[key], values[index])) return false;
    index++;
  }
  return index === keys.length;
}
