import type { Attributes } from "@opentelemetry/api";
import type { TokenUsage } from "./records.js";

/**
 * What a request used, over all its model calls: written on the outermost LangChain span of each
 * trace, in this package's own namespace. Never under `gen_ai.usage.*`: backends (Langfuse among
 * them) add usage up over every observation of a trace, so totals there would count twice; nor as
 * `langfuse.observation.cost_details` / `gen_ai.usage.cost`, which Langfuse would take as provided cost.
 */
export const ATTR_REQUEST_INPUT_TOKENS = "langchain_otel.request.input_tokens";
export const ATTR_REQUEST_OUTPUT_TOKENS = "langchain_otel.request.output_tokens";
export const ATTR_REQUEST_CACHE_READ_INPUT_TOKENS = "langchain_otel.request.cache_read.input_tokens";
export const ATTR_REQUEST_REASONING_OUTPUT_TOKENS = "langchain_otel.request.reasoning.output_tokens";
/** Sum of the priced calls' cost, USD. */
export const ATTR_REQUEST_COST = "langchain_otel.request.cost_usd";
/** Named like the conventions' `gen_ai.invoke_agent.inference_calls` (development). */
export const ATTR_REQUEST_INFERENCE_CALLS = "langchain_otel.request.inference_calls";
export const ATTR_REQUEST_TOOL_CALLS = "langchain_otel.request.tool_calls";
/** Embeddings calls traced inside the request (`traceEmbeddings`, with the context bridge). */
export const ATTR_REQUEST_EMBEDDINGS_CALLS = "langchain_otel.request.embeddings_calls";
/** Model calls with usage but no price (an unknown model): the cost total leaves them out. */
export const ATTR_REQUEST_UNPRICED_CALLS = "langchain_otel.request.unpriced_calls";

/** Running sums for one trace, fed at the end of each model call, embeddings call and tool run. */
export class RequestTotals {
  inputTokens = 0;
  outputTokens = 0;
  cacheReadInputTokens = 0;
  reasoningOutputTokens = 0;
  cost = 0;
  pricedCalls = 0;
  unpricedCalls = 0;
  modelCalls = 0;
  embeddingsCalls = 0;
  toolCalls = 0;

  /** A finished model call (failed ones too: they count as calls). `cost` undefined: no price. */
  addModelCall(usage: TokenUsage | undefined, cost: number | undefined): void {
    this.modelCalls++;
    this.addUsage(usage, cost);
  }

  /** A finished embeddings call: its input tokens and cost count with the model calls'. */
  addEmbeddingsCall(usage: TokenUsage | undefined, cost: number | undefined): void {
    this.embeddingsCalls++;
    this.addUsage(usage, cost);
  }

  addToolCall(): void {
    this.toolCalls++;
  }

  /** Whether the request made any call these totals count: if not, the outermost span gets none. */
  get empty(): boolean {
    return this.modelCalls === 0 && this.embeddingsCalls === 0 && this.toolCalls === 0;
  }

  private addUsage(usage: TokenUsage | undefined, cost: number | undefined): void {
    if (usage !== undefined) {
      this.inputTokens += usage.inputTokens ?? 0;
      this.outputTokens += usage.outputTokens ?? 0;
      this.cacheReadInputTokens += usage.cacheReadInputTokens ?? 0;
      this.reasoningOutputTokens += usage.reasoningOutputTokens ?? 0;
    }
    if (cost !== undefined) {
      this.cost += cost;
      this.pricedCalls++;
    } else if (usage !== undefined) this.unpricedCalls++;
  }

  /** The attributes for the outermost span; cost only when at least one call was priced. */
  attributes(): Attributes {
    const attributes: Attributes = {
      [ATTR_REQUEST_INPUT_TOKENS]: this.inputTokens,
      [ATTR_REQUEST_OUTPUT_TOKENS]: this.outputTokens,
      [ATTR_REQUEST_INFERENCE_CALLS]: this.modelCalls,
      [ATTR_REQUEST_TOOL_CALLS]: this.toolCalls,
    };
    if (this.embeddingsCalls > 0) attributes[ATTR_REQUEST_EMBEDDINGS_CALLS] = this.embeddingsCalls;
    if (this.cacheReadInputTokens > 0)
      attributes[ATTR_REQUEST_CACHE_READ_INPUT_TOKENS] = this.cacheReadInputTokens;
    if (this.reasoningOutputTokens > 0)
      attributes[ATTR_REQUEST_REASONING_OUTPUT_TOKENS] = this.reasoningOutputTokens;
    if (this.pricedCalls > 0 && Number.isFinite(this.cost))
      attributes[ATTR_REQUEST_COST] = roundUsd(this.cost);
    if (this.unpricedCalls > 0) attributes[ATTR_REQUEST_UNPRICED_CALLS] = this.unpricedCalls;
    return attributes;
  }
}

/** USD to 1e-10: enough for a fraction of a token's price, without float noise in the sum. */
export function roundUsd(usd: number): number {
  const scaled = usd * 1e10;
  return Number.isFinite(scaled) ? Math.round(scaled) / 1e10 : usd;
}
