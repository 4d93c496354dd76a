import type { Attributes } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_DATA_SOURCE_ID,
  ATTR_GEN_AI_OPERATION_NAME,
  GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
} from "./attributes.js";

/** Retrieval spans: `retrieval {data source}`, kind INTERNAL as in the spec's LangChain reference. */
export function retrievalSpanName(dataSource: string): string {
  return `${GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL} ${dataSource}`;
}

/** The sampling-relevant attribute (genai-semconv §2, "s"): passed to `startSpan`. */
export const RETRIEVAL_START_ATTRIBUTES: Attributes = Object.freeze({
  [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
});

/** The others, set right after start. */
export function retrievalAttributes(dataSource: string): Attributes {
  return { [ATTR_GEN_AI_DATA_SOURCE_ID]: dataSource };
}
