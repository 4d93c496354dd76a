import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import type { AIMessageChunk, BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { AlwaysOffSampler, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { createAgent } from "langchain";
import { z } from "zod";
import { type ModelServer, type ScriptedReply, startModelServer } from "../examples/support/model-server.js";
import type { OpenTelemetryCallbackHandlerOptions } from "../src/options.js";
import { ScriptedChatModel } from "./support/models.js";
import { setupTestTracing, type TestTracing } from "./support/tracing.js";

/** gpt-4o-mini's published prices (USD per million tokens) in @pydantic/genai-prices. */
const GPT_4O_MINI = { input: 0.15, cacheRead: 0.075, output: 0.6 };
const priceOf = (usage: { prompt_tokens: number; completion_tokens: number; cached_tokens?: number }) => {
  const cached = usage.cached_tokens ?? 0;
  return (
    ((usage.prompt_tokens - cached) * GPT_4O_MINI.input +
      cached * GPT_4O_MINI.cacheRead +
      usage.completion_tokens * GPT_4O_MINI.output) /
    1e6
  );
};

/** A metric reader the test collects from when it wants. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const FIRST = { prompt_tokens: 212, completion_tokens: 18, cached_tokens: 128 };
const SECOND = { prompt_tokens: 268, completion_tokens: 41 };

describe("metrics, cost and request totals through the handler", () => {
  let server: ModelServer;
  let script: ScriptedReply[] = [];
  let tracing: TestTracing;
  let reader: CollectingReader;

  before(async () => {
    server = await startModelServer({ reply: () => script.shift() ?? { status: 599 }, chunkDelayMs: 1 });
  });
  after(async () => server.close());
  afterEach(async () => tracing?.shutdown());

  function traced(options: OpenTelemetryCallbackHandlerOptions = {}, sampler?: AlwaysOffSampler) {
    reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    tracing = setupTestTracing({ meterProvider, ...options }, sampler ? { sampler } : undefined);
    return tracing;
  }

  async function histograms(): Promise<Map<string, HistogramMetricData>> {
    const { resourceMetrics } = await reader.collect();
    const found = new Map<string, HistogramMetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) found.set(metric.descriptor.name, metric as HistogramMetricData);
    return found;
  }

  const chat = () =>
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
      streamUsage: true,
    });
  const checkOrder = tool(async ({ orderId }: { orderId: string }) => `order ${orderId} delivered`, {
    name: "check_order",
    description: "Order status",
    schema: z.object({ orderId: z.string() }),
  });

  /** The demo's shape: prompt → model (tool call) → tool → model, streamed or not. */
  function ragPipeline(stream: boolean) {
    script = [
      { toolCalls: [{ name: "check_order", arguments: { orderId: "A-1" } }], usage: FIRST },
      { content: "Delivered, and you can still return it.", usage: SECOND },
    ];
    const model = chat().bindTools([checkOrder]);
    return RunnableSequence.from([
      ChatPromptTemplate.fromMessages([["human", "{question}"]]),
      RunnableLambda.from(async (value: { toChatMessages(): BaseMessage[] }, config) => {
        const messages = value.toChatMessages();
        const first = await model.invoke(messages, config);
        const results = await Promise.all(
          (first.tool_calls ?? []).map((call) => checkOrder.invoke(call, config)),
        );
        if (!stream) return (await model.invoke([...messages, first, ...results], config)).content;
        let answer: AIMessageChunk | undefined;
        for await (const chunk of await model.stream([...messages, first, ...results], config))
          answer = answer === undefined ? chunk : answer.concat(chunk);
        return answer?.content;
      }).withConfig({ runName: "answer" }),
    ]).withConfig({ runName: "rag" });
  }

  /** The metric attributes of the pipelines' gpt-4o-mini calls to the local server. */
  const callAttributes = () => ({
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "server.address": "127.0.0.1",
    "server.port": Number(new URL(server.baseURL).port),
  });

  const root = (spans: ReadableSpan[]) =>
    spans.find((span) => span.parentSpanContext === undefined) as ReadableSpan;

  for (const stream of [false, true]) {
    it(`${stream ? "streamed" : "invoked"} RAG: each call's cost, the request's totals on the outermost span, metrics that agree with the spans`, async () => {
      const { handler } = traced();
      await ragPipeline(stream).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
      const spans = tracing.spans();
      const chats = spans.filter((span) => span.name === "chat gpt-4o-mini");
      expect(chats).to.have.length(2);
      expect(chats[0].attributes["langchain_otel.cost_usd"]).to.be.closeTo(priceOf(FIRST), 1e-12);
      expect(chats[1].attributes["langchain_otel.cost_usd"]).to.be.closeTo(priceOf(SECOND), 1e-12);
      // Never as provided cost (Langfuse would stop pricing the call itself), never gen_ai.usage.cost.
      for (const span of spans) {
        expect(span.attributes["gen_ai.usage.cost"]).to.equal(undefined);
        expect(span.attributes["langfuse.observation.cost_details"]).to.equal(undefined);
      }
      expect(root(spans).attributes).to.deep.include({
        "langchain_otel.request.input_tokens": FIRST.prompt_tokens + SECOND.prompt_tokens,
        "langchain_otel.request.output_tokens": FIRST.completion_tokens + SECOND.completion_tokens,
        "langchain_otel.request.cache_read.input_tokens": FIRST.cached_tokens,
        "langchain_otel.request.inference_calls": 2,
        "langchain_otel.request.tool_calls": 1,
      });
      expect(root(spans).attributes["langchain_otel.request.cost_usd"]).to.be.closeTo(
        priceOf(FIRST) + priceOf(SECOND),
        1e-12,
      );
      // Only the outermost span carries totals; usage stays on the generations alone.
      for (const span of spans.filter((span) => span !== root(spans)))
        expect(Object.keys(span.attributes).filter((key) => key.startsWith("langchain_otel.request."))).to.be
          .empty;

      const metrics = await histograms();
      const duration = metrics.get("gen_ai.client.operation.duration");
      expect(duration?.descriptor.unit).to.equal("s");
      expect(duration?.dataPoints).to.have.length(1);
      expect(duration?.dataPoints[0].attributes).to.deep.equal(callAttributes());
      expect(duration?.dataPoints[0].value.count).to.equal(2);
      const usage = metrics.get("gen_ai.client.token.usage");
      expect(usage?.descriptor.unit).to.equal("{token}");
      const byType = Object.fromEntries(
        (usage?.dataPoints ?? []).map((point) => [point.attributes["gen_ai.token.type"], point.value.sum]),
      );
      const sumOf = (key: string) => chats.reduce((sum, span) => sum + Number(span.attributes[key]), 0);
      expect(byType).to.deep.equal({
        input: sumOf("gen_ai.usage.input_tokens"),
        output: sumOf("gen_ai.usage.output_tokens"),
      });
      const toolDuration = metrics.get("gen_ai.execute_tool.duration");
      expect(toolDuration?.dataPoints.map((point) => point.attributes["gen_ai.tool.name"])).to.deep.equal([
        "check_order",
      ]);
      const firstChunk = metrics.get("gen_ai.client.operation.time_to_first_chunk");
      const perChunk = metrics.get("gen_ai.client.operation.time_per_output_chunk");
      if (stream) {
        expect(firstChunk?.dataPoints[0].value.count).to.equal(1);
        expect(perChunk?.dataPoints[0].value.count).to.be.greaterThan(1);
      } else {
        expect(firstChunk?.dataPoints ?? []).to.have.length(0);
        expect(perChunk?.dataPoints ?? []).to.have.length(0);
      }
    });
  }

  it("awaitHandlers: false: the queued ends still reach the totals before the outermost span ends", async () => {
    const { handler } = traced({ awaitHandlers: false });
    await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    await awaitAllCallbacks();
    expect(root(tracing.spans()).attributes).to.deep.include({
      "langchain_otel.request.input_tokens": FIRST.prompt_tokens + SECOND.prompt_tokens,
      "langchain_otel.request.inference_calls": 2,
      "langchain_otel.request.tool_calls": 1,
    });
  });

  it("records metrics for runs the sampler drops, with no span, no cost and no totals", async () => {
    const { handler } = traced({}, new AlwaysOffSampler());
    await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    await awaitAllCallbacks();
    expect(tracing.spans()).to.have.length(0);
    const metrics = await histograms();
    expect(metrics.get("gen_ai.client.operation.duration")?.dataPoints[0].value.count).to.equal(2);
    const usage = metrics.get("gen_ai.client.token.usage")?.dataPoints ?? [];
    expect(usage.map((point) => point.value.sum).sort((a, b) => (a ?? 0) - (b ?? 0))).to.deep.equal([
      FIRST.completion_tokens + SECOND.completion_tokens,
      FIRST.prompt_tokens + SECOND.prompt_tokens,
    ]);
    expect(metrics.get("gen_ai.execute_tool.duration")?.dataPoints[0].value.count).to.equal(1);
    expect(metrics.get("gen_ai.client.operation.time_to_first_chunk")?.dataPoints[0].value.count).to.equal(1);
  });

  it("a cost the provider reports is the call's cost; with cost.langfuse it is not replaced by ours", async () => {
    const { handler } = traced({ cost: { langfuse: true } });
    const model = new ScriptedChatModel([
      { text: "a", cost: 0.5 },
      { text: "b", cost: 0.25 },
    ]);
    await RunnableLambda.from(async (question: string, config) => {
      await model.invoke(question, config);
      return (await model.invoke(question, config)).content;
    })
      .withConfig({ runName: "ask" })
      .invoke("q", { callbacks: [handler] });
    const chats = tracing.spans().filter((span) => span.name === "chat gpt-test");
    expect(chats.map((span) => span.attributes["langchain_otel.cost_usd"])).to.deep.equal([0.5, 0.25]);
    expect(chats.map((span) => span.attributes["gen_ai.usage.cost"])).to.deep.equal([0.5, 0.25]);
    for (const span of chats)
      expect(span.attributes).not.to.have.property("langfuse.observation.cost_details");
    expect(tracing.span("ask").attributes["langchain_otel.request.cost_usd"]).to.equal(0.75);
  });

  it("a dropped run's metrics do not depend on which metrics are excluded", async () => {
    const { handler } = traced(
      { metrics: { exclude: ["gen_ai.client.operation.time_per_output_chunk"] } },
      new AlwaysOffSampler(),
    );
    await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    await awaitAllCallbacks();
    const metrics = await histograms();
    expect(metrics.get("gen_ai.client.operation.duration")?.dataPoints[0].value.count).to.equal(2);
    expect(metrics.get("gen_ai.client.token.usage")?.dataPoints).to.have.length(2);
    expect(metrics.get("gen_ai.client.operation.time_to_first_chunk")?.dataPoints[0].value.count).to.equal(1);
    expect(metrics.has("gen_ai.client.operation.time_per_output_chunk")).to.equal(false);
  });

  it("agents the sampler drops still record gen_ai.invoke_agent.duration: createAgent, nested or not, and the prebuilt ReAct agent", async () => {
    const turns = () =>
      new ScriptedChatModel([
        { toolCalls: [{ id: "call_1", name: "check_order", args: { orderId: "A-1" } }] },
        { text: "Delivered." },
      ]);
    const input = { messages: [{ role: "user", content: "Where is A-1?" }] };
    const agentPoints = async (run: (handler: TestTracing["handler"]) => Promise<unknown>) => {
      const { handler } = traced({}, new AlwaysOffSampler());
      await run(handler);
      await awaitAllCallbacks();
      expect(tracing.spans()).to.have.length(0);
      const points = (await histograms()).get("gen_ai.invoke_agent.duration")?.dataPoints ?? [];
      await tracing.shutdown();
      return points.map((point) => [point.attributes["gen_ai.agent.name"], point.value.count]);
    };
    expect(
      await agentPoints((handler) =>
        createAgent({ model: turns(), tools: [checkOrder], name: "support_agent" }).invoke(input, {
          callbacks: [handler],
        }),
      ),
    ).to.deep.equal([["support_agent", 1]]);
    expect(
      await agentPoints((handler) => {
        const agent = createAgent({ model: turns(), tools: [checkOrder], name: "support_agent" });
        return RunnableLambda.from((value: typeof input, config) => agent.invoke(value, config))
          .withConfig({ runName: "request" })
          .invoke(input, { callbacks: [handler] });
      }),
    ).to.deep.equal([["support_agent", 1]]);
    expect(
      await agentPoints((handler) =>
        RunnableLambda.from((value: typeof input, config) =>
          createReactAgent({ llm: turns(), tools: [checkOrder], name: "react_agent" }).invoke(value, config),
        ).invoke(input, { callbacks: [handler] }),
      ),
    ).to.deep.equal([["react_agent", 1]]);
  });

  it("an agent with a failing tool: failed calls count, error.type on the tool metric", async () => {
    const flaky = tool(
      async () => {
        throw new Error("orders service down");
      },
      { name: "check_order", description: "Order status", schema: z.object({ orderId: z.string() }) },
    );
    const model = new ScriptedChatModel([
      { toolCalls: [{ id: "call_1", name: "check_order", args: { orderId: "A-1" } }] },
      { text: "The orders service is down." },
    ]);
    const agent = createAgent({ model, tools: [flaky], name: "support_agent" });
    const { handler } = traced();
    await agent.invoke({ messages: [{ role: "user", content: "Where is A-1?" }] }, { callbacks: [handler] });
    const spans = tracing.spans();
    // ScriptedChatModel reports 120 in (20 cached) / 30 out (5 reasoning) per call, as "gpt-test".
    expect(root(spans).attributes).to.deep.include({
      "langchain_otel.request.input_tokens": 240,
      "langchain_otel.request.output_tokens": 60,
      "langchain_otel.request.cache_read.input_tokens": 40,
      "langchain_otel.request.reasoning.output_tokens": 10,
      "langchain_otel.request.inference_calls": 2,
      "langchain_otel.request.tool_calls": 1,
      // gpt-test is in no price table: no cost, and the calls that could not be priced are counted.
      "langchain_otel.request.unpriced_calls": 2,
    });
    expect(root(spans).attributes["langchain_otel.request.cost_usd"]).to.equal(undefined);
    const metrics = await histograms();
    const toolPoints = metrics.get("gen_ai.execute_tool.duration")?.dataPoints ?? [];
    expect(toolPoints.map((point) => point.attributes["error.type"])).to.deep.equal(["Error"]);
    const agentPoints = metrics.get("gen_ai.invoke_agent.duration")?.dataPoints ?? [];
    expect(agentPoints.map((point) => point.attributes["gen_ai.agent.name"])).to.deep.equal([
      "support_agent",
    ]);
  });

  it("a failing model call counts in the totals and carries error.type in the metrics", async () => {
    const { handler } = traced();
    script = [{ status: 500 }];
    const pipeline = RunnableLambda.from(async (question: string, config) =>
      chat().invoke(question, config),
    ).withConfig({
      runName: "ask",
    });
    await pipeline.invoke("hi", { callbacks: [handler] }).catch(() => undefined);
    const spans = tracing.spans();
    expect(root(spans).attributes["langchain_otel.request.inference_calls"]).to.equal(1);
    const metrics = await histograms();
    const points = metrics.get("gen_ai.client.operation.duration")?.dataPoints ?? [];
    expect(points).to.have.length(1);
    expect(points[0].attributes["error.type"]).to.be.a("string").and.not.equal("");
  });

  it("cost off, metrics off: neither is written", async () => {
    const { handler } = traced({ cost: false, metrics: false });
    await ragPipeline(false).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    const spans = tracing.spans();
    for (const span of spans) expect(span.attributes["langchain_otel.cost_usd"]).to.equal(undefined);
    expect(root(spans).attributes["langchain_otel.request.cost_usd"]).to.equal(undefined);
    expect(root(spans).attributes["langchain_otel.request.inference_calls"]).to.equal(2);
    expect((await histograms()).size).to.equal(0);
  });

  it("metrics.exclude: the excluded metrics get no instrument and no measurement, the others are whole", async () => {
    const { handler } = traced({
      metrics: {
        exclude: ["gen_ai.client.operation.time_per_output_chunk", "gen_ai.execute_tool.duration"],
      },
    });
    await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    const metrics = await histograms();
    expect([...metrics.keys()].sort()).to.deep.equal([
      "gen_ai.client.operation.duration",
      "gen_ai.client.operation.time_to_first_chunk",
      "gen_ai.client.token.usage",
    ]);
    expect(metrics.get("gen_ai.client.operation.duration")?.dataPoints[0].value.count).to.equal(2);
    expect(metrics.get("gen_ai.client.operation.time_to_first_chunk")?.dataPoints[0].value.count).to.equal(1);
    // The spans keep everything: exclusion is about metrics only.
    expect(root(tracing.spans()).attributes["langchain_otel.request.tool_calls"]).to.equal(1);
  });

  it("metrics.cost counts each priced call's cost, with the duration's attributes, sampled or not", async () => {
    for (const sampler of [undefined, new AlwaysOffSampler()]) {
      const { handler } = traced({ metrics: { cost: true } }, sampler);
      await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
      const { resourceMetrics } = await reader.collect();
      const cost = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === "langchain_otel.client.cost");
      expect(cost?.descriptor.unit).to.equal("{USD}");
      expect(cost?.dataPointType).to.equal(DataPointType.SUM);
      expect(cost?.dataPoints).to.have.length(1);
      expect(cost?.dataPoints[0].attributes).to.deep.equal(callAttributes());
      expect(cost?.dataPoints[0].value).to.be.closeTo(priceOf(FIRST) + priceOf(SECOND), 1e-12);
      await tracing.shutdown();
    }
  });

  it("no cost counter unless asked for", async () => {
    const { handler } = traced();
    await ragPipeline(false).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    expect((await histograms()).has("langchain_otel.client.cost")).to.equal(false);
    expect((await histograms()).has("gen_ai.client.token.usage")).to.equal(true);
  });

  it("metrics.exclude naming every metric is metrics off", async () => {
    const { handler } = traced({
      metrics: {
        exclude: [
          "gen_ai.client.token.usage",
          "gen_ai.client.operation.duration",
          "gen_ai.client.operation.time_to_first_chunk",
          "gen_ai.client.operation.time_per_output_chunk",
          "gen_ai.execute_tool.duration",
          "gen_ai.invoke_agent.duration",
        ],
      },
    });
    await ragPipeline(true).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    expect((await histograms()).size).to.equal(0);
    expect(root(tracing.spans()).attributes["langchain_otel.request.inference_calls"]).to.equal(2);
  });

  it("your own prices win over the table; cost.langfuse sends it as Langfuse's cost for the models named", async () => {
    const { handler } = traced({
      cost: { prices: { "gpt-4o-mini-2024-07-18": { input: 1, output: 2 } }, langfuse: ["gpt-4o-mini"] },
    });
    await ragPipeline(false).invoke({ question: "Can I return A-1?" }, { callbacks: [handler] });
    const chats = tracing.spans().filter((span) => span.name === "chat gpt-4o-mini");
    const expected = (FIRST.prompt_tokens * 1 + FIRST.completion_tokens * 2) / 1e6;
    expect(chats[0].attributes["langchain_otel.cost_usd"]).to.be.closeTo(expected, 1e-12);
    expect(JSON.parse(String(chats[0].attributes["langfuse.observation.cost_details"]))).to.deep.equal({
      total: chats[0].attributes["langchain_otel.cost_usd"],
    });
  });
});
