import type { Serialized } from "@langchain/core/load/serializable";
import { SpanKind } from "@opentelemetry/api";
import { ATTR_GEN_AI_RETRIEVAL_DOCUMENTS, ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT } from "../genai/attributes.js";
import { quote } from "../genai/json.js";
import { RETRIEVAL_START_ATTRIBUTES, retrievalAttributes, retrievalSpanName } from "../genai/retrieval.js";
import { readDocuments } from "../langchain/documents.js";
import { readRunMetadata } from "../langchain/metadata.js";
import { runDisplayName } from "../langchain/serialized.js";
import { LANGFUSE_OBSERVATION_INPUT, LANGFUSE_OBSERVATION_OUTPUT } from "../langfuse/attributes.js";
import { type RunLifecycle, reportFailure, spanStart } from "../lifecycle.js";
import type { RunState } from "../runs.js";

/** Retriever runs: `retrieval {data source}` (INTERNAL), the query and the documents retrieved. */
export class RetrieverRuns {
  constructor(private readonly core: RunLifecycle) {}

  start(
    retriever: Serialized,
    query: string,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    name: string | undefined,
  ): RunState | undefined {
    const core = this.core;
    try {
      const unrecorded = core.startedUnrecorded(runId, parentRunId, "retriever", "");
      if (unrecorded !== undefined) return unrecorded;
      const dataSource = runDisplayName(retriever, name, "retriever");
      const run = core.startRun(
        runId,
        parentRunId,
        spanStart(
          retrievalSpanName(dataSource),
          SpanKind.INTERNAL,
          "retriever",
          RETRIEVAL_START_ATTRIBUTES,
          retrievalAttributes(dataSource),
          readRunMetadata(metadata),
          tags,
        ),
      );
      if (run === undefined || !run.recording || typeof query !== "string") return run;
      const text = core.capture.setText(run.span, ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT, query);
      if (text !== undefined && core.config.langfuse)
        run.span.setAttribute(LANGFUSE_OBSERVATION_INPUT, quote(text));
      return run;
    } catch (error) {
      reportFailure("handleRetrieverStart", error);
      return undefined;
    }
  }

  end(documents: unknown[], runId: string): void {
    const core = this.core;
    try {
      const run = core.closeVisible(runId);
      if (run === undefined) return;
      core.capture.setJson(
        run.span,
        ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
        () => readDocuments(documents),
        undefined,
        core.langfuseKey(LANGFUSE_OBSERVATION_OUTPUT),
      );
      core.endSpan(run);
    } catch (error) {
      reportFailure("handleRetrieverEnd", error);
    }
  }
}
