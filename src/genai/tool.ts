import type { Attributes } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_DESCRIPTION,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
} from "./attributes.js";

export interface ToolExecution {
  name: string;
  description?: string;
  /** The id of the model's tool call this execution answers. */
  callId?: string;
}

/** Tool spans: `execute_tool {gen_ai.tool.name}`, kind INTERNAL (genai-semconv §1). */
export function toolSpanName(name: string): string {
  return `${GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL} ${name}`;
}

/** The sampling-relevant attribute (genai-semconv §2, "s"): passed to `startSpan`. */
export const TOOL_START_ATTRIBUTES: Attributes = Object.freeze({
  [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
});

/** The others, set right after start (an attribute given to `startSpan` is copied twice more). */
export function toolAttributes(tool: ToolExecution): Attributes {
  const attributes: Attributes = {
    [ATTR_GEN_AI_TOOL_NAME]: tool.name,
    // LangChain tools are functions the application runs (spec values: function, extension, datastore).
    [ATTR_GEN_AI_TOOL_TYPE]: "function",
  };
  if (tool.description !== undefined) attributes[ATTR_GEN_AI_TOOL_DESCRIPTION] = tool.description;
  if (tool.callId !== undefined) attributes[ATTR_GEN_AI_TOOL_CALL_ID] = tool.callId;
  return attributes;
}
