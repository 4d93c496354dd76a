import { StringOutputParser } from "@langchain/core/output_parsers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { trace } from "@opentelemetry/api";
import { ParentBasedSampler, TraceIdRatioBasedSampler } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { parseTraceParent } from "../src/context/remote-parent.js";
import { ScriptedChatModel } from "./support/models.js";
import { parentId, setupTestTracing, spanId, type TestTracing, traceId } from "./support/tracing.js";

/**
 * An outermost run starts under the W3C `traceparent` its metadata carries, where the caller's
 * active span cannot reach the handler (a browser, a Worker without nodejs_compat, a job that got
 * its trace context in a message).
 */

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const SAMPLED = `00-${TRACE}-${PARENT}-01`;

const chain = () =>
  RunnableSequence.from([
    RunnableLambda.from((question: string) => question).withConfig({ runName: "prepare" }),
    new ScriptedChatModel([{ text: "Tomorrow." }]),
    new StringOutputParser(),
  ]).withConfig({ runName: "support-chain" });

describe("traceparent in an outermost run's metadata", () => {
  let tracing: TestTracing;
  afterEach(() => tracing.shutdown());

  it("starts the run under that span, and its children under the run", async () => {
    tracing = setupTestTracing();
    await chain().invoke("When?", { callbacks: [tracing.handler], metadata: { traceparent: SAMPLED } });
    const root = tracing.span("support-chain");
    expect(traceId(root)).to.equal(TRACE);
    expect(parentId(root)).to.equal(PARENT);
    expect(root.parentSpanContext?.isRemote).to.equal(true);
    for (const name of ["prepare", "chat gpt-test", "StrOutputParser"]) {
      const span = tracing.span(name);
      expect(traceId(span), name).to.equal(TRACE);
      expect(parentId(span), name).to.equal(spanId(root));
    }
  });

  it("wins over the span active in the caller, and is not shown as metadata", async () => {
    tracing = setupTestTracing();
    const tracer = tracing.provider.getTracer("app");
    await tracer.startActiveSpan("request", async (request) => {
      await chain().invoke("When?", {
        callbacks: [tracing.handler],
        metadata: { traceparent: SAMPLED, tenant: "acme" },
      });
      request.end();
    });
    const root = tracing.span("support-chain");
    expect(traceId(root)).to.equal(TRACE);
    expect(parentId(root)).to.equal(PARENT);
    const metadataKeys = Object.keys(root.attributes).filter((key) => key.includes("metadata."));
    expect(metadataKeys.some((key) => key.endsWith(".tenant"))).to.equal(true);
    expect(metadataKeys.some((key) => key.endsWith(".traceparent"))).to.equal(false);
  });

  it("an invalid traceparent leaves the run under the span active in the caller", async () => {
    tracing = setupTestTracing();
    const tracer = tracing.provider.getTracer("app");
    for (const bad of [
      `00-${"0".repeat(32)}-${PARENT}-01`,
      `00-${TRACE}-${"0".repeat(16)}-01`,
      `ff-${TRACE}-${PARENT}-01`,
      `00-${TRACE}-${PARENT}-01-extra`,
      "not a traceparent",
    ]) {
      tracing.exporter.reset();
      await tracer.startActiveSpan("request", async (request) => {
        await chain().invoke("When?", { callbacks: [tracing.handler], metadata: { traceparent: bad } });
        request.end();
      });
      expect(parentId(tracing.span("support-chain")), bad).to.equal(spanId(tracing.span("request")));
    }
  });

  it("a parent-based sampler follows its sampled flag", async () => {
    tracing = setupTestTracing(
      {},
      { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }) },
    );
    await chain().invoke("When?", {
      callbacks: [tracing.handler],
      metadata: { traceparent: `00-${TRACE}-${PARENT}-00` },
    });
    expect(tracing.spans()).to.deep.equal([]);
    await chain().invoke("When?", { callbacks: [tracing.handler], metadata: { traceparent: SAMPLED } });
    expect(tracing.spans().map((span) => span.name)).to.include("support-chain");
  });

  it("parses W3C trace context: version, ids, flags", () => {
    expect(parseTraceParent(SAMPLED)).to.deep.equal({
      traceId: TRACE,
      spanId: PARENT,
      traceFlags: 1,
      isRemote: true,
    });
    // A later version may append fields; unknown flag bits are not the sampled bit.
    expect(parseTraceParent(`01-${TRACE}-${PARENT}-fe-more`)?.traceFlags).to.equal(0);
    expect(parseTraceParent(`00-${TRACE.toUpperCase()}-${PARENT}-01`)).to.equal(undefined);
    // The active span API takes what parseTraceParent gives.
    expect(trace.wrapSpanContext(parseTraceParent(SAMPLED)!).spanContext().spanId).to.equal(PARENT);
  });
});
