import type { GenAIMessage, MessagePart, ModelResponse, TokenUsage } from "../genai/records.js";
import { toGenAIMessage } from "./messages.js";
import { asDict, type Dict, lookupTable, nonEmptyString } from "./values.js";

/** Provider finish reasons → the output-message enum of the spec (stop, length, content_filter, tool_call, error). */
const FINISH_REASONS = lookupTable<string>({
  stop: "stop",
  end_turn: "stop",
  stop_sequence: "stop",
  complete: "stop",
  eos: "stop",
  length: "length",
  max_tokens: "length",
  model_length: "length",
  tool_calls: "tool_call",
  tool_use: "tool_call",
  function_call: "tool_call",
  tool_call: "tool_call",
  content_filter: "content_filter",
  safety: "content_filter",
  recitation: "content_filter",
  blocklist: "content_filter",
  prohibited_content: "content_filter",
  spii: "content_filter",
  refusal: "content_filter",
  error: "error",
  malformed_function_call: "error",
  unexpected_tool_call: "error",
  insufficient_system_resource: "error",
});

export function normaliseFinishReason(reason: string): string {
  return FINISH_REASONS[reason.toLowerCase()] ?? reason.toLowerCase();
}

// The readers below read properties directly rather than through `field()`: each read site then
// learns the few shapes it meets (a provider's messages, LangChain's generations) instead of every
// shape the handler sees, which keeps property lookups fast. A getter that throws ends the reading
// of that value; what was read so far stands.

/**
 * A token count: a non-negative integer, at most 2^53 - 1 (a larger one is no count a provider
 * reports, and sums of such values would overflow to Infinity in attributes and metrics).
 */
function tokens(value: unknown): number | undefined {
  return typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER
    ? Math.round(value)
    : undefined;
}

/** `output.generations` of an LLMResult: one list per prompt; a run has one prompt. */
export function generationsOf(output: unknown): unknown[] {
  try {
    const outer = asDict(output)?.generations;
    if (!Array.isArray(outer)) return [];
    const first = outer[0];
    return Array.isArray(first) ? first : outer;
  } catch {
    return [];
  }
}

function finishReasonOf(generation: Dict): string | undefined {
  const info = asDict(generation.generationInfo ?? generation.generation_info);
  const fromInfo =
    info === undefined
      ? undefined
      : (nonEmptyString(info.finish_reason) ??
        nonEmptyString(info.finishReason) ??
        nonEmptyString(info.stop_reason));
  if (fromInfo !== undefined) return fromInfo;
  const metadata = asDict(asDict(generation.message)?.response_metadata);
  if (metadata === undefined) return undefined;
  return (
    nonEmptyString(metadata.finish_reason) ??
    nonEmptyString(metadata.finishReason) ??
    nonEmptyString(metadata.stop_reason) ??
    nonEmptyString(metadata.done_reason)
  );
}

/** Usage from a message's `usage_metadata` (LangChain's normalised shape). */
function usageFromMetadata(value: unknown): TokenUsage | undefined {
  const usage = asDict(value);
  if (usage === undefined || Array.isArray(usage)) return undefined;
  const input = asDict(usage.input_token_details);
  const output = asDict(usage.output_token_details);
  const result: TokenUsage = {
    inputTokens: tokens(usage.input_tokens),
    outputTokens: tokens(usage.output_tokens),
    totalTokens: tokens(usage.total_tokens),
    cacheReadInputTokens: tokens(input?.cache_read),
    cacheCreationInputTokens: tokens(input?.cache_creation),
    reasoningOutputTokens: tokens(output?.reasoning),
  };
  return result.inputTokens === undefined && result.outputTokens === undefined ? undefined : result;
}

/** Usage from `llmOutput`: `tokenUsage` (OpenAI-style LLMs) or a raw provider `usage`. */
function usageFromLlmOutput(llmOutput: Dict | undefined): TokenUsage | undefined {
  if (llmOutput === undefined) return undefined;
  const tokenUsage = asDict(llmOutput.tokenUsage ?? llmOutput.token_usage);
  if (tokenUsage !== undefined && !Array.isArray(tokenUsage)) {
    const result: TokenUsage = {
      inputTokens: tokens(tokenUsage.promptTokens) ?? tokens(tokenUsage.prompt_tokens),
      outputTokens: tokens(tokenUsage.completionTokens) ?? tokens(tokenUsage.completion_tokens),
      totalTokens: tokens(tokenUsage.totalTokens) ?? tokens(tokenUsage.total_tokens),
    };
    if (result.inputTokens !== undefined || result.outputTokens !== undefined) return result;
  }
  const usage = asDict(llmOutput.usage);
  if (usage === undefined || Array.isArray(usage)) return undefined;
  const cacheRead = tokens(usage.cache_read_input_tokens);
  const cacheCreation = tokens(usage.cache_creation_input_tokens);
  const input = tokens(usage.input_tokens) ?? tokens(usage.prompt_tokens);
  const result: TokenUsage = {
    // Anthropic reports input without the cached part; the spec's input includes it.
    inputTokens: input === undefined ? undefined : input + (cacheRead ?? 0) + (cacheCreation ?? 0),
    outputTokens: tokens(usage.output_tokens) ?? tokens(usage.completion_tokens),
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
  };
  return result.inputTokens === undefined && result.outputTokens === undefined ? undefined : result;
}

/** A reported cost: a finite, non-negative `cost` number. */
function costOf(source: Dict | undefined): number | undefined {
  const cost = source?.cost;
  return typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** A LangChain-generated message id (`run-<uuid>`, `lc_run--<uuid>`) is not the provider's response id. */
function providerMessageId(message: Dict | undefined): string | undefined {
  const id = nonEmptyString(message?.id);
  if (id === undefined || id.startsWith("run-") || id.startsWith("lc_")) return undefined;
  return id;
}

/** The response side of a model call: model, id, finish reasons, usage. Never reads content. */
export function readModelResponse(output: unknown): ModelResponse {
  const response: ModelResponse = { finishReasons: [], generationReasons: [] };
  let cost: number | undefined;
  try {
    for (const item of generationsOf(output)) {
      const generation = asDict(item);
      if (generation === undefined) continue;
      const message = asDict(generation.message);
      const metadata = asDict(message?.response_metadata);
      response.model ??=
        nonEmptyString(metadata?.model_name) ??
        nonEmptyString(metadata?.model) ??
        nonEmptyString(metadata?.model_id) ??
        nonEmptyString(metadata?.modelId) ??
        nonEmptyString(asDict(generation.generationInfo)?.model_name);
      response.id ??= nonEmptyString(metadata?.id) ?? providerMessageId(message);
      // n>1 choices share one usage object; take the first rather than summing.
      response.usage ??= usageFromMetadata(message?.usage_metadata);
      cost ??= costOf(asDict(metadata?.usage)) ?? costOf(metadata);
      const reason = finishReasonOf(generation);
      response.generationReasons.push(reason);
      if (reason !== undefined) response.finishReasons.push(reason);
    }
    const llmOutput = asDict(asDict(output)?.llmOutput);
    if (llmOutput !== undefined) {
      response.model ??=
        nonEmptyString(llmOutput.model_name) ??
        nonEmptyString(llmOutput.model) ??
        nonEmptyString(llmOutput.modelName);
      response.id ??= nonEmptyString(llmOutput.id) ?? nonEmptyString(llmOutput.response_id);
      response.usage ??= usageFromLlmOutput(llmOutput);
      cost ??= costOf(llmOutput) ?? costOf(asDict(llmOutput.tokenUsage));
    }
  } catch {
    // A getter that throws: keep what was read.
  }
  if (cost !== undefined) response.cost = cost;
  return response;
}

/**
 * The generations as GenAI output messages (one per choice, with its finish reason). `reasons` are
 * the generations' reasons as `readModelResponse` read them; a generation past them is read here.
 */
export function readOutputMessages(
  output: unknown,
  reasons: readonly (string | undefined)[] = [],
): GenAIMessage[] {
  const messages: GenAIMessage[] = [];
  let index = 0;
  try {
    for (const item of generationsOf(output)) {
      const generation = asDict(item);
      if (generation === undefined) continue;
      const message = generation.message;
      let genAIMessage: GenAIMessage;
      // A message that is not an object (null from a loose integration) says nothing: use the text.
      if (typeof message === "object" && message !== null) {
        genAIMessage = toGenAIMessage(message);
      } else {
        const parts: MessagePart[] = [{ type: "text", content: nonEmptyString(generation.text) ?? "" }];
        genAIMessage = { role: "assistant", parts };
      }
      // An unreported reason is left out rather than guessed (optional in the dev spec).
      const reason = index < reasons.length ? reasons[index] : finishReasonOf(generation);
      index++;
      if (reason !== undefined) genAIMessage.finish_reason = normaliseFinishReason(reason);
      messages.push(genAIMessage);
    }
  } catch {
    // A getter that throws: keep the messages read.
  }
  return messages;
}
