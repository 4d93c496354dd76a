import type { RunMetadata } from "./metadata.js";
import { field, nonEmptyString } from "./values.js";

/** Who and what a trace is about: read once, at the outermost run, and shared by all its spans. */
export interface TraceIdentity {
  userId?: string;
  sessionId?: string;
  tags?: string[];
  traceName?: string;
}

/** LangChain's own tags (sequence steps, graph steps, tracing hints) say nothing about the trace. */
export function isInternalTag(tag: string): boolean {
  return (
    tag.startsWith("seq:step:") ||
    tag.startsWith("graph:step:") ||
    tag.startsWith("langsmith:") ||
    tag === "__pregel_pull"
  );
}

function addTags(tags: Set<string>, value: unknown, skipInternal: boolean): void {
  if (typeof value === "string") {
    if (value.length > 0) tags.add(value);
    return;
  }
  if (!Array.isArray(value)) return;
  for (const tag of value)
    if (typeof tag === "string" && tag.length > 0 && !(skipInternal && isInternalTag(tag))) tags.add(tag);
}

/** Reads the trace identity from handler defaults and the outermost run's metadata and tags; metadata wins. */
export function readTraceIdentity(
  defaults: TraceIdentity,
  metadata: RunMetadata,
  runTags: unknown,
): TraceIdentity {
  const identity: TraceIdentity = {};
  const userId = metadata.userId ?? defaults.userId;
  if (userId !== undefined) identity.userId = userId;
  const session = metadata.sessionId ?? defaults.sessionId;
  if (session !== undefined) identity.sessionId = session;
  const tags = new Set<string>(defaults.tags ?? []);
  for (const value of metadata.tagValues ?? []) addTags(tags, value, false);
  addTags(tags, Array.isArray(runTags) ? runTags : undefined, true);
  if (tags.size > 0) identity.tags = [...tags];
  const traceName = metadata.traceName ?? defaults.traceName;
  if (traceName !== undefined) identity.traceName = traceName;
  return identity;
}

/** A Langfuse prompt (from the `langfuse` or `@langfuse/client` package) passed as `metadata.langfusePrompt`. */
export interface PromptLink {
  name: string;
  version: number;
}

/** The prompt a run's `metadata.langfusePrompt` links to, when it can be linked. */
export function readPromptLink(prompt: unknown): PromptLink | undefined {
  if (typeof prompt !== "object" || prompt === null) return undefined;
  const name = nonEmptyString(field(prompt, "name"));
  const version = field(prompt, "version");
  // A fallback prompt was never fetched from Langfuse: linking it would point at nothing.
  if (field(prompt, "isFallback") === true) return undefined;
  // Langfuse drops a generation whose prompt version is not an integer (langfuse-otel §3).
  if (name === undefined || typeof version !== "number" || !Number.isInteger(version)) return undefined;
  return { name, version };
}
