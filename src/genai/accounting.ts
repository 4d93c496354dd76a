import type { Span } from "@opentelemetry/api";
import { LANGFUSE_OBSERVATION_COST_DETAILS } from "../langfuse/attributes.js";
import {
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_INVOKE_AGENT_DURATION,
} from "./attributes.js";
import type { PriceTable } from "./cost.js";
import { type GenAIMetrics, METRIC_COST } from "./metrics.js";
import type { InferenceCall, ModelResponse } from "./records.js";
import { type RequestTotals, roundUsd } from "./totals.js";

/** The estimated cost of a model call in USD, on its span (docs/metrics.md): this package's own name. */
export const ATTR_COST_USD = "langchain_otel.cost_usd";

/** Most chunk times kept per streamed call: past it, the time per output chunk stops sampling. */
export const MAX_CHUNK_TIMES = 4096;

/** How a finished model call is accounted for. */
export interface InferenceOutcome {
  /** `performance.now()` at the call's start and end, and at its first streamed chunk. */
  startedAt: number;
  endedAt: number;
  firstChunkAt: number | undefined;
  response: ModelResponse | undefined;
  /** The failure's low-cardinality type (`error.type`), when the call failed. */
  errorType: string | undefined;
  /** The call's span, when it is recording: it gets the cost. */
  span: Span | undefined;
  /** The request's totals, when the trace is recording. */
  totals: RequestTotals | undefined;
  /** False when another instrumentation traces the call and records its metrics itself. */
  metrics: boolean;
}

/**
 * Where a run's end is accounted for: the GenAI metrics (recorded whether the span is sampled or
 * not), the cost of a model call (on its span, and optionally as Langfuse's cost), and the request
 * totals on the outermost span. The handler hands each finished run over; nothing here knows
 * about LangChain.
 */
export class CallAccounting {
  constructor(
    private readonly metrics: GenAIMetrics | undefined,
    private readonly prices: PriceTable,
    /** Send the cost to Langfuse too: for every model, or for these model names. */
    private readonly langfuseCost: boolean | readonly string[],
  ) {
    this.measures = metrics !== undefined;
    this.timesAgents = metrics?.records(METRIC_GEN_AI_INVOKE_AGENT_DURATION) ?? false;
    this.keepsChunkTimes = metrics?.records(METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK) ?? false;
    this.countsCost = metrics?.records(METRIC_COST) ?? false;
  }

  /** Whether metrics are recorded: then a call is accounted for even when its span is not recording. */
  readonly measures: boolean;
  /** Whether agent invocations are timed: then an unrecorded run is looked at enough to tell an agent. */
  readonly timesAgents: boolean;
  /** Whether streamed chunk times are worth keeping (for the time per output chunk). */
  readonly keepsChunkTimes: boolean;
  /** Whether the metrics count each call's cost: then it is priced, span or no span. */
  private readonly countsCost: boolean;

  /** A model call started: the price table starts loading off the caller's path, once. */
  inferenceStarted(): void {
    this.prices.preload();
  }

  inferenceEnded(call: InferenceCall, outcome: InferenceOutcome): void {
    const response = outcome.response;
    const usage = response?.usage;
    // Undefined when metrics are off, or another instrumentation records this call's.
    const metrics = outcome.metrics ? this.metrics : undefined;
    let cost: number | undefined;
    if (
      outcome.span !== undefined ||
      outcome.totals !== undefined ||
      (metrics !== undefined && this.countsCost)
    ) {
      // A cost the provider reported (OpenRouter's usage.cost) is what the call cost: no estimate.
      const reported = response?.cost;
      cost =
        reported ??
        this.prices.costOf({
          provider: call.provider,
          responseModel: response?.model,
          requestModel: call.requestModel,
          usage,
          inputOnly: call.operation === "embeddings",
        });
      if (cost !== undefined && outcome.span !== undefined)
        this.setCost(outcome.span, cost, call, response, reported !== undefined);
      if (call.operation === "embeddings") outcome.totals?.addEmbeddingsCall(usage, cost);
      else outcome.totals?.addModelCall(usage, cost);
    }
    if (metrics === undefined) return;
    const chunkTimes = call.chunkTimes;
    metrics.recordInference({
      operation: call.operation,
      provider: call.provider,
      requestModel: call.requestModel,
      responseModel: response?.model,
      serverAddress: call.serverAddress,
      serverPort: call.serverPort,
      durationS: (outcome.endedAt - outcome.startedAt) / 1000,
      errorType: outcome.errorType,
      usage,
      timeToFirstChunkS:
        outcome.firstChunkAt === undefined ? undefined : (outcome.firstChunkAt - outcome.startedAt) / 1000,
      chunkIntervalsS: chunkTimes !== undefined && chunkTimes.length > 1 ? intervals(chunkTimes) : undefined,
      costUsd: cost,
    });
  }

  toolEnded(
    name: string,
    durationS: number,
    errorType: string | undefined,
    totals: RequestTotals | undefined,
  ): void {
    totals?.addToolCall();
    this.metrics?.recordTool(name, durationS, errorType);
  }

  agentEnded(name: string, durationS: number, errorType: string | undefined): void {
    this.metrics?.recordAgent(name, durationS, errorType);
  }

  private setCost(
    span: Span,
    cost: number,
    call: InferenceCall,
    response: ModelResponse | undefined,
    reported: boolean,
  ): void {
    const usd = roundUsd(cost);
    span.setAttribute(ATTR_COST_USD, usd);
    // A reported cost already reaches Langfuse as gen_ai.usage.cost; ours must not replace it.
    if (reported) return;
    const langfuse = this.langfuseCost;
    if (
      langfuse === true ||
      (Array.isArray(langfuse) &&
        (langfuse.includes(response?.model ?? "") || langfuse.includes(call.requestModel ?? "")))
    ) {
      span.setAttribute(LANGFUSE_OBSERVATION_COST_DETAILS, JSON.stringify({ total: usd }));
    }
  }
}

/** Seconds between successive chunks (semconv: one point per chunk after the first). */
function intervals(times: number[]): number[] {
  const result = new Array<number>(times.length - 1);
  for (let i = 1; i < times.length; i++) result[i - 1] = (times[i] - times[i - 1]) / 1000;
  return result;
}
