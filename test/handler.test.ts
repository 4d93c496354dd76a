import { dispatchCustomEvent } from "@langchain/core/callbacks/dispatch";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { ToolMessage } from "@langchain/core/messages";
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { isBaseTracer } from "@langchain/core/tracers/base";
import { FakeLLM } from "@langchain/core/utils/testing";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { expect } from "chai";
import { z } from "zod";
import { MAX_ERROR_CHARS } from "../src/genai/errors.js";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { ScriptedChatModel } from "./support/models.js";
import { ragPipeline, scripted } from "./support/pipelines.js";
import {
  jsonAttribute,
  nameTree,
  parentId,
  setupTestTracing,
  spanId,
  type TestTracing,
  traceId,
} from "./support/tracing.js";

describe("OpenTelemetryCallbackHandler", () => {
  let tracing: TestTracing;
  afterEach(async () => {
    await tracing?.shutdown();
  });

  describe("a RAG pipeline", () => {
    beforeEach(async () => {
      tracing = setupTestTracing();
      await ragPipeline(scripted()).invoke(
        { question: "Are refunds accepted?" },
        { callbacks: [tracing.handler] },
      );
    });

    it("becomes one trace whose tree mirrors the runs", () => {
      const spans = tracing.spans();
      const roots = spans.filter((span) => parentId(span) === undefined);
      expect(roots.map((span) => span.name)).to.deep.equal(["rag-pipeline"]);
      expect(new Set(spans.map(traceId)).size).to.equal(1);
      expect(nameTree(spans, roots[0])).to.deep.equal([
        "rag-pipeline",
        [
          ["retrieve", [["retrieval KeywordRetriever", []]]],
          ["ChatPromptTemplate", []],
          [
            "agent-loop",
            [
              ["chat gpt-test", []],
              ["execute_tool lookup_order", []],
              ["chat gpt-test", []],
            ],
          ],
          ["StrOutputParser", []],
        ],
      ]);
      expect(tracing.handler.openRuns).to.equal(0);
    });

    it("names model spans after the model and records request, response and usage", () => {
      const [first, second] = tracing.spans().filter((span) => span.name === "chat gpt-test");
      expect(first.kind).to.equal(SpanKind.CLIENT);
      expect(first.attributes).to.include({
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.seed": 7,
        "gen_ai.response.model": "gpt-test-2025-01-01",
        "gen_ai.response.id": "resp-1",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "gen_ai.usage.cache_read.input_tokens": 20,
        "gen_ai.usage.reasoning.output_tokens": 5,
      });
      expect(first.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["tool_calls"]);
      expect(second.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
      expect(first.attributes).not.to.have.property("gen_ai.request.stream");
    });

    it("captures messages in the GenAI JSON shape", () => {
      const [first, second] = tracing.spans().filter((span) => span.name === "chat gpt-test");
      expect(jsonAttribute(first, "gen_ai.system_instructions")).to.deep.equal([
        {
          type: "text",
          content:
            "Answer from the context.\nRefunds are accepted within 30 days.\nRefunds for digital goods are not accepted.",
        },
      ]);
      expect(jsonAttribute(first, "gen_ai.input.messages")).to.deep.equal([
        { role: "user", parts: [{ type: "text", content: "Are refunds accepted?" }] },
      ]);
      expect(jsonAttribute(first, "gen_ai.output.messages")).to.deep.equal([
        {
          role: "assistant",
          parts: [{ type: "tool_call", id: "call_1", name: "lookup_order", arguments: { orderId: "A-7" } }],
          finish_reason: "tool_call",
        },
      ]);
      expect(jsonAttribute(first, "gen_ai.tool.definitions")).to.deep.equal([
        { type: "function", name: "lookup_order", description: "Look up an order by id" },
      ]);
      const input = jsonAttribute(second, "gen_ai.input.messages") as { role: string; parts: unknown[] }[];
      expect(input.map((message) => message.role)).to.deep.equal(["user", "assistant", "tool"]);
      expect(input[2].parts).to.deep.equal([
        { type: "tool_call_response", id: "call_1", response: "order A-7: delivered" },
      ]);
    });

    it("records tool executions with the model's tool call id", () => {
      const span = tracing.span("execute_tool lookup_order");
      expect(span.kind).to.equal(SpanKind.INTERNAL);
      expect(span.attributes).to.include({
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "lookup_order",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Look up an order by id",
      });
      expect(jsonAttribute(span, "gen_ai.tool.call.arguments")).to.deep.equal({ orderId: "A-7" });
      expect(jsonAttribute(span, "gen_ai.tool.call.result")).to.equal("order A-7: delivered");
      expect(span.status.code).to.equal(SpanStatusCode.UNSET);
    });

    it("records retrievals with the query and the documents", () => {
      const span = tracing.span("retrieval KeywordRetriever");
      expect(span.kind).to.equal(SpanKind.INTERNAL);
      expect(span.attributes).to.include({
        "gen_ai.operation.name": "retrieval",
        "gen_ai.data_source.id": "KeywordRetriever",
        "gen_ai.retrieval.query.text": "Are refunds accepted?",
      });
      expect(jsonAttribute(span, "gen_ai.retrieval.documents")).to.deep.equal([
        { id: "doc-1", score: 1, content: "Refunds are accepted within 30 days." },
        { id: "doc-3", score: 1, content: "Refunds for digital goods are not accepted." },
      ]);
    });

    it("names chain spans by run name, then class, with kind INTERNAL", () => {
      expect(tracing.span("rag-pipeline").kind).to.equal(SpanKind.INTERNAL);
      expect(tracing.span("ChatPromptTemplate").attributes["langchain.run.type"]).to.equal("prompt");
      expect(tracing.span("StrOutputParser").attributes["langchain.run.type"]).to.equal("parser");
    });
  });

  it("records streaming: gen_ai.request.stream, time to first chunk, usage and finish reason", async () => {
    tracing = setupTestTracing();
    const model = new ScriptedChatModel([{ text: "one two three four" }]);
    let text = "";
    for await (const chunk of await model.stream("count", { callbacks: [tracing.handler] }))
      text += chunk.content;
    expect(text).to.equal("one two three four");
    const span = tracing.span("chat gpt-test");
    expect(span.attributes["gen_ai.request.stream"]).to.equal(true);
    const ttfc = span.attributes["gen_ai.response.time_to_first_chunk"] as number;
    expect(ttfc).to.be.a("number").that.is.greaterThan(0);
    const durationSeconds = span.duration[0] + span.duration[1] / 1e9;
    expect(ttfc).to.be.at.most(durationSeconds);
    expect(span.attributes).to.include({
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
    });
    expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
    expect(jsonAttribute(span, "gen_ai.output.messages")).to.deep.equal([
      { role: "assistant", parts: [{ type: "text", content: "one two three four" }], finish_reason: "stop" },
    ]);
  });

  it("records LLM (text completion) runs", async () => {
    tracing = setupTestTracing();
    await new FakeLLM({ response: "42" }).invoke("What is 6 x 7?", { callbacks: [tracing.handler] });
    const [span] = tracing.spans();
    expect(span.name).to.equal("text_completion");
    expect(span.kind).to.equal(SpanKind.CLIENT);
    expect(span.attributes["gen_ai.operation.name"]).to.equal("text_completion");
    expect(jsonAttribute(span, "gen_ai.input.messages")).to.deep.equal([
      { role: "user", parts: [{ type: "text", content: "What is 6 x 7?" }] },
    ]);
    expect(jsonAttribute(span, "gen_ai.output.messages")).to.deep.equal([
      { role: "assistant", parts: [{ type: "text", content: "42" }] },
    ]);
  });

  describe("errors", () => {
    const failingTool = tool(
      async () => {
        throw new RangeError("order id out of range");
      },
      { name: "lookup_order", description: "Look up an order", schema: z.object({ orderId: z.string() }) },
    );

    it("keep at most MAX_ERROR_CHARS of a huge message and stack on the span", async () => {
      tracing = setupTestTracing();
      const payload = "p".repeat(1_000_000);
      const chain = RunnableLambda.from(async () => {
        throw new TypeError(`bad payload: ${payload}`);
      }).withConfig({ runName: "huge" });
      await chain.invoke("x", { callbacks: [tracing.handler] }).catch(() => undefined);
      const span = tracing.span("huge");
      const limit = MAX_ERROR_CHARS + 64;
      expect(span.status.message?.length).to.be.within(MAX_ERROR_CHARS, limit);
      expect(span.status.message).to.match(/^bad payload: p+…\[truncated \d+ chars\]$/);
      const exception = span.events.find((event) => event.name === "exception");
      expect(exception?.attributes?.["exception.type"]).to.equal("TypeError");
      expect(String(exception?.attributes?.["exception.message"]).length).to.be.at.most(limit);
      expect(String(exception?.attributes?.["exception.stacktrace"]).length).to.be.at.most(limit);
      expect(String(span.attributes["langfuse.observation.status_message"]).length).to.be.at.most(limit);
    });

    it("stay on the run where they happened; ancestors are marked as they end", async () => {
      tracing = setupTestTracing();
      const chain = RunnableLambda.from(async (input: string, config) =>
        failingTool.invoke(
          { id: "call_9", name: "lookup_order", args: { orderId: input }, type: "tool_call" },
          config,
        ),
      ).withConfig({ runName: "outer" });
      const error = await chain
        .invoke("x", { callbacks: [tracing.handler] })
        .catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(RangeError);

      const toolSpan = tracing.span("execute_tool lookup_order");
      expect(toolSpan.status).to.deep.equal({ code: SpanStatusCode.ERROR, message: "order id out of range" });
      expect(toolSpan.attributes["error.type"]).to.equal("RangeError");
      const exception = toolSpan.events.find((event) => event.name === "exception");
      expect(exception?.attributes?.["exception.type"]).to.equal("RangeError");
      expect(exception?.attributes?.["exception.message"]).to.equal("order id out of range");

      const outer = tracing.span("outer");
      expect(outer.status.code).to.equal(SpanStatusCode.ERROR);
      expect(outer.attributes["error.type"]).to.equal("RangeError");
      expect(outer.events.filter((event) => event.name === "exception")).to.have.length(0);
    });

    it("a tool error the caller recovers from leaves the caller's span OK", async () => {
      tracing = setupTestTracing();
      const chain = RunnableLambda.from(async (input: string, config) => {
        try {
          return await failingTool.invoke({ orderId: input }, config);
        } catch {
          return "fallback";
        }
      }).withConfig({ runName: "recovering" });
      expect(await chain.invoke("x", { callbacks: [tracing.handler] })).to.equal("fallback");
      expect(tracing.span("execute_tool lookup_order").status.code).to.equal(SpanStatusCode.ERROR);
      expect(tracing.span("recovering").status.code).to.equal(SpanStatusCode.UNSET);
    });

    it("a model error marks the model span", async () => {
      tracing = setupTestTracing();
      const model = new ScriptedChatModel([
        { error: new TypeError("bad request: messages must not be empty") },
      ]);
      await model.invoke("hi", { callbacks: [tracing.handler] }).catch(() => undefined);
      const span = tracing.span("chat gpt-test");
      expect(span.status.code).to.equal(SpanStatusCode.ERROR);
      expect(span.attributes["error.type"]).to.equal("TypeError");
    });
  });

  describe("parents", () => {
    it("the outermost run nests under the span active in the caller", async () => {
      tracing = setupTestTracing();
      const tracer = tracing.provider.getTracer("app");
      await tracer.startActiveSpan("POST /api/chat", { kind: SpanKind.SERVER }, async (request) => {
        await ragPipeline(scripted()).invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
        request.end();
      });
      const request = tracing.span("POST /api/chat");
      const pipeline = tracing.span("rag-pipeline");
      expect(parentId(pipeline)).to.equal(spanId(request));
      expect(new Set(tracing.spans().map(traceId))).to.deep.equal(new Set([traceId(request)]));
    });

    it("a handler attached to the model only still nests the model under the caller's span", async () => {
      tracing = setupTestTracing();
      const model = scripted().withConfig({ callbacks: [tracing.handler] });
      const chain = RunnableLambda.from(async (q: string) => model.invoke(q));
      await tracing.provider.getTracer("app").startActiveSpan("job", async (job) => {
        await chain.invoke("hello");
        job.end();
      });
      const names = tracing.spans().map((span) => span.name);
      expect(names).to.deep.equal(["chat gpt-test", "job"]);
      expect(parentId(tracing.span("chat gpt-test"))).to.equal(spanId(tracing.span("job")));
    });

    for (const awaitHandlers of [true, false]) {
      it(`starts each run in LangChain's synchronous hook, before its body runs (awaitHandlers: ${awaitHandlers})`, async () => {
        tracing = setupTestTracing({ awaitHandlers });
        const handler = tracing.handler;
        expect(isBaseTracer(handler)).to.equal(true);
        let openInBody = -1;
        const lambda = RunnableLambda.from((input: string) => {
          // Queued (awaitHandlers: false) start callbacks have not run yet here; the hook has.
          openInBody = handler.openRuns;
          return input.toUpperCase();
        }).withConfig({ runName: "body" });
        await lambda.invoke("x", { callbacks: [handler] });
        await awaitAllCallbacks();
        expect(openInBody).to.equal(1);
        expect(tracing.spans().map((span) => span.name)).to.deep.equal(["body"]);
        expect(handler.openRuns).to.equal(0);
      });
    }

    for (const awaitHandlers of [true, false]) {
      it(`200 concurrent invocations give 200 correct trees (awaitHandlers: ${awaitHandlers})`, async function () {
        this.timeout(60_000);
        tracing = setupTestTracing({ awaitHandlers });
        const tracer = tracing.provider.getTracer("app");
        const count = 200;
        await Promise.all(
          Array.from({ length: count }, (_, index) =>
            tracer.startActiveSpan(`request ${index}`, async (request) => {
              // Stagger the requests so their runs interleave in LangChain's callback queue.
              if (index % 2 === 0) await new Promise((resolve) => setTimeout(resolve, index % 7));
              await ragPipeline(scripted()).invoke(
                { question: `refunds ${index}?` },
                { callbacks: [tracing.handler] },
              );
              request.end();
            }),
          ),
        );
        await awaitAllCallbacks();
        const spans = tracing.spans();
        const requests = spans.filter((span) => span.name.startsWith("request "));
        expect(requests).to.have.length(count);
        for (const request of requests) {
          const inTrace = spans.filter((span) => traceId(span) === traceId(request));
          expect(inTrace.filter((span) => parentId(span) === undefined)).to.deep.equal([request]);
          const tree = nameTree(inTrace, request);
          expect(tree[1].map((child) => child[0])).to.deep.equal(["rag-pipeline"]);
          expect(inTrace).to.have.length(10);
          const index = request.name.split(" ")[1];
          const retrieval = inTrace.find((span) => span.name.startsWith("retrieval"));
          expect(retrieval?.attributes["gen_ai.retrieval.query.text"]).to.equal(`refunds ${index}?`);
        }
        expect(tracing.handler.openRuns).to.equal(0);
      });
    }
  });

  describe("content capture", () => {
    it("cuts message content to maxContentLength but never the roles and finish reasons around it", async () => {
      tracing = setupTestTracing({ maxContentLength: 8, mask: (text) => text.toUpperCase() });
      await scripted().invoke("a question longer than eight characters", { callbacks: [tracing.handler] });
      const span = tracing.spans()[0];
      const input = jsonAttribute(span, "gen_ai.input.messages") as {
        role: string;
        parts: { content: string }[];
      }[];
      expect(input[0].role).to.equal("user");
      expect(input[0].parts[0].content).to.equal("A QUESTI…[truncated 31 chars]");
      const output = jsonAttribute(span, "gen_ai.output.messages") as {
        role: string;
        finish_reason: string;
      }[];
      expect(output[0]).to.include({ role: "assistant", finish_reason: "tool_call" });
    });

    it("captureContent: false records no content at all", async () => {
      tracing = setupTestTracing({ captureContent: false });
      await ragPipeline(scripted()).invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
      const contentKeys = [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.retrieval.query.text",
        "gen_ai.retrieval.documents",
      ];
      for (const span of tracing.spans()) {
        for (const key of contentKeys)
          expect(span.attributes, `${span.name} ${key}`).not.to.have.property(key);
      }
      // Everything that is not content is still there.
      expect(tracing.spans().filter((span) => span.name === "chat gpt-test")[0].attributes).to.include({
        "gen_ai.usage.input_tokens": 120,
      });
      expect(tracing.span("execute_tool lookup_order").attributes["gen_ai.tool.call.id"]).to.equal("call_1");
    });

    it("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false turns capture off; the option wins over it", async () => {
      process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = "false";
      try {
        tracing = setupTestTracing();
        await scripted().invoke("secret question", { callbacks: [tracing.handler] });
        expect(tracing.spans()[0].attributes).not.to.have.property("gen_ai.input.messages");
        await tracing.shutdown();
        tracing = setupTestTracing({ captureContent: true });
        await scripted().invoke("question", { callbacks: [tracing.handler] });
        expect(tracing.spans()[0].attributes).to.have.property("gen_ai.input.messages");
        await tracing.shutdown();
        // Content on events only: this package writes no events, so none on spans either.
        process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = "EVENT_ONLY";
        tracing = setupTestTracing();
        await scripted().invoke("secret question", { callbacks: [tracing.handler] });
        expect(tracing.spans()[0].attributes).not.to.have.property("gen_ai.input.messages");
      } finally {
        delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
      }
    });

    it("applies the mask to every captured string and fails closed when it throws", async () => {
      tracing = setupTestTracing({
        mask: (value, attribute) => {
          if (attribute === "gen_ai.tool.call.result") throw new Error("mask bug");
          return value.replace(/A-\d+/g, "[order]");
        },
      });
      await ragPipeline(scripted()).invoke(
        { question: "refunds for A-7?" },
        { callbacks: [tracing.handler] },
      );
      const all = JSON.stringify(tracing.spans().map((span) => span.attributes));
      expect(all).not.to.match(/A-7/);
      expect(all).to.include("[order]");
      expect(jsonAttribute(tracing.span("execute_tool lookup_order"), "gen_ai.tool.call.result")).to.equal(
        "[masked: mask threw]",
      );
    });

    it("cuts values longer than maxContentLength and says so", async () => {
      tracing = setupTestTracing({ maxContentLength: 100 });
      await scripted().invoke("x".repeat(5000), { callbacks: [tracing.handler] });
      const span = tracing.spans()[0];
      const messages = jsonAttribute(span, "gen_ai.input.messages") as { parts: { content: string }[] }[];
      // The budget counts every string of the value (roles and part types too), at most 100 chars in all.
      expect(messages[0].parts[0].content).to.match(/^x{90,100}…\[truncated 49\d\d chars\]$/);
      expect(span.attributes["langchain_otel.truncated"]).to.deep.equal(["gen_ai.input.messages"]);
    });
  });

  it("adds agent actions, agent finishes and custom events to the run's span", async () => {
    tracing = setupTestTracing();
    const chain = RunnableLambda.from(async (input: string, config) => {
      await dispatchCustomEvent("progress", { step: 1, of: 2 }, config);
      return input;
    }).withConfig({ runName: "with-events" });
    await chain.invoke("x", { callbacks: [tracing.handler] });
    const runId = "agent-run";
    tracing.handler.handleChainStart({ lc: 1, type: "not_implemented", id: ["AgentExecutor"] }, {}, runId);
    tracing.handler.handleAgentAction(
      { tool: "lookup_order", toolInput: { orderId: "A-7" }, log: "thinking" },
      runId,
    );
    tracing.handler.handleAgentEnd({ returnValues: { output: "done" }, log: "" }, runId);
    tracing.handler.handleChainEnd({}, runId);

    const custom = tracing
      .span("with-events")
      .events.find((event) => event.name === "langchain.custom_event");
    expect(custom?.attributes).to.deep.equal({
      "langchain.event.name": "progress",
      "langchain.event.data": JSON.stringify({ step: 1, of: 2 }),
    });
    const agent = tracing.span("AgentExecutor");
    expect(agent.events.map((event) => event.name)).to.deep.equal([
      "gen_ai.agent.action",
      "gen_ai.agent.finish",
    ]);
    expect(agent.events[0].attributes).to.include({
      "gen_ai.tool.name": "lookup_order",
      "gen_ai.tool.call.arguments": JSON.stringify({ orderId: "A-7" }),
    });
    expect(agent.events[1].attributes).to.include({
      "langchain.agent.output": JSON.stringify({ output: "done" }),
    });
  });

  it("modelSpans: false leaves model calls to provider instrumentation", async () => {
    tracing = setupTestTracing({ modelSpans: false });
    await ragPipeline(scripted()).invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
    const names = tracing.spans().map((span) => span.name);
    expect(names.filter((name) => name.startsWith("chat"))).to.have.length(0);
    expect(names).to.include("execute_tool lookup_order");
    expect(tracing.handler.openRuns).to.equal(0);
  });

  it("adds the configured attributes to every span", async () => {
    tracing = setupTestTracing({ attributes: { "app.tenant": "acme" } });
    await ragPipeline(scripted()).invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
    for (const span of tracing.spans()) expect(span.attributes["app.tenant"], span.name).to.equal("acme");
  });

  describe("configuration errors name the fix", () => {
    const cases: [string, () => unknown, RegExp][] = [
      [
        "tracer and tracerProvider",
        () =>
          new OpenTelemetryCallbackHandler({
            tracer: trace.getTracer("x"),
            tracerProvider: trace.getTracerProvider(),
          }),
        /either "tracer" or "tracerProvider"/,
      ],
      [
        "a non-function mask",
        () => new OpenTelemetryCallbackHandler({ mask: "email" as never }),
        /"mask" must be a function/,
      ],
      [
        "a negative limit",
        () => new OpenTelemetryCallbackHandler({ maxContentLength: -1 }),
        /"maxContentLength" must be a positive integer/,
      ],
      [
        'a switch given as a string ("false" is truthy: capture would stay on)',
        () => new OpenTelemetryCallbackHandler({ captureContent: "false" as never }),
        /"captureContent" must be true or false, got "false"/,
      ],
      [
        "attributes that are not an object",
        () => new OpenTelemetryCallbackHandler({ attributes: ["a"] as never }),
        /"attributes" must be an object/,
      ],
      [
        "a bad tracer",
        () => new OpenTelemetryCallbackHandler({ tracer: {} as never }),
        /must be an OpenTelemetry Tracer/,
      ],
      [
        "a metric name that does not exist (a typo would record it all the same)",
        () =>
          new OpenTelemetryCallbackHandler({
            metrics: { exclude: ["gen_ai.client.time_per_output_chunk" as never] },
          }),
        /unknown metric "gen_ai\.client\.time_per_output_chunk"; the metrics are: .*gen_ai\.client\.operation\.time_per_output_chunk/,
      ],
      [
        "metrics.exclude that is not a list",
        () =>
          new OpenTelemetryCallbackHandler({
            metrics: { exclude: "gen_ai.client.token.usage" as never },
          }),
        /"metrics\.exclude" must be a list of metric names/,
      ],
      [
        "metrics.cost with cost: false (nothing to count)",
        () => new OpenTelemetryCallbackHandler({ metrics: { cost: true }, cost: false }),
        /"metrics\.cost" counts the cost of each call, which "cost: false" turns off/,
      ],
      [
        "metrics.cost that is not a boolean",
        () => new OpenTelemetryCallbackHandler({ metrics: { cost: "yes" as never } }),
        /"metrics\.cost" must be true or false/,
      ],
      [
        "a metrics option of the wrong type",
        () => new OpenTelemetryCallbackHandler({ metrics: "on" as never }),
        /"metrics" must be true, false or \{ exclude\?/,
      ],
    ];
    for (const [what, build, message] of cases) {
      it(what, () => expect(build).to.throw(TypeError, message));
    }
  });

  describe("a tool run LangChain 0.3 reports (no call id at the start)", () => {
    it("takes the call id from the ToolMessage it ends with", () => {
      tracing = setupTestTracing();
      const serialized = { lc: 1, type: "not_implemented" as const, id: ["tools", "lookup_order"] };
      // @langchain/core 0.3 calls handleToolStart without the tool call's id, its eighth argument.
      tracing.handler.handleToolStart(
        serialized,
        '{"order":"A-1042"}',
        "run-1",
        undefined,
        [],
        {},
        "lookup_order",
      );
      tracing.handler.handleToolEnd(
        new ToolMessage({ content: "delivered", tool_call_id: "call_9" }),
        "run-1",
      );

      expect(tracing.span("execute_tool lookup_order").attributes["gen_ai.tool.call.id"]).to.equal("call_9");
    });
  });
});
