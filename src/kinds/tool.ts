import type { Serialized } from "@langchain/core/load/serializable";
import { SpanKind } from "@opentelemetry/api";
import {
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
} from "../genai/attributes.js";
import { TOOL_START_ATTRIBUTES, toolAttributes, toolSpanName } from "../genai/tool.js";
import { renderLangChainValue } from "../langchain/io.js";
import { readRunMetadata } from "../langchain/metadata.js";
import { runDisplayName } from "../langchain/serialized.js";
import { readToolResult } from "../langchain/tools.js";
import { nonEmptyString } from "../langchain/values.js";
import { LANGFUSE_OBSERVATION_INPUT, LANGFUSE_OBSERVATION_OUTPUT } from "../langfuse/attributes.js";
import { type RunLifecycle, reportFailure, spanStart } from "../lifecycle.js";

/**
 * Tool runs: `execute_tool {name}` (INTERNAL), the call id that joins it to the model's tool call,
 * arguments and result; a `ToolMessage` with status "error" is a failure the tool reported.
 */
export class ToolRuns {
  constructor(private readonly core: RunLifecycle) {}

  /** `input`: the tool's arguments, as the object LangChain validated (hook) or as JSON text (callback). */
  start(
    tool: Serialized,
    input: unknown,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
    toolCallId: string | undefined,
  ): void {
    const core = this.core;
    try {
      const name = runDisplayName(tool, runName, "tool");
      if (core.startedUnrecorded(runId, parentRunId, "tool", name) !== undefined) return;
      const extra = toolAttributes({
        name,
        description: core.tools.description(name),
        callId: nonEmptyString(toolCallId),
      });
      const start = spanStart(
        toolSpanName(name),
        SpanKind.INTERNAL,
        "tool",
        TOOL_START_ATTRIBUTES,
        extra,
        readRunMetadata(metadata),
        tags,
      );
      start.runName = name;
      const run = core.startRun(runId, parentRunId, start);
      if (run === undefined || !run.recording) return;
      core.capture.setJson(
        run.span,
        ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
        () => parseJsonText(input),
        undefined,
        core.langfuseKey(LANGFUSE_OBSERVATION_INPUT),
      );
    } catch (error) {
      reportFailure("handleToolStart", error);
    }
  }

  end(output: unknown, runId: string): void {
    const core = this.core;
    try {
      const run = core.runs.close(runId);
      if (run === undefined || run.hidden) return;
      const result = readToolResult(output);
      // A ToolMessage with status "error" is a failure the tool reported instead of throwing.
      const failure = result.failed
        ? { name: "ToolError", message: describeFailure(result.content) }
        : undefined;
      core.accountRun(run, failure);
      if (!run.recording) {
        run.span.end();
        return;
      }
      // The same id as at the start on LangChain 1.x; on 0.3, which does not pass it there, the only one.
      if (result.callId !== undefined) run.span.setAttribute(ATTR_GEN_AI_TOOL_CALL_ID, result.callId);
      core.capture.setJson(
        run.span,
        ATTR_GEN_AI_TOOL_CALL_RESULT,
        () => result.content,
        renderLangChainValue,
        core.langfuseKey(LANGFUSE_OBSERVATION_OUTPUT),
      );
      if (failure !== undefined) core.markFailed(run, failure, true);
      core.endSpan(run);
    } catch (error) {
      reportFailure("handleToolEnd", error);
    }
  }
}

/** Tool input arrives as a JSON string for structured tools; record the object when it parses. */
function parseJsonText(text: unknown): unknown {
  if (typeof text !== "string") return text;
  const first = text.charCodeAt(0);
  // Only objects and arrays are worth parsing: '{' or '['.
  if (first !== 123 && first !== 91) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function describeFailure(content: unknown): string {
  return typeof content === "string" ? content : "the tool reported an error";
}
