import {
  type Attributes,
  type AttributeValue,
  type Context,
  diag,
  type Link,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { rootParentContext } from "./context/remote-parent.js";
import { CallAccounting } from "./genai/accounting.js";
import { ATTR_GEN_AI_WORKFLOW_NAME, ATTR_LANGCHAIN_RUN_ID, ATTR_ORPHANED } from "./genai/attributes.js";
import { ContentCapture } from "./genai/capture.js";
import { PriceTable } from "./genai/cost.js";
import { InstrumentedModelClasses, settleInference, withoutInference } from "./genai/delegation.js";
import { endErrorType, errorMessage, recordCancellation, recordError } from "./genai/errors.js";
import { identityAttributes } from "./genai/identity.js";
import { GenAIMetrics } from "./genai/metrics.js";
import type { ModelResponse } from "./genai/records.js";
import { RequestTotals } from "./genai/totals.js";
import { readTraceIdentity } from "./langchain/identity.js";
import type { RunMetadata } from "./langchain/metadata.js";
import { ToolCatalog } from "./langchain/tools.js";
import {
  LANGFUSE_OBSERVATION_LEVEL,
  LANGFUSE_OBSERVATION_METADATA_PREFIX,
  LANGFUSE_OBSERVATION_TYPE,
  type ObservationType,
} from "./langfuse/attributes.js";
import { langfuseTraceAttributes, metadataValue, setLevel } from "./langfuse/dialect.js";
import type { ResolvedHandlerOptions } from "./options.js";
import {
  childContextOf,
  newRunState,
  type OrphanReason,
  type RunKind,
  RunRegistry,
  type RunState,
  type TraceScope,
} from "./runs.js";

/**
 * The one start path and the one end path, shared by every kind of run: a run's span starts here
 * from a `SpanStart` its kind built (src/kinds/), and ends here, with what a run's end hands to
 * the accounting (metrics, cost, request totals) and to failure, cancellation and orphan marking.
 */

/** A run's start, once the LangChain arguments are read: what the span is made of. */
export interface SpanStart {
  name: string;
  /** The run's own name (a graph's name, not its `invoke_workflow …` span name). Undefined: `name`. */
  runName: string | undefined;
  kind: SpanKind;
  runKind: RunKind;
  /** Set first, at start (samplers see them): what an attribute-count limit must never drop. */
  attributes: Attributes;
  /** Set after `attributes`; on model spans, after the response and usage. */
  extra: Attributes | undefined;
  metadata: RunMetadata;
  tags: string[] | undefined;
  links: Link[] | undefined;
  /** LangGraph facts about the run, kept on its state. */
  graph: { graphNode: boolean; agentName: string | undefined; threadId: string | undefined } | undefined;
  /** A RunnableSequence (see RunState.passesValues). */
  passesValues: boolean;
  /** The Langfuse observation type, when not the run kind's (a model span started plain). */
  observation: ObservationType | undefined;
}

/**
 * How every run starts, built here with every field in the same order: one object shape for all
 * kinds of run keeps the start path's property reads monomorphic (as `newRunState` does for runs).
 */
export function spanStart(
  name: string,
  kind: SpanKind,
  runKind: RunKind,
  attributes: Attributes,
  extra: Attributes | undefined,
  metadata: RunMetadata,
  tags: string[] | undefined,
): SpanStart {
  return {
    name,
    runName: undefined,
    kind,
    runKind,
    attributes,
    extra,
    metadata,
    tags,
    links: undefined,
    graph: undefined,
    passesValues: false,
    observation: undefined,
  };
}

export const OBSERVATION_TYPES: Record<RunKind, ObservationType> = {
  model: "generation",
  tool: "tool",
  retriever: "retriever",
  chain: "chain",
  agent: "agent",
  workflow: "chain",
};

export const now = (): number => performance.now();

/** The trace scope of runs that are not recording: nothing to stamp. */
const UNRECORDED_SCOPE: TraceScope = Object.freeze({
  identity: undefined,
  attributes: undefined,
  workflowName: undefined,
  totals: undefined,
});

/**
 * Every callback body runs in a try/catch that ends here: a failure is reported to OTel's diag
 * logger, never thrown into LangChain. (Inline rather than a wrapper taking a closure: callbacks
 * are the hot path, and a closure per call is an allocation per call.)
 */
export function reportFailure(callback: string, error: unknown): void {
  diag.warn(`langchain-otel: ${callback} failed; the span may be incomplete`, error);
}

export class RunLifecycle {
  readonly capture: ContentCapture;
  readonly runs: RunRegistry;
  /** Metrics, cost and request totals, fed at each run's end. */
  readonly accounting: CallAccounting;
  /** Tool descriptions from the models they were bound to, for the tool spans. */
  readonly tools = new ToolCatalog();
  /** Errors already recorded with an exception event, so ancestors failing with them don't repeat it. */
  readonly recordedErrors = new WeakSet<object>();
  /** Model classes whose calls a provider instrumentation traces (modelSpans "auto"). */
  readonly instrumentedModels = new InstrumentedModelClasses();

  constructor(readonly config: ResolvedHandlerOptions) {
    this.accounting = new CallAccounting(
      config.metrics ? new GenAIMetrics(config.meterProvider, config.metricsSelection) : undefined,
      new PriceTable({ enabled: config.cost.enabled, prices: config.cost.prices }),
      config.langfuse ? config.cost.langfuse : false,
    );
    this.capture = new ContentCapture(config.captureContent, config.mask, {
      maxChars: config.maxContentLength,
      maxDepth: 20,
      maxItems: 1000,
    });
    this.runs = new RunRegistry(
      config.maxOpenRuns,
      config.orphanTimeoutMs,
      (run, reason) => this.endOrphan(run, reason),
      config.contextBridge,
      config.maxRecentTraces,
    );
  }

  /** The Langfuse key to also write a value under, when the dialect is on. */
  langfuseKey(attribute: string): string | undefined {
    return this.config.langfuse ? attribute : undefined;
  }

  /**
   * The one start path. Attributes go in priority order, so an SDK attribute-count limit drops the
   * least useful: operation, model, provider, tool and run ids, user and session first (at start);
   * then the rest, which on model spans waits until usage and response are set (applyDeferred).
   */
  startRun(runId: string, parentRunId: string | undefined, start: SpanStart): RunState | undefined {
    // A duplicate start keeps the first span: ending it twice or leaking one would both be worse.
    if (typeof runId !== "string" || this.runs.has(runId)) return undefined;
    const parentRun = parentRunId === undefined ? undefined : this.runs.get(parentRunId);
    const parent =
      parentRun !== undefined ? childContextOf(parentRun) : rootParentContext(start.metadata.traceParent);
    // Priority order: the SDK keeps the first attributes set when a count limit is reached. The
    // sampling-relevant ones go to startSpan; the rest are set on the span directly (an attribute
    // passed to startSpan is copied twice more), except a model run's, which wait for its end.
    const span = this.config.tracer.startSpan(
      start.name,
      { kind: start.kind, attributes: start.attributes, links: start.links },
      parent,
    );
    if (!span.isRecording())
      return this.openUnrecorded(runId, span, parentRun, parent, start.runKind, start.runName ?? start.name);
    const scope = parentRun?.trace ?? this.traceScope(start, parent);
    // A model run's other attributes wait for its end; a tool's name and a retriever's data source
    // come right after the sampling-relevant ones.
    const isModel = start.runKind === "model";
    const later: Attributes | undefined = isModel ? (start.extra ?? {}) : undefined;
    if (!isModel && start.extra !== undefined) span.setAttributes(start.extra);
    if (scope.identity !== undefined) span.setAttributes(scope.identity);
    span.setAttribute(ATTR_LANGCHAIN_RUN_ID, runId);
    if (this.config.langfuse)
      span.setAttribute(LANGFUSE_OBSERVATION_TYPE, start.observation ?? OBSERVATION_TYPES[start.runKind]);
    if (start.runKind === "chain")
      setLater(span, later, ATTR_GEN_AI_WORKFLOW_NAME, scope.workflowName ?? start.name);
    if (scope.attributes !== undefined) setAllLater(span, later, scope.attributes);
    if (this.config.langfuse) this.setLangfuseRunAttributes(span, later, start);
    if (this.config.attributes !== undefined) setAllLater(span, later, this.config.attributes);
    const graph = start.graph;
    const run = newRunState({
      runId,
      span,
      trace: scope,
      parent: parentRun,
      parentContext: parent,
      kind: start.runKind,
      name: start.runName ?? start.name,
      graphNode: graph?.graphNode ?? false,
      agentName: graph?.agentName,
      threadId: graph?.threadId,
      passesValues: start.passesValues,
      deferred: later === undefined ? undefined : { attributes: later, capture: undefined },
      hidden: false,
      recording: true,
    });
    // The step after a prompt template is the one its prompt feeds: generations under it are linked.
    const pending = parentRun?.pendingPromptLink;
    if (pending !== undefined && parentRun !== undefined) {
      run.promptLink = pending;
      parentRun.pendingPromptLink = undefined;
    }
    this.runs.open(runId, run);
    return run;
  }

  /**
   * A run under a run that is not recording is not recording either (parent-based sampling
   * keeps traces whole): it is registered with its kind and name, for parent links and metrics,
   * sharing its parent's non-recording span, without reading anything else of it.
   */
  startedUnrecorded(
    runId: string,
    parentRunId: string | undefined,
    kind: RunKind,
    name: string,
  ): RunState | undefined {
    const parent = this.unrecordedParent(parentRunId);
    if (parent === undefined) return undefined;
    if (typeof runId !== "string" || this.runs.has(runId)) return parent;
    return this.openUnrecorded(runId, parent.span, parent, parent.parentContext, kind, name);
  }

  /** The parent run, when it is open and not recording (so neither is its child). */
  unrecordedParent(parentRunId: string | undefined): RunState | undefined {
    if (parentRunId === undefined) return undefined;
    const parent = this.runs.get(parentRunId);
    return parent === undefined || parent.recording ? undefined : parent;
  }

  /** A run whose span the sampler dropped: kept for parent links only, nothing read or written. */
  private openUnrecorded(
    runId: string,
    span: Span,
    parent: RunState | undefined,
    parentContext: Context,
    kind: RunKind,
    name: string,
  ): RunState {
    const run = newRunState({
      runId,
      span,
      trace: UNRECORDED_SCOPE,
      parent,
      parentContext,
      kind,
      name,
      hidden: false,
      recording: false,
      graphNode: false,
      agentName: undefined,
      threadId: undefined,
      passesValues: false,
      deferred: undefined,
    });
    this.runs.open(runId, run);
    return run;
  }

  /** The trace-wide attributes, read from the outermost run this handler sees. */
  private traceScope(start: SpanStart, parent: Context): TraceScope {
    const identity = readTraceIdentity(this.config.identity, start.metadata, start.tags);
    const attributes: Attributes = {};
    if (this.config.langfuse) {
      // Name the trace after this run only when it is the trace's root; under a request span the
      // trace keeps the request's name unless the user names it.
      const isTraceRoot = trace.getSpanContext(parent) === undefined;
      const traceName = identity.traceName ?? (isTraceRoot ? start.name : undefined);
      Object.assign(attributes, langfuseTraceAttributes(traceName, identity.tags, this.config.traceMetadata));
    }
    const isWorkflow = start.runKind === "chain" || start.runKind === "workflow" || start.runKind === "agent";
    return {
      identity: nonEmpty(identityAttributes(identity.userId, identity.sessionId)),
      attributes: nonEmpty(attributes),
      workflowName: isWorkflow ? (start.runName ?? start.name) : undefined,
      totals: new RequestTotals(),
    };
  }

  /** A run's own Langfuse attributes: the level of hidden runs, and its metadata. */
  private setLangfuseRunAttributes(span: Span, later: Attributes | undefined, start: SpanStart): void {
    if (Array.isArray(start.tags) && start.tags.includes("langsmith:hidden"))
      setLater(span, later, LANGFUSE_OBSERVATION_LEVEL, "DEBUG");
    const shown = start.metadata.shown;
    if (shown === undefined) return;
    for (let i = 0; i < shown.length; i += 2) {
      const key = shown[i] as string;
      const value = metadataValue(key, shown[i + 1]);
      if (value !== undefined) setLater(span, later, LANGFUSE_OBSERVATION_METADATA_PREFIX + key, value);
    }
  }

  /** A model run's deferred attributes and input capture, once its response is set. */
  applyDeferred(run: RunState): void {
    const inference = run.inference;
    if (inference !== undefined) {
      run.inference = undefined;
      settleInference(run.span, inference, run.delegatedTo, this.instrumentedModels, this.config.langfuse);
    }
    const deferred = run.deferred;
    if (deferred === undefined) return;
    run.deferred = undefined;
    if (run.delegatedTo !== undefined) {
      run.span.setAttributes(withoutInference(deferred.attributes));
      return;
    }
    run.span.setAttributes(deferred.attributes);
    try {
      deferred.capture?.();
    } catch (error) {
      // Content is the one part read from the caller's values this late: losing it must not lose
      // the span, which every end path closes right after this.
      diag.warn("langchain-otel: capturing a model call's input failed; its span has no input", error);
    }
  }

  /**
   * Removes a run; returns it only when it has a span of its own to write and end (not hidden
   * plumbing; an unrecorded span is ended here, with nothing to write).
   */
  closeVisible(runId: string): RunState | undefined {
    const run = this.runs.close(runId);
    if (run === undefined || run.hidden) return undefined;
    if (run.recording) return run;
    // Metrics do not depend on sampling: an unrecorded agent's duration is still recorded.
    this.accountRun(run, undefined);
    run.span.end();
    return undefined;
  }

  /** Ends a recorded run's span; the outermost run of a trace first gets the request's totals. */
  endSpan(run: RunState): void {
    const totals = run.trace.totals;
    if (totals !== undefined && run.parent === undefined && !totals.empty)
      run.span.setAttributes(totals.attributes());
    run.span.end();
  }

  /** A model call's end, handed to the accounting: metrics, its cost, the request totals. */
  accountModelCall(run: RunState, response: ModelResponse | undefined, error: unknown): void {
    const call = run.call;
    if (call === undefined) return;
    run.call = undefined;
    this.accounting.inferenceEnded(call, {
      startedAt: run.startedAt,
      endedAt: now(),
      firstChunkAt: run.firstChunkAt,
      response,
      errorType: error === undefined ? undefined : endErrorType(error),
      span: run.recording && run.delegatedTo === undefined ? run.span : undefined,
      totals: run.trace.totals,
      metrics: run.delegatedTo === undefined,
    });
  }

  /** A tool's or an agent's end, handed to the accounting (model calls: accountModelCall). */
  accountRun(run: RunState, failure: unknown): void {
    if (run.kind === "tool") {
      this.accounting.toolEnded(
        run.name,
        (now() - run.startedAt) / 1000,
        failure === undefined ? undefined : endErrorType(failure),
        run.trace.totals,
      );
    } else if (run.kind === "agent") {
      this.accounting.agentEnded(
        run.name,
        (now() - run.startedAt) / 1000,
        failure === undefined ? undefined : endErrorType(failure),
      );
    }
  }

  /** A run that ended without its output (failed, cancelled, interrupted), for the accounting. */
  accountEnd(run: RunState, failure: unknown): void {
    if (run.call !== undefined) this.accountModelCall(run, undefined, failure);
    else this.accountRun(run, failure);
  }

  markFailed(run: RunState, error: unknown, origin: boolean): void {
    recordError(run.span, error, origin);
    // After the deferred attributes: a hidden generation's DEBUG level waits there, and must not
    // overwrite the failure's.
    this.applyDeferred(run);
    if (this.config.langfuse) setLevel(run.span, "ERROR", errorMessage(error));
  }

  markCancelled(run: RunState, error: unknown): void {
    const message = recordCancellation(run.span, error);
    this.applyDeferred(run);
    if (this.config.langfuse) setLevel(run.span, "WARNING", message);
    // A cancelled run's children are cancelled too, but LangChain does not always say so: a stream
    // abandoned mid-iteration never reports its end. End them now rather than at the orphan sweep.
    for (const [childId, child] of this.runs.descendantsOf(run)) {
      this.runs.close(childId);
      if (child.hidden) continue;
      this.accountEnd(child, error);
      if (child.recording) this.markCancelled(child, error);
      child.span.end();
    }
  }

  /** True the first time an error object is seen: that run is where it happened. */
  firstSighting(error: unknown): boolean {
    if (typeof error !== "object" || error === null) return true;
    if (this.recordedErrors.has(error)) return false;
    this.recordedErrors.add(error);
    return true;
  }

  private endOrphan(run: RunState, reason: OrphanReason): void {
    if (run.hidden) return;
    try {
      this.applyDeferred(run);
      run.span.setAttribute(ATTR_ORPHANED, reason);
      const message = `langchain-otel: the run never reported its end (${reason}); span ended by the handler`;
      run.span.setStatus({ code: SpanStatusCode.ERROR, message });
      if (this.config.langfuse) setLevel(run.span, "WARNING", message);
      // An outermost run still carries what its request did before it was abandoned.
      this.endSpan(run);
    } catch (error) {
      diag.debug("langchain-otel: ending an orphaned run failed", error);
    }
  }
}

/** Sets an attribute on the span now, or keeps it in `later` (a model run's, set after its response). */
function setLater(span: Span, later: Attributes | undefined, key: string, value: AttributeValue): void {
  if (later === undefined) span.setAttribute(key, value);
  else later[key] = value;
}

function setAllLater(span: Span, later: Attributes | undefined, attributes: Attributes): void {
  if (later === undefined) span.setAttributes(attributes);
  else Object.assign(later, attributes);
}

/** Attributes, or undefined when there are none (so the hot path skips them without a look). */
function nonEmpty(attributes: Attributes): Attributes | undefined {
  for (const _ in attributes) return attributes;
  return undefined;
}
