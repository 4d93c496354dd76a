import { RunnableLambda } from "@langchain/core/runnables";
import { type ContextManager, context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { LangChainContextManager } from "../src/context/manager.js";
import { setupTracing, type TracingSetup } from "../src/export/setup.js";

/** The global context manager the API holds (it has no public getter). */
const globalContextManager = (): ContextManager =>
  (context as unknown as { _getContextManager(): ContextManager })._getContextManager();

describe("setupTracing: the context manager it registers (context bridge)", () => {
  const saved = process.env.LANGCHAIN_OTEL_CONTEXT_BRIDGE;
  let setup: TracingSetup | undefined;

  // The suite's root hook registers a plain async-hooks manager; these tests start with none.
  beforeEach(() => {
    context.disable();
    propagation.disable();
  });
  afterEach(async () => {
    await setup?.shutdown();
    setup = undefined;
    if (saved === undefined) delete process.env.LANGCHAIN_OTEL_CONTEXT_BRIDGE;
    else process.env.LANGCHAIN_OTEL_CONTEXT_BRIDGE = saved;
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  const setUp = (options: Parameters<typeof setupTracing>[0] = {}) => {
    setup = setupTracing({ exporter: "console", console: { write: () => {} }, ...options });
    return setup;
  };

  it("registers LangChainContextManager around the async-hooks one by default", async () => {
    delete process.env.LANGCHAIN_OTEL_CONTEXT_BRIDGE;
    const exporter = new InMemorySpanExporter();
    setUp({ exporter });
    expect(globalContextManager()).to.be.instanceOf(LangChainContextManager);
    // A span the app starts inside a LangChain run nests under that run's span.
    const lambda = RunnableLambda.from(async () => {
      trace.getTracer("app").startSpan("app work").end();
    }).withConfig({ runName: "lambda" });
    await lambda.invoke(undefined, { callbacks: [setup!.handler] });
    await setup!.flush();
    const spans = exporter.getFinishedSpans();
    const run = spans.find((span) => span.name === "lambda");
    const app = spans.find((span) => span.name === "app work");
    expect(app?.parentSpanContext?.spanId).to.equal(run?.spanContext().spanId);
    await setup!.shutdown();
    // Unregistered by shutdown(), so the next setup starts clean.
    expect(globalContextManager()).not.to.be.instanceOf(LangChainContextManager);
  });

  it("registers the plain async-hooks manager with contextBridge: false", () => {
    setUp({ contextBridge: false });
    expect(globalContextManager()).to.be.instanceOf(AsyncLocalStorageContextManager);
    expect(globalContextManager()).not.to.be.instanceOf(LangChainContextManager);
  });

  it("registers the plain one with LANGCHAIN_OTEL_CONTEXT_BRIDGE=false; the option wins over it", async () => {
    process.env.LANGCHAIN_OTEL_CONTEXT_BRIDGE = "false";
    setUp();
    expect(globalContextManager()).not.to.be.instanceOf(LangChainContextManager);
    await setup!.shutdown();
    setUp({ contextBridge: true });
    expect(globalContextManager()).to.be.instanceOf(LangChainContextManager);
  });

  it("keeps a context manager the application registered, and leaves it registered after shutdown()", async () => {
    const own = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(own);
    setUp();
    expect(globalContextManager()).to.equal(own);
    await setup!.shutdown();
    expect(globalContextManager()).to.equal(own);
  });
});
