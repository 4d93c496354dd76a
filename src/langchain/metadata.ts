import { finiteNumber, nonEmptyString } from "./values.js";

/**
 * A run's metadata, read in one pass over its keys. Metadata objects differ in shape from run to
 * run, so a lookup per interesting key (two dozen of them, most absent) is a megamorphic property
 * probe each; a `for…in` over the few keys present is not.
 */

/**
 * The keys the handler reads, each to its slot. The identity keys come in order of precedence:
 * @langfuse/langchain's own first, then the plain ones (thread_id is LangGraph's).
 */
const USER_KEYS = ["langfuseUserId", "langfuse_user_id", "userId", "user_id"];
const SESSION_KEYS = ["langfuseSessionId", "langfuse_session_id", "sessionId", "session_id", "thread_id"];
const TRACE_NAME_KEYS = ["langfuseTraceName", "langfuse_trace_name"];
const TAG_KEYS = ["langfuseTags", "langfuse_tags"];

type Slot =
  | { kind: "user" | "session" | "traceName"; rank: number }
  | {
      kind:
        | "graphNode"
        | "graphStep"
        | "agentName"
        | "prompt"
        | "lsProvider"
        | "lsModelName"
        | "lsTemperature"
        | "lsMaxTokens"
        | "lsStop"
        | "tags"
        | "traceParent";
    };

const SLOTS = new Map<string, Slot>([
  ["langgraph_node", { kind: "graphNode" }],
  ["langgraph_step", { kind: "graphStep" }],
  ["lc_agent_name", { kind: "agentName" }],
  ["langfusePrompt", { kind: "prompt" }],
  ["ls_provider", { kind: "lsProvider" }],
  ["ls_model_name", { kind: "lsModelName" }],
  ["ls_temperature", { kind: "lsTemperature" }],
  ["ls_max_tokens", { kind: "lsMaxTokens" }],
  ["ls_stop", { kind: "lsStop" }],
  ["traceparent", { kind: "traceParent" }],
  ...USER_KEYS.map((key, rank): [string, Slot] => [key, { kind: "user", rank }]),
  ...SESSION_KEYS.map((key, rank): [string, Slot] => [key, { kind: "session", rank }]),
  ...TRACE_NAME_KEYS.map((key, rank): [string, Slot] => [key, { kind: "traceName", rank }]),
  ...TAG_KEYS.map((key): [string, Slot] => [key, { kind: "tags" }]),
]);

/** What the handler uses of one run's metadata. */
export interface RunMetadata {
  /** `langgraph_node`: the LangGraph node this run is, or runs inside. */
  graphNode: string | undefined;
  /** `langgraph_step`. */
  graphStep: number | undefined;
  /** `lc_agent_name`: the `createAgent` agent this run belongs to. */
  agentName: string | undefined;
  /** `thread_id` (LangGraph's checkpointer thread), as a string. */
  threadId: string | undefined;
  /** `langfusePrompt`, unread: a Langfuse prompt object the user attached. */
  prompt: unknown;
  /** LangChain's `ls_*` hints on model runs. */
  lsProvider: string | undefined;
  lsModelName: string | undefined;
  lsTemperature: number | undefined;
  lsMaxTokens: number | undefined;
  lsStop: unknown;
  /** The trace's user, session and name by the keys above (the first key in precedence order wins). */
  userId: string | undefined;
  sessionId: string | undefined;
  traceName: string | undefined;
  /** The values of `langfuseTags` / `langfuse_tags`, in key order. */
  tagValues: unknown[] | undefined;
  /** `traceparent`: a W3C trace context the outermost run starts under, unparsed. */
  traceParent: string | undefined;
  /** The other entries, worth showing as observation metadata: `[key, value, key, value, …]`. */
  shown: unknown[] | undefined;
}

/** No metadata: what a run without any reads as (shared, never changed). */
export const NO_METADATA: RunMetadata = Object.freeze({
  graphNode: undefined,
  graphStep: undefined,
  agentName: undefined,
  threadId: undefined,
  prompt: undefined,
  lsProvider: undefined,
  lsModelName: undefined,
  lsTemperature: undefined,
  lsMaxTokens: undefined,
  lsStop: undefined,
  userId: undefined,
  sessionId: undefined,
  traceName: undefined,
  tagValues: undefined,
  traceParent: undefined,
  shown: undefined,
});

/**
 * Run metadata worth showing: without the control keys above, LangChain's `ls_*` model hints, its
 * version stamp, the internals frameworks mark with `__` (LangGraph 0.4's `__pregel_task_id`), and
 * the `traceparent` an outermost run starts under.
 */
export function isControlMetadataKey(key: string): boolean {
  return (
    key.startsWith("langfuse") ||
    key.startsWith("ls_") ||
    key.startsWith("__") ||
    key === "versions" ||
    key === "traceparent"
  );
}

/**
 * Reads a run's metadata; never throws (a key whose getter throws is skipped).
 * Identity values follow the precedence of the key lists: a string under an earlier key wins, and
 * a numeric session id (a LangGraph thread_id may be a number) counts only when no key holds a string.
 */
export function readRunMetadata(metadata: unknown): RunMetadata {
  if (typeof metadata !== "object" || metadata === null || isEmpty(metadata)) return NO_METADATA;
  const read: RunMetadata = {
    graphNode: undefined,
    graphStep: undefined,
    agentName: undefined,
    threadId: undefined,
    prompt: undefined,
    lsProvider: undefined,
    lsModelName: undefined,
    lsTemperature: undefined,
    lsMaxTokens: undefined,
    lsStop: undefined,
    userId: undefined,
    sessionId: undefined,
    traceName: undefined,
    tagValues: undefined,
    traceParent: undefined,
    shown: undefined,
  };
  const ranks: Ranks = {
    user: Number.POSITIVE_INFINITY,
    session: Number.POSITIVE_INFINITY,
    numericSession: Number.POSITIVE_INFINITY,
    numericSessionId: undefined,
    traceName: Number.POSITIVE_INFINITY,
  };
  const source = metadata as Record<string, unknown>;
  try {
    for (const key in source) {
      let value: unknown;
      try {
        if (!Object.hasOwn(source, key)) continue;
        value = source[key];
      } catch {
        continue;
      }
      const slot = SLOTS.get(key);
      if (slot !== undefined) readSlot(read, ranks, slot, key, value);
      // Langfuse's own keys and the ls_* hints are control keys; the plain identity keys are shown too.
      if (!isControlMetadataKey(key)) read.shown = appended(read.shown, key, value);
    }
  } catch {
    // A proxy that cannot list its keys: keep what was read.
  }
  if (read.sessionId === undefined && ranks.numericSessionId !== undefined)
    read.sessionId = ranks.numericSessionId;
  return read;
}

/** The ranks of the identity values found so far (lower is better), and the best numeric session. */
interface Ranks {
  user: number;
  session: number;
  numericSession: number;
  numericSessionId: string | undefined;
  traceName: number;
}

function readSlot(read: RunMetadata, ranks: Ranks, slot: Slot, key: string, value: unknown): void {
  switch (slot.kind) {
    case "graphNode":
      read.graphNode = nonEmptyString(value);
      break;
    case "graphStep":
      read.graphStep = finiteNumber(value);
      break;
    case "agentName":
      read.agentName = nonEmptyString(value);
      break;
    case "prompt":
      read.prompt = value;
      break;
    case "lsProvider":
      read.lsProvider = nonEmptyString(value);
      break;
    case "lsModelName":
      read.lsModelName = nonEmptyString(value);
      break;
    case "lsTemperature":
      read.lsTemperature = finiteNumber(value);
      break;
    case "lsMaxTokens":
      read.lsMaxTokens = finiteNumber(value);
      break;
    case "lsStop":
      read.lsStop = value;
      break;
    case "tags":
      read.tagValues = appended(read.tagValues, value);
      break;
    case "traceParent":
      read.traceParent = nonEmptyString(value);
      break;
    case "user":
      if (slot.rank < ranks.user && nonEmptyString(value) !== undefined) {
        ranks.user = slot.rank;
        read.userId = value as string;
      }
      break;
    case "traceName":
      if (slot.rank < ranks.traceName && nonEmptyString(value) !== undefined) {
        ranks.traceName = slot.rank;
        read.traceName = value as string;
      }
      break;
    case "session":
      if (key === "thread_id")
        read.threadId =
          nonEmptyString(value) ?? (finiteNumber(value) === undefined ? undefined : String(value));
      if (slot.rank < ranks.session && nonEmptyString(value) !== undefined) {
        ranks.session = slot.rank;
        read.sessionId = value as string;
      } else if (slot.rank < ranks.numericSession && finiteNumber(value) !== undefined) {
        ranks.numericSession = slot.rank;
        ranks.numericSessionId = String(value);
      }
      break;
  }
}

function appended(list: unknown[] | undefined, ...items: unknown[]): unknown[] {
  if (list === undefined) return items;
  list.push(...items);
  return list;
}

/** An object without enumerable keys (most chain runs' metadata); a proxy that cannot tell is not empty. */
function isEmpty(object: object): boolean {
  try {
    for (const _ in object) return false;
    return true;
  } catch {
    return false;
  }
}
