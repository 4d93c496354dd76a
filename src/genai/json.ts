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

/** Characters a JSON string cannot hold as they are: quotes, backslashes, controls, surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these control characters.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** The same, newlines aside: multi-line text with nothing else to escape is the common case. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes exactly these control characters.
const NEEDS_ESCAPE_BUT_NEWLINE = /["\\\u0000-\u0009\u000b-\u001f\ud800-\udfff]/;

/**
 * `text` as a JSON string literal, exactly as `JSON.stringify` writes it. Most captured text needs
 * no escaping but of its newlines: it is quoted without `JSON.stringify`'s slower per-character pass.
 */
export function quote(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  if (!NEEDS_ESCAPE_BUT_NEWLINE.test(text)) return `"${text.replaceAll("\n", "\\n")}"`;
  return JSON.stringify(text);
}

/** An object key as JSON writes it (quoted, with the colon), and whether its value is a credential. */
interface KeyInfo {
  prefix: string;
  secret: boolean;
  /** `lc`, `type` or `toJSON`: with some values, the key makes a plain object special. */
  marker: boolean;
}

const MARKER_KEYS = new Set(["lc", "type", "toJSON"]);

/**
 * Keys repeat across values (role, content, type…): each is quoted and checked once. Bounded in
 * count, and long keys (rare, and not worth keeping) are not kept.
 */
const KEY_INFO = new Map<string, KeyInfo>();
const MAX_KEY_INFO = 4096;
const MAX_KEPT_KEY_CHARS = 128;

function keyInfo(key: string): KeyInfo {
  let info = KEY_INFO.get(key);
  if (info === undefined) {
    info = { prefix: `${quote(key)}:`, secret: isSecretKey(key), marker: MARKER_KEYS.has(key) };
    if (key.length > MAX_KEPT_KEY_CHARS) return info;
    if (KEY_INFO.size >= MAX_KEY_INFO) KEY_INFO.clear();
    KEY_INFO.set(key, info);
  }
  return info;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Longest label (see JsonWriter.label) written whole. */
const MAX_LABEL_CHARS = 128;

/**
 * Writes a value as JSON in one pass: strings within the budget, masked, free of credentials and
 * inline media; no cycles, BigInt, functions in arrays, non-finite numbers or `toJSON` surprises;
 * LangChain values rendered. Every property is read once, so a getter that answers differently the
 * second time cannot make the text invalid, and nothing of the original is copied before writing.
 */
export class JsonWriter {
  truncated = false;
  private remaining: number;
  private nodes: number;
  /** The containers being written, outermost first: a value met again among them is a cycle. */
  private readonly ancestors: object[] = [];

  constructor(
    private readonly budget: JsonBudget,
    private readonly mask: ((text: string) => string) | undefined,
    private readonly replace: JsonReplacer | undefined,
  ) {
    this.remaining = budget.maxChars;
    this.nodes = budget.maxItems * MAX_NODES_PER_ITEM_LIMIT;
  }

  /** A captured string after the content rules: credentials, media, mask, then the budget. */
  text(value: string): string {
    const clean = cleanText(value, this.mask);
    if (clean.length <= this.remaining) {
      this.remaining -= clean.length;
      return clean;
    }
    this.truncated = true;
    const kept = Math.max(0, this.remaining);
    this.remaining = 0;
    return cutText(clean, kept);
  }

  /** A captured string as a JSON string literal, after the content rules. */
  string(value: string): string {
    return quote(this.text(value));
  }

  /**
   * A label of the structure rather than content (a message role, a finish reason, a tool call's
   * name and id): quoted as it is, neither masked nor counted against the content budget, and cut
   * at MAX_LABEL_CHARS.
   */
  label(value: string): string {
    return quote(value.length <= MAX_LABEL_CHARS ? value : cutText(value, MAX_LABEL_CHARS));
  }

  /** The JSON of a value nested in a structure the caller writes itself ("null" for undefined). */
  nested(value: unknown): string {
    return this.write(value, 1) ?? "null";
  }

  /** The JSON of `value`; undefined where JSON leaves a value out (undefined). */
  write(value: unknown, depth: number): string | undefined {
    switch (typeof value) {
      case "string":
        return this.string(value);
      case "number":
        // JSON has no NaN or Infinity; keep them readable instead of turning them into null.
        return Number.isFinite(value) ? String(value) : `"${String(value)}"`;
      case "boolean":
        return value ? "true" : "false";
      case "undefined":
        return undefined;
      case "bigint":
      case "symbol":
        return quote(value.toString());
      case "function":
        return quote(`[function ${value.name || "anonymous"}]`);
    }
    if (value === null) return "null";
    const object = value as object;
    if (depth >= this.budget.maxDepth) {
      this.truncated = true;
      return '"[depth limit]"';
    }
    if (this.ancestors.includes(object)) return '"[circular]"';
    this.ancestors.push(object);
    try {
      return this.container(object, depth);
    } catch {
      // A proxy or accessor that throws where a plain object cannot.
      return '"[unreadable]"';
    } finally {
      this.ancestors.pop();
    }
  }

  private container(object: object, depth: number): string | undefined {
    if (Array.isArray(object)) return this.list(object, depth);
    // A plain object literal is never a LangChain class (nor a Date, Map, Buffer…): its properties
    // are written as they are, unless a marker key says otherwise (record() then calls probe()).
    if (Object.getPrototypeOf(object) === Object.prototype) return this.record(object, depth, true);
    return this.probe(object, depth, false);
  }

  /** A class instance, or a plain object with a marker key: what it stands for, else its properties. */
  private probe(object: object, depth: number, plain: boolean): string | undefined {
    const candidate = object as { lc?: unknown; type?: unknown; data?: unknown; toJSON?: unknown };
    const lc = candidate.lc;
    const type = candidate.type;
    // LangChain's serialized secret: {lc: 1, type: "secret", id: ["OPENAI_API_KEY"]}.
    if (type === "secret" && lc === 1) return `"${REDACTED}"`;
    // A Buffer that went through its own toJSON: {type: "Buffer", data: [...]}.
    if (type === "Buffer" && Array.isArray(candidate.data))
      return `"[Buffer ${candidate.data.length} bytes]"`;
    if (!plain) {
      const special = this.special(object, depth);
      if (special !== undefined) return special;
    }
    // The serialized form of a LangChain object (lc: 1) is a plain object.
    if (this.replace !== undefined && (!plain || lc === 1)) {
      const replaced = this.replace(object);
      if (replaced !== undefined && replaced !== object) return this.write(replaced, depth);
    }
    if (!plain) {
      if (object instanceof Set) return this.list([...object], depth);
      if (object instanceof Map) {
        const entries: Record<string, unknown> = {};
        for (const [key, item] of object) setKey(entries, String(key), item);
        return this.record(entries, depth, false);
      }
    }
    if (typeof candidate.toJSON === "function") {
      try {
        const replaced = candidate.toJSON();
        if (replaced !== object) return this.write(replaced, depth);
      } catch {
        // A throwing toJSON falls back to the object's own properties.
      }
    }
    return this.record(object, depth, false);
  }

  /** Binary data, dates and errors: a short text or a small record; undefined for other objects. */
  private special(object: object, depth: number): string | undefined {
    if (ArrayBuffer.isView(object))
      return quote(`[${object.constructor?.name ?? "binary"} ${object.byteLength} bytes]`);
    if (object instanceof ArrayBuffer) return `"[ArrayBuffer ${object.byteLength} bytes]"`;
    if (object instanceof Date)
      return Number.isNaN(object.getTime()) ? '"Invalid Date"' : `"${object.toISOString()}"`;
    if (object instanceof Error)
      return this.record({ name: String(object.name), message: String(object.message) }, depth, false);
    return undefined;
  }

  private list(items: unknown[], depth: number): string {
    const limit = Math.min(items.length, this.budget.maxItems);
    let out = "[";
    let kept = 0;
    for (; kept < limit; kept++) {
      if ((this.remaining <= 0 || this.nodes <= 0) && kept > 0) break;
      this.nodes--;
      // JSON turns undefined array items into null; say so explicitly.
      const item = this.write(items[kept], depth + 1) ?? "null";
      out += kept === 0 ? item : `,${item}`;
    }
    if (kept < items.length) {
      this.truncated = true;
      out += `${kept === 0 ? "" : ","}${quote(`…[${items.length - kept} more items]`)}`;
    }
    return `${out}]`;
  }

  /**
   * An object's own enumerable properties, as JSON.stringify reads them. With `watch`, a plain
   * object whose marker key makes it special (see probe) is handed to probe() instead.
   */
  private record(object: object, depth: number, watch: boolean): string | undefined {
    const source = object as Record<string, unknown>;
    const limit = this.budget.maxItems;
    const remaining = this.remaining;
    const nodes = this.nodes;
    const truncated = this.truncated;
    let out = "{";
    let visited = 0;
    for (const key in source) {
      if (!hasOwn.call(source, key)) continue;
      if (visited >= limit || (this.nodes <= 0 && visited > 0)) {
        this.truncated = true;
        const more = Object.keys(source).length - visited;
        return `${out}${out === "{" ? "" : ","}"…":${quote(`${more} more keys`)}}`;
      }
      visited++;
      this.nodes--;
      const info = keyInfo(key);
      let item: string | undefined;
      let raw: unknown;
      try {
        raw = source[key];
      } catch {
        // A throwing getter: the placeholder stands in for its value.
        raw = UNREADABLE;
      }
      if (watch && info.marker && isMarking(key, raw)) {
        // Start again the slow way, as if nothing had been written.
        this.remaining = remaining;
        this.nodes = nodes;
        this.truncated = truncated;
        return this.probe(object, depth, true);
      }
      try {
        // Methods are not data: JSON drops them from objects, and so do we.
        if (typeof raw === "function") continue;
        if (raw === UNREADABLE) item = '"[unreadable]"';
        else if (raw !== undefined && raw !== null && raw !== "" && info.secret) item = `"${REDACTED}"`;
        else item = this.write(raw, depth + 1);
      } catch {
        item = '"[unreadable]"';
      }
      if (item === undefined) continue;
      out += out === "{" ? info.prefix + item : `,${info.prefix}${item}`;
    }
    return `${out}}`;
  }
}

/** Stands for a property whose getter threw. */
const UNREADABLE = Symbol("unreadable");

/** A marker key whose value makes a plain object special: serialized LangChain, a Buffer, a toJSON. */
function isMarking(key: string, value: unknown): boolean {
  if (key === "lc") return value === 1;
  if (key === "type") return value === "secret" || value === "Buffer";
  return typeof value === "function";
}

/** `out[key] = value`, also for a key named `__proto__`. */
function setKey(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true });
  else out[key] = value;
}

/** A captured string after the rules that do not depend on the budget: credentials, media, mask. */
function cleanText(value: string, mask: ((text: string) => string) | undefined): string {
  if (looksLikeSecret(value)) return REDACTED;
  const text = redactDataUrl(value);
  return mask === undefined ? text : applyMask(mask, text);
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
  try {
    const writer = new JsonWriter(budget, mask, replace);
    return { json: flattened(writer.write(value, 0) ?? "null"), truncated: writer.truncated };
  } catch {
    // Only a broken runtime gets here (e.g. a stack overflow in a user's toJSON or mask).
    return { json: '"[unserializable]"', truncated: true };
  }
}

/**
 * Writes JSON of a known shape: `write` composes the text and calls the writer for every string
 * and value that came from the application, so the content rules and the budget still apply.
 * Never throws.
 */
export function toBoundedJsonWith(
  write: (writer: JsonWriter) => string,
  budget: JsonBudget = DEFAULT_JSON_BUDGET,
  mask?: (text: string) => string,
): BoundedJson {
  try {
    const writer = new JsonWriter(budget, mask, undefined);
    return { json: flattened(write(writer)), truncated: writer.truncated };
  } catch {
    return { json: '"[unserializable]"', truncated: true };
  }
}

/**
 * The text is a rope of the pieces written; reading a character flattens it in V8, so a span
 * waiting for export keeps one string rather than every piece.
 */
function flattened(json: string): string {
  json.charCodeAt(0);
  return json;
}

/** Masks and cuts a plain string to the budget; never throws. */
export function toBoundedText(
  value: string,
  maxChars: number,
  mask?: (text: string) => string,
): { text: string; truncated: boolean } {
  const clean = cleanText(value, mask);
  if (clean.length <= maxChars) return { text: clean, truncated: false };
  return { text: cutText(clean, maxChars), truncated: true };
}
