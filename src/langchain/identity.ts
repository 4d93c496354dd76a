import { field, firstString } from "./values.js";

/** Who and what a trace is about: read once, at the outermost run, and shared by all its spans. */
export interface TraceIdentity {
  userId?: string;
  sessionId?: string;
  tags?: string[];
  traceName?: string;
}

// The keys @langfuse/langchain users already pass, then the plain ones (thread_id is LangGraph's).
const USER_KEYS = ["langfuseUserId", "langfuse_user_id", "userId", "user_id"];
const SESSION_KEYS = ["langfuseSessionId", "langfuse_session_id", "sessionId", "session_id", "thread_id"];
const TAG_KEYS = ["langfuseTags", "langfuse_tags"];
const TRACE_NAME_KEYS = ["langfuseTraceName", "langfuse_trace_name"];

/** LangChain's own tags (sequence steps, graph steps, tracing hints) say nothing about the trace. */
export function isInternalTag(tag: string): boolean {
  return (
    tag.startsWith("seq:step:") ||
    tag.startsWith("graph:step:") ||
    tag.startsWith("langsmith:") ||
    tag === "__pregel_pull"
  );
}

function tagList(value: unknown): string[] {
  if (typeof value === "string") return value.length > 0 ? [value] : [];
  if (!Array.isArray(value)) return [];
  return value.filter((tag): tag is string => typeof tag === "string" && tag.length > 0);
}

/** Reads the trace identity from handler defaults and the outermost run's metadata and tags; metadata wins. */
export function readTraceIdentity(
  defaults: TraceIdentity,
  metadata: unknown,
  runTags: unknown,
): TraceIdentity {
  const identity: TraceIdentity = {};
  const userId = firstString(metadata, USER_KEYS) ?? defaults.userId;
  if (userId !== undefined) identity.userId = userId;
  // thread_id may be a number in user code; a session id is a string.
  const session =
    firstString(metadata, SESSION_KEYS) ?? stringifiedId(metadata, SESSION_KEYS) ?? defaults.sessionId;
  if (session !== undefined) identity.sessionId = session;
  const tags = new Set<string>(defaults.tags ?? []);
  for (const key of TAG_KEYS) for (const tag of tagList(field(metadata, key))) tags.add(tag);
  for (const tag of tagList(Array.isArray(runTags) ? runTags : undefined))
    if (!isInternalTag(tag)) tags.add(tag);
  if (tags.size > 0) identity.tags = [...tags];
  const traceName = firstString(metadata, TRACE_NAME_KEYS) ?? defaults.traceName;
  if (traceName !== undefined) identity.traceName = traceName;
  return identity;
}

function stringifiedId(metadata: unknown, keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = field(metadata, key);
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
  }
  return undefined;
}

/** A Langfuse prompt (from the `langfuse` or `@langfuse/client` package) passed as `metadata.langfusePrompt`. */
export interface PromptLink {
  name: string;
  version: number;
}

export function readPromptLink(metadata: unknown): PromptLink | undefined {
  const prompt = field(metadata, "langfusePrompt");
  if (typeof prompt !== "object" || prompt === null) return undefined;
  const name = firstString(prompt, ["name"]);
  const version = field(prompt, "version");
  // A fallback prompt was never fetched from Langfuse: linking it would point at nothing.
  if (field(prompt, "isFallback") === true) return undefined;
  // Langfuse drops a generation whose prompt version is not an integer (langfuse-otel §3).
  if (name === undefined || typeof version !== "number" || !Number.isInteger(version)) return undefined;
  return { name, version };
}

/** Run metadata worth showing: without the control keys above, LangChain's `ls_*` model hints and its version stamp. */
export function isControlMetadataKey(key: string): boolean {
  return key.startsWith("langfuse") || key.startsWith("ls_") || key === "versions";
}
