// The app a user deploys to Cloudflare Workers, the Vercel Edge Runtime, Deno or Bun: one source for
// all of them. The handler with the app's own tracer and meter providers (in memory here), set up
// once per isolate as docs/configuration.md advises, and three calls of the real ChatOpenAI against
// the host's local OpenAI-compatible server: a RAG chain, a stream, a failing tool. It answers with
// what the host (run.mjs) checks: each call's outcome, every finished span, the collected metrics,
// and what OpenTelemetry's diagnostics logger was told.
//
// Nested calls get their `config` passed on, as LangChain asks where AsyncLocalStorage may be
// missing, so the tree does not depend on it.
import { Document } from "@langchain/core/documents";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { context, DiagLogLevel, diag, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { AggregationTemporality, MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import {
  ConsoleWaterfallExporter,
  LangChainContextManager,
  langfuseExporter,
  OpenTelemetryCallbackHandler,
  setupTracing,
} from "langchain-otel";

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

// What the handler (or the SDK) reports through OpenTelemetry's diagnostics: failures it caught.
const diagnostics = [];
function record(level) {
  return (message, ...args) =>
    diagnostics.push({ level, message, details: args.map((arg) => arg?.stack ?? String(arg)) });
}
diag.setLogger(
  { error: record("error"), warn: record("warn"), info() {}, debug() {}, verbose() {} },
  DiagLogLevel.WARN,
);

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new Reader();
const meterProvider = new MeterProvider({ readers: [reader] });
const handler = new OpenTelemetryCallbackHandler({ tracerProvider, meterProvider });

// The app's context manager, as its platform's OpenTelemetry setup brings one (@vercel/otel and
// otel-cf-workers each ship their own over AsyncLocalStorage), wrapped in the context bridge. Where
// the runtime has no AsyncLocalStorage (a Worker without nodejs_compat) there is none to wrap.
const AsyncLocalStorage =
  globalThis.AsyncLocalStorage ??
  globalThis.process?.getBuiltinModule?.("node:async_hooks")?.AsyncLocalStorage;
class PlatformContextManager {
  storage = new AsyncLocalStorage();
  active() {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with(ctx, fn, thisArg, ...args) {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind(ctx, target) {
    return typeof target === "function" ? (...args) => this.with(ctx, target, undefined, ...args) : target;
  }
  enable() {
    return this;
  }
  disable() {
    return this;
  }
}
const bridged =
  AsyncLocalStorage !== undefined &&
  context.setGlobalContextManager(new LangChainContextManager(new PlatformContextManager()).enable());

// The console waterfall with its defaults, given the finished spans: what it prints (through
// console.log where the runtime has no process.stdout).
async function waterfall(spans) {
  const lines = [];
  const log = console.log;
  const write = globalThis.process?.stdout?.write;
  console.log = (text) => lines.push(String(text));
  if (write) globalThis.process.stdout.write = (text) => lines.push(String(text)) > 0;
  try {
    const printer = new ConsoleWaterfallExporter({ color: false });
    await new Promise((resolve) => printer.export(spans, resolve));
    await printer.shutdown();
  } finally {
    console.log = log;
    if (write) globalThis.process.stdout.write = write;
  }
  return lines.join("\n");
}

// LangChainContextManager's default inner manager comes from @opentelemetry/context-async-hooks,
// which this app does not install: what the error says.
function tryDefaultContextManager() {
  try {
    new LangChainContextManager();
    return "constructed";
  } catch (error) {
    return error.message;
  }
}

// setupTracing() is for Node; where there is none it must say what to do instead.
function trySetupTracing() {
  if (typeof globalThis.process?.versions?.node === "string") return "not tried: a Node-like runtime";
  try {
    setupTracing();
    return "set up";
  } catch (error) {
    return error.message;
  }
}

const notify = tool(
  async () => {
    throw new Error("mail service unavailable");
  },
  {
    name: "notify_customer",
    description: "Mails the customer.",
    schema: { type: "object", properties: { order: { type: "string" } }, required: ["order"] },
  },
);

/** The request's trace context, as the platform's request span would hand it over. */
const TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/** The calls, each caught, then what the providers hold. */
/**
 * The Langfuse preset (OTLP/HTTP JSON, the exporter's fetch transport outside Node) sending the
 * finished spans to the host's stand-in for Langfuse: the export's result, or what failed.
 */
async function sendToLangfuse(spans, baseUrl) {
  try {
    const exporter = langfuseExporter({
      publicKey: "pk-lf-edge",
      secretKey: "sk-lf-edge",
      baseUrl,
      encoding: "json",
    });
    const result = await new Promise((resolve) => exporter.export(spans, resolve));
    await exporter.shutdown();
    return { code: result.code, error: result.error?.message };
  } catch (error) {
    return { error: error?.stack ?? String(error) };
  }
}

async function report(baseURL, langfuseURL) {
  const model = new ChatOpenAI({
    model: "gpt-4o-mini",
    apiKey: "sk-test-0123456789abcdefghij",
    configuration: { baseURL },
    maxRetries: 0,
  });
  const config = { callbacks: [handler] };
  const rag = RunnableSequence.from([
    RunnableLambda.from(async (question, config) => ({
      context: (await new Shelf().invoke(question, config)).map((doc) => doc.pageContent).join("\n"),
      question,
    })).withConfig({ runName: "retrieve" }),
    ChatPromptTemplate.fromMessages([
      ["system", "Answer from this context:\n{context}"],
      ["human", "{question}"],
    ]),
    model,
    new StringOutputParser(),
  ]).withConfig({ runName: "rag" });

  const calls = {
    rag: () => rag.invoke("Where is order A-1042?", config),
    stream: async () => {
      let text = "";
      for await (const chunk of await model.stream("Where is my order?", config)) text += chunk.content;
      return text;
    },
    tool: () => notify.invoke({ order: "A-1042" }, config),
    // A run started under the caller's trace context, handed over as a W3C traceparent.
    traceparent: () =>
      RunnableLambda.from(async () => "ok")
        .withConfig({ runName: "under-request" })
        .invoke("A-1042", { ...config, metadata: { traceparent: TRACEPARENT } }),
    // Which span a span started in a lambda's body would get as its parent.
    bridge: () =>
      RunnableLambda.from(async () => trace.getActiveSpan()?.spanContext().spanId ?? null)
        .withConfig({ runName: "lookup" })
        .invoke("A-1042", config),
  };
  const outcomes = {};
  for (const [name, call] of Object.entries(calls)) {
    try {
      outcomes[name] = { value: await call() };
    } catch (error) {
      outcomes[name] = { error: { name: error?.name, message: error?.message, stack: error?.stack } };
    }
  }

  const { resourceMetrics } = await reader.collect();
  return {
    outcomes,
    bridged,
    setupTracing: trySetupTracing(),
    defaultContextManager: tryDefaultContextManager(),
    waterfall: await waterfall(exporter.getFinishedSpans()),
    langfuse: await sendToLangfuse(exporter.getFinishedSpans(), langfuseURL),
    diagnostics,
    spans: exporter.getFinishedSpans().map((span) => ({
      name: span.name,
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      parentSpanId: span.parentSpanContext?.spanId,
      status: span.status,
      attributes: span.attributes,
    })),
    metrics: resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .map((metric) => ({
        name: metric.descriptor.name,
        points: metric.dataPoints.map((point) => ({
          attributes: point.attributes,
          count: point.value.count ?? 1,
          sum: point.value.sum ?? point.value,
        })),
      })),
  };
}

/**
 * The app's HTTP handler, as each platform takes one: the default export of a Worker and of a
 * `deno serve` module, Bun's server when the entry point exports one (on the loopback address, on a
 * free port), and the Edge Runtime's fetch event (run.mjs). POST the model server's base URL, get
 * the report.
 */
export default {
  hostname: "127.0.0.1",
  port: 0,
  async fetch(request) {
    const { baseURL, langfuseURL } = await request.json();
    return Response.json(await report(baseURL, langfuseURL));
  },
};
