/**
 * Bounded, total JSON serialization for captured content.
 *
 * `JSON.stringify` throws on cycles and BigInt, runs user getters and `toJSON`, and has no size
 * limit. Captured values come from user code (tool results, chain inputs, metadata), so they go
 * through `toBoundedJson`, which never throws and always returns valid JSON of bounded size.
 */

/** How much of a value may be serialized. */
export interface JsonBudget {
  /** Characters of string content, summed over the whole value. */
  maxChars: number;
  /** Nesting depth; deeper values become "[depth limit]". */
  maxDepth: number;
  /** Items kept per array or object; the rest is summarized. */
  maxItems: number;
}

export interface BoundedJson {
  json: string;
  /** True when anything was cut to fit the budget. */
  truncated: boolean;
}

const DATA_URL = /^data:([\w.+-]+\/[\w.+-]+)?(;[\w=-]+)*;base64,/;

/** A data URL of inline media becomes a short placeholder: type and size, never the bytes. */
export function mediaPlaceholder(mimeType: string | undefined, base64Length: number): string {
  const bytes = Math.floor((base64Length * 3) / 4);
  return `[${mimeType ?? "application/octet-stream"} base64, ${bytes} bytes]`;
}

/** Replaces an inline base64 data URL by its placeholder; returns other strings unchanged. */
export function redactDataUrl(text: string): string {
  if (text.length < 64 || !text.startsWith("data:")) return text;
  const match = DATA_URL.exec(text);
  if (match === null) return text;
  return mediaPlaceholder(match[1], text.length - match[0].length);
}

/**
 * Keys whose values are credentials, whatever object they sit in: API keys, secrets, passwords,
 * auth headers. Matched on the key's snake_case form ("openAIApiKey" → "open_ai_api_key").
 */
const SECRET_KEY =
  /(^|_)(api_?key|secret|secret_key|client_secret|password|passwd|authorization|auth|credentials?|private_key|access_token|refresh_token|auth_token|id_token|session_token|bearer|headers|cookie|set_cookie)$/;
export const REDACTED = "[redacted]";

/** A cheap first look: most keys contain none of these, and skip the exact check below. */
const MAYBE_SECRET = /key|secret|pass|auth|cred|token|bearer|header|cookie/i;

export function isSecretKey(key: string): boolean {
  if (!MAYBE_SECRET.test(key)) return false;
  const snake = key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s.]+/g, "_")
    .toLowerCase();
  return SECRET_KEY.test(snake);
}

/** Strings that are credentials by their look: OpenAI/Anthropic/Langfuse style keys and bearer tokens. */
export function looksLikeSecret(text: string): boolean {
  if (text.length < 20 || text.length > 512) return false;
  if (text.startsWith("sk-") || text.startsWith("Bearer ") || text.startsWith("Basic "))
    return !text.includes(" ", 7);
  return false;
}

/**
 * The first `kept` characters of `text` and a note of how many were cut. A fresh string: a slice
 * shares the original's memory in V8, and a span waiting for export would keep a huge input alive.
 */
export function cutText(text: string, kept: number): string {
  return JSON.parse(JSON.stringify(`${text.slice(0, kept)}…[truncated ${text.length - kept} chars]`));
}

/** `text` itself when it has at most `max` characters, else its first `max` and the cut note. */
export function boundText(text: string, max: number): string {
  return text.length <= max ? text : cutText(text, max);
}

/** A value a caller wants rendered differently (e.g. a LangChain message as role/content), or undefined. */
export type JsonReplacer = (value: object) => unknown;

/**
 * Structure (array items and object keys, at any depth) visited per value before containers are
 * cut: with strings bounded by `maxChars`, this bounds the whole JSON.
 */
const MAX_NODES_PER_ITEM_LIMIT = 10;

/**
 * Prepares a value for `JSON.stringify`: strings within the budget, masked, free of credentials
 * and inline media; no cycles, BigInt, functions in arrays, non-finite numbers or `toJSON` left to
 * run; LangChain values rendered. Copy on write: a subtree that needs none of this is returned as
 * is, so the common small, plain value is only read, never rebuilt, and native `JSON.stringify`
 * (with no replacer, its fast path) does the writing.
 */
class Walker {
  truncated = false;
  private remaining: number;
  private nodes: number;
  /** The containers being walked, outermost first: a value met again among them is a cycle. */
  private readonly ancestors: object[] = [];

  constructor(
    private readonly budget: JsonBudget,
    private readonly mask: ((text: string) => string) | undefined,
    private readonly replace: JsonReplacer | undefined,
    /** Rebuild every container, trusting nothing of the original to serialize the same way twice. */
    private readonly copyAll = false,
  ) {
    this.remaining = budget.maxChars;
    this.nodes = budget.maxItems * MAX_NODES_PER_ITEM_LIMIT;
  }

  text(value: string): string {
    if (looksLikeSecret(value)) return REDACTED;
    const clean = this.mask === undefined ? redactDataUrl(value) : applyMask(this.mask, redactDataUrl(value));
    if (clean.length <= this.remaining) {
      this.remaining -= clean.length;
      return clean;
    }
    this.truncated = true;
    const kept = Math.max(0, this.remaining);
    this.remaining = 0;
    return cutText(clean, kept);
  }

  walk(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case "string":
        return this.text(value);
      case "number":
        // JSON has no NaN or Infinity; keep them readable instead of turning them into null.
        return Number.isFinite(value) ? value : String(value);
      case "boolean":
      case "undefined":
        return value;
      case "bigint":
      case "symbol":
        return value.toString();
      case "function":
        return `[function ${value.name || "anonymous"}]`;
    }
    if (value === null) return null;
    const object = value as object;
    if (depth >= this.budget.maxDepth) {
      this.truncated = true;
      return "[depth limit]";
    }
    if (this.ancestors.includes(object)) return "[circular]";
    if (ArrayBuffer.isView(object))
      return `[${object.constructor?.name ?? "binary"} ${object.byteLength} bytes]`;
    if (object instanceof ArrayBuffer) return `[ArrayBuffer ${object.byteLength} bytes]`;
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    if (object instanceof Error) return { name: this.text(object.name), message: this.text(object.message) };
    this.ancestors.push(object);
    try {
      return this.container(object, depth);
    } catch {
      // A proxy or accessor that throws where a plain object cannot.
      return "[unreadable]";
    } finally {
      this.ancestors.pop();
    }
  }

  private container(object: object, depth: number): unknown {
    if (Array.isArray(object)) return this.list(object, depth);
    const candidate = object as { lc?: unknown; type?: unknown; data?: unknown; toJSON?: unknown };
    // LangChain's serialized secret: {lc: 1, type: "secret", id: ["OPENAI_API_KEY"]}.
    if (candidate.type === "secret" && candidate.lc === 1) return REDACTED;
    // A Buffer that went through its own toJSON: {type: "Buffer", data: [...]}.
    if (candidate.type === "Buffer" && Array.isArray(candidate.data))
      return `[Buffer ${candidate.data.length} bytes]`;
    // A plain object literal is never a LangChain class; its serialized form (lc: 1) may be.
    if (
      this.replace !== undefined &&
      (Object.getPrototypeOf(object) !== Object.prototype || candidate.lc === 1)
    ) {
      const replaced = this.replace(object);
      if (replaced !== undefined && replaced !== object) return this.walk(replaced, depth);
    }
    if (object instanceof Set) return this.list([...object], depth);
    if (object instanceof Map) {
      const entries: Record<string, unknown> = {};
      for (const [key, item] of object) setKey(entries, String(key), item);
      return this.record(entries, depth);
    }
    if (typeof candidate.toJSON === "function") {
      try {
        const replaced = candidate.toJSON();
        if (replaced !== object) return this.walk(replaced, depth);
      } catch {
        // A throwing toJSON falls back to the object's own properties.
      }
      // JSON.stringify would call toJSON again: the object's properties go into a copy.
      return this.record(object, depth, true);
    }
    return this.record(object, depth);
  }

  private list(items: unknown[], depth: number): unknown[] {
    const limit = Math.min(items.length, this.budget.maxItems);
    let out: unknown[] | undefined = this.copyAll ? [] : undefined;
    let kept = 0;
    for (; kept < limit; kept++) {
      if ((this.remaining <= 0 || this.nodes <= 0) && kept > 0) break;
      this.nodes--;
      const item = items[kept];
      // JSON turns undefined array items into null; say so explicitly.
      const walked = this.walk(item, depth + 1) ?? null;
      if (out !== undefined) out.push(walked);
      else if (walked !== item) {
        out = items.slice(0, kept);
        out.push(walked);
      }
    }
    if (kept < items.length) {
      this.truncated = true;
      out ??= items.slice(0, kept);
      out.push(`…[${items.length - kept} more items]`);
    }
    return out ?? items;
  }

  /** An object's own enumerable properties, as JSON.stringify reads them; copied only when one changes. */
  private record(object: object, depth: number, copy = this.copyAll): unknown {
    let keys: string[];
    try {
      keys = Object.keys(object);
    } catch {
      return "[unreadable]";
    }
    const source = object as Record<string, unknown>;
    const limit = Math.min(keys.length, this.budget.maxItems);
    let out: Record<string, unknown> | undefined = copy ? {} : undefined;
    let kept = 0;
    for (; kept < limit; kept++) {
      if (this.nodes <= 0 && kept > 0) break;
      this.nodes--;
      const key = keys[kept] as string;
      let item: unknown = UNREADABLE;
      let walked: unknown = "[unreadable]";
      try {
        item = source[key];
        // Methods are not data: JSON drops them from objects, and so do we.
        if (typeof item === "function") walked = item = undefined;
        else if (item !== undefined && item !== null && item !== "" && isSecretKey(key)) walked = REDACTED;
        else walked = this.walk(item, depth + 1);
      } catch {
        // A throwing getter: the placeholder stands in for its value.
      }
      if (out !== undefined) {
        if (walked !== undefined) setKey(out, key, walked);
      } else if (walked !== item) {
        out = copyOfFirst(source, keys, kept);
        if (walked !== undefined) setKey(out, key, walked);
      }
    }
    if (kept < keys.length) {
      this.truncated = true;
      out ??= copyOfFirst(source, keys, kept);
      out["…"] = `${keys.length - kept} more keys`;
    }
    return out ?? object;
  }
}

/** Stands for a property whose getter threw: unequal to any value it could be replaced by. */
const UNREADABLE = Symbol("unreadable");

/** `out[key] = value`, also for a key named `__proto__`. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  else out[key] = value;
}

/** A copy of the first `count` properties, already walked and found unchanged (so readable). */
function copyOfFirst(
  source: Record<string, unknown>,
  keys: string[],
  count: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = keys[i] as string;
    const value = source[key];
    if (value !== undefined && typeof value !== "function") setKey(out, key, value);
  }
  return out;
}

export const DEFAULT_JSON_BUDGET: JsonBudget = { maxChars: 32_768, maxDepth: 20, maxItems: 1000 };

/** Text a failing mask leaves behind: fail closed, never the unmasked value. */
export const MASK_FAILED = "[masked: mask threw]";

export function applyMask(mask: (text: string) => string, text: string): string {
  try {
    const masked = mask(text);
    return typeof masked === "string" ? masked : String(masked);
  } catch {
    return MASK_FAILED;
  }
}

/**
 * Serializes any value to valid JSON within the budget; never throws.
 * `mask` runs on every string in the value, so its result stays valid JSON whatever it returns.
 */
export function toBoundedJson(
  value: unknown,
  budget: JsonBudget = DEFAULT_JSON_BUDGET,
  mask?: (text: string) => string,
  replace?: JsonReplacer,
): BoundedJson {
  for (const copyAll of [false, true]) {
    try {
      const walker = new Walker(budget, mask, replace, copyAll);
      const prepared = walker.walk(value, 0);
      // Only a value whose accessors answer differently the second time can make this throw.
      return { json: JSON.stringify(prepared) ?? "null", truncated: walker.truncated };
    } catch {
      // Walk again, this time copying everything, so stringify reads only what the walk read.
    }
  }
  // Only a broken runtime gets here (e.g. a Proxy whose every trap throws).
  return { json: '"[unserializable]"', truncated: true };
}

/** Masks and cuts a plain string to the budget; never throws. */
export function toBoundedText(
  value: string,
  maxChars: number,
  mask?: (text: string) => string,
): { text: string; truncated: boolean } {
  const walker = new Walker({ ...DEFAULT_JSON_BUDGET, maxChars }, mask, undefined);
  const text = walker.text(value);
  return { text, truncated: walker.truncated };
}
