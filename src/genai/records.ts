/**
 * Framework-neutral records of GenAI operations. The LangChain readers produce them; the emitters
 * in this folder turn them into spans. Nothing here knows about LangChain.
 */

export type InferenceOperation = "chat" | "text_completion";

/** The request side of a model call. */
export interface ModelRequestParams {
  model?: string;
  temperature?: number;
  topP?: number;
  topK?: number;
  maxTokens?: number;
  stopSequences?: string[];
  frequencyPenalty?: number;
  presencePenalty?: number;
  seed?: number;
  choiceCount?: number;
  stream?: boolean;
  /** The output format asked for (`gen_ai.output.type`): only when the request names one. */
  outputType?: "json" | "text";
}

/** Token usage in the semconv's terms: input includes cached tokens, output includes reasoning. */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheCreationInputTokens?: number;
  reasoningOutputTokens?: number;
}

/** The response side of a model call. */
export interface ModelResponse {
  model?: string;
  id?: string;
  /** One per generation, as the provider reported it ("stop", "tool_calls", "end_turn", …). */
  finishReasons: string[];
  /**
   * Each generation's reason in order, undefined where none was reported: read once here, and
   * given to the output messages' `finish_reason`.
   */
  generationReasons: (string | undefined)[];
  usage?: TokenUsage;
  /** Cost of the call in USD, when the provider reported it (e.g. OpenRouter's `usage.cost`). */
  cost?: number;
}

/** A message part of the GenAI message JSON (genai-semconv §3). */
export type MessagePart = Record<string, unknown> & { type: string };

export interface GenAIMessage {
  role: string;
  parts: MessagePart[];
  name?: string;
  finish_reason?: string;
}

/** `gen_ai.tool.definitions` entries (the spec's default leaves out parameters). */
export interface ToolDefinition {
  type: string;
  name: string;
  description?: string;
}

/** A retrieved document as `gen_ai.retrieval.documents` records it (`[{id, score}]`, plus content). */
export interface RetrievedDocument {
  id?: string;
  score?: number;
  content?: string;
}

/** A model call (an inference or an embeddings request) in flight, as its metrics, cost and request totals need it at its end. */
export interface InferenceCall {
  operation: InferenceOperation | "embeddings";
  provider: string | undefined;
  requestModel: string | undefined;
  serverAddress: string | undefined;
  serverPort: number | undefined;
  /** `performance.now()` of each streamed chunk, for the time per output chunk (metrics on only). */
  chunkTimes: number[] | undefined;
}
