// The contenders, set up the same way for the end-to-end run (contender.mjs) and the replay
// (replay.mjs): the same provider, batch processor and counting exporter for every OTel one.
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import * as CallbackManagerModule from "@langchain/core/callbacks/manager";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";

export const CONTENDERS = [
  "none",
  "noop",
  "minimal",
  "langchain-otel",
  "langchain-otel-no-content",
  "output-floor",
  "langfuse",
  "openinference",
];

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

const BATCH = { maxQueueSize: 65_536, maxExportBatchSize: 1024, scheduledDelayMillis: 100 };

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
 * callback handler the contender adds to every run, for the replay.
 */
export async function setUpContender(name, exporter) {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = (processor) => new NodeTracerProvider({ spanProcessors: [processor] });
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
    case "langchain-otel-no-content": {
      const { OpenTelemetryCallbackHandler } = await import("../dist/esm/index.js");
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      const handler = new OpenTelemetryCallbackHandler({
        tracerProvider: p,
        captureContent: name === "langchain-otel",
      });
      return { callbacks: [handler], handler, provider: p };
    }
    case "output-floor": {
      // langchain-otel's spans, attributes and content written with none of its rules (floor-handler.mjs).
      const { FloorHandler } = await import("./floor-handler.mjs");
      const p = provider(new BatchSpanProcessor(exporter, BATCH));
      const handler = new FloorHandler(p.getTracer("output-floor"));
      return { callbacks: [handler], handler, provider: p };
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
