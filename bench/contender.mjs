// One contender, one workload, in a fresh process: prints one JSON line of measurements.
// Usage: node --expose-gc contender.mjs <contender> <workload> <iterations> <heapIterations>
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { WORKLOADS } from "./workloads.mjs";

const [contenderName, workloadName, iterationsArg, heapArg] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const heapIterations = Number(heapArg);

/** Counts and discards; when `measureBytes`, also serializes each batch as OTLP protobuf to count bytes. */
class CountingExporter {
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

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const exporter = new CountingExporter();
const batch = { maxQueueSize: 65_536, maxExportBatchSize: 1024, scheduledDelayMillis: 100 };

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

async function setUp() {
  const provider = (processor) => new NodeTracerProvider({ spanProcessors: [processor] });
  switch (contenderName) {
    case "none":
      return { callbacks: undefined };
    case "noop":
      return { callbacks: [new NoopHandler()] };
    case "minimal": {
      const p = provider(new BatchSpanProcessor(exporter, batch));
      return { callbacks: [new MinimalSpanHandler(p.getTracer("minimal"))], provider: p };
    }
    case "langchain-otel":
    case "langchain-otel-no-content": {
      const { OpenTelemetryCallbackHandler } = await import("../dist/esm/index.js");
      const p = provider(new BatchSpanProcessor(exporter, batch));
      const handler = new OpenTelemetryCallbackHandler({
        tracerProvider: p,
        captureContent: contenderName === "langchain-otel",
      });
      return { callbacks: [handler], provider: p };
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
      return { callbacks: [new CallbackHandler()], provider: p };
    }
    case "openinference": {
      const { LangChainInstrumentation } = await import("@arizeai/openinference-instrumentation-langchain");
      const p = provider(new BatchSpanProcessor(exporter, batch));
      const instrumentation = new LangChainInstrumentation({ tracerProvider: p });
      instrumentation.manuallyInstrument(CallbackManagerModule);
      return { callbacks: undefined, provider: p };
    }
    default:
      throw new Error(`unknown contender ${contenderName}`);
  }
}

const { callbacks, provider } = await setUp();
const workload = WORKLOADS[workloadName]();
const gc = globalThis.gc ?? (() => {});

async function settle() {
  await awaitAllCallbacks();
  await provider?.forceFlush();
}

// Warm up (JIT, caches), then time each invocation.
for (let i = 0; i < Math.min(500, iterations); i++) await workload.invoke(callbacks);
await settle();
const spansBefore = exporter.spans;
const times = new Float64Array(iterations);
for (let i = 0; i < iterations; i++) {
  const start = process.hrtime.bigint();
  await workload.invoke(callbacks);
  times[i] = Number(process.hrtime.bigint() - start) / 1000;
}
await settle();
const spansPerInvocation = (exporter.spans - spansBefore) / iterations;

// Exported bytes per span, from a short separate pass so serialization never runs while timing.
exporter.measureBytes = true;
const countBefore = exporter.spans;
for (let i = 0; i < 50; i++) await workload.invoke(callbacks);
await settle();
const bytesPerSpan = exporter.spans > countBefore ? exporter.bytes / (exporter.spans - countBefore) : 0;
// The tree of one invocation: one root per invocation, and every parent inside the same trace.
const traces = new Map();
for (const span of exporter.last) {
  const id = span.spanContext().traceId;
  traces.set(id, [...(traces.get(id) ?? []), span]);
}
const treeOk =
  exporter.last.length === 0 ||
  [...traces.values()].every((spans) => {
    const ids = new Set(spans.map((span) => span.spanContext().spanId));
    const roots = spans.filter((span) => !span.parentSpanContext || !ids.has(span.parentSpanContext.spanId));
    return roots.length === 1 && spans.length === workload.spans;
  });
exporter.measureBytes = false;
exporter.last = [];

// Heap: after heapIterations more invocations and a forced GC, versus before them.
gc();
const heapStart = process.memoryUsage().heapUsed;
for (let i = 0; i < heapIterations; i++) await workload.invoke(callbacks);
await settle();
gc();
await new Promise((resolve) => setTimeout(resolve, 50));
gc();
const heapEnd = process.memoryUsage().heapUsed;

const sorted = [...times].sort((a, b) => a - b);
const quantile = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
console.log(
  JSON.stringify({
    contender: contenderName,
    workload: workloadName,
    iterations,
    medianUs: quantile(0.5),
    p99Us: quantile(0.99),
    spansPerInvocation,
    expectedSpans: workload.spans,
    treeOk,
    bytesPerSpan,
    heapIterations,
    heapStartMb: heapStart / 2 ** 20,
    heapEndMb: heapEnd / 2 ** 20,
  }),
);
await provider?.shutdown();
process.exit(0);
