import type { Attributes, Span } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_OUTPUT_TYPE,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_CHOICE_COUNT,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from "./attributes.js";
import type { ContentCapture } from "./capture.js";
import { messagesJson, partsJson } from "./message-json.js";
import type {
  GenAIMessage,
  InferenceOperation,
  MessagePart,
  ModelRequestParams,
  ModelResponse,
  ToolDefinition,
} from "./records.js";

/** Inference spans (chat, text_completion): `{operation} {request.model}`, kind CLIENT (genai-semconv §1). */
export function inferenceSpanName(operation: InferenceOperation, model: string | undefined): string {
  return model === undefined ? operation : `${operation} ${model}`;
}

/** The sampling-relevant attributes (genai-semconv §2, "s"): passed to `startSpan`. */
export function inferenceStartAttributes(
  operation: InferenceOperation,
  provider: string | undefined,
  params: ModelRequestParams,
): Attributes {
  const attributes: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: operation };
  if (provider !== undefined) attributes[ATTR_GEN_AI_PROVIDER_NAME] = provider;
  if (params.model !== undefined) attributes[ATTR_GEN_AI_REQUEST_MODEL] = params.model;
  return attributes;
}

/** The other request parameters: set after the response, as they matter less than usage. */
export function inferenceRequestAttributes(params: ModelRequestParams): Attributes {
  const attributes: Attributes = {};
  if (params.temperature !== undefined) attributes[ATTR_GEN_AI_REQUEST_TEMPERATURE] = params.temperature;
  if (params.outputType !== undefined) attributes[ATTR_GEN_AI_OUTPUT_TYPE] = params.outputType;
  if (params.topP !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_P] = params.topP;
  if (params.topK !== undefined) attributes[ATTR_GEN_AI_REQUEST_TOP_K] = params.topK;
  if (params.maxTokens !== undefined) attributes[ATTR_GEN_AI_REQUEST_MAX_TOKENS] = params.maxTokens;
  if (params.stopSequences !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_STOP_SEQUENCES] = params.stopSequences;
  if (params.frequencyPenalty !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY] = params.frequencyPenalty;
  if (params.presencePenalty !== undefined)
    attributes[ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY] = params.presencePenalty;
  if (params.seed !== undefined) attributes[ATTR_GEN_AI_REQUEST_SEED] = params.seed;
  // The spec asks for the choice count only when it is not 1.
  if (params.choiceCount !== undefined && params.choiceCount !== 1) {
    attributes[ATTR_GEN_AI_REQUEST_CHOICE_COUNT] = params.choiceCount;
  }
  if (params.stream === true) attributes[ATTR_GEN_AI_REQUEST_STREAM] = true;
  return attributes;
}

/** `server.address` and `server.port` of a CLIENT span (the port only with an address, per the spec). */
export function serverAttributes(server: { address: string; port: number }): Attributes {
  return { [ATTR_SERVER_ADDRESS]: server.address, [ATTR_SERVER_PORT]: server.port };
}

/** What a model was sent, read lazily: nothing is built when capture is off. */
export interface InferenceInput {
  systemInstructions: MessagePart[];
  messages: GenAIMessage[];
  tools?: ToolDefinition[];
}

export function captureInferenceInput(span: Span, capture: ContentCapture, read: () => InferenceInput): void {
  if (!capture.enabled) return;
  const input = read();
  const system = input.systemInstructions;
  if (system.length > 0)
    capture.setWrittenJson(span, ATTR_GEN_AI_SYSTEM_INSTRUCTIONS, (writer) => partsJson(writer, system));
  capture.setWrittenJson(span, ATTR_GEN_AI_INPUT_MESSAGES, (writer) => messagesJson(writer, input.messages));
  if (input.tools !== undefined) capture.setJson(span, ATTR_GEN_AI_TOOL_DEFINITIONS, () => input.tools);
}

/** The first chunk of a streamed response arrived `seconds` after the call started. */
export function setTimeToFirstChunk(span: Span, seconds: number): void {
  span.setAttribute(ATTR_GEN_AI_REQUEST_STREAM, true);
  span.setAttribute(ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, seconds);
}

export function setInferenceResponse(span: Span, response: ModelResponse): void {
  if (response.model !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_MODEL, response.model);
  if (response.id !== undefined) span.setAttribute(ATTR_GEN_AI_RESPONSE_ID, response.id);
  if (response.finishReasons.length > 0)
    span.setAttribute(ATTR_GEN_AI_RESPONSE_FINISH_REASONS, response.finishReasons);
  const usage = response.usage;
  if (usage === undefined) return;
  if (usage.inputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, usage.inputTokens);
  if (usage.outputTokens !== undefined)
    span.setAttribute(ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, usage.outputTokens);
  if (usage.cacheReadInputTokens !== undefined) {
    span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, usage.cacheReadInputTokens);
  }
  if (usage.cacheCreationInputTokens !== undefined) {
    span.setAttribute(ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, usage.cacheCreationInputTokens);
  }
  if (usage.reasoningOutputTokens !== undefined) {
    span.setAttribute(ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, usage.reasoningOutputTokens);
  }
}

export function captureInferenceOutput(
  span: Span,
  capture: ContentCapture,
  read: () => GenAIMessage[],
): void {
  if (!capture.enabled) return;
  const messages = read();
  capture.setWrittenJson(span, ATTR_GEN_AI_OUTPUT_MESSAGES, (writer) => messagesJson(writer, messages));
}
