/**
 * Narrowing helpers for the LangChain boundary: callback arguments are typed loosely and often
 * come from user code, so every read goes through these and never throws.
 */

export type Dict = Record<string, unknown>;

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

export function stringField(object: unknown, key: string): string | undefined {
  const value = field(object, key);
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function numberField(object: unknown, key: string): number | undefined {
  const value = field(object, key);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** The first of `keys` that holds a non-empty string. */
export function firstString(object: unknown, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = stringField(object, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The first of `keys` that holds a finite number. */
export function firstNumber(object: unknown, keys: readonly string[]): number | undefined {
  for (const key of keys) {
    const value = numberField(object, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** A token count: a non-negative integer. */
export function countField(object: unknown, key: string): number | undefined {
  const value = numberField(object, key);
  return value !== undefined && value >= 0 ? Math.round(value) : undefined;
}

export function arrayField(object: unknown, key: string): unknown[] | undefined {
  const value = field(object, key);
  return Array.isArray(value) ? value : undefined;
}
