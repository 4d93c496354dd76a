import { arrayField, field, stringField } from "./values.js";

/**
 * LangChain's `Serialized` (what `toJSON()` returns): `{lc, type, id: [...module path, ClassName],
 * kwargs?, name?}`. `type` is "constructor" for serializable classes, "not_implemented" otherwise.
 */

/** The class name: the last element of the serialized id path. */
export function serializedClassName(serialized: unknown): string | undefined {
  const id = arrayField(serialized, "id");
  const last = id?.[id.length - 1];
  return typeof last === "string" && last.length > 0 ? last : undefined;
}

/** The serialized constructor arguments (only present for `type: "constructor"`). */
export function serializedKwargs(serialized: unknown): unknown {
  return field(serialized, "kwargs");
}

/** A run's display name: LangChain's run name (custom `runName` or the runnable's name), then the serialized name, then the class. */
export function runDisplayName(serialized: unknown, runName: unknown, fallback: string): string {
  if (typeof runName === "string" && runName.length > 0) return runName;
  return stringField(serialized, "name") ?? serializedClassName(serialized) ?? fallback;
}
