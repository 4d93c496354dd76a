import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import {
  type Attributes,
  type DiagLogger,
  DiagLogLevel,
  diag,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import type { ReadableSpan, Span, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import fc from "fast-check";
import { z } from "zod";
import { type ModelServer, startModelServer } from "../examples/support/model-server.js";
import { setupTracing } from "../src/export/setup.js";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { ABORT_GRACE_MS } from "../src/kinds/model.js";
import { ScriptedChatModel } from "./support/models.js";
import { type OtlpReceiver, startOtlpReceiver } from "./support/receiver.js";
import { nameTree, parentId, setupTestTracing, type TestTracing, traceId } from "./support/tracing.js";

/** Records diag output, to assert what the handler and the SDK log. */
function captureDiag(level = DiagLogLevel.WARN): { lines: string[]; stop(): void } {
  const lines: string[] = [];
  const log = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  const logger: DiagLogger = { error: log, warn: log, info: log, debug: log, verbose: log };
  diag.setLogger(logger, { logLevel: level, suppressOverrideMessage: true });
  return { lines, stop: () => diag.disable() };
}

/** Counts span starts and ends as the SDK sees them. */
class CountingProcessor implements SpanProcessor {
  started = new Set<string>();
  ended = new Map<string, number>();
  spans: ReadableSpan[] = [];
  onStart(span: Span): void {
    this.started.add(span.spanContext().spanId);
  }
  onEnd(span: ReadableSpan): void {
    const id = span.spanContext().spanId;
    this.ended.set(id, (this.ended.get(id) ?? 0) + 1);
    this.spans.push(span);
  }
  forceFlush = async () => {};
  shutdown = async () => {};
}

// ── hostile values ─────────────────────────────────────────────────────────────────────────────
/** Collects on demand, as a periodic reader would once a minute. */
class InMemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const cyclic: Record<string, unknown> = { name: "cycle" };
cyclic.self = cyclic;
const throwingGetter = Object.defineProperty({}, "boom", {
  enumerable: true,
  get() {
    throw new Error("getter throws");
  },
});
const throwingToJSON = {
  toJSON() {
    throw new Error("toJSON throws");
  },
};
const throwingProxy = new Proxy(
  {},
  {
    get() {
      throw new Error("proxy get");
    },
    ownKeys() {
      throw new Error("proxy keys");
    },
    getPrototypeOf() {
      throw new Error("proxy proto");
    },
  },
);
let deep: unknown = "bottom";
for (let i = 0; i < 1000; i++) deep = { next: deep };
const huge = "x".repeat(10 * 1024 * 1024);
const image = `data:image/png;base64,${Buffer.alloc(50_000, 7).toString("base64")}`;
const hostile = fc.oneof(
  fc.constantFrom<unknown>(
    cyclic,
    10n ** 30n,
    Symbol("s"),
    () => "fn",
    throwingGetter,
    throwingToJSON,
    throwingProxy,
    Buffer.from("buffer"),
    new Float64Array(8),
    huge,
    deep,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    "\ud800 lone surrogate \udfff",
    image,
    undefined,
    null,
    { apiKey: "sk-hostile-secret-value-123456" },
  ),
  fc.anything({ maxDepth: 3 }),
);

type Step =
  | {
      kind: "start";
      type: "chain" | "chat" | "llm" | "tool" | "retriever";
      run: number;
      parent: number | undefined;
      value: unknown;
      name: unknown;
    }
  | { kind: "end" | "error" | "token" | "custom" | "action"; run: number; value: unknown };

const RUNS = 6;
const runId = (index: number | undefined) => (index === undefined ? undefined : `run-${index}`);
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("start" as const),
    type: fc.constantFrom(
      "chain" as const,
      "chat" as const,
      "llm" as const,
      "tool" as const,
      "retriever" as const,
    ),
    run: fc.nat(RUNS - 1),
    parent: fc.option(fc.nat(RUNS - 1), { nil: undefined }),
    value: hostile,
    name: fc.oneof(fc.string(), fc.constantFrom("constructor", "__proto__", "toString"), hostile),
  }),
  fc.record({
    kind: fc.constantFrom(
      "end" as const,
      "error" as const,
      "token" as const,
      "custom" as const,
      "action" as const,
    ),
    run: fc.nat(RUNS - 1),
    value: hostile,
  }),
);

function drive(handler: OpenTelemetryCallbackHandler, steps: Step[]): void {
  // Callbacks are typed; a hostile caller is not. Call them the way JavaScript would.
  const h = handler as unknown as Record<string, (...args: unknown[]) => unknown>;
  const kinds = new Map<number, string>();
  for (const s of steps) {
    const id = runId(s.run);
    if (s.kind === "start") {
      kinds.set(s.run, s.type);
      const parent = runId(s.parent);
      const serialized = {
        lc: 1,
        type: "constructor",
        id: ["x", String(typeof s.name === "string" ? s.name : "X")],
        kwargs: s.value,
      };
      if (s.type === "chain")
        h.handleChainStart(
          serialized,
          s.value,
          id,
          parent,
          [String(s.run)],
          { meta: s.value },
          "chain",
          s.name,
        );
      if (s.type === "chat")
        h.handleChatModelStart(
          serialized,
          // Half the time the whole message list is the hostile value.
          typeof s.name === "string" ? [[s.value, { content: s.value, getType: () => s.name }]] : s.value,
          id,
          parent,
          { invocation_params: s.value },
          undefined,
          s.value,
          s.name,
        );
      if (s.type === "llm")
        h.handleLLMStart(
          serialized,
          typeof s.name === "string" ? [s.value] : s.value,
          id,
          parent,
          s.value,
          undefined,
          s.value,
        );
      if (s.type === "tool")
        h.handleToolStart(serialized, s.value, id, parent, undefined, s.value, s.name, s.value);
      if (s.type === "retriever")
        h.handleRetrieverStart(serialized, s.value, id, parent, undefined, s.value, s.name);
      continue;
    }
    const type = kinds.get(s.run) ?? "chain";
    if (s.kind === "token") h.handleLLMNewToken(s.value, { prompt: 0, completion: 0 }, id);
    if (s.kind === "custom") h.handleCustomEvent(s.value, s.value, id);
    if (s.kind === "action") h.handleAgentAction(s.value, id);
    if (s.kind === "end") {
      if (type === "chat" || type === "llm")
        h.handleLLMEnd({ generations: [[{ text: s.value, message: s.value }]], llmOutput: s.value }, id);
      else if (type === "tool") h.handleToolEnd(s.value, id);
      else if (type === "retriever") h.handleRetrieverEnd(s.value, id);
      else h.handleChainEnd(s.value, id);
    }
    if (s.kind === "error") {
      if (type === "chat" || type === "llm") h.handleLLMError(s.value, id);
      else if (type === "tool") h.handleToolError(s.value, id);
      else if (type === "retriever") h.handleRetrieverError(s.value, id);
      else h.handleChainError(s.value, id);
    }
  }
}

const JSON_ATTRIBUTES = [
  "gen_ai.input.messages",
  "gen_ai.output.messages",
  "gen_ai.system_instructions",
  "gen_ai.tool.definitions",
  "gen_ai.tool.call.arguments",
  "gen_ai.tool.call.result",
  "gen_ai.retrieval.documents",
  "langfuse.observation.input",
  "langfuse.observation.output",
  "langfuse.observation.usage_details",
  "langchain.event.data",
];

describe("reliability", () => {
  describe("the handler never breaks the app", () => {
    it("survives random callback sequences with hostile values: no throw, every span ended once, valid JSON", function () {
      this.timeout(120_000);
      const diagnostics = captureDiag();
      try {
        fc.assert(
          fc.property(fc.array(step, { maxLength: 40 }), fc.boolean(), (steps, awaitHandlers) => {
            const counter = new CountingProcessor();
            const provider = new NodeTracerProvider({ spanProcessors: [counter] });
            const handler = new OpenTelemetryCallbackHandler({
              tracerProvider: provider,
              awaitHandlers,
              maxContentLength: 4096,
            });
            drive(handler, steps);
            handler.endOpenRuns();
            expect(handler.openRuns).to.equal(0);
            expect([...counter.started].sort()).to.deep.equal([...counter.ended.keys()].sort());
            for (const count of counter.ended.values()) expect(count).to.equal(1);
            for (const span of counter.spans) {
              for (const key of JSON_ATTRIBUTES) {
                const value = span.attributes[key];
                if (value !== undefined) expect(() => JSON.parse(String(value)), key).not.to.throw();
              }
              expect(JSON.stringify(span.attributes)).not.to.include("sk-hostile-secret-value-123456");
            }
          }),
          { numRuns: 150 },
        );
        // The SDK warns when a span is touched after it ended: none of that may happen.
        expect(diagnostics.lines.filter((line) => /ended Span/i.test(line))).to.deep.equal([]);
        expect(diagnostics.lines.filter((line) => /langchain-otel: .* failed/.test(line))).to.deep.equal([]);
      } finally {
        diagnostics.stop();
      }
    });
  });

  describe("values that once got through", () => {
    let tracing: TestTracing;
    let reader: InMemoryReader;
    afterEach(async () => tracing.shutdown());
    const traced = () => {
      reader = new InMemoryReader();
      tracing = setupTestTracing({ meterProvider: new MeterProvider({ readers: [reader] }) });
      // Callbacks are typed; a hostile caller is not.
      return tracing.handler as unknown as Record<string, (...args: unknown[]) => void>;
    };
    const model = (className: string) => ({ lc: 1, type: "constructor", id: ["x", className], kwargs: {} });
    const points = async (name: string) => {
      const { resourceMetrics } = await reader.collect();
      const metric = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((found) => found.descriptor.name === name);
      return (metric?.dataPoints ?? []) as { attributes: Attributes; value: { count: number } }[];
    };

    it("a model run whose input cannot be read still ends its span and counts its call", async () => {
      const h = traced();
      h.handleChainStart({ id: ["x", "RunnableSequence"] }, {}, "root");
      // Prompts that are not a list; then a message list whose every read throws, on a call that fails.
      h.handleLLMStart(model("OpenAI"), "not a list", "llm", "root", {
        invocation_params: { model: "gpt-3.5-turbo-instruct" },
      });
      h.handleLLMEnd(
        {
          generations: [[{ text: "ok" }]],
          llmOutput: { tokenUsage: { promptTokens: 10, completionTokens: 5 } },
        },
        "llm",
      );
      const unreadable = new Proxy([], {
        get() {
          throw new Error("unreadable");
        },
      });
      h.handleChatModelStart(model("ChatOpenAI"), [unreadable], "chat", "root", {
        invocation_params: { model: "gpt-4o-mini" },
      });
      h.handleLLMError(new Error("rate limited"), "chat");
      h.handleChainEnd({}, "root");
      expect(tracing.handler.openRuns).to.equal(0);
      expect(tracing.spans().map((span) => span.name)).to.deep.equal([
        "text_completion gpt-3.5-turbo-instruct",
        "chat gpt-4o-mini",
        "RunnableSequence",
      ]);
      expect(tracing.span("RunnableSequence").attributes).to.deep.include({
        "langchain_otel.request.inference_calls": 2,
        "langchain_otel.request.input_tokens": 10,
      });
      expect(
        (await points("gen_ai.client.operation.duration")).map((point) => point.value.count),
      ).to.deep.equal([1, 1]);
    });

    it("keys read from LangChain data never find Object.prototype's members", () => {
      const h = traced();
      // A class named like a prototype member, an ls_provider "__proto__", message types and a
      // finish reason named "toString", "__proto__" and "constructor".
      h.handleChatModelStart(
        model("toString"),
        [
          [
            { content: "hi", getType: () => "toString" },
            { content: "there", getType: () => "__proto__" },
          ],
        ],
        "chat",
        undefined,
        { invocation_params: { model: "m" } },
        undefined,
        { ls_provider: "__proto__" },
      );
      h.handleLLMEnd(
        { generations: [[{ text: "ok", generationInfo: { finish_reason: "constructor" } }]] },
        "chat",
      );
      const span = tracing.span("chat m");
      expect(span.attributes["gen_ai.provider.name"]).to.equal("__proto__");
      const input = JSON.parse(String(span.attributes["gen_ai.input.messages"]));
      expect(input.map((message: { role: string }) => message.role)).to.deep.equal(["toString", "__proto__"]);
      const output = JSON.parse(String(span.attributes["gen_ai.output.messages"]));
      expect(output[0].finish_reason).to.equal("constructor");
    });

    it("a tool name containing a newline never shares a metric series with another tool's failures", async () => {
      const h = traced();
      const tool = { lc: 1, type: "constructor", id: ["x", "Tool"], kwargs: {} };
      h.handleToolStart(tool, "{}", "t1", undefined, undefined, undefined, "a");
      h.handleToolError({ name: "b", message: "down" }, "t1");
      h.handleToolStart(tool, "{}", "t2", undefined, undefined, undefined, "a\nb");
      h.handleToolEnd("ok", "t2");
      const series = (await points("gen_ai.execute_tool.duration")).map((point) => [
        point.attributes["gen_ai.tool.name"],
        point.attributes["error.type"],
        point.value.count,
      ]);
      expect(series).to.deep.equal([
        ["a", "b", 1],
        ["a\nb", undefined, 1],
      ]);
    });

    it("token counts past 2^53 are no counts: no Infinity in attributes, totals or metrics", async () => {
      const h = traced();
      h.handleChainStart({ id: ["x", "RunnableSequence"] }, {}, "root");
      h.handleChatModelStart(model("ChatAnthropic"), [[]], "chat", "root", {
        invocation_params: { model: "claude-haiku-4-5" },
      });
      h.handleLLMEnd(
        {
          generations: [[{ text: "ok" }]],
          llmOutput: {
            usage: { input_tokens: 1e308, cache_read_input_tokens: 1e308, output_tokens: 5 },
          },
        },
        "chat",
      );
      h.handleChainEnd({}, "root");
      for (const span of tracing.spans()) {
        for (const [key, value] of Object.entries(span.attributes)) {
          if (typeof value === "number") expect(Number.isFinite(value), key).to.equal(true);
          if (typeof value === "string") expect(value, key).not.to.include("Infinity");
        }
      }
      expect(tracing.span("chat claude-haiku-4-5").attributes).not.to.have.property(
        "gen_ai.usage.input_tokens",
      );
      for (const point of await points("gen_ai.client.token.usage"))
        expect(Number.isFinite((point.value as { sum?: number }).sum)).to.equal(true);
    });
  });

  describe("bounded memory", () => {
    let tracing: TestTracing;
    afterEach(async () => tracing.shutdown());

    it("ends runs that never end after orphanTimeoutMs, marked as orphaned, with their request's totals", async function () {
      this.timeout(10_000);
      tracing = setupTestTracing({ orphanTimeoutMs: 1000 });
      tracing.handler.handleChainStart(
        { lc: 1, type: "not_implemented", id: ["AbandonedStream"] },
        {},
        "never-ends",
      );
      // A tool that ran before the stream was abandoned (LangGraph 0.4 never ends an agent stream
      // its consumer left).
      tracing.handler.handleToolStart(
        { lc: 1, type: "not_implemented", id: ["Lookup"] },
        "{}",
        "tool-1",
        "never-ends",
      );
      tracing.handler.handleToolEnd("found", "tool-1");
      expect(tracing.handler.openRuns).to.equal(1);
      await new Promise((resolve) => setTimeout(resolve, 2300));
      expect(tracing.handler.openRuns).to.equal(0);
      const span = tracing.span("AbandonedStream");
      expect(span.attributes["langchain_otel.orphaned"]).to.equal("timeout");
      expect(span.attributes["langchain_otel.request.tool_calls"]).to.equal(1);
      expect(span.status.code).to.equal(SpanStatusCode.ERROR);
      expect(span.status.message).to.match(/never reported its end/);
    });

    it("caps the number of open runs, ending the oldest", () => {
      tracing = setupTestTracing({ maxOpenRuns: 3 });
      for (let i = 0; i < 5; i++)
        tracing.handler.handleChainStart({ lc: 1, type: "not_implemented", id: [`Run${i}`] }, {}, `run-${i}`);
      expect(tracing.handler.openRuns).to.equal(3);
      expect(
        tracing.spans().map((span) => [span.name, span.attributes["langchain_otel.orphaned"]]),
      ).to.deep.equal([
        ["Run0", "capacity"],
        ["Run1", "capacity"],
      ]);
    });
  });

  it("keeps operation, model, usage, ids and user/session under a low attribute-count limit", async () => {
    const tracing = setupTestTracing({}, { spanLimits: { attributeCountLimit: 14 } });
    const model = new ScriptedChatModel([{ text: "hello" }]);
    await model.invoke("hi", {
      callbacks: [tracing.handler],
      metadata: { userId: "u-1", sessionId: "s-1", a: 1, b: 2, c: 3 },
    });
    const span = tracing.span("chat gpt-test");
    expect(span.droppedAttributesCount).to.be.greaterThan(0);
    expect(span.attributes).to.include({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-test",
      "user.id": "u-1",
      "session.id": "s-1",
      "gen_ai.response.model": "gpt-test-2025-01-01",
      "gen_ai.usage.input_tokens": 120,
      "gen_ai.usage.output_tokens": 30,
    });
    await tracing.shutdown();
  });

  describe("no secret ever lands in a span", () => {
    it("scanning the whole decoded OTLP payload for planted secrets finds none", async () => {
      const secrets = {
        apiKey: "sk-planted-model-key-0123456789",
        toolKey: "planted-tool-credential-9876",
        metadataKey: "planted-metadata-token-5555",
        header: "Bearer planted-header-token-4444",
        input: "planted-input-password-3333",
        masked: "planted-user-email@example.com",
      };
      const receiver = await startOtlpReceiver();
      const server = await startModelServer({ reply: () => ({ content: "ok" }) });
      try {
        const setup = setupTracing({
          exporter: "langfuse",
          langfuse: {
            publicKey: "pk-lf-x",
            secretKey: "sk-lf-planted-langfuse-secret",
            baseUrl: receiver.url,
            encoding: "json",
            compression: "none",
          },
          register: false,
          mask: (value) => value.replaceAll(secrets.masked, "[email]"),
        });
        const model = new ChatOpenAI({
          model: "gpt-4o-mini",
          apiKey: secrets.apiKey,
          configuration: { baseURL: server.baseURL, defaultHeaders: { "x-api-key": secrets.apiKey } },
          maxRetries: 0,
        });
        const sensitiveTool = tool(
          async (input: { query: string; credentials: { password: string } }) => `result for ${input.query}`,
          {
            name: "search",
            description: "search",
            schema: z.object({ query: z.string(), credentials: z.object({ password: z.string() }) }),
          },
        );
        const chain = RunnableLambda.from(async (_input: Record<string, unknown>, config) => {
          await sensitiveTool.invoke({ query: "q", credentials: { password: secrets.toolKey } }, config);
          return model.invoke(`hello ${secrets.masked}`, config);
        }).withConfig({ runName: "secret-chain" });
        await chain.invoke(
          {
            question: "q",
            authorization: secrets.header,
            headers: { cookie: secrets.input },
            password: secrets.input,
          },
          {
            callbacks: [setup.handler],
            metadata: { openaiApiKey: secrets.metadataKey, accessToken: secrets.metadataKey, tenant: "acme" },
          },
        );
        await setup.shutdown();
        const payload = receiver.requests.map((request) => request.rawBytes.toString("utf8")).join("\n");
        expect(payload).to.include("secret-chain");
        expect(payload).to.include("acme");
        for (const [name, secret] of Object.entries(secrets)) expect(payload, name).not.to.include(secret);
        expect(payload).not.to.include("sk-lf-planted-langfuse-secret");
        expect(payload).to.include("[email]");
      } finally {
        await server.close();
        await receiver.close();
      }
    });
  });

  describe("backend faults", () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(async () => receiver.close());

    const faults = [
      { name: "refusing connections", url: "http://127.0.0.1:1" },
      { name: "answering 401", behaviour: { kind: "status", status: 401 } as const },
      { name: "answering 429", behaviour: { kind: "status", status: 429, retryAfterSeconds: 0 } as const },
      { name: "answering 500", behaviour: { kind: "status", status: 500 } as const },
      { name: "hanging", behaviour: { kind: "hang" } as const },
      { name: "dropping the connection", behaviour: { kind: "destroy" } as const },
    ];
    for (const fault of faults) {
      it(`with the backend ${fault.name}: invocations complete, no unhandled rejection, one diagnostic, bounded shutdown`, async function () {
        this.timeout(20_000);
        receiver.setBehaviour(fault.behaviour ?? { kind: "ok" });
        const rejections: unknown[] = [];
        const onRejection = (reason: unknown) => rejections.push(reason);
        process.on("unhandledRejection", onRejection);
        const diagnostics = captureDiag(DiagLogLevel.WARN);
        try {
          const setup = setupTracing({
            exporter: "langfuse",
            langfuse: {
              publicKey: "pk-lf-x",
              secretKey: "sk-lf-x",
              baseUrl: fault.url ?? receiver.url,
              timeoutMillis: 500,
            },
            register: false,
            batch: {
              scheduledDelayMillis: 5,
              maxExportBatchSize: 10,
              maxQueueSize: 100,
              exportTimeoutMillis: 600,
            },
            shutdownTimeoutMs: 1500,
          });
          const model = new ScriptedChatModel([{ text: "ok" }]);
          for (let batch = 0; batch < 5; batch++) {
            const started = Date.now();
            await Promise.all(
              Array.from({ length: 20 }, () => model.invoke("hi", { callbacks: [setup.handler] })),
            );
            // Export is off the invocation path: a dead backend never holds an invocation up.
            expect(Date.now() - started).to.be.lessThan(1000);
            await new Promise((resolve) => setTimeout(resolve, 40));
          }
          const shutdownStarted = Date.now();
          await setup.shutdown();
          expect(Date.now() - shutdownStarted).to.be.lessThan(2500);
          await new Promise((resolve) => setTimeout(resolve, 50));
          expect(rejections).to.deep.equal([]);
          // Only this test's exporter: an earlier test's exporter may still be retrying in the background.
          const baseUrl = fault.url ?? receiver.url;
          const ours = diagnostics.lines.filter(
            (line) => line.includes("langchain-otel: exporting") && line.includes(baseUrl),
          );
          expect(ours, diagnostics.lines.join("\n")).to.have.length(1);
          expect(ours[0]).to.match(/failed/);
          // The likely cause, where OTLP's message does not name it.
          expect(ours[0].includes("check the keys")).to.equal(fault.name === "answering 401");
          expect(ours[0].includes("throttles")).to.equal(fault.name === "answering 429");
          expect(diagnostics.lines.join("\n")).not.to.include("sk-lf-x");
        } finally {
          diagnostics.stop();
          process.off("unhandledRejection", onRejection);
          receiver.setBehaviour({ kind: "ok" });
        }
      });
    }
  });

  describe("a backend that cannot keep up", () => {
    let receiver: OtlpReceiver;
    before(async () => {
      receiver = await startOtlpReceiver();
    });
    after(async () => receiver.close());

    it("the batch queue drops spans instead of growing, and says how many", async function () {
      this.timeout(20_000);
      const maxQueueSize = 50;
      const maxExportBatchSize = 10;
      const diagnostics = captureDiag(DiagLogLevel.WARN);
      receiver.setBehaviour({ kind: "hang" });
      const setup = setupTracing({
        exporter: "langfuse",
        langfuse: { publicKey: "pk-lf-x", secretKey: "sk-lf-x", baseUrl: receiver.url, timeoutMillis: 300 },
        register: false,
        batch: { scheduledDelayMillis: 5, maxExportBatchSize, maxQueueSize, exportTimeoutMillis: 300 },
        shutdownTimeoutMs: 2000,
      });
      try {
        const model = new ScriptedChatModel([{ text: "ok" }]);
        // 500 spans while the backend hangs: ten times what the queue holds.
        for (let i = 0; i < 500; i++) await model.invoke("hi", { callbacks: [setup.handler] });
        receiver.setBehaviour({ kind: "ok" });
        // Let the hung export time out, then one more span reports the drops.
        await new Promise((resolve) => setTimeout(resolve, 700));
        receiver.clear();
        await model.invoke("hi", { callbacks: [setup.handler] });
        await setup.flush();
        const dropped = diagnostics.lines
          .map((line) => /Dropped (\d+) spans because maxQueueSize reached/.exec(line)?.[1])
          .filter((count) => count !== undefined)
          .reduce((sum, count) => sum + Number(count), 0);
        // What was queued when the backend came back is at most the queue and one batch in flight.
        const delivered = receiver.spans().length;
        expect(delivered).to.be.at.most(maxQueueSize + maxExportBatchSize + 1);
        expect(dropped, diagnostics.lines.join("\n")).to.be.at.least(
          500 - maxQueueSize - 2 * maxExportBatchSize,
        );
      } finally {
        diagnostics.stop();
        receiver.setBehaviour({ kind: "ok" });
        await setup.shutdown();
      }
    });
  });

  describe("abort", () => {
    let server: ModelServer;
    before(async () => {
      server = await startModelServer({
        reply: () => ({ content: "a very long answer that streams slowly word by word", delayMs: 0 }),
        chunkDelayMs: 30,
      });
    });
    after(async () => server.close());
    const chat = () =>
      new ChatOpenAI({
        model: "gpt-4o-mini",
        apiKey: "sk-test-0123456789abcdefghij",
        configuration: { baseURL: server.baseURL },
        maxRetries: 0,
      });

    it("a run cancelled with an AbortSignal mid-stream ends as cancelled, not as a generic error", async () => {
      const reader = new InMemoryReader();
      const tracing = setupTestTracing({ meterProvider: new MeterProvider({ readers: [reader] }) });
      const model = chat();
      const controller = new AbortController();
      const chain = RunnableLambda.from(async (input: string, config) => {
        let text = "";
        for await (const chunk of await model.stream(input, config)) {
          text += chunk.content;
          if (text.length > 10) controller.abort();
        }
        return text;
      }).withConfig({ runName: "streaming-chain" });
      const error = await chain
        .invoke("hi", { callbacks: [tracing.handler], signal: controller.signal })
        .catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(Error);
      await awaitAllCallbacks();
      expect(tracing.handler.openRuns).to.equal(0);
      for (const span of tracing.spans()) {
        expect(span.status.code, span.name).to.equal(SpanStatusCode.ERROR);
        expect(span.status.message, span.name).to.match(/^cancelled/);
        expect(span.attributes["error.type"], span.name).to.equal("cancelled");
        expect(
          span.events.filter((event) => event.name === "exception"),
          span.name,
        ).to.deep.equal([]);
      }
      expect(tracing.spans().map((span) => span.name)).to.include.members([
        "streaming-chain",
        "chat gpt-4o-mini",
      ]);
      // The metrics say so too, as the span does: not the class of the abort error.
      const { resourceMetrics } = await reader.collect();
      const duration = resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .find((metric) => metric.descriptor.name === "gen_ai.client.operation.duration");
      expect(duration?.dataPoints.map((point) => point.attributes["error.type"])).to.deep.equal([
        "cancelled",
      ]);
      await tracing.shutdown();
    });

    it("a stream the consumer aborts, which LangChain never ends: its run ends as cancelled a moment later", async () => {
      const tracing = setupTestTracing();
      const model = chat();
      const controller = new AbortController();
      let chunks = 0;
      const error = await (async () => {
        for await (const _ of await model.stream("hi", {
          callbacks: [tracing.handler],
          signal: controller.signal,
        }))
          if (++chunks === 3) controller.abort();
      })().catch((caught: unknown) => caught);
      expect(error).to.be.instanceOf(Error);
      await new Promise((resolve) => setTimeout(resolve, ABORT_GRACE_MS + 100));
      expect(tracing.handler.openRuns).to.equal(0);
      const [span] = tracing.spans();
      expect(span.name).to.equal("chat gpt-4o-mini");
      expect(span.status.message).to.match(/^cancelled/);
      expect(span.attributes["error.type"]).to.equal("cancelled");
      await tracing.shutdown();
    });

    it("a signal shared by many calls keeps no listener for the calls that ended", async () => {
      const tracing = setupTestTracing();
      const model = new ScriptedChatModel([{ text: "ok" }]);
      const controller = new AbortController();
      let listeners = 0;
      const add = controller.signal.addEventListener.bind(controller.signal);
      const remove = controller.signal.removeEventListener.bind(controller.signal);
      controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
        listeners++;
        add(...args);
      }) as typeof add;
      controller.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        listeners--;
        remove(...args);
      }) as typeof remove;
      for (let i = 0; i < 50; i++)
        await model.invoke("q", { callbacks: [tracing.handler], signal: controller.signal });
      // LangChain's own listeners come and go too; ours must not stay behind.
      expect(listeners).to.equal(0);
      expect(tracing.spans()).to.have.length(50);
      await tracing.shutdown();
    });
  });

  for (const awaitHandlers of [true, false]) {
    it(`1,000 concurrent invocations give 1,000 correct trees (awaitHandlers: ${awaitHandlers})`, async function () {
      this.timeout(120_000);
      const tracing = setupTestTracing({ awaitHandlers });
      const tracer = tracing.provider.getTracer("app");
      const count = 1000;
      const lookup = tool(async ({ id }: { id: string }) => `found ${id}`, {
        name: "lookup",
        description: "look up",
        schema: z.object({ id: z.string() }),
      });
      await Promise.all(
        Array.from({ length: count }, (_, index) =>
          tracer.startActiveSpan(`request ${index}`, async (request) => {
            if (index % 2 === 0) await new Promise((resolve) => setTimeout(resolve, index % 5));
            const model = new ScriptedChatModel([
              { toolCalls: [{ id: `call_${index}`, name: "lookup", args: { id: String(index) } }] },
              { text: `done ${index}` },
            ]);
            const chain = RunnableLambda.from(async (input: string, config) => {
              const first = await model.invoke(input, config);
              const result = await lookup.invoke(first.tool_calls![0], config);
              return model.invoke([input, first, result], config);
            }).withConfig({ runName: "agent-loop" });
            await chain.invoke(`q${index}`, { callbacks: [tracing.handler] });
            request.end();
          }),
        ),
      );
      await awaitAllCallbacks();
      const spans = tracing.spans();
      const byTrace = new Map<string, ReadableSpan[]>();
      for (const span of spans) byTrace.set(traceId(span), [...(byTrace.get(traceId(span)) ?? []), span]);
      expect(byTrace.size).to.equal(count);
      for (const inTrace of byTrace.values()) {
        const roots = inTrace.filter((span) => parentId(span) === undefined);
        expect(roots).to.have.length(1);
        const index = roots[0].name.split(" ")[1];
        expect(nameTree(inTrace, roots[0])).to.deep.equal([
          `request ${index}`,
          [
            [
              "agent-loop",
              [
                ["chat gpt-test", []],
                ["execute_tool lookup", []],
                ["chat gpt-test", []],
              ],
            ],
          ],
        ]);
        expect(
          inTrace.find((span) => span.name === "execute_tool lookup")?.attributes["gen_ai.tool.call.id"],
        ).to.equal(`call_${index}`);
      }
      expect(tracing.handler.openRuns).to.equal(0);
      await tracing.shutdown();
      void trace;
    });
  }
});
