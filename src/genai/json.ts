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

/** A value a caller wants rendered differently (e.g. a LangChain message as role/content), or undefined. */
export type JsonReplacer = (value: object) => unknown;

class Walker {
  truncated = false;
  private remaining: number;
  private readonly ancestors = new Set<object>();

  constructor(
    private readonly budget: JsonBudget,
    private readonly mask: ((text: string) => string) | undefined,
    private readonly replace: JsonReplacer | undefined,
  ) {
    this.remaining = budget.maxChars;
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
    return `${clean.slice(0, kept)}…[truncated ${clean.length - kept} chars]`;
  }

  walk(value: unknown, depth: number): unknown {
    switch (typeof value) {
      case "string":
        return this.text(value);
      case "number":
        // JSON has no NaN or Infinity; keep them readable instead of turning them into null.
        return Number.isFinite(value) ? value : String(value);
      case "boolean":
        return value;
      case "bigint":
        return value.toString();
      case "undefined":
        return undefined;
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
    if (this.ancestors.has(object)) return "[circular]";
    if (ArrayBuffer.isView(object))
      return `[${object.constructor?.name ?? "binary"} ${object.byteLength} bytes]`;
    if (object instanceof ArrayBuffer) return `[ArrayBuffer ${object.byteLength} bytes]`;
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? "Invalid Date" : object.toISOString();
    if (object instanceof Error) return { name: this.text(object.name), message: this.text(object.message) };
    this.ancestors.add(object);
    try {
      return this.container(object, depth);
    } finally {
      this.ancestors.delete(object);
    }
  }

  private container(object: object, depth: number): unknown {
    // LangChain's serialized secret: {lc: 1, type: "secret", id: ["OPENAI_API_KEY"]}.
    if ((object as { type?: unknown }).type === "secret" && (object as { lc?: unknown }).lc === 1)
      return REDACTED;
    if (this.replace !== undefined) {
      const replaced = this.replace(object);
      if (replaced !== undefined && replaced !== object) return this.walk(replaced, depth);
    }
    if (Array.isArray(object) || object instanceof Set) {
      return this.list(Array.isArray(object) ? object : [...object], depth);
    }
    if (object instanceof Map)
      return this.entries(
        [...object.entries()].map(([k, v]) => [String(k), v]),
        depth,
      );
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      try {
        const replaced = toJSON.call(object);
        if (replaced !== object) return this.walk(replaced, depth);
      } catch {
        // A throwing toJSON falls back to the object's own properties.
      }
    }
    let keys: string[];
    try {
      keys = Object.keys(object);
    } catch {
      return "[unreadable]";
    }
    const entries: [string, unknown][] = [];
    for (const key of keys) {
      if (entries.length >= this.budget.maxItems) break;
      let item: unknown;
      try {
        item = (object as Record<string, unknown>)[key];
      } catch {
        item = "[unreadable]";
      }
      entries.push([key, item]);
    }
    const result = this.entries(entries, depth);
    if (keys.length > entries.length) {
      this.truncated = true;
      (result as Record<string, unknown>)["…"] = `${keys.length - entries.length} more keys`;
    }
    return result;
  }

  private list(items: unknown[], depth: number): unknown[] {
    const limit = Math.min(items.length, this.budget.maxItems);
    const out: unknown[] = [];
    for (let i = 0; i < limit; i++) {
      if (this.remaining <= 0 && i > 0) break;
      const item = this.walk(items[i], depth + 1);
      // JSON turns undefined array items into null; say so explicitly.
      out.push(item === undefined ? null : item);
    }
    if (out.length < items.length) {
      this.truncated = true;
      out.push(`…[${items.length - out.length} more items]`);
    }
    return out;
  }

  private entries(entries: [string, unknown][], depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      // Methods are not data: JSON drops them from objects, and so do we.
      if (typeof item === "function") continue;
      if (isSecretKey(key)) {
        if (item !== undefined && item !== null && item !== "") out[key] = REDACTED;
        continue;
      }
      const walked = this.walk(item, depth + 1);
      if (walked !== undefined) out[key] = walked;
    }
    return out;
  }
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
 * The fast path: native JSON.stringify with a replacer doing what the walker does (budget, mask,
 * secrets, media, LangChain values) for the common case of small, plain, acyclic values.
 * Undefined when the value needs the walker: cycles, throwing getters or toJSON, BigInt in
 * toJSON results, or a structure larger than the budget allows.
 */
function nativeJson(
  value: unknown,
  budget: JsonBudget,
  mask: ((text: string) => string) | undefined,
  replace: JsonReplacer | undefined,
): BoundedJson | undefined {
  // The walker's own rules for strings (budget, mask, secrets, media) and other primitives.
  const walker = new Walker(budget, mask, replace);
  const replacer = (key: string, item: unknown): unknown => {
    if (key !== "" && item !== undefined && item !== null && item !== "" && isSecretKey(key)) return REDACTED;
    if (typeof item !== "object" || item === null) return walker.walk(item, 0);
    const object = item as { lc?: unknown; type?: unknown; data?: unknown };
    if (object.type === "secret" && object.lc === 1) return REDACTED;
    if (object.type === "Buffer" && Array.isArray(object.data)) return `[Buffer ${object.data.length} bytes]`;
    if (ArrayBuffer.isView(item)) return `[${item.constructor?.name ?? "binary"} ${item.byteLength} bytes]`;
    if (item instanceof Error) return { name: item.name, message: item.message };
    if (item instanceof Map) return Object.fromEntries(item);
    if (item instanceof Set) return [...item];
    if (replace !== undefined) {
      const replaced = replace(item);
      if (replaced !== undefined) return replaced;
    }
    return item;
  };
  let json: string | undefined;
  try {
    json = JSON.stringify(value, replacer);
  } catch {
    return undefined;
  }
  // Strings are bounded by the replacer; anything else beyond a little structure goes to the walker.
  if (json !== undefined && json.length > budget.maxChars + 2048) return undefined;
  return { json: json ?? "null", truncated: walker.truncated };
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
  const fast = nativeJson(value, budget, mask, replace);
  if (fast !== undefined) return fast;
  try {
    const walker = new Walker(budget, mask, replace);
    const plain = walker.walk(value, 0);
    return { json: JSON.stringify(plain === undefined ? null : plain), truncated: walker.truncated };
  } catch {
    // Only a broken runtime gets here (e.g. a Proxy whose every trap throws).
    return { json: '"[unserializable]"', truncated: true };
  }
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
