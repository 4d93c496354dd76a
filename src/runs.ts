import { type Attributes, type Context, type Span, type SpanContext, trace } from "@opentelemetry/api";
import { registryEmptied, registryOpened } from "./context/bridge.js";
import type { CapturedValue } from "./genai/capture.js";
import type { InferenceStart } from "./genai/delegation.js";
import type { InferenceCall } from "./genai/records.js";
import type { RequestTotals } from "./genai/totals.js";
import { RecentRuns } from "./trace-ids.js";

/** The span kinds of LangChain runs this registry tracks. */
export type RunKind = "model" | "tool" | "retriever" | "chain" | "agent" | "workflow";

/** What all runs of one trace share: computed once, at the outermost run. */
export interface TraceScope {
  /** Stamped first on every span of the trace: user and session (undefined: none). */
  readonly identity: Attributes | undefined;
  /** Stamped on every span of the trace after the span's own: the Langfuse trace fields (undefined: none). */
  readonly attributes: Attributes | undefined;
  /** The outermost chain's name: `gen_ai.workflow.name` of the chain spans under it. */
  readonly workflowName: string | undefined;
  /** The request's sums over its model and tool calls, written on the outermost span (recorded traces). */
  readonly totals: RequestTotals | undefined;
}

/** What the handler keeps for an open run: created at start, deleted at end. */
export interface RunState {
  readonly runId: string;
  readonly span: Span;
  readonly trace: TraceScope;
  /** The parent run, when this handler traces it (kept only while this run is open). */
  readonly parent: RunState | undefined;
  /** The context this run's span started in (the parent's). */
  readonly parentContext: Context;
  /** The context its children start in; made on first use, as most runs have no children. */
  childContext?: Context;
  /** Mutable: a LangGraph workflow becomes an agent when its first node turns out to be one. */
  kind: RunKind;
  /** The span's name, for renaming a workflow that turns out to be an agent. */
  readonly name: string;
  /** Plumbing the handler does not show: `span` and `context` are the nearest visible ancestor's. */
  readonly hidden: boolean;
  /**
   * False when the span is not recording (the sampler dropped it): the run is kept for parent
   * links only, with no attributes read or written. Runs under it are not recording either.
   */
  readonly recording: boolean;
  /** This run is a LangGraph node. */
  readonly graphNode: boolean;
  /** The `createAgent` agent this run belongs to. */
  readonly agentName: string | undefined;
  /** LangGraph's thread id, on graph runs of checkpointed graphs. */
  readonly threadId: string | undefined;
  /**
   * A RunnableSequence: each step receives the previous step's output by reference, with only
   * LangChain's code in between, so a value captured at one step is the value the next receives.
   */
  readonly passesValues: boolean;
  /** The value last handed along this sequence, as captured: reused when the next step receives it. */
  handoff: CapturedValue | undefined;
  /** A streamed chain: its input is known only at its end (LangChain's `lc_defers_inputs`). */
  inputDeferred: boolean;
  /** `performance.now()` at start: the orphan sweep's clock and the time to first chunk's origin. */
  readonly startedAt: number;
  /** `performance.now()` when a model run's first streamed chunk arrived. */
  firstChunkAt?: number;
  /** A Langfuse prompt that the generations run under this run were made from. */
  promptLink?: { name: string; version: number };
  /**
   * A prompt a child (the prompt template) linked: the next child to start takes it as its own
   * `promptLink`, so the step the prompt feeds is linked and the steps after it are not.
   */
  pendingPromptLink?: { name: string; version: number };
  /**
   * A model run's attributes that can wait for its end: set after the response and usage, so an
   * SDK attribute-count limit drops these rather than the usage.
   */
  deferred?: { attributes: Attributes; capture?: () => void };
  /** The context the bridge hands out while this run's code executes; made on first use. */
  bridged?: Context;
  /** A model run whose call another instrumentation traces as an inference span: its scope name. */
  delegatedTo?: string;
  /** A model run's span start, until its end settles whether it stays an inference span. */
  inference?: InferenceStart;
  /** A model call in flight: what its metrics, cost and the request totals need at its end. */
  call?: InferenceCall;
  /** Undoes what watches the run (an abort listener on its signal); called when it leaves the registry. */
  release?: () => void;
}

/** What a run is opened with; the rest of its state starts empty. */
export interface RunStart {
  runId: string;
  span: Span;
  trace: TraceScope;
  parent: RunState | undefined;
  parentContext: Context;
  kind: RunKind;
  name: string;
  hidden: boolean;
  recording: boolean;
  graphNode: boolean;
  agentName: string | undefined;
  threadId: string | undefined;
  passesValues: boolean;
  deferred: RunState["deferred"];
}

/**
 * A run's state, always built here with every field in the same order: one object shape for all
 * runs keeps the handler's property reads monomorphic (a spread or optional fields would not).
 */
export function newRunState(start: RunStart): RunState {
  return {
    runId: start.runId,
    span: start.span,
    trace: start.trace,
    parent: start.parent,
    parentContext: start.parentContext,
    childContext: undefined,
    kind: start.kind,
    name: start.name,
    hidden: start.hidden,
    recording: start.recording,
    graphNode: start.graphNode,
    agentName: start.agentName,
    threadId: start.threadId,
    passesValues: start.passesValues,
    handoff: undefined,
    inputDeferred: false,
    startedAt: performance.now(),
    firstChunkAt: undefined,
    promptLink: undefined,
    deferred: start.deferred,
    bridged: undefined,
    delegatedTo: undefined,
    inference: undefined,
    call: undefined,
  };
}

/** The context a run's children start in: its parent's context with its span active. */
export function childContextOf(run: RunState): Context {
  run.childContext ??= trace.setSpan(run.parentContext, run.span);
  return run.childContext;
}

export type OrphanReason = "timeout" | "capacity" | "shutdown";

/**
 * Run registry: runId → open run. Bounded: past `maxOpenRuns` the oldest run is ended as an
 * orphan, and runs open longer than `orphanTimeoutMs` are ended by a sweep (runs that never end:
 * an abandoned stream, a crashed worker). Map order is insertion order, so the oldest run is first.
 */
export class RunRegistry {
  private readonly runs = new Map<string, RunState>();
  /** Span contexts of finished outermost runs, for `spanContextOf` after the run has ended. */
  private readonly finished: RecentRuns;
  /** The trace id of the outermost run started last. */
  lastTraceId: string | undefined;
  private sweepTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param bridged Tell the context bridge while runs are open, so that `context.active()` can
   *   find the run whose code executes.
   */
  constructor(
    private readonly maxOpenRuns: number,
    private readonly orphanTimeoutMs: number,
    private readonly endOrphan: (run: RunState, reason: OrphanReason) => void,
    private readonly bridged = false,
    maxRecentTraces = 10_000,
  ) {
    this.finished = new RecentRuns(maxRecentTraces);
  }

  /** The span context of a run that is open or is one of the recently finished outermost runs. */
  spanContextOf(runId: string): SpanContext | undefined {
    return this.runs.get(runId)?.span.spanContext() ?? this.finished.get(runId);
  }

  get size(): number {
    return this.runs.size;
  }

  get(runId: string): RunState | undefined {
    return this.runs.get(runId);
  }

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /**
   * Registers a hidden run: its children attach to `visible`, the nearest visible ancestor (the
   * copy shares `visible`'s span and parent context, so childContextOf gives the same context).
   */
  openHidden(runId: string, visible: RunState): void {
    this.open(
      runId,
      newRunState({
        runId,
        span: visible.span,
        trace: visible.trace,
        parent: visible,
        parentContext: visible.parentContext,
        kind: visible.kind,
        name: visible.name,
        hidden: true,
        recording: visible.recording,
        graphNode: false,
        agentName: visible.agentName,
        threadId: visible.threadId,
        passesValues: false,
        deferred: undefined,
      }),
    );
  }

  open(runId: string, run: RunState): void {
    this.runs.set(runId, run);
    if (run.parent === undefined) this.lastTraceId = run.span.spanContext().traceId;
    if (this.bridged && this.runs.size === 1) registryOpened(this);
    if (this.runs.size > this.maxOpenRuns) this.evictOldest();
    if (this.sweepTimer === undefined) this.scheduleSweep();
  }

  /** Removes and returns the run; undefined for an unknown or already ended run. */
  close(runId: string): RunState | undefined {
    const run = this.runs.get(runId);
    if (run !== undefined) this.delete(runId, run);
    return run;
  }

  private delete(runId: string, run: RunState): void {
    if (run.parent === undefined) this.finished.remember(runId, run.span.spanContext());
    this.runs.delete(runId);
    const release = run.release;
    if (release !== undefined) {
      run.release = undefined;
      try {
        release();
      } catch {
        // Whatever undoing a watch throws, the run is closed.
      }
    }
    if (this.bridged && this.runs.size === 0) registryEmptied(this);
  }

  /** The open runs under `ancestor` (a scan: only for rare paths such as cancellation). */
  descendantsOf(ancestor: RunState): [string, RunState][] {
    const found: [string, RunState][] = [];
    for (const [runId, run] of this.runs) {
      for (let parent = run.parent; parent !== undefined; parent = parent.parent) {
        if (parent === ancestor || (parent.hidden === true && parent.parent === ancestor)) {
          found.push([runId, run]);
          break;
        }
      }
    }
    return found;
  }

  /** Ends every run open longer than the orphan timeout. */
  sweep(now = performance.now()): void {
    const deadline = now - this.orphanTimeoutMs;
    for (const [runId, run] of this.runs) {
      if (run.startedAt > deadline) break;
      this.delete(runId, run);
      this.endOrphan(run, "timeout");
    }
  }

  /** Ends every open run (at shutdown: their spans would otherwise never be exported). */
  endAll(): void {
    for (const [runId, run] of this.runs) {
      this.delete(runId, run);
      this.endOrphan(run, "shutdown");
    }
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private evictOldest(): void {
    const oldest = this.runs.entries().next().value;
    if (oldest === undefined) return;
    this.delete(oldest[0], oldest[1]);
    this.endOrphan(oldest[1], "capacity");
  }

  // One unref'd timer per handler, armed while runs are open and for one interval after the last
  // ends: it never keeps a Node process up. (Where timers cannot be unref'd, an edge runtime or a
  // browser, a pending timer holds nothing either.)
  private scheduleSweep(): void {
    const interval = Math.max(1_000, Math.min(this.orphanTimeoutMs, 60_000));
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      try {
        this.sweep();
      } finally {
        if (this.runs.size > 0) this.scheduleSweep();
      }
    }, interval);
    this.sweepTimer.unref?.();
  }
}
