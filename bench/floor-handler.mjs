// The floor for langchain-otel's output: a handler that writes the same spans, attributes and
// content as langchain-otel does by default on these workloads (GenAI attributes, the Langfuse
// dialect, captured content, each call's cost and the request totals), and records the same GenAI
// metrics, in the least code, and without any of its rules: no redaction of credentials, no size
// budget, no mask, no guard against hostile values, no reading of other providers' shapes, no
// LangGraph, no errors, no price table (the one model's prices are constants). Not something to
// use: it tells how much of langchain-otel's cost is the output itself, and how much is the way it
// is made.
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { context, SpanKind, trace } from "@opentelemetry/api";

const json = (value) => {
  try {
    return JSON.stringify(value) ?? "null";
  } catch {
    return '"[unserializable]"';
  }
};
const role = (message) => {
  const type = message._getType();
  return type === "human" ? "user" : type === "ai" ? "assistant" : type;
};
const unwrap = (values, key) => {
  if (values === null || typeof values !== "object") return values;
  const keys = Object.keys(values);
  return keys.length === 1 && keys[0] === key ? values[key] : values;
};
/** Chain input and output: messages as {role, content}, prompt values as their messages. */
const chainJson = (value) => {
  if (value !== null && typeof value === "object") {
    if (typeof value.toChatMessages === "function")
      return json(value.messages.map((m) => ({ role: role(m), content: m.content })));
    if (typeof value._getType === "function") return json({ role: role(value), content: value.content });
  }
  return json(value);
};
const genAIMessage = (message) => {
  const r = role(message);
  let parts;
  if (r === "tool") {
    parts = [{ type: "tool_call_response", id: message.tool_call_id, response: message.content }];
  } else {
    parts = message.content ? [{ type: "text", content: message.content }] : [];
    for (const call of message.tool_calls ?? [])
      parts.push({ type: "tool_call", id: call.id, name: call.name, arguments: call.args });
  }
  return message.name ? { role: r, parts, name: message.name } : { role: r, parts };
};
const FINISH = { stop: "stop", tool_calls: "tool_call", length: "length" };
/** gpt-4o-mini's published prices, USD per million tokens: input, cached input, output. */
const PRICE = { input: 0.15, cacheRead: 0.075, output: 0.6 };
/** USD to 1e-10, as langchain-otel writes it. */
const roundUsd = (usd) => Math.round(usd * 1e10) / 1e10;
// The GenAI metrics' bucket advice (semconv v1.41): token counts, seconds.
const TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const SECOND_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

export class FloorHandler extends BaseCallbackHandler {
  name = "FloorHandler";
  constructor(tracer, meter) {
    super({ _awaitHandler: true });
    this.tracer = tracer;
    this.runs = new Map();
    const seconds = (name, description) =>
      meter.createHistogram(name, {
        description,
        unit: "s",
        advice: { explicitBucketBoundaries: SECOND_BUCKETS },
      });
    this.tokenUsage = meter.createHistogram("gen_ai.client.token.usage", {
      description: "Number of input and output tokens used.",
      unit: "{token}",
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
    this.operationDuration = seconds("gen_ai.client.operation.duration", "GenAI operation duration.");
    this.timeToFirstChunk = seconds(
      "gen_ai.client.operation.time_to_first_chunk",
      "Time to receive the first chunk of a streamed response.",
    );
    this.timePerOutputChunk = seconds(
      "gen_ai.client.operation.time_per_output_chunk",
      "Time per output chunk after the first, from the end of the previous chunk to the end of this one.",
    );
    this.toolDuration = seconds("gen_ai.execute_tool.duration", "The duration of a single tool execution.");
  }
  open(runId, parentRunId, name, kind, operation) {
    const parent = this.runs.get(parentRunId);
    let ctx = context.active();
    if (parent !== undefined) {
      parent.childContext ??= trace.setSpan(parent.context, parent.span);
      ctx = parent.childContext;
    }
    const span = this.tracer.startSpan(
      name,
      { kind, attributes: operation === undefined ? undefined : { "gen_ai.operation.name": operation } },
      ctx,
    );
    const run = {
      span,
      context: ctx,
      childContext: undefined,
      traceName: parent?.traceName ?? name,
      root: parent === undefined,
      // The request's sums, shared by every run of the trace and written on its root.
      totals: parent?.totals ?? { input: 0, output: 0, cached: 0, cost: 0, models: 0, tools: 0 },
      started: performance.now(),
    };
    this.runs.set(runId, run);
    return run;
  }
  close(runId) {
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    return run;
  }
  common(run, runId, type) {
    run.span.setAttribute("langchain.run.id", runId);
    run.span.setAttribute("langfuse.observation.type", type);
  }

  handleChainStart(chain, inputs, runId, parentRunId, _tags, _metadata, runType, runName, extra) {
    const run = this.open(runId, parentRunId, runName ?? chain.name ?? "chain", SpanKind.INTERNAL);
    if (runType) run.span.setAttribute("langchain.run.type", runType);
    this.common(run, runId, "chain");
    run.span.setAttribute("gen_ai.workflow.name", run.traceName);
    run.span.setAttribute("langfuse.trace.name", run.traceName);
    run.defersInput = extra?.lc_defers_inputs === true;
    if (!run.defersInput)
      run.span.setAttribute("langfuse.observation.input", chainJson(unwrap(inputs, "input")));
  }
  handleChainEnd(outputs, runId, _parentRunId, _tags, kwargs) {
    const run = this.close(runId);
    if (run.defersInput)
      run.span.setAttribute("langfuse.observation.input", chainJson(unwrap(kwargs?.inputs, "input")));
    run.span.setAttribute("langfuse.observation.output", chainJson(unwrap(outputs, "output")));
    const totals = run.totals;
    if (run.root && totals.models + totals.tools > 0) {
      run.span.setAttribute("langchain_otel.request.input_tokens", totals.input);
      run.span.setAttribute("langchain_otel.request.output_tokens", totals.output);
      run.span.setAttribute("langchain_otel.request.inference_calls", totals.models);
      run.span.setAttribute("langchain_otel.request.tool_calls", totals.tools);
      if (totals.cached > 0)
        run.span.setAttribute("langchain_otel.request.cache_read.input_tokens", totals.cached);
      if (totals.models > 0) run.span.setAttribute("langchain_otel.request.cost_usd", roundUsd(totals.cost));
    }
    run.span.end();
  }

  handleChatModelStart(_llm, messages, runId, parentRunId, extra, _tags, metadata) {
    const params = extra?.invocation_params ?? {};
    const run = this.open(runId, parentRunId, `chat ${params.model}`, SpanKind.CLIENT, "chat");
    run.span.setAttribute("gen_ai.provider.name", metadata?.ls_provider);
    run.provider = metadata?.ls_provider;
    run.span.setAttribute("gen_ai.request.model", params.model);
    this.common(run, runId, "generation");
    run.messages = messages[0];
    run.params = params;
  }
  handleLLMNewToken(_token, _idx, runId) {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    const now = performance.now();
    if (run.firstChunk === undefined) {
      run.firstChunk = now;
      run.chunks = [now];
    } else run.chunks.push(now);
  }
  handleLLMEnd(output, runId) {
    const run = this.close(runId);
    const ended = performance.now();
    const span = run.span;
    const generation = output.generations[0][0];
    const message = generation.message;
    const metadata = message.response_metadata ?? {};
    const usage = message.usage_metadata;
    const finish = generation.generationInfo?.finish_reason ?? metadata.finish_reason;
    span.setAttribute("gen_ai.response.model", metadata.model_name);
    if (message.id && !message.id.startsWith("run-")) span.setAttribute("gen_ai.response.id", message.id);
    if (finish) span.setAttribute("gen_ai.response.finish_reasons", [finish]);
    if (usage) {
      span.setAttribute("gen_ai.usage.input_tokens", usage.input_tokens);
      span.setAttribute("gen_ai.usage.output_tokens", usage.output_tokens);
      const cached = usage.input_token_details?.cache_read;
      if (cached !== undefined) span.setAttribute("gen_ai.usage.cache_read.input_tokens", cached);
    }
    if (run.firstChunk !== undefined) {
      span.setAttribute("gen_ai.request.stream", true);
      span.setAttribute("gen_ai.response.time_to_first_chunk", (run.firstChunk - run.started) / 1000);
      span.setAttribute(
        "langfuse.observation.completion_start_time",
        new Date(performance.timeOrigin + run.firstChunk).toISOString(),
      );
    }
    span.setAttribute("gen_ai.request.temperature", run.params.temperature);
    span.setAttribute("gen_ai.request.max_tokens", run.params.max_tokens);
    span.setAttribute("langfuse.trace.name", run.traceName);
    const system = [];
    const input = [];
    for (const m of run.messages) {
      if (input.length === 0 && m._getType() === "system") system.push({ type: "text", content: m.content });
      else input.push(genAIMessage(m));
    }
    if (system.length > 0) span.setAttribute("gen_ai.system_instructions", json(system));
    span.setAttribute("gen_ai.input.messages", json(input));
    const out = genAIMessage(message);
    if (finish) out.finish_reason = FINISH[finish] ?? finish;
    span.setAttribute("gen_ai.output.messages", json([out]));
    if (usage) {
      const cached = usage.input_token_details?.cache_read ?? 0;
      span.setAttribute(
        "langfuse.observation.usage_details",
        `{"input":${usage.input_tokens - cached},"output":${usage.output_tokens},"input_cached_tokens":${cached},"total":${usage.total_tokens}}`,
      );
    }
    const totals = run.totals;
    totals.models++;
    if (usage) {
      const cached = usage.input_token_details?.cache_read ?? 0;
      const cost =
        ((usage.input_tokens - cached) * PRICE.input +
          cached * PRICE.cacheRead +
          usage.output_tokens * PRICE.output) /
        1e6;
      span.setAttribute("langchain_otel.cost_usd", roundUsd(cost));
      totals.input += usage.input_tokens;
      totals.output += usage.output_tokens;
      totals.cached += cached;
      totals.cost += cost;
    }
    span.end();
    // The GenAI client metrics of the call.
    const attributes = {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": run.provider,
      "gen_ai.request.model": run.params.model,
      "gen_ai.response.model": metadata.model_name,
    };
    this.operationDuration.record((ended - run.started) / 1000, attributes);
    if (usage) {
      this.tokenUsage.record(usage.input_tokens, { ...attributes, "gen_ai.token.type": "input" });
      this.tokenUsage.record(usage.output_tokens, { ...attributes, "gen_ai.token.type": "output" });
    }
    if (run.firstChunk !== undefined) {
      this.timeToFirstChunk.record((run.firstChunk - run.started) / 1000, attributes);
      for (let i = 1; i < run.chunks.length; i++)
        this.timePerOutputChunk.record((run.chunks[i] - run.chunks[i - 1]) / 1000, attributes);
    }
  }

  handleToolStart(tool, input, runId, parentRunId, _tags, _metadata, runName, toolCallId) {
    const name = runName ?? tool.name;
    const run = this.open(runId, parentRunId, `execute_tool ${name}`, SpanKind.INTERNAL, "execute_tool");
    run.span.setAttribute("gen_ai.tool.name", name);
    run.span.setAttribute("gen_ai.tool.type", "function");
    if (toolCallId) run.span.setAttribute("gen_ai.tool.call.id", toolCallId);
    this.common(run, runId, "tool");
    run.span.setAttribute("langfuse.trace.name", run.traceName);
    let args;
    try {
      args = json(JSON.parse(input));
    } catch {
      args = json(input);
    }
    run.span.setAttribute("gen_ai.tool.call.arguments", args);
    run.span.setAttribute("langfuse.observation.input", args);
    run.toolName = name;
  }
  handleToolEnd(output, runId) {
    const run = this.close(runId);
    const result = chainJson(output?.tool_call_id !== undefined ? output.content : output);
    run.span.setAttribute("gen_ai.tool.call.result", result);
    run.span.setAttribute("langfuse.observation.output", result);
    run.span.end();
    run.totals.tools++;
    this.toolDuration.record((performance.now() - run.started) / 1000, {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": run.toolName,
    });
  }

  handleRetrieverStart(retriever, query, runId, parentRunId, _tags, _metadata, name) {
    const source = name ?? retriever.name ?? retriever.id.at(-1);
    const run = this.open(runId, parentRunId, `retrieval ${source}`, SpanKind.INTERNAL, "retrieval");
    run.span.setAttribute("gen_ai.data_source.id", source);
    this.common(run, runId, "retriever");
    run.span.setAttribute("langfuse.trace.name", run.traceName);
    run.span.setAttribute("gen_ai.retrieval.query.text", query);
    run.span.setAttribute("langfuse.observation.input", json(query));
  }
  handleRetrieverEnd(documents, runId) {
    const run = this.close(runId);
    const docs = json(documents.map((d) => ({ id: d.id, score: d.metadata?.score, content: d.pageContent })));
    run.span.setAttribute("gen_ai.retrieval.documents", docs);
    run.span.setAttribute("langfuse.observation.output", docs);
    run.span.end();
  }
}
