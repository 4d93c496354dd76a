import type { Serialized } from "@langchain/core/load/serializable";
import type { BaseMessage } from "@langchain/core/messages";
import type { LLMResult } from "@langchain/core/outputs";
import { type Attributes, diag, SpanKind } from "@opentelemetry/api";
import { bridgeInstalled } from "../context/bridge.js";
import { MAX_CHUNK_TIMES } from "../genai/accounting.js";
import { ATTR_GEN_AI_USAGE_COST } from "../genai/attributes.js";
import type { InferenceStart } from "../genai/delegation.js";
import {
  captureInferenceInput,
  captureInferenceOutput,
  type InferenceInput,
  inferenceRequestAttributes,
  inferenceSpanName,
  inferenceStartAttributes,
  serverAttributes,
  setInferenceResponse,
  setTimeToFirstChunk,
} from "../genai/inference.js";
import type { InferenceOperation, ModelResponse, ToolDefinition } from "../genai/records.js";
import { readPromptLink } from "../langchain/identity.js";
import { promptMessage, splitChatInput } from "../langchain/messages.js";
import { readRunMetadata } from "../langchain/metadata.js";
import { invocationParams, readRequestModel, readRequestParams } from "../langchain/params.js";
import { readProvider } from "../langchain/provider.js";
import { readModelResponse, readOutputMessages } from "../langchain/result.js";
import { runDisplayName, serializedClassName } from "../langchain/serialized.js";
import { readServerAddress } from "../langchain/server.js";
import { readToolDefinitions } from "../langchain/tools.js";
import { nonEmptyString } from "../langchain/values.js";
import {
  finishWarning,
  promptAttributes,
  setCompletionStartTime,
  setLevel,
  setUsageDetails,
} from "../langfuse/dialect.js";
import { now, type RunLifecycle, reportFailure, spanStart } from "../lifecycle.js";
import type { RunState } from "../runs.js";

/**
 * Chat model and LLM runs: an inference span (`chat {model}`, `text_completion {model}`, kind
 * CLIENT) whose request and content attributes wait for the response, and whose end hands the
 * call to the accounting (metrics, cost, request totals).
 */
export class ModelRuns {
  /**
   * @param abandon ends a run as cancelled: for a call whose abort signal fired and that LangChain
   *   never ended (a stream the consumer aborted leaves its run open).
   */
  constructor(
    private readonly core: RunLifecycle,
    private readonly abandon: (runId: string, reason: unknown) => void,
  ) {}

  /**
   * A chat model run (`input`: its message lists) or an LLM run (`input`: its prompts). The input
   * is read only at the end, when content is captured.
   */
  start(
    operation: InferenceOperation,
    llm: Serialized,
    input: BaseMessage[][] | string[],
    runId: string,
    parentRunId: string | undefined,
    extraParams: Record<string, unknown> | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): RunState | undefined {
    const core = this.core;
    try {
      if (core.config.modelSpans === "never") return undefined;
      const unrecorded = core.startedUnrecorded(runId, parentRunId, "model", "");
      if (unrecorded !== undefined) {
        if (unrecorded.runId === runId) this.watchAbort(unrecorded, extraParams);
        return this.unrecordedCall(unrecorded, operation, llm, extraParams, metadata);
      }
      const sent = invocationParams(extraParams);
      const tools = readToolDefinitions(sent);
      const run = this.open(operation, llm, runId, parentRunId, sent, tools, tags, metadata, runName);
      if (run !== undefined) this.watchAbort(run, extraParams);
      if (run?.deferred === undefined || !core.capture.enabled) return run;
      run.deferred.capture = () =>
        captureInferenceInput(run.span, core.capture, () => inferenceInput(operation, input, tools));
      return run;
    } catch (error) {
      reportFailure(operation === "chat" ? "handleChatModelStart" : "handleLLMStart", error);
      return undefined;
    }
  }

  /**
   * When the call's abort signal fires, LangChain reports the error, except for a stream the
   * consumer aborts: its run would stay open until the orphan sweep. So a run still open a moment
   * after its signal fired is ended as cancelled. The listener goes when the run does.
   */
  private watchAbort(run: RunState, extraParams: Record<string, unknown> | undefined): void {
    const signal = abortSignalOf(extraParams);
    if (signal === undefined) return;
    const runs = this.core.runs;
    const onAbort = () => {
      const timer = setTimeout(() => {
        if (runs.get(run.runId) === run) this.abandon(run.runId, signal.reason);
      }, ABORT_GRACE_MS);
      timer.unref?.();
    };
    try {
      signal.addEventListener("abort", onAbort, { once: true });
      run.release = () => signal.removeEventListener("abort", onAbort);
    } catch (error) {
      // A signal-like object that refuses listeners: the run ends as LangChain reports it.
      diag.debug("langchain-otel: cannot watch a model call's abort signal", error);
    }
  }

  /** Called for every streamed chunk: the first one's time, and each one's for the metrics (metrics on). */
  newToken(runId: string): void {
    const run = this.core.runs.get(runId);
    if (run === undefined) return;
    if (run.firstChunkAt === undefined) run.firstChunkAt = now();
    const call = run.call;
    if (call !== undefined && this.core.accounting.keepsChunkTimes) {
      if (call.chunkTimes === undefined) call.chunkTimes = [run.firstChunkAt];
      else if (call.chunkTimes.length < MAX_CHUNK_TIMES) call.chunkTimes.push(now());
    }
  }

  end(output: LLMResult, runId: string): void {
    const core = this.core;
    try {
      const run = core.runs.close(runId);
      if (run === undefined || run.hidden) return;
      if (!run.recording) {
        // Unsampled: only the metrics read the response.
        if (run.call !== undefined) core.accountModelCall(run, readModelResponse(output), undefined);
        run.span.end();
        return;
      }
      // The run has left the registry: whatever writing the response throws, its span must still
      // end and its call be counted, or nothing would ever end it.
      let response: ModelResponse | undefined;
      try {
        response = this.finish(run, output);
      } catch (error) {
        reportFailure("handleLLMEnd", error);
      }
      core.accountModelCall(run, response, undefined);
      core.endSpan(run);
    } catch (error) {
      reportFailure("handleLLMEnd", error);
    }
  }

  private open(
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
    const core = this.core;
    const config = core.config;
    const meta = readRunMetadata(metadata);
    const params = readRequestParams(llm, sentParams, meta);
    core.tools.remember(tools);
    const name = inferenceSpanName(operation, params.model ?? nonEmptyString(runName));
    const provider = readProvider(llm, meta);
    const attributes = inferenceStartAttributes(operation, provider, params);
    // The server too is known before the call and is given to the sampler, as the conventions ask.
    const server = readServerAddress(llm);
    if (server !== undefined) Object.assign(attributes, serverAttributes(server));
    // Only the bridge can see another instrumentation's inference span under ours.
    const inference =
      config.modelSpans === "auto" && config.contextBridge && bridgeInstalled()
        ? this.inferenceStart(llm, runName, name, attributes)
        : undefined;
    const start = inference?.plain
      ? spanStart(inference.plainName, SpanKind.INTERNAL, "model", {}, undefined, meta, tags)
      : spanStart(name, SpanKind.CLIENT, "model", attributes, undefined, meta, tags);
    start.extra = inferenceRequestAttributes(params);
    if (inference?.plain) start.observation = "span";
    const run = core.startRun(runId, parentRunId, start);
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
    core.accounting.inferenceStarted();
    if (config.langfuse) {
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
    if (!this.core.accounting.measures || run.kind !== "model" || run.call !== undefined) return run;
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
      plain: this.core.instrumentedModels.has(modelClass),
    };
  }

  /** Writes a model run's response; returns it, read once, for its cost, totals and metrics. */
  private finish(run: RunState, output: LLMResult): ModelResponse {
    const core = this.core;
    const response = readModelResponse(output);
    // Another instrumentation traced this call: it carries the response, usage and messages.
    if (run.delegatedTo !== undefined) {
      core.applyDeferred(run);
      return response;
    }
    setInferenceResponse(run.span, response);
    const langfuse = core.config.langfuse;
    if (run.firstChunkAt !== undefined) {
      setTimeToFirstChunk(run.span, (run.firstChunkAt - run.startedAt) / 1000);
      if (langfuse) setCompletionStartTime(run.span, performance.timeOrigin + run.firstChunkAt);
    }
    core.applyDeferred(run);
    captureInferenceOutput(run.span, core.capture, () =>
      readOutputMessages(output, response.generationReasons),
    );
    if (langfuse) {
      setUsageDetails(run.span, response.usage);
      if (response.cost !== undefined) run.span.setAttribute(ATTR_GEN_AI_USAGE_COST, response.cost);
      const warning = finishWarning(response.finishReasons);
      if (warning !== undefined) setLevel(run.span, "WARNING", warning);
    }
    return response;
  }
}

/** How long a model run whose signal fired may still report its own end before it is ended as cancelled. */
export const ABORT_GRACE_MS = 100;

/** The call's `AbortSignal` (LangChain passes the call options as `extraParams.options`), unless already aborted. */
function abortSignalOf(extraParams: Record<string, unknown> | undefined): AbortSignal | undefined {
  try {
    const signal = (extraParams?.options as { signal?: unknown } | undefined)?.signal as
      | Partial<AbortSignal>
      | undefined;
    if (typeof signal?.addEventListener !== "function" || typeof signal.removeEventListener !== "function")
      return undefined;
    return signal.aborted === false ? (signal as AbortSignal) : undefined;
  } catch {
    // Options whose reads throw have no signal to watch.
    return undefined;
  }
}

/** What the model was sent, in GenAI terms: a chat's system instructions and messages, or an LLM's prompts. */
function inferenceInput(
  operation: InferenceOperation,
  input: BaseMessage[][] | string[],
  tools: ToolDefinition[] | undefined,
): InferenceInput {
  // LangChain passes arrays; anything else (a caller of the callbacks that does not) reads as no input.
  const list: unknown[] = Array.isArray(input) ? input : [];
  if (operation === "chat") {
    const first = list[0];
    const { system, input: messages } = splitChatInput(Array.isArray(first) ? (first as BaseMessage[]) : []);
    return { systemInstructions: system, messages, tools };
  }
  return { systemInstructions: [], messages: (list as string[]).map(promptMessage) };
}

/** The prompt a generation was made from: its own link (it is the step after a prompt), else the nearest ancestor's. */
function inheritedPromptLink(run: RunState): RunState["promptLink"] {
  for (let ancestor: RunState | undefined = run; ancestor !== undefined; ancestor = ancestor.parent) {
    if (ancestor.promptLink !== undefined) return ancestor.promptLink;
  }
  return undefined;
}
