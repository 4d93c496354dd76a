import { type Context, createContextKey, diag, type Span, trace } from "@opentelemetry/api";
import type { RunState } from "../runs.js";
import { type AsyncLocal, asyncLocalStorageClass } from "../runtime.js";

/**
 * The context bridge: which LangChain run's code is executing right now, so that spans other
 * instrumentations start (the provider SDK's HTTP call, a tool's fetch, an app span) get that
 * run's span as their parent. `LangChainContextManager` asks it on every `context.active()`.
 *
 * Two sources, both scoped by the runtime rather than guessed:
 * - LangChain's own async-local config: `RunnableLambda`, tools and LangGraph nodes run their
 *   body inside it, and its callback manager names that run (exact for those bodies).
 * - A mark this module attaches in the start hook of a model or retriever run: LangChain calls the
 *   hook synchronously in the async context that then runs `_generate`, `_streamResponseChunks` or
 *   `_getRelevantDocuments`, which LangChain's config does not scope (it names the enclosing run).
 *   The mark is a value in the OTel context the wrapped manager holds (its `attach`), so a
 *   `context.with()` inside the body carries it or, with a context of its own, drops it.
 * A mark can outlive its run in resources created inside it (a pooled socket, a timer), so a
 * mark counts only while its run is open and when it lies under the run LangChain names.
 */

/** What the bridge reads of a handler's run registry. */
export interface OpenRuns {
  get(runId: string): RunState | undefined;
}

/** Context key: the run a bridged context was made for (its run id). Contexts derived from it keep it. */
export const BRIDGED_RUN = createContextKey("langchain-otel bridged run");
/**
 * Context key: the run whose code made this context active with `context.with()` or `bind()` (an
 * extracted remote parent, `ROOT_CONTEXT` for a background job, another request's context bound to
 * a listener). Code of that run sees it as it is: the application chose it.
 */
const CHOSEN_IN = createContextKey("langchain-otel chosen in run");
/** Context key: the model or retriever run whose body this async context runs (a mark). */
const MARKED_RUN = createContextKey("langchain-otel marked run");

// LangChain's global async-local storage of the current runnable config (@langchain/core's
// singletons/async_local_storage: the same keys `initializeGlobalInstance` and `getRunnableConfig` use).
const LANGCHAIN_STORAGE = Symbol.for("ls:tracing_async_local_storage");
const LANGCHAIN_CHILD_CONFIG = Symbol.for("lc:child_config");

/**
 * The bridge's state, one per process: kept on `globalThis` so that the ESM and the CommonJS
 * builds (a `tracing.cjs` that requires the context manager, an ESM app that imports the handler)
 * share it.
 */
interface BridgeState {
  /** Registries with at least one open run: empty means `context.active()` passes straight through. */
  live: Set<OpenRuns>;
  /** Enabled `LangChainContextManager`s; marks are made only while there is one. */
  installed: number;
  /**
   * Where marks go: the wrapped context manager, when it can `attach` a context (the async-hooks
   * manager can): a mark is then a value in the OTel context itself, and costs no storage of its own.
   */
  manager: MarkableManager | undefined;
  /** Else a storage of our own (a wrapped manager without `attach`), where the runtime has one. */
  markers: AsyncLocal<string> | undefined;
  /** Making a mark threw (workerd: no `enterWith`): no more are tried. */
  cannotMark?: boolean;
}

/** A context manager that can make a context active for the rest of the current async context. */
export interface MarkableManager {
  active(): Context;
  attach(context: Context): unknown;
}

const STATE = Symbol.for("langchain-otel.context-bridge");
const globals = globalThis as Record<symbol, BridgeState | undefined>;
globals[STATE] ??= { live: new Set(), installed: 0, manager: undefined, markers: undefined };
const state = globals[STATE];
const live = state.live;
/** A marker that names no run: a model start that cannot tell which sibling executes enters it. */
const UNKNOWN = "";

export const bridgeInstalled = (): boolean => state.installed > 0;

/** Called by `LangChainContextManager.enable()`, with the manager it wraps when that can attach. */
export function installBridge(manager: MarkableManager | undefined): void {
  state.installed++;
  // The manager registered last is the one `context.active()` asks.
  state.manager = manager;
  const AsyncLocalStorage = asyncLocalStorageClass();
  if (AsyncLocalStorage === undefined) return;
  if (manager === undefined) state.markers ??= new AsyncLocalStorage<string>();
  // LangChain keeps the current config in this storage only once someone creates it (`langchain`
  // and LangGraph do on import; `@langchain/core` alone does not). Without it, a lambda's or a
  // tool's body could not be told apart from its caller.
  const global = globalThis as Record<symbol, unknown>;
  global[LANGCHAIN_STORAGE] ??= new AsyncLocalStorage();
}

/** Called by `LangChainContextManager.disable()`. */
export function uninstallBridge(manager: MarkableManager | undefined): void {
  if (state.installed > 0) state.installed--;
  if (manager !== undefined && state.manager === manager) state.manager = undefined;
}

/** A registry opened its first run / closed its last one. */
export function registryOpened(runs: OpenRuns): void {
  live.add(runs);
}
export function registryEmptied(runs: OpenRuns): void {
  live.delete(runs);
}

/**
 * The start hook of a model or retriever run: marks the async context that will run its body.
 * When the context is already marked with an open sibling (one `generate()` call starting several
 * prompts from one context), neither can be told from the other: mark the context as unknown, so
 * their bodies fall back to the parent instead of landing under a sibling.
 */
export function markRunExecution(run: RunState): void {
  if (state.installed === 0 || state.cannotMark) return;
  try {
    const manager = state.manager;
    if (manager !== undefined) {
      const before = manager.active();
      const current = before.getValue(MARKED_RUN) as string | undefined;
      manager.attach(before.setValue(MARKED_RUN, isOpenSibling(current, run) ? UNKNOWN : run.runId));
      return;
    }
    const store = state.markers;
    if (store === undefined) return;
    store.enterWith(isOpenSibling(store.getStore(), run) ? UNKNOWN : run.runId);
  } catch (error) {
    // workerd's AsyncLocalStorage has no enterWith: no mark can be made in this runtime, so stop
    // trying, and say once what the bridge then leaves out.
    state.cannotMark = true;
    diag.warn(
      "langchain-otel: the context bridge cannot mark a model's or retriever's body in this runtime (its AsyncLocalStorage cannot enter a context), so the spans those bodies start (the provider's HTTP call) nest under the run that called the model, not under its span. Spans started in lambdas, tools and graph nodes are not affected.",
      error,
    );
  }
}

/** The context is marked with another open run under the same parent. */
function isOpenSibling(marked: string | undefined, run: RunState): boolean {
  if (marked === undefined || marked === UNKNOWN) return false;
  const other = findRun(marked);
  // The same LangChain run seen by a second handler (one at construction, one at invoke) is no sibling.
  return other !== undefined && other.runId !== run.runId && other.parent === run.parent;
}

function findRun(runId: string): RunState | undefined {
  for (const runs of live) {
    const run = runs.get(runId);
    if (run !== undefined) return run;
  }
  return undefined;
}

/** The run whose code LangChain's own async-local config says is running (a lambda, tool or node). */
function langchainRunId(): string | undefined {
  const storage = (globalThis as Record<symbol, { getStore?: () => unknown } | undefined>)[LANGCHAIN_STORAGE];
  const store = storage?.getStore?.() as { extra?: Record<symbol, unknown> } | undefined;
  const config = store?.extra?.[LANGCHAIN_CHILD_CONFIG] as { callbacks?: unknown } | undefined;
  const callbacks = config?.callbacks as { getParentRunId?: () => string | undefined } | undefined;
  return typeof callbacks?.getParentRunId === "function" ? callbacks.getParentRunId() : undefined;
}

/** A hidden run (LangGraph plumbing) stands for its nearest visible ancestor. */
function visible(run: RunState | undefined): RunState | undefined {
  let found = run;
  while (found?.hidden === true) found = found.parent;
  return found;
}

/** True when `run` lies strictly under `ancestor`. */
function isUnder(run: RunState, ancestor: RunState): boolean {
  for (let parent = run.parent; parent !== undefined; parent = parent.parent) {
    if (parent === ancestor) return true;
  }
  return false;
}

/** The innermost open run whose code is executing here (`base`: the wrapped manager's context), or undefined. */
export function executingRun(base: Context): RunState | undefined {
  const named = visible(findOptional(langchainRunId()));
  const mark = (state.manager !== undefined ? base.getValue(MARKED_RUN) : state.markers?.getStore()) as
    | string
    | undefined;
  const marked = visible(findOptional(mark));
  if (marked === undefined) return named;
  if (named === undefined || marked === named) return marked;
  // Both: the deeper one, when one lies under the other; else the one LangChain scoped itself.
  if (isUnder(marked, named)) return marked;
  return named;
}

function findOptional(runId: string | undefined): RunState | undefined {
  return runId === undefined || runId === UNKNOWN ? undefined : findRun(runId);
}

/**
 * The context `context.active()` should return, given the underlying manager's: the executing
 * run's span context, unless the underlying one was made inside that run (an app span started
 * under the run stays the parent of what starts under it).
 */
export function bridgedContext(base: Context): Context {
  if (live.size === 0) return base;
  const run = executingRun(base);
  if (run === undefined) return base;
  // A context the run's own code entered on purpose is left as it is.
  if (base.getValue(CHOSEN_IN) === run.runId) return base;
  const from = base.getValue(BRIDGED_RUN);
  if (from !== undefined) {
    if (from === run.runId) return base;
    const origin = findRun(from as string);
    // Made from a run that ended, or from this run's own subtree: the application chose it.
    if (origin === undefined || !isUnder(run, origin)) return base;
  }
  return runContext(run);
}

/**
 * The open run whose span `ctx` was made inside (through the bridge, or derived from such a
 * context), or undefined: how an embeddings call finds the request it counts in.
 */
export function bridgedRun(ctx: Context): RunState | undefined {
  if (live.size === 0) return undefined;
  const from = ctx.getValue(BRIDGED_RUN);
  return typeof from === "string" ? findRun(from) : undefined;
}

/**
 * The context `context.with(next, …)` enters, given the one active before (`base`, the wrapped
 * manager's): when a run's code enters a context that was not made from its bridged one, it is
 * marked as chosen in that run, so that `active()` keeps it while that run's code executes.
 */
export function enteredContext(next: Context, base: Context): Context {
  if (live.size === 0 || next.getValue(BRIDGED_RUN) !== undefined) return next;
  const run = executingRun(base);
  if (run === undefined || next.getValue(CHOSEN_IN) === run.runId) return next;
  return next.setValue(CHOSEN_IN, run.runId);
}

/** The context a run's body executes in: its span active, marked as bridged from it. */
export function runContext(run: RunState): Context {
  const shown = visible(run) ?? run;
  shown.bridged ??= trace.setSpan(shown.parentContext, shown.span).setValue(BRIDGED_RUN, shown.runId);
  return shown.bridged;
}

/**
 * Watches contexts the application or another instrumentation makes active: a GenAI inference
 * span started directly under one of our model spans means the provider SDK is instrumented, and
 * our span must not count the same call twice (OpenLLMetry, OpenInference and OTel's own OpenAI
 * instrumentations all run the request inside `context.with(their span)`).
 */
export function noteActivated(next: Context): void {
  if (live.size === 0) return;
  const from = next.getValue(BRIDGED_RUN);
  if (from === undefined) return;
  const run = findRun(from as string);
  if (run === undefined || run.kind !== "model" || run.delegatedTo !== undefined) return;
  const span = trace.getSpan(next);
  if (span === undefined || span === run.span) return;
  const scope = foreignInference(span, run.span);
  if (scope !== undefined) run.delegatedTo = scope;
}

/** The instrumentation scope of `span` when it is a GenAI inference span started directly under `parent`. */
function foreignInference(span: Span, parent: Span): string | undefined {
  // SDK spans are ReadableSpans: their parent, attributes and scope are public fields. Some
  // instrumentations hand out a wrapper around the SDK span (OpenInference's OISpan: `.span`).
  const inner = (span as { span?: unknown }).span;
  const unwrapped =
    (span as { attributes?: unknown }).attributes === undefined && typeof inner === "object" ? inner : span;
  const readable = unwrapped as Partial<{
    parentSpanContext: { spanId?: string };
    parentSpanId: string;
    attributes: Record<string, unknown>;
    instrumentationScope: { name?: string };
    instrumentationLibrary: { name?: string };
  }>;
  const parentId = readable.parentSpanContext?.spanId ?? readable.parentSpanId;
  if (parentId !== parent.spanContext().spanId) return undefined;
  const attributes = readable.attributes;
  if (attributes === undefined || !isInference(attributes)) return undefined;
  return readable.instrumentationScope?.name ?? readable.instrumentationLibrary?.name ?? "unknown";
}

const INFERENCE_OPERATIONS = new Set(["chat", "text_completion", "generate_content", "completion"]);

function isInference(attributes: Record<string, unknown>): boolean {
  const operation = attributes["gen_ai.operation.name"] ?? attributes["llm.request.type"];
  if (typeof operation === "string" && INFERENCE_OPERATIONS.has(operation)) return true;
  return attributes["openinference.span.kind"] === "LLM";
}
