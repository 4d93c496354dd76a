import type { Attributes, Span } from "@opentelemetry/api";
import {
  boundText,
  DEFAULT_JSON_BUDGET,
  isSecretKey,
  looksLikeSecret,
  REDACTED,
  toBoundedJson,
} from "../genai/json.js";
import type { TokenUsage } from "../genai/records.js";
import type { PromptLink } from "../langchain/identity.js";
import {
  LANGFUSE_OBSERVATION_COMPLETION_START_TIME,
  LANGFUSE_OBSERVATION_LEVEL,
  LANGFUSE_OBSERVATION_PROMPT_NAME,
  LANGFUSE_OBSERVATION_PROMPT_VERSION,
  LANGFUSE_OBSERVATION_STATUS_MESSAGE,
  LANGFUSE_OBSERVATION_USAGE_DETAILS,
  LANGFUSE_TRACE_METADATA_PREFIX,
  LANGFUSE_TRACE_NAME,
  LANGFUSE_TRACE_TAGS,
  type ObservationLevel,
} from "./attributes.js";

/** Trace-level attributes Langfuse stores per observation, so they go on every span of the trace. */
export function langfuseTraceAttributes(
  traceName: string | undefined,
  tags: string[] | undefined,
  traceMetadata: Record<string, unknown> | undefined,
): Attributes {
  const attributes: Attributes = {};
  if (traceName !== undefined) attributes[LANGFUSE_TRACE_NAME] = traceName;
  if (tags !== undefined && tags.length > 0) attributes[LANGFUSE_TRACE_TAGS] = tags;
  if (traceMetadata !== undefined) {
    for (const [key, value] of Object.entries(traceMetadata)) {
      const attribute = metadataValue(key, value);
      if (attribute !== undefined) attributes[LANGFUSE_TRACE_METADATA_PREFIX + key] = attribute;
    }
  }
  return attributes;
}

/**
 * A metadata value as an attribute: primitives as they are, anything else as bounded JSON;
 * credentials (by key or by look) redacted.
 */
export function metadataValue(key: string, value: unknown): string | number | boolean | undefined {
  if (value !== undefined && value !== null && isSecretKey(key)) return REDACTED;
  switch (typeof value) {
    case "string":
      if (looksLikeSecret(value)) return REDACTED;
      return boundText(value, DEFAULT_JSON_BUDGET.maxChars);
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  return value === null ? undefined : toBoundedJson(value).json;
}

/**
 * Usage in Langfuse's keys, which it prices per key: `input` and `output` exclude the cached and
 * reasoning parts that have their own keys (langfuse-otel §5). Written directly as JSON: the
 * values are token counts (non-negative integers) and the keys fixed.
 */
export function usageDetailsJson(usage: TokenUsage): string | undefined {
  const cached = usage.cacheReadInputTokens ?? 0;
  const created = usage.cacheCreationInputTokens ?? 0;
  const reasoning = usage.reasoningOutputTokens ?? 0;
  let json = "";
  const add = (key: string, value: number): void => {
    json += `${json === "" ? "{" : ","}"${key}":${value}`;
  };
  if (usage.inputTokens !== undefined) add("input", Math.max(0, usage.inputTokens - cached - created));
  if (usage.outputTokens !== undefined) add("output", Math.max(0, usage.outputTokens - reasoning));
  if (usage.cacheReadInputTokens !== undefined) add("input_cached_tokens", usage.cacheReadInputTokens);
  if (usage.cacheCreationInputTokens !== undefined)
    add("input_cache_creation", usage.cacheCreationInputTokens);
  if (usage.reasoningOutputTokens !== undefined) add("output_reasoning_tokens", usage.reasoningOutputTokens);
  if (usage.inputTokens !== undefined || usage.outputTokens !== undefined)
    add("total", usage.totalTokens ?? (usage.inputTokens ?? 0) + (usage.outputTokens ?? 0));
  return json === "" ? undefined : `${json}}`;
}

export function setUsageDetails(span: Span, usage: TokenUsage | undefined): void {
  if (usage === undefined) return;
  const json = usageDetailsJson(usage);
  if (json !== undefined) span.setAttribute(LANGFUSE_OBSERVATION_USAGE_DETAILS, json);
}

export function setCompletionStartTime(span: Span, epochMs: number): void {
  span.setAttribute(LANGFUSE_OBSERVATION_COMPLETION_START_TIME, new Date(epochMs).toISOString());
}

/** Links a generation to a Langfuse prompt: an integer version with the name, or nothing. */
export function promptAttributes(prompt: PromptLink): Attributes {
  return {
    [LANGFUSE_OBSERVATION_PROMPT_NAME]: prompt.name,
    [LANGFUSE_OBSERVATION_PROMPT_VERSION]: prompt.version,
  };
}

export function setLevel(span: Span, level: ObservationLevel, message?: string): void {
  span.setAttribute(LANGFUSE_OBSERVATION_LEVEL, level);
  if (message !== undefined) span.setAttribute(LANGFUSE_OBSERVATION_STATUS_MESSAGE, message);
}

/** Finish reasons that mean the answer is cut or filtered: worth a WARNING in Langfuse. */
export function finishWarning(finishReasons: readonly string[]): string | undefined {
  for (const reason of finishReasons) {
    const lower = reason.toLowerCase();
    if (lower === "length" || lower === "max_tokens" || lower === "content_filter" || lower === "safety") {
      return `the model stopped early: finish reason "${reason}"`;
    }
  }
  return undefined;
}
