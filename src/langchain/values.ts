/**
 * Narrowing helpers for the LangChain boundary: callback arguments are typed loosely and often
 * come from user code, so a read must never throw. For reads off the hot path (errors, agent
 * actions, tool definitions). The readers of every run read properties at their own sites instead,
 * under one guard per reader: a helper's one lookup site would see every shape the handler meets
 * and stay megamorphic.
 */

export type Dict = Record<string, unknown>;

/** The value as a record to read properties of, or undefined when it is not an object. */
export function asDict(value: unknown): Dict | undefined {
  return typeof value === "object" && value !== null ? (value as Dict) : undefined;
}

export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function finiteNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function isDict(value: unknown): value is Dict {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `object[key]` guarded against non-objects and throwing getters. */
export function field(object: unknown, key: string): unknown {
  if (typeof object !== "object" || object === null) return undefined;
  try {
    return (object as Dict)[key];
  } catch {
    return undefined;
  }
}

/**
 * A lookup table with no prototype: a key read from LangChain data (`"constructor"`,
 * `"__proto__"`) finds nothing instead of `Object.prototype`'s members.
 */
export function lookupTable<V>(entries: Record<string, V>): Readonly<Record<string, V | undefined>> {
  return Object.assign(Object.create(null) as Record<string, V>, entries);
}
