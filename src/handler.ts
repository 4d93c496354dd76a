import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import type { ChainValues } from "@langchain/core/utils/types";
import { type Attributes, type Context, context, diag, type SpanContext } from "@opentelemetry/api";
import { markRunExecution, runContext } from "./context/bridge.js";
import {
  ATTR_AGENT_LOG,
  ATTR_AGENT_OUTPUT,
  ATTR_EVENT_DATA,
  ATTR_EVENT_NAME,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_NAME,
  EVENT_AGENT_ACTION,
  EVENT_AGENT_FINISH,
  EVENT_CUSTOM,
} from "./genai/attributes.js";
import { isCancellation } from "./genai/errors.js";
import { ChainRuns } from "./kinds/chain.js";
import { ModelRuns } from "./kinds/model.js";
import { RetrieverRuns } from "./kinds/retriever.js";
import { ToolRuns } from "./kinds/tool.js";
import { isGraphBubbleUp } from "./langchain/graph.js";
import { renderLangChainValue } from "./langchain/io.js";
import { field } from "./langchain/values.js";
import { RunLifecycle, reportFailure } from "./lifecycle.js";
import { type OpenTelemetryCallbackHandlerOptions, resolveHandlerOptions } from "./options.js";
import type { RunState } from "./runs.js";

/**
 * Turns every LangChain run into an OpenTelemetry span with GenAI semantic-convention attributes
 * (and, by default, the Langfuse dialect beside them).
 *
 * Pass it as `callbacks: [handler]` to any runnable, or attach it once to a model or chain; one
 * instance serves any number of concurrent runs. Each callback only hands over: what a run of
 * each kind becomes is in `kinds/`, the one start and end path in `lifecycle.ts`, LangChain values
 * are read by `langchain/`, spans are written by `genai/` and `langfuse/`, runs are tracked by the
 * registry (`runs.ts`). No callback ever throws into LangChain.
 */
export class OpenTelemetryCallbackHandler extends BaseCallbackHandler {
  name = "OpenTelemetryCallbackHandler";

  private readonly core: RunLifecycle;
  private readonly models: ModelRuns;
  private readonly chains: ChainRuns;
  private readonly tools: ToolRuns;
  private readonly retrievers: RetrieverRuns;

  constructor(options: OpenTelemetryCallbackHandlerOptions = {}) {
    const config = resolveHandlerOptions(options);
    super({ _awaitHandler: config.awaitHandlers });
    this.core = new RunLifecycle(config);
    this.models = new ModelRuns(this.core, (runId, reason) =>
      this.endWithError("abort", runId, isCancellation(reason) ? reason : abortError(reason)),
    );
    this.chains = new ChainRuns(this.core);
    this.tools = new ToolRuns(this.core);
    this.retrievers = new RetrieverRuns(this.core);
  }

  /** Copies share this instance: its registry is what links children to parents. */
  override copy(): this {
    return this;
  }

  /** Number of runs started and not yet ended (for tests and health checks). */
  get openRuns(): number {
    return this.core.runs.size;
  }

  /**
   * The W3C trace id (32 hex digits) of the trace a run belongs to: for a run that is still open,
   * and for the `maxRecentTraces` most recently finished outermost runs; undefined for a run this
   * handler never saw or has forgotten. Pick the run id up front to look it up afterwards:
   * `chain.invoke(input, { runId, callbacks: [handler] })`.
   */
  traceIdOf(runId: string): string | undefined {
    return this.spanContextOf(runId)?.traceId;
  }

  /**
   * The span context (trace id, span id, sampled flag) of a run's span, for the same runs as
   * `traceIdOf`: what a span link to the answer, or a late child span in its trace, needs.
   * `traceFlags & TraceFlags.SAMPLED` is 0 when the sampler dropped the trace (it never reaches
   * the backend).
   */
  spanContextOf(runId: string): SpanContext | undefined {
    try {
      return typeof runId === "string" ? this.core.runs.spanContextOf(runId) : undefined;
    } catch (error) {
      reportFailure("spanContextOf", error);
      return undefined;
    }
  }

  /**
   * The trace id of the outermost run this handler started last. For scripts: with concurrent
   * requests it may belong to another request's run; use `traceIdOf(runId)` there.
   */
  get lastTraceId(): string | undefined {
    return this.core.runs.lastTraceId;
  }

  /**
   * Ends every open run's span, marked as orphaned. Call before shutting the tracer provider down
   * if runs may still be in flight; `setupTracing().shutdown()` does it for you.
   */
  endOpenRuns(): void {
    try {
      this.core.runs.endAll();
    } catch (error) {
      reportFailure("endOpenRuns", error);
    }
  }

  // ── Starts ───────────────────────────────────────────────────────────────────────────────────
  //
  // LangChain calls the `_createRunFor*` hooks synchronously, in the caller's async context, for
  // handlers that look like its BaseTracer (`_addRunToRunMap`); the `handle*Start` callbacks come
  // after, awaited or queued. Every run starts in its hook: the caller's active span and the true
  // start time are at hand in both `awaitHandlers` modes, and the context that goes on to run a
  // model's or a retriever's body is the one the context bridge marks. A callback starts its run
  // only if no hook did (a LangChain version without the hooks).

  /** @internal Marks this handler as tracer-like, so that LangChain calls the hooks below. */
  _addRunToRunMap(): void {}

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
      this.models.start("chat", llm, messages, runId, parentRunId, extraParams, tags, metadata, runName),
    );
  }

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
    if (!this.core.runs.has(runId))
      this.models.start("chat", llm, messages, runId, parentRunId, extraParams, tags, metadata, runName);
  }

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
    this.markExecution(
      this.models.start(
        "text_completion",
        llm,
        prompts,
        runId,
        parentRunId,
        extraParams,
        tags,
        metadata,
        runName,
      ),
    );
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
    if (!this.core.runs.has(runId))
      this.models.start(
        "text_completion",
        llm,
        prompts,
        runId,
        parentRunId,
        extraParams,
        tags,
        metadata,
        runName,
      );
  }

  // LangChain calls these with (chain, inputs, runId, parentRunId, tags, metadata, runType, runName):
  // the declared signature orders its optional parameters differently from the call.

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
    this.chains.start(chain, inputs, runId, parentRunId, tags, metadata, runType, runName, extra);
  }

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
    if (!this.core.runs.has(runId))
      this.chains.start(chain, inputs, runId, parentRunId, tags, metadata, runType, runName, extra);
  }

  /** @internal The hook gets the tool's arguments as the object LangChain validated. */
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
    this.tools.start(tool, input, runId, parentRunId, tags, metadata, runName, toolCallId);
  }

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
    if (!this.core.runs.has(runId))
      this.tools.start(tool, input, runId, parentRunId, tags, metadata, runName, toolCallId);
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
    this.markExecution(this.retrievers.start(retriever, query, runId, parentRunId, tags, metadata, runName));
  }

  override handleRetrieverStart(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId?: string,
    tags?: string[],
    metadata?: Record<string, unknown>,
    name?: string,
  ): void {
    if (!this.core.runs.has(runId))
      this.retrievers.start(retriever, query, runId, parentRunId, tags, metadata, name);
  }

  // ── Ends ─────────────────────────────────────────────────────────────────────────────────────

  override handleLLMNewToken(_token: string, _idx: unknown, runId: string): void {
    this.models.newToken(runId);
  }

  override handleLLMEnd(output: LLMResult, runId: string): void {
    this.models.end(output, runId);
  }

  override handleLLMError(error: unknown, runId: string): void {
    this.endWithError("handleLLMError", runId, error);
  }

  override handleChainEnd(
    outputs: ChainValues,
    runId: string,
    _parentRunId?: string,
    _tags?: string[],
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    this.chains.end(outputs, runId, kwargs);
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

  override handleToolEnd(output: unknown, runId: string): void {
    this.tools.end(output, runId);
  }

  override handleToolError(error: unknown, runId: string): void {
    this.endWithError("handleToolError", runId, error);
  }

  override handleRetrieverEnd(documents: unknown[], runId: string): void {
    this.retrievers.end(documents, runId);
  }

  override handleRetrieverError(error: unknown, runId: string): void {
    this.endWithError("handleRetrieverError", runId, error);
  }

  /** Every kind's error end: a LangGraph interrupt, a cancellation, or a failure. */
  private endWithError(
    callback: string,
    runId: string,
    error: unknown,
    kwargs?: { inputs?: Record<string, unknown> },
  ): void {
    const core = this.core;
    try {
      const run = core.runs.close(runId);
      if (run === undefined || run.hidden) return;
      const interrupted = isGraphBubbleUp(error);
      // A LangGraph interrupt is a pause for input, not a failure.
      core.accountEnd(run, interrupted ? undefined : error);
      if (!run.recording) {
        run.span.end();
        return;
      }
      this.chains.captureDeferredInput(run, kwargs);
      if (interrupted) this.chains.markInterrupted(run, error);
      else if (isCancellation(error)) core.markCancelled(run, error);
      else core.markFailed(run, error, core.firstSighting(error));
      core.endSpan(run);
    } catch (error) {
      reportFailure(callback, error);
    }
  }

  // ── Events on a run's span ─────────────────────────────────────────────────────────────────

  override handleAgentAction(action: unknown, runId: string): void {
    try {
      const run = this.core.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const capture = this.core.capture;
      const attributes: Attributes = {};
      const tool = field(action, "tool");
      if (typeof tool === "string") attributes[ATTR_GEN_AI_TOOL_NAME] = tool;
      const toolInput = capture.json(ATTR_GEN_AI_TOOL_CALL_ARGUMENTS, field(action, "toolInput"));
      if (toolInput !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ARGUMENTS] = toolInput;
      const log = capture.json(ATTR_AGENT_LOG, field(action, "log"));
      if (log !== undefined) attributes[ATTR_AGENT_LOG] = log;
      run.span.addEvent(EVENT_AGENT_ACTION, attributes);
    } catch (error) {
      reportFailure("handleAgentAction", error);
    }
  }

  override handleAgentEnd(finish: unknown, runId: string): void {
    try {
      const run = this.core.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const attributes: Attributes = {};
      const output = this.core.capture.json(ATTR_AGENT_OUTPUT, field(finish, "returnValues"));
      if (output !== undefined) attributes[ATTR_AGENT_OUTPUT] = output;
      run.span.addEvent(EVENT_AGENT_FINISH, attributes);
    } catch (error) {
      reportFailure("handleAgentEnd", error);
    }
  }

  override handleCustomEvent(eventName: string, data: unknown, runId: string): void {
    try {
      const run = this.core.runs.get(runId);
      if (run === undefined || !run.recording) return;
      const attributes: Attributes = {
        [ATTR_EVENT_NAME]: typeof eventName === "string" ? eventName : "unnamed",
      };
      const json = this.core.capture.json(ATTR_EVENT_DATA, data, renderLangChainValue);
      if (json !== undefined) attributes[ATTR_EVENT_DATA] = json;
      run.span.addEvent(EVENT_CUSTOM, attributes);
    } catch (error) {
      reportFailure("handleCustomEvent", error);
    }
  }

  // ── The context bridge ───────────────────────────────────────────────────────────────────────

  /**
   * The run-execution hook proposed for `@langchain/core` (langchainjs #11211, #11226): a core
   * that calls it runs each run's body (a model's generation and stream, a tool's call) through
   * it, and the body then runs with the run's span active under any context manager. Exact where
   * the context bridge has to rely on marks; used whenever LangChain calls it.
   */
  wrapRunExecution<T>(runId: string, fn: () => T): T {
    let active: Context | undefined;
    try {
      const run = this.core.config.contextBridge ? this.core.runs.get(runId) : undefined;
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
    if (run === undefined || !this.core.config.contextBridge) return;
    try {
      markRunExecution(run);
    } catch (error) {
      diag.debug("langchain-otel: marking a run's execution failed", error);
    }
  }
}

/** An abort whose reason is not itself a cancellation (`abort("user left")`): an AbortError saying it. */
function abortError(reason: unknown): Error {
  const message = typeof reason === "string" && reason.length > 0 ? reason : "This operation was aborted";
  return Object.assign(new Error(message), { name: "AbortError" });
}
