import type { Attributes } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_WORKFLOW_NAME,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
} from "./attributes.js";

/** In-process agent invocations: `invoke_agent {name}`, kind INTERNAL (semconv v1.41). */
export function agentSpanName(name: string): string {
  return `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT} ${name}`;
}

export function agentAttributes(name: string): Attributes {
  return {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
    [ATTR_GEN_AI_AGENT_NAME]: name,
  };
}

/** Workflows (a LangGraph graph): `invoke_workflow {name}`, kind INTERNAL (semconv v1.41). */
export function workflowSpanName(name: string): string {
  return `${GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW} ${name}`;
}

export function workflowAttributes(name: string): Attributes {
  return {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
    [ATTR_GEN_AI_WORKFLOW_NAME]: name,
  };
}
