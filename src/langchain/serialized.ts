/**
 * LangChain's `Serialized` (what `toJSON()` returns): `{lc, type, id: [...module path, ClassName],
 * kwargs?, name?}`. `type` is "constructor" for serializable classes, "not_implemented" otherwise.
 */

/** The class name: the last element of the serialized id path. */
export function serializedClassName(serialized: unknown): string | undefined {
  if (typeof serialized !== "object" || serialized === null) return undefined;
  try {
    const id = (serialized as { id?: unknown }).id;
    const last = Array.isArray(id) ? id[id.length - 1] : undefined;
    return typeof last === "string" && last.length > 0 ? last : undefined;
  } catch {
    return undefined;
  }
}

/** The serialized constructor arguments (only present for `type: "constructor"`). */
export function serializedKwargs(serialized: unknown): object | undefined {
  if (typeof serialized !== "object" || serialized === null) return undefined;
  try {
    const kwargs = (serialized as { kwargs?: unknown }).kwargs;
    return typeof kwargs === "object" && kwargs !== null ? kwargs : undefined;
  } catch {
    return undefined;
  }
}

/** A run's display name: LangChain's run name (custom `runName` or the runnable's name), then the serialized name, then the class. */
export function runDisplayName(serialized: unknown, runName: unknown, fallback: string): string {
  if (typeof runName === "string" && runName.length > 0) return runName;
  let name: unknown;
  try {
    name =
      typeof serialized === "object" && serialized !== null
        ? (serialized as { name?: unknown }).name
        : undefined;
  } catch {
    name = undefined;
  }
  if (typeof name === "string" && name.length > 0) return name;
  return serializedClassName(serialized) ?? fallback;
}

/** A RunnableSequence: its steps run one after the other, each given the previous one's output. */
export function isSequenceClass(className: string | undefined): boolean {
  return className === "RunnableSequence";
}
