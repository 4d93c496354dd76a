import type { Attributes, Span } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_ENCODING_FORMATS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
} from "./attributes.js";

/** The host an operation was sent to (`server.address`, `server.port`). */
export interface ServerAddress {
  address: string;
  port: number;
}

/** An embeddings request, in the conventions' terms (genai-semconv §1, §2 embeddings rows). */
export interface EmbeddingsRequest {
  provider?: string;
  model?: string;
  /** Formats asked of the API ("float", "base64"), when the caller chose one. */
  encodingFormats?: string[];
  /** Dimensions asked for (OpenAI's `dimensions`): the count until the vectors say. */
  dimensions?: number;
  server?: ServerAddress;
}

/** What came back: never the vectors themselves, only their shape. */
export interface EmbeddingsResult {
  /** Vectors returned. */
  count: number;
  /** Their length, when every vector has the same one. */
  dimensions?: number;
}

/** Embeddings spans: `embeddings {request.model}` (just `embeddings` with no model), kind CLIENT. */
export function embeddingsSpanName(model: string | undefined): string {
  return model === undefined
    ? GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS
    : `${GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS} ${model}`;
}

/** The sampling-relevant attributes (genai-semconv §2, "s"): passed to `startSpan`. */
export function embeddingsStartAttributes(request: EmbeddingsRequest): Attributes {
  const attributes: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS };
  if (request.provider !== undefined) attributes[ATTR_GEN_AI_PROVIDER_NAME] = request.provider;
  if (request.model !== undefined) attributes[ATTR_GEN_AI_REQUEST_MODEL] = request.model;
  if (request.server !== undefined) Object.assign(attributes, serverAttributes(request.server));
  return attributes;
}

/** The other request attributes, set right after start. */
export function embeddingsRequestAttributes(request: EmbeddingsRequest): Attributes {
  const attributes: Attributes = {};
  if (request.encodingFormats !== undefined && request.encodingFormats.length > 0)
    attributes[ATTR_GEN_AI_REQUEST_ENCODING_FORMATS] = request.encodingFormats;
  if (request.dimensions !== undefined)
    attributes[ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = request.dimensions;
  return attributes;
}

/** `server.address` and `server.port` (the port is conditionally required once the address is set). */
export function serverAttributes(server: ServerAddress): Attributes {
  return { [ATTR_SERVER_ADDRESS]: server.address, [ATTR_SERVER_PORT]: server.port };
}

/** The response side: the vectors' dimension, and the input tokens when the provider reported them. */
export function setEmbeddingsResult(
  span: Span,
  result: EmbeddingsResult | undefined,
  inputTokens: number | undefined,
): void {
  if (result?.dimensions !== undefined)
    span.setAttribute(ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, result.dimensions);
  if (inputTokens !== undefined) span.setAttribute(ATTR_GEN_AI_USAGE_INPUT_TOKENS, inputTokens);
}
