import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { StringOutputParser } from "@langchain/core/output_parsers";
import type { BasePromptValueInterface } from "@langchain/core/prompt_values";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { SpanKind } from "@opentelemetry/api";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type ReadableSpan,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { z } from "zod";
import { KeywordRetriever, ScriptedChatModel } from "./support/models.js";
import { setupTestTracing, type TestTracing, traceId } from "./support/tracing.js";

const lookupOrder = tool(async ({ orderId }: { orderId: string }) => `order ${orderId}: delivered`, {
  name: "lookup_order",
  description: "Look up an order by id",
  schema: z.object({ orderId: z.string() }),
});

/** The RAG shape: retrieve → prompt → model (tool call) → tool → model → parse: 9 spans. */
function ragPipeline() {
  const model = new ScriptedChatModel([
    { toolCalls: [{ id: "call_1", name: "lookup_order", args: { orderId: "A-7" } }] },
    { text: "Refunds are accepted within 30 days. Order A-7 was delivered." },
  ]);
  const retriever = new KeywordRetriever([{ id: "doc-1", text: "Refunds are accepted within 30 days." }]);
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "Answer from the context.\n{context}"],
    ["human", "{question}"],
  ]);
  const bound = model.bindTools([lookupOrder]);
  return RunnableSequence.from([
    RunnableLambda.from(async (input: { question: string }, config) => {
      const docs = await retriever.invoke(input.question, config);
      return { question: input.question, context: docs.map((doc) => doc.pageContent).join("\n") };
    }).withConfig({ runName: "retrieve" }),
    prompt,
    RunnableLambda.from(async (value: BasePromptValueInterface, config) => {
      const messages = value.toChatMessages();
      const first = await bound.invoke(messages, config);
      const results = [];
      for (const call of first.tool_calls ?? []) results.push(await lookupOrder.invoke(call, config));
      return bound.invoke([...messages, first, ...results], config);
    }).withConfig({ runName: "agent-loop" }),
    new StringOutputParser(),
  ]).withConfig({ runName: "rag-pipeline" });
}
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
        await ragPipeline().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
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
    await ragPipeline().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
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
            ragPipeline().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] }),
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
        await ragPipeline().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
        request.end();
      }),
    );
    expect(tracing.spans()).to.have.length(0);
    await tracer.startActiveSpan("sampled request", async (request) => {
      await ragPipeline().invoke({ question: "refunds?" }, { callbacks: [tracing.handler] });
      request.end();
    });
    expect(tracing.spans()).to.have.length(SPANS_PER_INVOCATION + 1);
  });
});
