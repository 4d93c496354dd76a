// langchain-otel on LangChain.js 0.3 (@langchain/core 0.3.80, the last 0.3 release; @langchain/openai
// 0.6; LangGraph 0.4), installed from the built package as a user installs it (see .npmrc). Run from
// the repository root: `npm run compat:langchain03` (builds, installs from the lockfile, runs this).
//
// 1. A RAG chain with the real ChatOpenAI 0.6 against a local OpenAI-compatible server: the tree, the
//    GenAI attributes, the cost and the request totals.
// 2. A streamed call: time to first chunk and the usage of the last chunk.
// 3. A tool-calling round with a failing tool.
// 4. A LangGraph 0.4 graph, with a span started inside a node (the context bridge), and its prebuilt
//    ReAct agent.
// 5. The GenAI metrics, read through the SDK's own reader.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Document } from "@langchain/core/documents";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { context } from "@opentelemetry/api";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { LangChainContextManager, OpenTelemetryCallbackHandler } from "langchain-otel";
import { z } from "zod";
import { check, failures } from "../checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = (name) => require(join(here, "node_modules", name, "package.json")).version;

const USAGE = { prompt_tokens: 1200, completion_tokens: 80, total_tokens: 1280 };
const RESPONSE_MODEL = "gpt-4o-mini-2024-07-18";

/**
 * A local OpenAI-compatible chat completions endpoint: a tool call when tools are offered and no
 * tool has answered yet, else an answer; streamed (with usage in a last chunk) when asked.
 */
async function startModelServer() {
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const call = JSON.parse(body);
      const answered = call.messages.some((message) => message.role === "tool");
      const base = { id: "chatcmpl-1", created: 1, model: RESPONSE_MODEL };
      if (call.stream) {
        response.writeHead(200, { "content-type": "text/event-stream" });
        const send = (chunk) =>
          response.write(
            `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", ...chunk })}\n\n`,
          );
        send({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
        for (const piece of ["Your ", "order ", "shipped."]) {
          send({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
        }
        send({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
        if (call.stream_options?.include_usage) send({ choices: [], usage: USAGE });
        response.end("data: [DONE]\n\n");
        return;
      }
      const message =
        call.tools?.length && !answered
          ? {
              role: "assistant",
              content: null,
              tool_calls: [
                {
                  id: "call_1",
                  type: "function",
                  function: {
                    name: call.tools[0].function.name,
                    arguments: JSON.stringify({ order: "A-1042" }),
                  },
                },
              ],
            }
          : { role: "assistant", content: "Order A-1042 was delivered." };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          ...base,
          object: "chat.completion",
          choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }],
          usage: USAGE,
        }),
      );
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseURL: `http://127.0.0.1:${server.address().port}/v1`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

class Shelf extends BaseRetriever {
  lc_namespace = ["compat", "retrievers"];
  async _getRelevantDocuments() {
    return [
      new Document({ pageContent: "Orders ship in two days.", metadata: { id: "shipping" } }),
      new Document({ pageContent: "Refunds take a week.", metadata: { id: "refunds" } }),
    ];
  }
}

/** Metrics read when asked, through the SDK's own collection path. */
class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  async onForceFlush() {}
  async onShutdown() {}
}

/** The order lookup the tool rounds and the agent call. */
const lookup = tool(async ({ order }) => `order ${order}: delivered`, {
  name: "lookup_order",
  description: "Looks an order up.",
  schema: z.object({ order: z.string() }),
});

const children = (spans, parent) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);
const named = (spans, name) => spans.filter((span) => span.name === name);

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new Reader();
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new LangChainContextManager().enable();
context.setGlobalContextManager(contextManager);
const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider, meterProvider });
const server = await startModelServer();
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  apiKey: "sk-test-0123456789abcdefghij",
  configuration: { baseURL: server.baseURL },
  maxRetries: 0,
});

await check("the installed package runs on this project's LangChain 0.3", () => {
  assert.equal(version("@langchain/core"), "0.3.80");
  assert.match(version("@langchain/openai"), /^0\.6\./);
  assert.match(version("@langchain/langgraph"), /^0\.4\./);
  // The package's own @langchain/core is the app's: one copy.
  const fromPackage = createRequire(require.resolve("langchain-otel"));
  assert.equal(
    fromPackage.resolve("@langchain/core/callbacks/base"),
    require.resolve("@langchain/core/callbacks/base"),
  );
});

await check(
  "a RAG chain with ChatOpenAI 0.6: the tree, GenAI attributes, cost and request totals",
  async () => {
    exporter.reset();
    const prompt = ChatPromptTemplate.fromTemplate("Context: {context}\n\nQuestion: {question}");
    const rag = RunnableSequence.from([
      RunnableLambda.from(async (question) => ({
        context: (await new Shelf().invoke(question)).map((doc) => doc.pageContent).join("\n"),
        question,
      })).withConfig({ runName: "retrieve" }),
      prompt,
      model,
      new StringOutputParser(),
    ]).withConfig({ runName: "rag" });

    const answer = await rag.invoke("Where is order A-1042?", { callbacks: [handler] });

    assert.equal(answer, "Order A-1042 was delivered.");
    const spans = exporter.getFinishedSpans();
    const [root] = named(spans, "rag");
    assert.ok(root, "the chain's span");
    assert.deepEqual(
      children(spans, root).map((span) => span.name),
      ["retrieve", "ChatPromptTemplate", "chat gpt-4o-mini", "StrOutputParser"],
    );
    const [retrieval] = spans.filter((span) => span.attributes["gen_ai.operation.name"] === "retrieval");
    assert.equal(
      children(spans, named(spans, "retrieve")[0])[0],
      retrieval,
      "the retriever under its lambda",
    );
    const [chat] = named(spans, "chat gpt-4o-mini");
    assert.deepEqual(
      {
        provider: chat.attributes["gen_ai.provider.name"],
        request: chat.attributes["gen_ai.request.model"],
        response: chat.attributes["gen_ai.response.model"],
        input: chat.attributes["gen_ai.usage.input_tokens"],
        output: chat.attributes["gen_ai.usage.output_tokens"],
        finish: chat.attributes["gen_ai.response.finish_reasons"],
      },
      {
        provider: "openai",
        request: "gpt-4o-mini",
        response: RESPONSE_MODEL,
        input: 1200,
        output: 80,
        finish: ["stop"],
      },
    );
    // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
    const cost = 1200 * 0.15e-6 + 80 * 0.6e-6;
    assert.ok(Math.abs(chat.attributes["langchain_otel.cost_usd"] - cost) < 1e-9, "the call's cost");
    assert.equal(root.attributes["langchain_otel.request.input_tokens"], 1200);
    assert.ok(
      Math.abs(root.attributes["langchain_otel.request.cost_usd"] - cost) < 1e-9,
      "the request's cost",
    );
  },
);

await check("a streamed ChatOpenAI call: time to first chunk, and the usage of the last chunk", async () => {
  exporter.reset();
  let text = "";
  for await (const chunk of await model.stream("Where is my order?", { callbacks: [handler] })) {
    text += chunk.content;
  }
  assert.equal(text, "Your order shipped.");
  const [chat] = named(exporter.getFinishedSpans(), "chat gpt-4o-mini");
  assert.equal(chat.attributes["gen_ai.request.stream"], true);
  assert.ok(chat.attributes["gen_ai.response.time_to_first_chunk"] > 0, "time to first chunk");
  assert.equal(chat.attributes["gen_ai.usage.output_tokens"], 80);
});

await check("a streamed chain records its real input (0.3 starts a stream with a placeholder)", async () => {
  exporter.reset();
  const shout = RunnableLambda.from((text) => text.toUpperCase()).withConfig({ runName: "shout" });
  let out = "";
  for await (const chunk of await shout.stream("hello", { callbacks: [handler] })) out += chunk;
  assert.equal(out, "HELLO");
  const [span] = named(exporter.getFinishedSpans(), "shout");
  assert.equal(span.attributes["langfuse.observation.input"], JSON.stringify("hello"));
  assert.equal(span.attributes["langfuse.observation.output"], JSON.stringify("HELLO"));
});

await check(
  "a tool-calling round: the tool call's id, and a failing tool's error on its own span",
  async () => {
    exporter.reset();
    const notify = tool(
      async () => {
        throw new Error("mail service unavailable");
      },
      { name: "notify", description: "Mails the customer.", schema: z.object({ order: z.string() }) },
    );
    const round = RunnableLambda.from(async (question, config) => {
      const asked = await model.bindTools([lookup]).invoke(question, config);
      const found = await lookup.invoke(asked.tool_calls[0], config);
      const mailed = await notify.invoke({ order: "A-1042" }, config).catch((error) => error.message);
      return `${found.content}; ${mailed}`;
    }).withConfig({ runName: "round" });

    assert.equal(
      await round.invoke("Where is order A-1042?", { callbacks: [handler] }),
      "order A-1042: delivered; mail service unavailable",
    );
    const spans = exporter.getFinishedSpans();
    const [chat] = named(spans, "chat gpt-4o-mini");
    // The provider's own reason, as on LangChain 1.x (the output messages carry the spec's "tool_call").
    assert.deepEqual(chat.attributes["gen_ai.response.finish_reasons"], ["tool_calls"]);
    // LangChain 0.3 does not pass the call's id to handleToolStart: it comes from the ToolMessage.
    assert.equal(named(spans, "execute_tool lookup_order")[0].attributes["gen_ai.tool.call.id"], "call_1");
    const [failed] = named(spans, "execute_tool notify");
    assert.equal(failed.status.code, 2, "the failing tool's span is an error");
    assert.equal(failed.attributes["error.type"], "Error");
    assert.equal(named(spans, "round")[0].attributes["langchain_otel.request.tool_calls"], 2);
  },
);

await check(
  "a LangGraph 0.4 graph: workflow and node spans, and a span started in a node under it",
  async () => {
    exporter.reset();
    const tracer = provider.getTracer("compat-app");
    const State = Annotation.Root({ count: Annotation() });
    const graph = new StateGraph(State)
      .addNode("increment", (state) => {
        tracer.startSpan("inside-node").end();
        return { count: state.count + 1 };
      })
      .addEdge(START, "increment")
      .addEdge("increment", END)
      .compile();

    assert.deepEqual(await graph.invoke({ count: 1 }, { callbacks: [handler] }), { count: 2 });
    const spans = exporter.getFinishedSpans();
    const [workflow] = spans.filter((span) => span.attributes["gen_ai.operation.name"] === "invoke_workflow");
    assert.ok(workflow, "the graph's span");
    const [node] = named(spans, "increment");
    assert.equal(node.parentSpanContext?.spanId, workflow.spanContext().spanId);
    assert.equal(named(spans, "inside-node")[0].parentSpanContext?.spanId, node.spanContext().spanId);
  },
);

await check(
  "LangGraph 0.4's prebuilt ReAct agent: one invoke_agent span over its model calls and tool",
  async () => {
    exporter.reset();
    const agent = createReactAgent({ llm: model, tools: [lookup], name: "support_agent" });

    await agent.invoke(
      { messages: [{ role: "user", content: "Where is order A-1042?" }] },
      { callbacks: [handler] },
    );
    const spans = exporter.getFinishedSpans();
    const [root] = named(spans, "invoke_agent support_agent");
    assert.ok(root, "the agent's span");
    assert.equal(root.parentSpanContext, undefined, "the agent is the trace's root");
    assert.equal(root.attributes["gen_ai.agent.name"], "support_agent");
    assert.deepEqual(
      children(spans, root).map((span) => span.name),
      ["agent", "tools", "agent"],
    );
    assert.equal(named(spans, "chat gpt-4o-mini").length, 2);
    assert.equal(named(spans, "execute_tool lookup_order")[0].attributes["gen_ai.tool.call.id"], "call_1");
    assert.equal(root.attributes["langchain_otel.request.inference_calls"], 2);
  },
);

await check("the GenAI metrics of those calls, through the SDK's reader", async () => {
  const { resourceMetrics } = await reader.collect();
  const all = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
  const usage = all.find((metric) => metric.descriptor.name === "gen_ai.client.token.usage");
  const input = usage.dataPoints.find((point) => point.attributes["gen_ai.token.type"] === "input");
  assert.equal(input.attributes["gen_ai.provider.name"], "openai");
  assert.equal(input.attributes["gen_ai.response.model"], RESPONSE_MODEL);
  // Five model calls so far (RAG, stream, tool round, agent ×2), each with 1,200 input tokens.
  assert.equal(input.value.sum, 5 * 1200);
  const duration = all.find((metric) => metric.descriptor.name === "gen_ai.client.operation.duration");
  assert.ok(duration.dataPoints.length > 0);
});

await server.close();
await provider.shutdown();
await meterProvider.shutdown();
console.log(
  failures() === 0
    ? "compat langchain03: all checks passed"
    : `compat langchain03: ${failures()} checks failed`,
);
process.exitCode = failures() === 0 ? 0 : 1;
