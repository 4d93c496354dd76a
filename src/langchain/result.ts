import type { GenAIMessage, MessagePart, ModelResponse, TokenUsage } from "../genai/records.js";
import { toGenAIMessage } from "./messages.js";
import { arrayField, countField, field, firstString, isDict, stringField } from "./values.js";

/** Provider finish reasons → the output-message enum of the spec (stop, length, content_filter, tool_call, error). */
const FINISH_REASONS: Record<string, string> = {
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
  error: "error",
};

export function normaliseFinishReason(reason: string): string {
  return FINISH_REASONS[reason.toLowerCase()] ?? reason.toLowerCase();
}

/** `output.generations` of an LLMResult: one list per prompt; a run has one prompt. */
export function generationsOf(output: unknown): unknown[] {
  const outer = arrayField(output, "generations");
  if (outer === undefined) return [];
  const first = outer[0];
  return Array.isArray(first) ? first : outer;
}

function finishReasonOf(generation: unknown): string | undefined {
  const info = field(generation, "generationInfo") ?? field(generation, "generation_info");
  const metadata = field(field(generation, "message"), "response_metadata");
  return (
    firstString(info, ["finish_reason", "finishReason", "stop_reason"]) ??
    firstString(metadata, ["finish_reason", "finishReason", "stop_reason", "done_reason"])
  );
}

/** Usage from a message's `usage_metadata` (LangChain's normalised shape). */
function usageFromMetadata(usage: unknown): TokenUsage | undefined {
  if (!isDict(usage)) return undefined;
  const input = field(usage, "input_token_details");
  const output = field(usage, "output_token_details");
  const result: TokenUsage = {
    inputTokens: countField(usage, "input_tokens"),
    outputTokens: countField(usage, "output_tokens"),
    totalTokens: countField(usage, "total_tokens"),
    cacheReadInputTokens: countField(input, "cache_read"),
    cacheCreationInputTokens: countField(input, "cache_creation"),
    reasoningOutputTokens: countField(output, "reasoning"),
  };
  return result.inputTokens === undefined && result.outputTokens === undefined ? undefined : result;
}

/** Usage from `llmOutput`: `tokenUsage` (OpenAI-style LLMs) or a raw provider `usage`. */
function usageFromLlmOutput(llmOutput: unknown): TokenUsage | undefined {
  const tokenUsage = field(llmOutput, "tokenUsage") ?? field(llmOutput, "token_usage");
  if (isDict(tokenUsage)) {
    const result: TokenUsage = {
      inputTokens: countField(tokenUsage, "promptTokens") ?? countField(tokenUsage, "prompt_tokens"),
      outputTokens: countField(tokenUsage, "completionTokens") ?? countField(tokenUsage, "completion_tokens"),
      totalTokens: countField(tokenUsage, "totalTokens") ?? countField(tokenUsage, "total_tokens"),
    };
    if (result.inputTokens !== undefined || result.outputTokens !== undefined) return result;
  }
  const usage = field(llmOutput, "usage");
  if (!isDict(usage)) return undefined;
  const cacheRead = countField(usage, "cache_read_input_tokens");
  const cacheCreation = countField(usage, "cache_creation_input_tokens");
  const input = countField(usage, "input_tokens") ?? countField(usage, "prompt_tokens");
  const result: TokenUsage = {
    // Anthropic reports input without the cached part; the spec's input includes it.
    inputTokens: input === undefined ? undefined : input + (cacheRead ?? 0) + (cacheCreation ?? 0),
    outputTokens: countField(usage, "output_tokens") ?? countField(usage, "completion_tokens"),
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
  };
  return result.inputTokens === undefined && result.outputTokens === undefined ? undefined : result;
}

/** A reported cost: a finite, non-negative `cost` number. */
function costOf(source: unknown): number | undefined {
  const cost = field(source, "cost");
  return typeof cost === "number" && Number.isFinite(cost) && cost >= 0 ? cost : undefined;
}

/** A LangChain-generated message id (`run-<uuid>`, `lc_run--<uuid>`) is not the provider's response id. */
function providerMessageId(message: unknown): string | undefined {
  const id = stringField(message, "id");
  if (id === undefined || id.startsWith("run-") || id.startsWith("lc_")) return undefined;
  return id;
}

/** The response side of a model call: model, id, finish reasons, usage. Never reads content. */
export function readModelResponse(output: unknown): ModelResponse {
  const generations = generationsOf(output);
  const llmOutput = field(output, "llmOutput");
  const response: ModelResponse = { finishReasons: [] };
  let cost: number | undefined;
  for (const generation of generations) {
    const message = field(generation, "message");
    const metadata = field(message, "response_metadata");
    const info = field(generation, "generationInfo");
    response.model ??=
      firstString(metadata, ["model_name", "model", "model_id", "modelId"]) ??
      stringField(info, "model_name");
    response.id ??= stringField(metadata, "id") ?? providerMessageId(message);
    // n>1 choices share one usage object; take the first rather than summing.
    response.usage ??= usageFromMetadata(field(message, "usage_metadata"));
    cost ??= costOf(field(metadata, "usage")) ?? costOf(metadata);
    const reason = finishReasonOf(generation);
    if (reason !== undefined) response.finishReasons.push(reason);
  }
  response.model ??= firstString(llmOutput, ["model_name", "model", "modelName"]);
  response.id ??= firstString(llmOutput, ["id", "response_id"]);
  response.usage ??= usageFromLlmOutput(llmOutput);
  cost ??= costOf(llmOutput) ?? costOf(field(llmOutput, "tokenUsage"));
  if (cost !== undefined) response.cost = cost;
  return response;
}

/** The generations as GenAI output messages (one per choice, with its finish reason). */
export function readOutputMessages(output: unknown): GenAIMessage[] {
  const messages: GenAIMessage[] = [];
  for (const generation of generationsOf(output)) {
    const message = field(generation, "message");
    let genAIMessage: GenAIMessage;
    if (message !== undefined) {
      genAIMessage = toGenAIMessage(message);
    } else {
      const text = stringField(generation, "text") ?? "";
      const parts: MessagePart[] = [{ type: "text", content: text }];
      genAIMessage = { role: "assistant", parts };
    }
    // An unreported reason is left out rather than guessed (optional in the dev spec).
    const reason = finishReasonOf(generation);
    if (reason !== undefined) genAIMessage.finish_reason = normaliseFinishReason(reason);
    messages.push(genAIMessage);
  }
  return messages;
}
