/**
 * Whether `JSON.stringify(live)` would give exactly the text `known` was parsed from (`known` = `JSON.parse(text)` of a
 * text `JSON.stringify` made), found without serialising `live`: each property and element read once, compared in
 * the order `JSON.stringify` writes them. It answers true only where the texts are equal; where it cannot tell so
 * cheaply it answers false, and the caller serialises (anything with a `toJSON`, a class instance, a boxed primitive,
 * an undefined or function value `JSON.stringify` would drop, `NaN`, a hole). A getter that throws throws.
 */
export function sameJson(live: unknown, known: unknown): boolean {
  if (typeof known !== 'object' || known === null) return live === known; // a string, a finite number, a boolean, null
  if (typeof live !== 'object' || live === null) return false;
  if (typeof (live as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(known)) {
    if (!Array.isArray(live)) return false;
    const length = live.length;
    if (length !== known.length) return false;
    for (let index = 0; index < length; index++) if (!sameJson(live[index], known[index])) return false;
    return true;
  }
  // A plain object only: JSON.stringify writes a boxed primitive or a raw JSON object as something else.
  if (Array.isArray(live) || Object.getPrototypeOf(live) !== Object.prototype) return false;
  const record = live as Record<string, unknown>;
  const keys = Object.keys(record);
  const knownKeys = Object.keys(known);
  if (keys.length !== knownKeys.length) return false;
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index];
    if (key !== knownKeys[index] || !sameJson(record[key], (known as Record<string, unknown>)[key])) return false;
  }
  return true;
}
