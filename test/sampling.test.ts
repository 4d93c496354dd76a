import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { SpanKind } from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type ReadableSpan,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { ragPipeline, scripted } from "./support/pipelines.js";
import { setupTestTracing, type TestTracing, traceId } from "./support/tracing.js";

/** The RAG shape: retrieve → prompt → model (tool call) → tool → model → parse: 9 spans. */
const rag = () => ragPipeline(scripted());
const SPANS_PER_INVOCATION = 9;

describe("sampling: unsampled runs cost almost nothing, and traces stay whole", () => {
  let tracing: TestTracing;
  afterEach(async () => tracing?.shutdown());

  for (const awaitHandlers of [true, false]) {
    it(`never sampled: no span, and no content read or serialized (awaitHandlers: ${awaitHandlers})`, async () => {
      let masked = 0;
      tracing = setupTestTracing(
        {
          awaitHandlers,
          mask: (value) => {
            masked++;
            return value;
          },
        },
        { sampler: new AlwaysOffSampler() },
      );
      for (let i = 0; i < 5; i++) {
        await rag().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
      }
      await awaitAllCallbacks();
      expect(tracing.spans()).to.have.length(0);
      // Every captured string passes the mask: none was captured.
      expect(masked).to.equal(0);
      expect(tracing.handler.openRuns).to.equal(0);
    });
  }

  it("the same with sampling on captures content (the mask sees it)", async () => {
    let masked = 0;
    tracing = setupTestTracing(
      {
        mask: (value) => {
          masked++;
          return value;
        },
      },
      { sampler: new AlwaysOnSampler() },
    );
    await rag().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
    expect(tracing.spans()).to.have.length(SPANS_PER_INVOCATION);
    expect(masked).to.be.greaterThan(0);
  });

  const samplers = {
    "trace id ratio": () => new TraceIdRatioBasedSampler(0.5),
    "parent-based ratio": () => new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.5) }),
  };
  for (const [label, sampler] of Object.entries(samplers)) {
    for (const awaitHandlers of [true, false]) {
      it(`${label}: each trace is whole or absent, never a sampled root with unsampled children (awaitHandlers: ${awaitHandlers})`, async () => {
        tracing = setupTestTracing({ awaitHandlers }, { sampler: sampler() });
        const invocations = 120;
        await Promise.all(
          Array.from({ length: invocations }, () =>
            rag().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] }),
          ),
        );
        await awaitAllCallbacks();
        const byTrace = new Map<string, ReadableSpan[]>();
        for (const span of tracing.spans()) {
          byTrace.set(traceId(span), [...(byTrace.get(traceId(span)) ?? []), span]);
        }
        // About half the traces are kept (binomial, n=120, p=0.5: 30..90 is far outside noise).
        expect(byTrace.size).to.be.within(30, 90);
        for (const spans of byTrace.values()) {
          expect(spans.map((span) => span.name).sort()).to.deep.equal(
            [
              "rag-pipeline",
              "retrieve",
              "retrieval KeywordRetriever",
              "ChatPromptTemplate",
              "agent-loop",
              "chat gpt-test",
              "execute_tool lookup_order",
              "chat gpt-test",
              "StrOutputParser",
            ].sort(),
          );
        }
        expect(tracing.handler.openRuns).to.equal(0);
      });
    }
  }

  it("parent-based: the app's sampling decision decides the LangChain spans under it", async () => {
    tracing = setupTestTracing({}, { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }) });
    const tracer = tracing.provider.getTracer("app");
    // An unsampled request span (as a parent-based sampler would make under an unsampled caller).
    const { trace: traceApi, context, TraceFlags } = await import("@opentelemetry/api");
    const unsampledCaller = traceApi.setSpanContext(context.active(), {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    await context.with(unsampledCaller, () =>
      tracer.startActiveSpan("request", { kind: SpanKind.SERVER }, async (request) => {
        await rag().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
        request.end();
      }),
    );
    expect(tracing.spans()).to.have.length(0);
    await tracer.startActiveSpan("sampled request", async (request) => {
      await rag().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
      request.end();
    });
    expect(tracing.spans()).to.have.length(SPANS_PER_INVOCATION + 1);
  });
});
