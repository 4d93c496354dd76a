// The contenders, set up the same way for the end-to-end run (contender.mjs) and the replay
// (replay.mjs): the same provider, batch processor and counting exporter for every OTel one; the
// same metrics SDK and counting metric exporter for those that record metrics.
import { AsyncLocalStorage } from "node:async_hooks";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode, W3CTraceContextPropagator } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { AlwaysOffSampler, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { metricsSdk } from "./metrics-sdk.mjs";

// As installed, or with the attribute-set hash run.mjs --sdk-hash names (a what-if).
const { MeterProvider, PeriodicExportingMetricReader } = metricsSdk();

/**
 * The build of langchain-otel measured: the project's dist/esm, or the one run.mjs --dist names
 * (a build of a given commit, made apart, so that a rebuild of dist/ during a run cannot mix two).
 */
const LANGCHAIN_OTEL = process.env.BENCH_DIST
  ? pathToFileURL(join(resolve(process.env.BENCH_DIST), "index.js")).href
  : new URL("../dist/esm/index.js", import.meta.url).href;

/** Suffix of a contender run with `AlwaysOffSampler`: every span it starts is dropped. */
export const UNSAMPLED = "-unsampled";

/** Every contender, in the order the tables list them. Any OTel one also runs as `<name>-unsampled`. */
export const CONTENDERS = [
  "none",
  "noop",
  "minimal",
  "langchain-otel",
  "langchain-otel-no-content",
  "langchain-otel-no-accounting",
  "langchain-otel-bridge",
  "langchain-otel-storage",
  "output-floor",
  "langfuse",
  "openinference",
  "minimal-unsampled",
  "langchain-otel-unsampled",
  "langfuse-unsampled",
  "openinference-unsampled",
];

/** `{ base, unsampled }` of a contender name: `langfuse-unsampled` is `langfuse` with AlwaysOffSampler. */
export function parseContender(name) {
  const unsampled = name.endsWith(UNSAMPLED);
  return { base: unsampled ? name.slice(0, -UNSAMPLED.length) : name, unsampled };
}

/** Counts and discards; when `measureBytes`, also serializes each batch as OTLP protobuf to count bytes. */
export class CountingExporter {
  spans = 0;
  bytes = 0;
  measureBytes = false;
  last = [];
  export(spans, done) {
    this.spans += spans.length;
    if (this.measureBytes) {
      this.bytes += ProtobufTraceSerializer.serializeRequest(spans)?.length ?? 0;
      this.last.push(...spans);
    }
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/** The metrics counterpart: keeps the last collection (cumulative: everything so far), discards it on the next. */
export class CountingMetricExporter {
  exports = 0;
  last = undefined;
  export(resourceMetrics, done) {
    this.exports++;
    this.last = resourceMetrics;
    done({ code: ExportResultCode.SUCCESS });
  }
  /** Sum of the `count` of every data point of the histogram `name` in the last collection. */
  countOf(name) {
    let count = 0;
    for (const scope of this.last?.scopeMetrics ?? [])
      for (const metric of scope.metrics)
        if (metric.descriptor.name === name)
          for (const point of metric.dataPoints) count += point.value.count;
    return count;
  }
  shutdown() {
    return Promise.resolve();
  }
  forceFlush() {
    return Promise.resolve();
  }
}

/**
 * The spans an instrumented app's other instrumentations start inside LangChain's runs (the
 * provider SDK's HTTP call, a tool's fetch: the `-http` workloads). They come from the global
 * tracer provider, a provider of their own whose one processor counts them and, when asked, notes
 * their parent; they are never exported, so every contender's span counts, trees and bytes are its
 * own spans alone.
 */
export class ForeignSpans {
  started = 0;
  /** When true, `[name, parent span id]` of every foreign span started. */
  recordParents = false;
  parents = [];
  onStart(span) {
    this.started++;
    if (this.recordParents) this.parents.push([span.name, span.parentSpanContext?.spanId]);
  }
  onEnd() {}
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

const BATCH = { maxQueueSize: 65_536, maxExportBatchSize: 1024, scheduledDelayMillis: 100 };
/** Metrics as an app exports them: a periodic reader at the SDK's default interval (60 s), flushed by the harness. */
const METRIC_INTERVAL_MS = 60_000;

/** The minimal callback → span handler: the floor. One bare span per run, parent by run id. */
class MinimalSpanHandler extends BaseCallbackHandler {
  name = "MinimalSpanHandler";
  constructor(tracer) {
    super({ _awaitHandler: true });
    this.tracer = tracer;
    this.spans = new Map();
  }
  start(runId, parentRunId) {
    const parent = this.spans.get(parentRunId);
    const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
    this.spans.set(runId, this.tracer.startSpan("run", {}, ctx));
  }
  end(runId) {
    this.spans.get(runId)?.end();
    this.spans.delete(runId);
  }
  handleChainStart(_c, _i, runId, parentRunId) {
    this.start(runId, parentRunId);
  }
  handleChatModelStart(_l, _m, runId, parentRunId) {
    this.start(runId, parentRunId);
  }
  handleLLMStart(_l, _p, runId, parentRunId) {
    this.start(runId, parentRunId);
  }
  handleToolStart(_t, _i, runId, parentRunId) {
    this.start(runId, parentRunId);
  }
  handleRetrieverStart(_r, _q, runId, parentRunId) {
    this.start(runId, parentRunId);
  }
  handleChainEnd(_o, runId) {
    this.end(runId);
  }
  handleChainError(_e, runId) {
    this.end(runId);
  }
  handleLLMEnd(_o, runId) {
    this.end(runId);
  }
  handleLLMError(_e, runId) {
    this.end(runId);
  }
  handleToolEnd(_o, runId) {
    this.end(runId);
  }
  handleToolError(_e, runId) {
    this.end(runId);
  }
  handleRetrieverEnd(_d, runId) {
    this.end(runId);
  }
  handleRetrieverError(_e, runId) {
    this.end(runId);
  }
}

class NoopHandler extends BaseCallbackHandler {
  name = "NoopHandler";
}

/**
 * Sets a contender up. `callbacks` is what an invocation passes (undefined for `none` and for
 * OpenInference, which patches LangChain's callback manager instead); `handler` is the one
 * callback handler the contender adds to every run, for the replay; `meterProvider` is set for the
 * contenders that record metrics (`recordsMetrics`). `name` may end in `-unsampled`: the same
 * contender with `AlwaysOffSampler` on its provider.
 */
export async function setUpContender(name, exporter, metricExporter = new CountingMetricExporter()) {
  const { base, unsampled } = parseContender(name);
  const foreign = new ForeignSpans();
  // LangChain's async-local config storage: `langchain` and LangGraph create it on import; in an
  // app with @langchain/core alone, the context bridge does. run.mjs --langchain-storage creates it
  // for every contender; `langchain-otel-storage` is langchain-otel, without the bridge, with it.
  if (process.env.BENCH_LANGCHAIN_STORAGE === "1" || base === "langchain-otel-storage") {
    const { AsyncLocalStorageProviderSingleton } = await import("@langchain/core/singletons");
    AsyncLocalStorageProviderSingleton.initializeGlobalInstance(new AsyncLocalStorage());
  }
  if (base === "langchain-otel-bridge") {
    // The context bridge: LangChain's executing run becomes the active span (docs/context.md).
    const { LangChainContextManager } = await import(LANGCHAIN_OTEL);
    context.setGlobalContextManager(
      new LangChainContextManager(new AsyncLocalStorageContextManager()).enable(),
    );
  } else {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }
  // What the app's HTTP instrumentation uses: the global provider and propagator (ForeignSpans).
  trace.setGlobalTracerProvider(new NodeTracerProvider({ spanProcessors: [foreign] }));
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const provider = (processor) =>
    new NodeTracerProvider({
      spanProcessors: [processor],
      ...(unsampled ? { sampler: new AlwaysOffSampler() } : {}),
    });
  const meters = () =>
    new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: metricExporter,
          exportIntervalMillis: METRIC_INTERVAL_MS,
        }),
      ],
    });
  const result = await setUp(base, exporter, provider, meters);
  return { ...result, foreign, metricExporter, unsampled };
}

async function setUp(name, exporter, provider, meters) {
  switch (name) {
    case "none":
      return { callbacks: undefined, handler: undefined };
    case "noop": {
      const handler = new NoopHandler();
      return { callbacks: [handler], handler };
    }
    case "minimal": {
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      const handler = new MinimalSpanHandler(p.getTracer("minimal"));
      return { callbacks: [handler], handler, provider: p };
    }
    case "langchain-otel":
    case "langchain-otel-no-content":
    case "langchain-otel-no-accounting":
    case "langchain-otel-bridge":
    case "langchain-otel-storage": {
      const { OpenTelemetryCallbackHandler } = await import(LANGCHAIN_OTEL);
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      // As users run it: metrics into a real SDK MeterProvider, cost on (the defaults).
      const accounting = name !== "langchain-otel-no-accounting";
      const meterProvider = accounting ? meters() : undefined;
      const handler = new OpenTelemetryCallbackHandler({
        tracerProvider: p,
        captureContent: name !== "langchain-otel-no-content",
        ...(accounting ? { meterProvider } : { metrics: false, cost: false }),
      });
      return { callbacks: [handler], handler, provider: p, meterProvider, recordsMetrics: accounting };
    }
    case "output-floor": {
      // langchain-otel's spans, attributes, content and metrics written with none of its rules (floor-handler.mjs).
      const { FloorHandler } = await import("./floor-handler.mjs");
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      const meterProvider = meters();
      const handler = new FloorHandler(p.getTracer("output-floor"), meterProvider.getMeter("output-floor"));
      return { callbacks: [handler], handler, provider: p, meterProvider, recordsMetrics: true };
    }
    case "langfuse": {
      const { LangfuseSpanProcessor } = await import("@langfuse/otel");
      const { setLangfuseTracerProvider } = await import("@langfuse/tracing");
      const { CallbackHandler } = await import("@langfuse/langchain");
      const p = provider(
        new LangfuseSpanProcessor({
          exporter,
          publicKey: "pk-lf-bench",
          secretKey: "sk-lf-bench",
          flushAt: 1024,
          flushInterval: 0.1,
        }),
      );
      setLangfuseTracerProvider(p);
      const handler = new CallbackHandler();
      return { callbacks: [handler], handler, provider: p };
    }
    case "openinference": {
      const { LangChainInstrumentation } = await import("@arizeai/openinference-instrumentation-langchain");
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      const instrumentation = new LangChainInstrumentation({ tracerProvider: p });
      instrumentation.manuallyInstrument(CallbackManagerModule);
      // The tracer its patch adds to every callback manager.
      const manager = CallbackManagerModule.CallbackManager.configure(undefined);
      const handler = manager?.handlers.find((h) => h.name === "OpenInferenceLangChainTracer");
      return { callbacks: undefined, handler, provider: p };
    }
    default:
      throw new Error(`unknown contender ${name}`);
  }
}
