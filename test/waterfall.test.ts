import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import { z } from "zod";
import { ConsoleWaterfallExporter, formatWaterfall } from "../src/export/waterfall.js";
import { ScriptedChatModel } from "./support/models.js";
import { setupTestTracing, type TestTracing } from "./support/tracing.js";

function pipeline(printed: string[], options: { maxTraceAgeMs?: number } = {}) {
  const exporter = new ConsoleWaterfallExporter({
    write: (text) => printed.push(text),
    color: false,
    ...options,
  });
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider, tracer: provider.getTracer("test") };
}

describe("ConsoleWaterfallExporter", () => {
  it("prints a trace as a tree when its root ends: order, guides, durations, model details, errors", async () => {
    const printed: string[] = [];
    const { provider, tracer } = pipeline(printed);
    await tracer.startActiveSpan("POST /api/chat", { kind: SpanKind.SERVER }, async (root) => {
      await tracer.startActiveSpan("rag-pipeline", async (chain) => {
        tracer
          .startSpan("retrieval docs", {
            attributes: {
              "gen_ai.operation.name": "retrieval",
              "gen_ai.retrieval.documents": '[{"id":"a"},{"id":"b"}]',
            },
          })
          .end();
        const model = tracer.startSpan("chat gpt-4o-mini", {
          kind: SpanKind.CLIENT,
          attributes: {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o-mini",
            "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
            "gen_ai.usage.input_tokens": 120,
            "gen_ai.usage.output_tokens": 30,
            "gen_ai.response.finish_reasons": ["tool_calls"],
          },
        });
        await new Promise((resolve) => setTimeout(resolve, 5));
        model.end();
        tracer
          .startSpan("execute_tool lookup", {
            attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.call.id": "call_1" },
          })
          .end();
        const failing = tracer.startSpan("validate", { attributes: { "error.type": "ValidationError" } });
        failing.setStatus({ code: SpanStatusCode.ERROR, message: "answer is empty\nsecond line" });
        failing.end();
        chain.end();
      });
      expect(printed).to.deep.equal([]);
      root.end();
    });
    await provider.shutdown();
    expect(printed).to.have.length(1);
    const lines = printed[0].trimEnd().split("\n");
    expect(lines[0]).to.match(/^trace [0-9a-f]{32} · POST \/api\/chat · \d+\.\d ms$/);
    expect(lines.slice(1).map((line) => line.replace(/\s+\d+\.\d ms.*$/, ""))).to.deep.equal([
      "POST /api/chat",
      "└─ rag-pipeline",
      "   ├─ retrieval docs",
      "   ├─ chat gpt-4o-mini",
      "   ├─ execute_tool lookup",
      "   └─ ✗ validate",
    ]);
    expect(lines[3]).to.match(/2 documents$/);
    expect(lines[4]).to.match(/gpt-4o-mini-2024-07-18 · 120 in \/ 30 out tokens · tool_calls$/);
    expect(lines[5]).to.match(/call_1$/);
    expect(lines[6]).to.match(/ERROR ValidationError: answer is empty$/);
  });

  it("prints interleaved traces separately, each once", async () => {
    const printed: string[] = [];
    const { provider, tracer } = pipeline(printed);
    const a = tracer.startSpan("trace-a");
    const b = tracer.startSpan("trace-b");
    b.end();
    a.end();
    await provider.shutdown();
    expect(printed).to.have.length(2);
    expect(printed[0]).to.include("trace-b");
    expect(printed[1]).to.include("trace-a");
  });

  it("prints a trace whose root never ended on forceFlush, and nothing twice after shutdown", async () => {
    const printed: string[] = [];
    const { provider, tracer } = pipeline(printed);
    tracer.startActiveSpan("never-ends", (root) => {
      tracer.startSpan("child").end();
      return root;
    });
    expect(printed).to.deep.equal([]);
    await provider.forceFlush();
    expect(printed).to.have.length(1);
    expect(printed[0]).to.include("child");
    await provider.shutdown();
    expect(printed).to.have.length(1);
  });

  it("formats spans whose parent is missing as top-level lines", async () => {
    const printed: string[] = [];
    const exporter = new ConsoleWaterfallExporter({ write: (text) => printed.push(text), color: false });
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const tracer = provider.getTracer("test");
    const spans: Parameters<typeof formatWaterfall>[0] = [];
    const capture = new NodeTracerProvider({
      spanProcessors: [
        {
          onStart() {},
          onEnd: (span) => spans.push(span),
          forceFlush: async () => {},
          shutdown: async () => {},
        },
      ],
    });
    const captureTracer = capture.getTracer("test");
    captureTracer.startActiveSpan("lost-parent", (parent) => {
      captureTracer.startSpan("orphan").end();
      return parent;
    });
    const text = formatWaterfall(spans);
    expect(text.split("\n")[1]).to.match(/^orphan\s/);
    tracer.startSpan("unused").end();
    await provider.shutdown();
  });
});

describe("the waterfall's request line", () => {
  let tracing: TestTracing;
  afterEach(async () => tracing.shutdown());
  const lines = () => formatWaterfall(tracing.spans()).trimEnd().split("\n").slice(1);

  it("is on an outermost chain; a lone model call or tool shows its own line only", async () => {
    tracing = setupTestTracing();
    const model = new ScriptedChatModel([{ text: "hi" }, { text: "hi" }]);
    await model.invoke("hello", { callbacks: [tracing.handler] });
    expect(lines()).to.have.length(1);
    expect(lines()[0]).to.match(/120 in \(20 cached\) \/ 30 out \(5 reasoning\) tokens · stop$/);
    tracing.exporter.reset();

    const lookup = tool(async () => "found", { name: "lookup", description: "d", schema: z.object({}) });
    await lookup.invoke({}, { callbacks: [tracing.handler] });
    expect(lines()).to.have.length(1);
    expect(lines()[0]).not.to.include("request:");
    tracing.exporter.reset();

    await RunnableLambda.from((text: string, config) => model.invoke(text, config))
      .withConfig({ runName: "ask" })
      .invoke("hello", { callbacks: [tracing.handler] });
    expect(lines()[0]).to.match(
      /^ask .*request: 120 in \(20 cached\) \/ 30 out \(5 reasoning\) tokens · 1 model call, 0 tool calls$/,
    );
  });
});

describe("formatWaterfall with spans no exporter would expect", () => {
  /** The fields the waterfall reads of a finished span. */
  const span = (id: string, parent: string | undefined, name = `span ${id}`) =>
    ({
      name,
      spanContext: () => ({ traceId: "0af7651916cd43dd8448eb211c80319c", spanId: id, traceFlags: 1 }),
      parentSpanContext:
        parent === undefined
          ? undefined
          : { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: parent, traceFlags: 1 },
      startTime: [0, Number(`0x${id.slice(-4)}`)] as [number, number],
      duration: [0, 1_000_000] as [number, number],
      status: { code: 0 },
      attributes: {},
      events: [],
      links: [],
    }) as unknown as Parameters<typeof formatWaterfall>[0][number];

  it("prints spans in a parent cycle instead of throwing", () => {
    const text = formatWaterfall([
      span("000000000000000a", "000000000000000b"),
      span("000000000000000b", "000000000000000a"),
    ]);
    expect(text).to.include("span 000000000000000a").and.to.include("span 000000000000000b");
  });

  it("prints a trace 20,000 spans deep", () => {
    const spans = Array.from({ length: 20_000 }, (_, i) =>
      span(i.toString(16).padStart(16, "0"), i === 0 ? undefined : (i - 1).toString(16).padStart(16, "0")),
    );
    expect(formatWaterfall(spans).split("\n")).to.have.length(20_002);
  });

  it("keeps the header line short, cuts no emoji in half, and shows no control character", () => {
    const name = `${"x".repeat(46)}😀 and \u001b[31mred\u001b[0m\nsecond line ${"y".repeat(1000)}`;
    const [header, line] = formatWaterfall([span("000000000000000a", undefined, name)]).split("\n");
    expect(header.length).to.be.lessThan(200);
    expect(line.slice(0, 48)).to.equal(`${"x".repeat(46)}…`.padEnd(48));
    expect(line).not.to.include("\u001b");
    expect(header).not.to.include("\u001b");
  });

  it("rejects bad options when the exporter is made", () => {
    expect(() => new ConsoleWaterfallExporter({ maxTraces: 0 })).to.throw(
      TypeError,
      /"maxTraces" must be a positive integer/,
    );
    expect(() => new ConsoleWaterfallExporter({ maxTraceAgeMs: Number.NaN })).to.throw(/"maxTraceAgeMs"/);
    expect(() => new ConsoleWaterfallExporter({ write: "stdout" as never })).to.throw(
      /"write" must be a function/,
    );
  });
});
