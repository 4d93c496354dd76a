import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import {
  type Attributes,
  type AttributeValue,
  type Context,
  context,
  diag,
  type Link,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { bridgeInstalled, markRunExecution, runContext } from "./context/bridge.js";
import { CallAccounting, MAX_CHUNK_TIMES } from "./genai/accounting.js";
import { agentAttributes, agentSpanName, workflowAttributes, workflowSpanName } from "./genai/agent.js";
import {
  ATTR_AGENT_LOG,
  ATTR_AGENT_OUTPUT,
  ATTR_EVENT_DATA,
  ATTR_EVENT_NAME,
  ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
  ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_USAGE_COST,
  ATTR_GEN_AI_WORKFLOW_NAME,
  ATTR_LANGCHAIN_RUN_ID,
  ATTR_LANGCHAIN_RUN_TYPE,
  ATTR_LANGGRAPH_INTERRUPT_REASON,
  ATTR_LANGGRAPH_INTERRUPT_VALUE,
  ATTR_LANGGRAPH_NODE,
  ATTR_LANGGRAPH_RESUMED,
  ATTR_LANGGRAPH_STEP,
  ATTR_LANGGRAPH_THREAD_ID,
  ATTR_ORPHANED,
  EVENT_AGENT_ACTION,
  EVENT_AGENT_FINISH,
  EVENT_CUSTOM,
  EVENT_LANGGRAPH_INTERRUPT,
} from "./genai/attributes.js";
import { ContentCapture } from "./genai/capture.js";
import { PriceTable } from "./genai/cost.js";
import {
  becomePlain,
  type InferenceStart,
  InstrumentedModelClasses,
  restoreInference,
  withoutInference,
} from "./genai/delegation.js";
import { errorMessage, errorType, isCancellation, recordCancellation, recordError } from "./genai/errors.js";
import { identityAttributes } from "./genai/identity.js";
import {
  captureInferenceInput,
  captureInferenceOutput,
  inferenceRequestAttributes,
  inferenceSpanName,
  inferenceStartAttributes,
  serverAttributes,
  setInferenceResponse,
  setTimeToFirstChunk,
} from "./genai/inference.js";
import { quote } from "./genai/json.js";
import { GenAIMetrics } from "./genai/metrics.js";
import type { InferenceOperation, ModelResponse, ToolDefinition } from "./genai/records.js";
import { RETRIEVAL_START_ATTRIBUTES, retrievalAttributes, retrievalSpanName } from "./genai/retrieval.js";
import { TOOL_START_ATTRIBUTES, toolAttributes, toolSpanName } from "./genai/tool.js";
import { RequestTotals } from "./genai/totals.js";
import { readDocuments } from "./langchain/documents.js";
import {
  interruptValues,
  isGraphBubbleUp,
  isGraphClass,
  isGraphPlumbing,
  isResumeCommand,
  readGraphNode,
} from "./langchain/graph.js";
import { readPromptLink, readTraceIdentity } from "./langchain/identity.js";
import { renderLangChainValue } from "./langchain/io.js";
import { promptMessage, splitChatInput } from "./langchain/messages.js";
import { type RunMetadata, readRunMetadata } from "./langchain/metadata.js";
import { invocationParams, readRequestModel, readRequestParams } from "./langchain/params.js";
import { readProvider } from "./langchain/provider.js";
import { readModelResponse, readOutputMessages } from "./langchain/result.js";
import { isSequenceClass, runDisplayName, serializedClassName } from "./langchain/serialized.js";
import { readServerAddress } from "./langchain/server.js";
import { readToolDefinitions, readToolResult, ToolCatalog } from "./langchain/tools.js";
import { field, nonEmptyString } from "./langchain/values.js";
import {
  LANGFUSE_OBSERVATION_INPUT,
  LANGFUSE_OBSERVATION_LEVEL,
  LANGFUSE_OBSERVATION_METADATA_PREFIX,
  LANGFUSE_OBSERVATION_OUTPUT,
  LANGFUSE_OBSERVATION_TYPE,
  type ObservationType,
} from "./langfuse/attributes.js";
import {
  finishWarning,
  langfuseTraceAttributes,
  metadataValue,
  promptAttributes,
  setCompletionStartTime,
  setLevel,
  setUsageDetails,
} from "./langfuse/dialect.js";
import {
  type OpenTelemetryCallbackHandlerOptions,
  type ResolvedHandlerOptions,
  resolveHandlerOptions,
} from "./options.js";
import {
  childContextOf,
  newRunState,
  type OrphanReason,
  type RunKind,
  RunRegistry,
  type RunState,
  type TraceScope,
} from "./runs.js";

/** A run's start, once the LangChain arguments are read: what the span is made of. */
interface SpanStart {
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
function spanStart(
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

const OBSERVATION_TYPES: Record<RunKind, ObservationType> = {
  model: "generation",
  tool: "tool",
  retriever: "retriever",
  chain: "chain",
  agent: "agent",
  workflow: "chain",
};

/** The model node of createAgent ("model_request") and of the prebuilt ReAct agent ("agent"). */
const AGENT_NODES = new Set(["model_request", "agent"]);

/** Most paused LangGraph threads remembered, to link their resumption to the paused trace. */
const MAX_PAUSED_THREADS = 1000;

const now = (): number => performance.now();

/** The trace scope of runs that are not recording: nothing to stamp. */
const UNRECORDED_SCOPE: TraceScope = Object.freeze({
  identity: undefined,
  attributes: undefined,
  workflowName: undefined,
  totals: undefined,
});

/**
 * Turns every LangChain run into an OpenTelemetry span with GenAI semantic-convention attributes
 * (and, by default, the Langfuse dialect beside them).
 *
 * Pass it as `callbacks: [handler]` to any runnable, or attach it once to a model or chain; one
 * instance serves any number of concurrent runs. Each callback only translates: LangChain values
 * are read by `langchain/`, spans are written by `genai/` and `langfuse/`, runs are tracked by the
 * registry. No callback ever throws into LangChain.
 */
export class OpenTelemetryCallbackHandler extends BaseCallbackHandler {
  name = "OpenTelemetryCallbackHandler";

  private readonly config: ResolvedHandlerOptions;
  private readonly capture: ContentCapture;
  private readonly runs: RunRegistry;
  private readonly tools = new ToolCatalog();
  /** Errors already recorded with an exception event, so ancestors failing with them don't repeat it. */
  private readonly recordedErrors = new WeakSet<object>();
  /** LangGraph threads paused by an interrupt → the paused graph's span, for the resumption's link. */
  private readonly pausedThreads = new Map<string, SpanContext>();
  /** Model classes whose calls a provider instrumentation traces (modelSpans "auto"). */
  private readonly instrumentedModels = new InstrumentedModelClasses();
  /** Metrics, cost and request totals, fed at each run's end. */
  private readonly accounting: CallAccounting;

  constructor(options: OpenTelemetryCallbackHandlerOptions = {}) {
    const config = resolveHandlerOptions(options);
    super({ _awaitHandler: config.awaitHandlers });
    this.config = config;
    this.accounting = new CallAccounting(
      config.metrics ? new GenAIMetrics(config.meterProvider) : undefined,
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

  /** Copies share this instance: its registry is what links children to parents. */
  override copy(): this {
    return this;
  }

  /** Number of runs started and not yet ended (for tests and health checks). */
  get openRuns(): number {
    return this.runs.size;
  }

  /**
   * The W3C trace id (32 hex digits) of the trace a run belongs to: for a run that is still open,
   * and for the `maxRecentTraces` most recently finished outermost runs; undefined for a run this
   * handler never saw or has forgotten. Pick the run id up front to look it up afterwards:
   * `chain.invoke(input, { runId, callbacks: [handler] })`.
   */
  traceIdOf(runId: string): string | undefined {
    try {
      return typeof runId === "string" ? this.runs.traceIdOf(runId) : undefined;
    } catch (error) {
      this.reportFailure("traceIdOf", error);
      return undefined;
    }
  }

  /**
   * The trace id of the outermost run this handler started last. For scripts: with concurrent
   * requests it may belong to another request's run; use `traceIdOf(runId)` there.
   */
  get lastTraceId(): string | undefined {
    return this.runs.lastTraceId;
  }

  /**
   * Ends every open run's span, marked as orphaned. Call before shutting the tracer provider down
   * if runs may still be in flight; `setupTracing().shutdown()` does it for you.
   */
  endOpenRuns(): void {
    try {
      this.runs.endAll();
    } catch (error) {
      this.reportFailure("endOpenRuns", error);
    }
  }

  // ── Chat models and LLMs ───────────────────────────────────────────────────────────────────

  override handleChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    // Normally started already, by the synchronous hook below.
    if (!this.runs.has(runId))
      this.startChatModel(llm, messages, runId, parentRunId, extraParams, tags, metadata, runName);
  }

  private startChatModel(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): RunState | undefined {
    try {
      if (this.config.modelSpans === "never") return undefined;
      const unrecorded = this.startedUnrecorded(runId, parentRunId, "model", "");
      if (unrecorded !== undefined)
        return this.unrecordedCall(unrecorded, "chat", llm, extraParams, metadata);
      const sent = invocationParams(extraParams);
      const tools = readToolDefinitions(sent);
      const run = this.startModel("chat", llm, runId, parentRunId, sent, tools, tags, metadata, runName);
      if (run?.deferred === undefined || !this.capture.enabled) return run;
      run.deferred.capture = () =>
        captureInferenceInput(run.span, this.capture, () => {
          const { system, input } = splitChatInput(messages?.[0] ?? []);
          return { systemInstructions: system, messages: input, tools };
        });
      return run;
    } catch (error) {
      this.reportFailure("handleChatModelStart", error);
      return undefined;
    }
  }

  override handleLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    if (!this.runs.has(runId))
      this.startLLM(llm, prompts, runId, parentRunId, extraParams, tags, metadata, runName);
  }

  private startLLM(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): RunState | undefined {
    try {
      if (this.config.modelSpans === "never") return undefined;
      const unrecorded = this.startedUnrecorded(runId, parentRunId, "model", "");
      if (unrecorded !== undefined)
        return this.unrecordedCall(unrecorded, "text_completion", llm, extraParams, metadata);
      const sent = invocationParams(extraParams);
      const run = this.startModel(
        "text_completion",
        llm,
        runId,
        parentRunId,
        sent,
        readToolDefinitions(sent),
        tags,
        metadata,
        runName,
      );
      if (run?.deferred === undefined || !this.capture.enabled) return run;
      run.deferred.capture = () =>
        captureInferenceInput(run.span, this.capture, () => ({
          systemInstructions: [],
          messages: (prompts ?? []).map(promptMessage),
        }));
      return run;
    } catch (error) {
      this.reportFailure("handleLLMStart", error);
      return undefined;
    }
  }

  // Called for every streamed chunk: only the first one does any work.
  override handleLLMNewToken(_token: string, _idx: unknown, runId: string): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    if (run.firstChunkAt === undefined) run.firstChunkAt = now();
    // Each chunk's time only for the time-per-output-chunk metric (metrics on).
    const call = run.call;
    if (call !== undefined && this.accounting.keepsChunkTimes) {
      if (call.chunkTimes === undefined) call.chunkTimes = [run.firstChunkAt];
      else if (call.chunkTimes.length < MAX_CHUNK_TIMES) call.chunkTimes.push(now());
    }
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    try {
      const run = this.runs.close(runId);
      if (run === undefined || run.hidden) return;
      if (!run.recording) {
        // Unsampled: only the metrics read the response.
        if (run.call !== undefined) this.accountModelCall(run, readModelResponse(output), undefined);
        run.span.end();
        return;
      }
      this.accountModelCall(run, this.finishModel(run, output), undefined);
      this.endSpan(run);
    } catch (error) {
      this.reportFailure("handleLLMEnd", error);
    }
  }

  override handleLLMError(error: unknown, runId: string): void {
    this.endWithError("handleLLMError", runId, error);
  }

  // ── Chains and other runnables ─────────────────────────────────────────────────────────────

  // LangChain calls this with (chain, inputs, runId, parentRunId, tags, metadata, runType, runName):
  // the declared signature orders its optional parameters differently from the call.
  override handleChainStart(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runType?: string,
    runName?: string,
    extra?: Record<string, unknown>,
  ): void {
    if (!this.runs.has(runId))
      this.startChain(chain, inputs, runId, parentRunId, tags, metadata, runType, runName, extra);
  }

  private startChain(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runType: string | undefined,
    runName: string | undefined,
    extra: Record<string, unknown> | undefined,
  ): void {
    try {
      if (this.startedUnrecorded(runId, parentRunId, "chain", "") !== undefined) return;
      const parentRun = parentRunId === undefined ? undefined : this.runs.get(parentRunId);
      const name = runDisplayName(chain, nonEmptyString(runName), "chain");
      const className = serializedClassName(chain);
      const meta = readRunMetadata(metadata);
      if (
        parentRun !== undefined &&
        !this.config.showInternalRuns &&
        isGraphPlumbing(className, name, meta, tags, parentRun.graphNode === true)
      ) {
        this.runs.openHidden(runId, parentRun);
        return;
      }
      const start = this.chainStart(className, inputs, name, tags, meta);
      if (typeof runType === "string" && runType.length > 0)
        start.extra = { [ATTR_LANGCHAIN_RUN_TYPE]: runType };
      const run = this.startRun(runId, nonEmptyString(parentRunId), start);
      if (run === undefined || !run.recording) return;
      if (run.graphNode && AGENT_NODES.has(run.name) && parentRun?.kind === "workflow")
        this.promoteToAgent(parentRun);
      // A streamed run starts with a placeholder input; LangChain reports the real one at its end.
      if (extra?.lc_defers_inputs === true) run.inputDeferred = true;
      else if (this.config.langfuse && this.capture.enabled) {
        // A sequence hands its input to its first step, and each step's output to the next.
        const captured = this.capture.setReusableJson(
          run.span,
          LANGFUSE_OBSERVATION_INPUT,
          unwrapChainValues(inputs, "input"),
          renderLangChainValue,
          parentRun?.passesValues === true ? parentRun.handoff : undefined,
        );
        if (run.passesValues) run.handoff = captured;
      }
      this.linkPrompt(run, meta.prompt);
    } catch (error) {
      this.reportFailure("handleChainStart", error);
    }
  }

  override handleChainEnd(
    outputs: ChainValues,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    try {
      const run = this.closeVisible(runId);
      if (run === undefined) return;
      this.captureDeferredInput(run, kwargs);
      if (this.config.langfuse && this.capture.enabled) {
        // A sequence's output is its last step's.
        const captured = this.capture.setReusableJson(
          run.span,
          LANGFUSE_OBSERVATION_OUTPUT,
          unwrapChainValues(outputs, "output"),
          renderLangChainValue,
          run.passesValues ? run.handoff : undefined,
        );
        const parent = run.parent;
        if (parent?.passesValues === true) parent.handoff = captured;
      }
      this.accountRun(run, undefined);
      this.endSpan(run);
    } catch (error) {
      this.reportFailure("handleChainEnd", error);
    }
  }

  override handleChainError(
    error: unknown,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    this.endWithError("handleChainError", runId, error, kwargs);
  }

  /** A streamed chain's input, which LangChain reports only once the stream has been read. */
  private captureDeferredInput(run: RunState, kwargs: { inputs?: unknown } | undefined): void {
    if (!run.inputDeferred || !this.config.langfuse || !this.capture.enabled) return;
    this.capture.setReusableJson(
      run.span,
      LANGFUSE_OBSERVATION_INPUT,
      unwrapChainValues(field(kwargs, "inputs"), "input"),
      renderLangChainValue,
      undefined,
    );
  }

  // ── Tools ──────────────────────────────────────────────────────────────────────────────────

  override handleToolStart(
    tool: Serialized,
    input: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    if (!this.runs.has(runId))
      this.startTool(tool, input, runId, parentRunId, tags, metadata, runName, toolCallId);
  }

  /** `input`: the tool's arguments, as the object LangChain validated (hook) or as JSON text (callback). */
  private startTool(
    tool: Serialized,
    input: unknown,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
    toolCallId: string | undefined,
  ): void {
    try {
      const name = runDisplayName(tool, runName, "tool");
      if (this.startedUnrecorded(runId, parentRunId, "tool", name) !== undefined) return;
      const extra = toolAttributes({
        name,
        description: this.tools.description(name),
        callId: nonEmptyString(toolCallId),
      });
      const start = spanStart(
        toolSpanName(name),
        SpanKind.INTERNAL,
        "tool",
        TOOL_START_ATTRIBUTES,
        extra,
        readRunMetadata(metadata),
        tags,
      );
      start.runName = name;
      const run = this.startRun(runId, parentRunId, start);
      if (run === undefined || !run.recording) return;
      this.capture.setJson(
        run.span,
        ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
        () => parseJsonText(input),
        undefined,
        this.langfuseKey(LANGFUSE_OBSERVATION_INPUT),
      );
    } catch (error) {
      this.reportFailure("handleToolStart", error);
    }
  }

  override handleToolEnd(output: unknown, runId: string): void {
    try {
      const run = this.runs.close(runId);
      if (run === undefined || run.hidden) return;
      const result = readToolResult(output);
      // A ToolMessage with status "error" is a failure the tool reported instead of throwing.
      const failure = result.failed
        ? { name: "ToolError", message: describeFailure(result.content) }
        : undefined;
      this.accountRun(run, failure);
      if (!run.recording) {
        run.span.end();
        return;
      }
      this.capture.setJson(
        run.span,
        ATTR_GEN_AI_TOOL_CALL_RESULT,
        () => result.content,
        renderLangChainValue,
        this.langfuseKey(LANGFUSE_OBSERVATION_OUTPUT),
      );
      if (failure !== undefined) this.markFailed(run, failure, true);
      this.endSpan(run);
    } catch (error) {
      this.reportFailure("handleToolEnd", error);
    }
  }

  override handleToolError(error: unknown, runId: string): void {
    this.endWithError("handleToolError", runId, error);
  }

  // ── Retrievers ─────────────────────────────────────────────────────────────────────────────

  override handleRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): void {
    if (!this.runs.has(runId))
      this.startRetriever(retriever, query, runId, parentRunId, tags, metadata, name);
  }

  private startRetriever(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    name: string | undefined,
  ): RunState | undefined {
    try {
      const unrecorded = this.startedUnrecorded(runId, parentRunId, "retriever", "");
      if (unrecorded !== undefined) return unrecorded;
      const dataSource = runDisplayName(retriever, name, "retriever");
      const run = this.startRun(
        runId,
        parentRunId,
        spanStart(
          retrievalSpanName(dataSource),
          SpanKind.INTERNAL,
          "retriever",
          RETRIEVAL_START_ATTRIBUTES,
          retrievalAttributes(dataSource),
          readRunMetadata(metadata),
          tags,
        ),
      );
      if (run === undefined || !run.recording || typeof query !== "string") return run;
      const text = this.capture.setText(run.span, ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT, query);
      if (text !== undefined && this.config.langfuse)
        run.span.setAttribute(LANGFUSE_OBSERVATION_INPUT, quote(text));
      return run;
    } catch (error) {
      this.reportFailure("handleRetrieverStart", error);
      return undefined;
    }
  }

  override handleRetrieverEnd(documents: unknown[], runId: string): void {
    try {
      const run = this.closeVisible(runId);
      if (run === undefined) return;
      this.capture.setJson(
        run.span,
        ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
        () => readDocuments(documents),
        undefined,
        this.langfuseKey(LANGFUSE_OBSERVATION_OUTPUT),
      );
      this.endSpan(run);
    } catch (error) {
      this.reportFailure("handleRetrieverEnd", error);
    }
  }

  override handleRetrieverError(error: unknown, runId: string): void {
    this.endWithError("handleRetrieverError", runId, error);
  }

  // ── Events on a run's span ─────────────────────────────────────────────────────────────────

  override handleAgentAction(action: unknown, runId: string): void {
    try {
      const run = this.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const attributes: Attributes = {};
      const tool = field(action, "tool");
      if (typeof tool === "string") attributes[ATTR_GEN_AI_TOOL_NAME] = tool;
      const toolInput = this.capture.json(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, field(action, "toolInput"));
      if (toolInput !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = toolInput;
      const log = this.capture.json(ATTR_AGENT_LOG, field(action, "log"));
      if (log !== undefined) attributes[ATTR_AGENT_LOG] = log;
      run.span.addEvent(EVENT_AGENT_ACTION, attributes);
    } catch (error) {
      this.reportFailure("handleAgentAction", error);
    }
  }

  override handleAgentEnd(finish: unknown, runId: string): void {
    try {
      const run = this.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const attributes: Attributes = {};
      const output = this.capture.json(ATTR_AGENT_OUTPUT, field(finish, "returnValues"));
      if (output !== undefined) attributes[ATTR_AGENT_OUTPUT] = output;
      run.span.addEvent(EVENT_AGENT_FINISH, attributes);
    } catch (error) {
      this.reportFailure("handleAgentEnd", error);
    }
  }

  override handleCustomEvent(eventName: string, data: unknown, runId: string): void {
    try {
      const run = this.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const attributes: Attributes = {
        [ATTR_EVENT_NAME]: typeof eventName === "string" ? eventName : "unnamed",
      };
      const json = this.capture.json(ATTR_EVENT_DATA, data, renderLangChainValue);
      if (json !== undefined) attributes[ATTR_EVENT_DATA] = json;
      run.span.addEvent(EVENT_CUSTOM, attributes);
    } catch (error) {
      this.reportFailure("handleCustomEvent", error);
    }
  }

  // ── LangChain's synchronous start hooks ───────────────────────────────────────────────────
  //
  // LangChain calls these `_createRunFor*` hooks synchronously, in the caller's async context, for
  // handlers that look like its BaseTracer (`_addRunToRunMap`); the `handle*Start` callbacks come
  // after, awaited or queued. Every run starts here: the caller's active span and the true start
  // time are at hand in both `awaitHandlers` modes, and the context that goes on to run a model's
  // or a retriever's body is the one the context bridge marks. The callbacks start a run only if
  // a hook did not (a LangChain version without the hooks).

  /** @internal Marks this handler as tracer-like, so that LangChain calls the hooks below. */
  _addRunToRunMap(): void {}

  /** @internal */
  _createRunForLLMStart(
    llm: Serialized,
    prompts: string[],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    this.markExecution(this.startLLM(llm, prompts, runId, parentRunId, extraParams, tags, metadata, runName));
  }

  /** @internal */
  _createRunForChatModelStart(
    llm: Serialized,
    messages: BaseMessage[][],
    runId: string,
    parentRunId?: string,
    extraParams?: Record<string, unknown>,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    this.markExecution(
      this.startChatModel(llm, messages, runId, parentRunId, extraParams, tags, metadata, runName),
    );
  }

  /** @internal */
  _createRunForChainStart(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runType?: string,
    runName?: string,
    extra?: Record<string, unknown>,
  ): void {
    this.startChain(chain, inputs, runId, parentRunId, tags, metadata, runType, runName, extra);
  }

  /** @internal */
  _createRunForToolStart(
    tool: Serialized,
    input: unknown,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
    toolCallId?: string,
  ): void {
    this.startTool(tool, input, runId, parentRunId, tags, metadata, runName, toolCallId);
  }

  /** @internal */
  _createRunForRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    runName?: string,
  ): void {
    this.markExecution(this.startRetriever(retriever, query, runId, parentRunId, tags, metadata, runName));
  }

  /**
   * The run-execution hook proposed for `@langchain/core` (langchainjs #11211, #11226): a core
   * that calls it runs each run's body (a model's generation and stream, a tool's call) through
   * it, and the body then runs with the run's span active under any context manager. Exact where
   * the context bridge has to rely on marks; used whenever LangChain calls it.
   */
  wrapRunExecution<T>(runId: string, fn: () => T): T {
    let active: Context | undefined;
    try {
      const run = this.config.contextBridge ? this.runs.get(runId) : undefined;
      if (run !== undefined) active = runContext(run);
    } catch (error) {
      diag.debug("langchain-otel: wrapRunExecution failed; running the body as is", error);
    }
    return active === undefined ? fn() : context.with(active, fn);
  }

  /**
   * A model's or retriever's body runs in the async context its start hook ran in, which
   * LangChain's own config does not scope: mark it for the context bridge. (Lambdas, tools and
   * graph nodes need no mark: LangChain scopes their bodies itself.)
   */
  private markExecution(run: RunState | undefined): void {
    if (run === undefined || !this.config.contextBridge) return;
    try {
      markRunExecution(run);
    } catch (error) {
      diag.debug("langchain-otel: marking a run's execution failed", error);
    }
  }

  // ── The one start path and the one end path ────────────────────────────────────────────────

  /** What a chain run becomes: an agent, a workflow (a LangGraph graph), a graph node, or a plain chain. */
  private chainStart(
    className: string | undefined,
    inputs: unknown,
    name: string,
    tags: string[] | undefined,
    metadata: RunMetadata,
  ): SpanStart {
    const start = spanStart(name, SpanKind.INTERNAL, "chain", {}, undefined, metadata, tags);
    start.runName = name;
    start.passesValues = isSequenceClass(className);
    const agentName = metadata.agentName;
    if (isGraphClass(className)) {
      const threadId = metadata.threadId;
      // createAgent names its graph and marks it (and, by inheritance, everything under it) with
      // lc_agent_name. A nested agent inherits its caller's mark, so it is recognized by its model
      // node instead (promoteToAgent).
      const isAgent = agentName !== undefined && agentName === name;
      start.runKind = isAgent ? "agent" : "workflow";
      start.name = isAgent ? agentSpanName(agentName) : workflowSpanName(name);
      start.attributes = isAgent ? agentAttributes(agentName) : workflowAttributes(name);
      start.graph = { graphNode: false, agentName, threadId };
      const paused = threadId === undefined ? undefined : this.pausedThreads.get(threadId);
      if (threadId !== undefined && isResumeCommand(inputs)) {
        start.attributes[ATTR_LANGGRAPH_THREAD_ID] = threadId;
        start.attributes[ATTR_LANGGRAPH_RESUMED] = true;
        if (paused !== undefined) {
          start.links = [{ context: paused, attributes: { [ATTR_LANGGRAPH_RESUMED]: true } }];
          this.pausedThreads.delete(threadId);
        }
      }
      return start;
    }
    const node = readGraphNode(name, metadata, tags);
    if (agentName !== undefined || node !== undefined)
      start.graph = { graphNode: node !== undefined, agentName, threadId: undefined };
    if (node !== undefined) {
      start.attributes[ATTR_LANGGRAPH_NODE] = node.node;
      if (node.step !== undefined) start.attributes[ATTR_LANGGRAPH_STEP] = node.step;
    }
    return start;
  }

  /** A graph running an agent's model node (createAgent's or the prebuilt ReAct agent's) is an agent. */
  private promoteToAgent(run: RunState): void {
    run.kind = "agent";
    run.span.updateName(agentSpanName(run.name));
    run.span.setAttributes(agentAttributes(run.name));
    if (this.config.langfuse) run.span.setAttribute(LANGFUSE_OBSERVATION_TYPE, OBSERVATION_TYPES.agent);
  }

  private startModel(
    operation: InferenceOperation,
    llm: Serialized,
    runId: string,
    parentRunId: string | undefined,
    sentParams: object | undefined,
    tools: ToolDefinition[] | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): RunState | undefined {
    const meta = readRunMetadata(metadata);
    const params = readRequestParams(llm, sentParams, meta);
    this.tools.remember(tools);
    const name = inferenceSpanName(operation, params.model ?? nonEmptyString(runName));
    const provider = readProvider(llm, meta);
    const attributes = inferenceStartAttributes(operation, provider, params);
    // Only the bridge can see another instrumentation's inference span under ours.
    const inference =
      this.config.modelSpans === "auto" && this.config.contextBridge && bridgeInstalled()
        ? this.inferenceStart(llm, runName, name, attributes)
        : undefined;
    const start = inference?.plain
      ? spanStart(inference.plainName, SpanKind.INTERNAL, "model", {}, undefined, meta, tags)
      : spanStart(name, SpanKind.CLIENT, "model", attributes, undefined, meta, tags);
    const server = readServerAddress(llm);
    start.extra = inferenceRequestAttributes(params);
    if (server !== undefined) Object.assign(start.extra, serverAttributes(server));
    if (inference?.plain) start.observation = "span";
    const run = this.startRun(runId, parentRunId, start);
    if (run === undefined) return undefined;
    run.inference = inference;
    run.call = {
      operation,
      provider,
      requestModel: params.model,
      serverAddress: server?.address,
      serverPort: server?.port,
      chunkTimes: undefined,
    };
    this.accounting.inferenceStarted();
    if (run !== undefined && this.config.langfuse) {
      // Prompt links go on generations only: Langfuse ignores them elsewhere.
      const prompt = readPromptLink(meta.prompt) ?? inheritedPromptLink(run);
      if (prompt !== undefined) Object.assign(run.deferred?.attributes ?? {}, promptAttributes(prompt));
    }
    return run;
  }

  /**
   * A model run under an unrecorded one: for its metrics only (metrics on), the few facts the
   * metric attributes need; nothing else is read.
   */
  private unrecordedCall(
    run: RunState,
    operation: InferenceOperation,
    llm: Serialized,
    extraParams: Record<string, unknown> | undefined,
    metadata: Record<string, unknown> | undefined,
  ): RunState {
    if (!this.accounting.keepsChunkTimes || run.kind !== "model" || run.call !== undefined) return run;
    const meta = readRunMetadata(metadata);
    const server = readServerAddress(llm);
    run.call = {
      operation,
      provider: readProvider(llm, meta),
      requestModel: readRequestModel(llm, invocationParams(extraParams), meta),
      serverAddress: server?.address,
      serverPort: server?.port,
      chunkTimes: undefined,
    };
    return run;
  }

  /** How a model span starts when the bridge could see it give way: plain if its class taught us so. */
  private inferenceStart(
    llm: Serialized,
    runName: string | undefined,
    name: string,
    attributes: Attributes,
  ): InferenceStart {
    const modelClass = serializedClassName(llm) ?? "unknown";
    return {
      name,
      attributes,
      plainName: runDisplayName(llm, runName, modelClass),
      modelClass,
      plain: this.instrumentedModels.has(modelClass),
    };
  }

  /** Writes a model run's response; returns it, read once, for its cost, totals and metrics. */
  private finishModel(run: RunState, output: LLMResult): ModelResponse {
    const response = readModelResponse(output);
    // Another instrumentation traced this call: it carries the response, usage and messages.
    if (run.delegatedTo !== undefined) {
      this.applyDeferred(run);
      return response;
    }
    setInferenceResponse(run.span, response);
    if (run.firstChunkAt !== undefined) {
      setTimeToFirstChunk(run.span, (run.firstChunkAt - run.startedAt) / 1000);
      if (this.config.langfuse) setCompletionStartTime(run.span, performance.timeOrigin + run.firstChunkAt);
    }
    this.applyDeferred(run);
    captureInferenceOutput(run.span, this.capture, () =>
      readOutputMessages(output, response.generationReasons),
    );
    if (this.config.langfuse) {
      setUsageDetails(run.span, response.usage);
      if (response.cost !== undefined) run.span.setAttribute(ATTR_GEN_AI_USAGE_COST, response.cost);
      const warning = finishWarning(response.finishReasons);
      if (warning !== undefined) setLevel(run.span, "WARNING", warning);
    }
    return response;
  }

  /** A model call's end, handed to the accounting: metrics, its cost, the request totals. */
  private accountModelCall(run: RunState, response: ModelResponse | undefined, error: unknown): void {
    const call = run.call;
    if (call === undefined) return;
    run.call = undefined;
    this.accounting.inferenceEnded(call, {
      startedAt: run.startedAt,
      endedAt: now(),
      firstChunkAt: run.firstChunkAt,
      response,
      errorType: error === undefined ? undefined : errorType(error),
      span: run.recording && run.delegatedTo === undefined ? run.span : undefined,
      totals: run.trace.totals,
      metrics: run.delegatedTo === undefined,
    });
  }

  /** A tool's or an agent's end, handed to the accounting (model calls: accountModelCall). */
  private accountRun(run: RunState, failure: unknown): void {
    if (run.kind === "tool") {
      this.accounting.toolEnded(
        run.name,
        (now() - run.startedAt) / 1000,
        failure === undefined ? undefined : errorType(failure),
        run.trace.totals,
      );
    } else if (run.kind === "agent") {
      this.accounting.agentEnded(
        run.name,
        (now() - run.startedAt) / 1000,
        failure === undefined ? undefined : errorType(failure),
      );
    }
  }

  /** Ends a recorded run's span; the outermost run of a trace first gets the request's totals. */
  private endSpan(run: RunState): void {
    const totals = run.trace.totals;
    if (totals !== undefined && run.parent === undefined && (totals.modelCalls > 0 || totals.toolCalls > 0))
      run.span.setAttributes(totals.attributes());
    run.span.end();
  }

  /**
   * The one start path. Attributes go in priority order, so an SDK attribute-count limit drops the
   * least useful: operation, model, provider, tool and run ids, user and session first (at start);
   * then the rest, which on model spans waits until usage and response are set (applyDeferred).
   */
  private startRun(runId: string, parentRunId: string | undefined, start: SpanStart): RunState | undefined {
    // A duplicate start keeps the first span: ending it twice or leaking one would both be worse.
    if (typeof runId !== "string" || this.runs.has(runId)) return undefined;
    const parentRun = parentRunId === undefined ? undefined : this.runs.get(parentRunId);
    const parent = parentRun !== undefined ? childContextOf(parentRun) : context.active();
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
    this.runs.open(runId, run);
    return run;
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

  /**
   * A run under a run that is not recording is not recording either (parent-based sampling
   * keeps traces whole): it is registered with its kind and name, for parent links and metrics,
   * sharing its parent's non-recording span, without reading anything else of it.
   */
  private startedUnrecorded(
    runId: string,
    parentRunId: string | undefined,
    kind: RunKind,
    name: string,
  ): RunState | undefined {
    if (parentRunId === undefined) return undefined;
    const parent = this.runs.get(parentRunId);
    if (parent === undefined || parent.recording) return undefined;
    if (typeof runId !== "string" || this.runs.has(runId)) return parent;
    return this.openUnrecorded(runId, parent.span, parent, parent.parentContext, kind, name);
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

  /** A model run's deferred attributes and input capture, once its response is set. */
  private applyDeferred(run: RunState): void {
    if (run.inference !== undefined) this.settleInference(run);
    const deferred = run.deferred;
    if (deferred === undefined) return;
    run.deferred = undefined;
    if (run.delegatedTo !== undefined) {
      run.span.setAttributes(withoutInference(deferred.attributes));
      return;
    }
    run.span.setAttributes(deferred.attributes);
    deferred.capture?.();
  }

  /** A model span, at its end: plain if another instrumentation traced the call, else an inference span. */
  private settleInference(run: RunState): void {
    const inference = run.inference as InferenceStart;
    run.inference = undefined;
    if (run.delegatedTo !== undefined) {
      this.instrumentedModels.learn(inference.modelClass);
      becomePlain(run.span, inference, run.delegatedTo, this.config.langfuse);
    } else if (inference.plain) {
      this.instrumentedModels.forget(inference.modelClass);
      restoreInference(run.span, inference, this.config.langfuse);
    }
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

  /**
   * A prompt passed as `metadata.langfusePrompt` on a chain (typically the prompt template) links
   * the generations that follow it under the same parent, as `@langfuse/langchain` does.
   */
  private linkPrompt(run: RunState, langfusePrompt: unknown): void {
    if (!this.config.langfuse || langfusePrompt === undefined) return;
    const prompt = readPromptLink(langfusePrompt);
    if (prompt === undefined) return;
    run.promptLink = prompt;
    if (run.parent !== undefined) run.parent.promptLink = prompt;
  }

  private langfuseKey(attribute: string): string | undefined {
    return this.config.langfuse ? attribute : undefined;
  }

  private endWithError(
    callback: string,
    runId: string,
    error: unknown,
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    try {
      const run = this.runs.close(runId);
      if (run === undefined || run.hidden) return;
      const interrupted = isGraphBubbleUp(error);
      // A LangGraph interrupt is a pause for input, not a failure.
      this.accountEnd(run, interrupted ? undefined : error);
      if (!run.recording) {
        run.span.end();
        return;
      }
      this.captureDeferredInput(run, kwargs);
      if (interrupted) this.markInterrupted(run, error);
      else if (isCancellation(error)) this.markCancelled(run, error);
      else this.markFailed(run, error, this.firstSighting(error));
      this.endSpan(run);
    } catch (error) {
      this.reportFailure(callback, error);
    }
  }

  /** A run that ended without its output (failed, cancelled, interrupted), for the accounting. */
  private accountEnd(run: RunState, failure: unknown): void {
    if (run.call !== undefined) this.accountModelCall(run, undefined, failure);
    else this.accountRun(run, failure);
  }

  /**
   * Removes a run; returns it only when it has a span of its own to write and end (not hidden
   * plumbing; an unrecorded span is ended here, with nothing to write).
   */
  private closeVisible(runId: string): RunState | undefined {
    const run = this.runs.close(runId);
    if (run === undefined || run.hidden) return undefined;
    if (run.recording) return run;
    run.span.end();
    return undefined;
  }

  /**
   * A LangGraph interrupt is the graph pausing for input, not a failure: the span ends without
   * ERROR, with an event saying why, on the node and (once) on its graph, and the thread is
   * remembered so that resuming it links back to this trace.
   */
  private markInterrupted(run: RunState, error: unknown): void {
    const attributes: Attributes = { [ATTR_LANGGRAPH_INTERRUPT_REASON]: errorType(error) };
    const value = this.capture.json(
      ATTR_LANGGRAPH_INTERRUPT_VALUE,
      interruptValues(error),
      renderLangChainValue,
    );
    if (value !== undefined) attributes[ATTR_LANGGRAPH_INTERRUPT_VALUE] = value;
    run.span.addEvent(EVENT_LANGGRAPH_INTERRUPT, attributes);
    if (typeof error !== "object" || error === null || this.recordedErrors.has(error)) return;
    this.recordedErrors.add(error);
    for (let graph: RunState | undefined = run; graph !== undefined; graph = graph.parent) {
      if (graph.kind !== "workflow" && graph.kind !== "agent") continue;
      if (graph !== run) graph.span.addEvent(EVENT_LANGGRAPH_INTERRUPT, attributes);
      if (graph.threadId !== undefined) this.rememberPausedThread(graph.threadId, graph.span.spanContext());
      return;
    }
  }

  private rememberPausedThread(threadId: string, span: SpanContext): void {
    this.pausedThreads.delete(threadId);
    this.pausedThreads.set(threadId, span);
    if (this.pausedThreads.size > MAX_PAUSED_THREADS) {
      const oldest = this.pausedThreads.keys().next().value;
      if (oldest !== undefined) this.pausedThreads.delete(oldest);
    }
  }

  private markCancelled(run: RunState, error: unknown): void {
    const message = recordCancellation(run.span, error);
    if (this.config.langfuse) setLevel(run.span, "WARNING", message);
    this.applyDeferred(run);
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

  private markFailed(run: RunState, error: unknown, origin: boolean): void {
    recordError(run.span, error, origin);
    if (this.config.langfuse) setLevel(run.span, "ERROR", errorMessage(error));
    this.applyDeferred(run);
  }

  /** True the first time an error object is seen: that run is where it happened. */
  private firstSighting(error: unknown): boolean {
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
      run.span.end();
    } catch (error) {
      diag.debug("langchain-otel: ending an orphaned run failed", error);
    }
  }

  /**
   * Every callback body runs in a try/catch that ends here: a failure is reported to OTel's diag
   * logger, never thrown into LangChain. (Inline rather than a wrapper taking a closure: callbacks
   * are the hot path, and a closure per call is an allocation per call.)
   */
  private reportFailure(callback: string, error: unknown): void {
    diag.warn(`langchain-otel: ${callback} failed; the span may be incomplete`, error);
  }
}

/** The prompt a generation was made from: the nearest ancestor that a prompt was linked to. */
function inheritedPromptLink(run: RunState): RunState["promptLink"] {
  for (let ancestor = run.parent; ancestor !== undefined; ancestor = ancestor.parent) {
    if (ancestor.promptLink !== undefined) return ancestor.promptLink;
  }
  return undefined;
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

/** LangChain wraps a runnable's non-object input or output as `{input: x}` / `{output: x}`: show `x`. */
function unwrapChainValues(values: unknown, key: "input" | "output"): unknown {
  if (typeof values !== "object" || values === null || Array.isArray(values)) return values;
  const record = values as Record<string, unknown>;
  let wrapped: unknown = values;
  let keys = 0;
  try {
    for (const own in record) {
      if (!Object.hasOwn(record, own)) continue;
      // Another key, or a second one: not a wrapper.
      if (own !== key || ++keys > 1) return values;
      wrapped = record[own];
    }
  } catch {
    return values;
  }
  return wrapped;
}

/** Tool input arrives as a JSON string for structured tools; record the object when it parses. */
function parseJsonText(text: unknown): unknown {
  if (typeof text !== "string") return text;
  const first = text.charCodeAt(0);
  // Only objects and arrays are worth parsing: '{' or '['.
  if (first !== 123 && first !== 91) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeFailure(content: unknown): string {
  return typeof content === "string" ? content : "the tool reported an error";
}
