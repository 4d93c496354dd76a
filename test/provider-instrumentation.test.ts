import { OpenAIInstrumentation as OpenInferenceOpenAI } from "@arizeai/openinference-instrumentation-openai";
import { ChatOpenAI } from "@langchain/openai";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { OpenAIInstrumentation as OpenLLMetryOpenAI } from "@traceloop/instrumentation-openai";
import { expect } from "chai";
import OpenAI, * as openaiModule from "openai";
import { type ModelServer, startModelServer } from "../examples/support/model-server.js";
import { httpSpans, parentOf, useContextBridge } from "./support/bridge.js";
import { setupTestTracing, type TestTracing } from "./support/tracing.js";

/** The attributes that make Langfuse count a span as a generation with usage (langfuse-otel §2, §5). */
const isGeneration = (span: ReadableSpan) =>
  span.attributes["langfuse.observation.type"] === "generation" ||
  (span.attributes["langfuse.observation.type"] === undefined &&
    (span.attributes["gen_ai.operation.name"] === "chat" ||
      span.attributes["openinference.span.kind"] === "LLM"));

describe("with a provider SDK instrumentation: one model call, counted once", () => {
  const bridge = useContextBridge();
  let server: ModelServer;
  let tracing: TestTracing;
  let uninstrument: (() => void) | undefined;

  before(async () => {
    server = await startModelServer({ chunkDelayMs: 1 });
  });
  after(async () => server.close());
  afterEach(async () => {
    uninstrument?.();
    uninstrument = undefined;
    await tracing?.shutdown();
  });

  const chat = () =>
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
      streamUsage: true,
    });

  const instrumentations = {
    OpenLLMetry: (provider: TestTracing["provider"]) => {
      const instrumentation = new OpenLLMetryOpenAI({ enabled: false });
      instrumentation.setTracerProvider(provider);
      instrumentation.manuallyInstrument(OpenAI);
      return () => {
        instrumentation.disable();
        // A manual instrumentation stays on the prototypes until unpatched.
        (instrumentation as unknown as { unpatch(exports: unknown): void }).unpatch({ OpenAI });
      };
    },
    OpenInference: (provider: TestTracing["provider"]) => {
      const instrumentation = new OpenInferenceOpenAI({ tracerProvider: provider });
      instrumentation.manuallyInstrument(openaiModule as unknown as typeof OpenAI);
      return () => instrumentation.disable();
    },
  };

  // OpenInference 4.2 cannot wrap openai 6's streaming promise ("not an APIPromise"): invoke only.
  const streams: Record<string, boolean> = { OpenLLMetry: true, OpenInference: false };

  for (const [label, instrument] of Object.entries(instrumentations)) {
    it(`${label}: its inference span nests under ours, and ours gives way to a plain LangChain span`, async () => {
      tracing = setupTestTracing();
      bridge.instrumentUndici(tracing.provider);
      uninstrument = instrument(tracing.provider);
      const model = chat();
      // The first call teaches the handler that ChatOpenAI's calls are traced by the provider
      // instrumentation; the second starts plain; a streamed one too.
      await model.invoke("Hello", { callbacks: [tracing.handler] });
      await model.invoke("Hello again", { callbacks: [tracing.handler] });
      if (streams[label]) {
        for await (const _chunk of await model.stream("Stream it", { callbacks: [tracing.handler] })) {
          // read to the end
        }
      } else await model.invoke("Once more", { callbacks: [tracing.handler] });
      const spans = tracing.spans();
      const ours = spans.filter((span) => span.instrumentationScope.name === "langchain-otel");
      const theirs = spans.filter(
        (span) => span.instrumentationScope.name !== "langchain-otel" && !span.attributes["url.full"],
      );
      expect(ours).to.have.length(3);
      expect(theirs).to.have.length(3);
      for (const [index, span] of ours.entries()) {
        expect(span.name).to.equal("ChatOpenAI");
        expect(span.attributes["langfuse.observation.type"]).to.equal("span");
        expect(span.attributes["langchain_otel.model_call.traced_by"]).to.equal(
          theirs[0].instrumentationScope.name,
        );
        // No usage, response or messages of ours: the provider span carries them.
        for (const key of Object.keys(span.attributes)) {
          expect(key).to.not.match(
            /^gen_ai\.(usage|response|input|output|request\.(temperature|max_tokens))/,
          );
        }
        // Only the very first call started as an inference span before we knew.
        if (index > 0) expect(span.attributes["gen_ai.operation.name"]).to.equal(undefined);
      }
      for (const span of theirs) expect(ours).to.include(parentOf(spans, span));
      // The HTTP call nests under the provider's span.
      for (const post of httpSpans(spans, "/v1/chat/completions"))
        expect(theirs).to.include(parentOf(spans, post));
      // Langfuse: one generation per call.
      expect(spans.filter(isGeneration)).to.have.length(3);
      expect(ours.filter(isGeneration)).to.have.length(0);
    });
  }

  it("without a provider instrumentation, a plain-started span becomes an inference span again", async () => {
    tracing = setupTestTracing();
    bridge.instrumentUndici(tracing.provider);
    uninstrument = instrumentations.OpenLLMetry(tracing.provider);
    const model = chat();
    await model.invoke("Hello", { callbacks: [tracing.handler] });
    uninstrument();
    uninstrument = undefined;
    await model.invoke("Hello again", { callbacks: [tracing.handler] });
    const second = tracing.spans().filter((span) => span.instrumentationScope.name === "langchain-otel")[1];
    expect(second.name).to.equal("chat gpt-4o-mini");
    expect(second.attributes).to.include({
      "gen_ai.operation.name": "chat",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
      "langfuse.observation.type": "generation",
    });
    expect(second.attributes["gen_ai.usage.input_tokens"]).to.be.a("number");
  });

  it("modelSpans: true keeps our inference span even under a provider instrumentation", async () => {
    tracing = setupTestTracing({ modelSpans: true });
    bridge.instrumentUndici(tracing.provider);
    uninstrument = instrumentations.OpenLLMetry(tracing.provider);
    await chat().invoke("Hello", { callbacks: [tracing.handler] });
    await chat().invoke("Hello", { callbacks: [tracing.handler] });
    const ours = tracing.spans().filter((span) => span.instrumentationScope.name === "langchain-otel");
    expect(ours.map((span) => span.name)).to.deep.equal(["chat gpt-4o-mini", "chat gpt-4o-mini"]);
    expect(ours.every(isGeneration)).to.equal(true);
  });
});
