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

export function retrievalStartAttributes(dataSource: string): Attributes {
  return {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
    [ATTR_GEN_AI_DATA_SOURCE_ID]: dataSource,
  };
}
