// Handler-only cost: records the callbacks of one invocation of a workload, then replays them
// straight into a handler many times, so LangChain's own plumbing (and most of its noise) is out.
// Usage: node --expose-gc replay.mjs <contender> <workload> <iterations>
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { ExportResultCode } from "@opentelemetry/core";
import { BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { WORKLOADS } from "./workloads.mjs";

const [contenderName, workloadName, iterationsArg] = process.argv.slice(2);
const iterations = Number(iterationsArg ?? 20000);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const CALLBACKS = [
  "handleChainStart",
  "handleChainEnd",
  "handleChainError",
  "handleChatModelStart",
  "handleLLMStart",
  "handleLLMNewToken",
  "handleLLMEnd",
  "handleLLMError",
  "handleToolStart",
  "handleToolEnd",
  "handleToolError",
  "handleRetrieverStart",
  "handleRetrieverEnd",
  "handleRetrieverError",
];
class Recorder extends BaseCallbackHandler {
  name = "Recorder";
  events = [];
  runIds = new Set();
  constructor() {
    super({ _awaitHandler: true });
    for (const method of CALLBACKS)
      this[method] = (...args) => {
        this.events.push([method, args]);
        if (method.endsWith("Start")) this.runIds.add(args[2]);
      };
  }
}

let spans = 0;
const exporter = {
  export(batch, done) {
    spans += batch.length;
    done({ code: ExportResultCode.SUCCESS });
  },
  shutdown: () => Promise.resolve(),
  forceFlush: () => Promise.resolve(),
};
const provider = new NodeTracerProvider({
  spanProcessors: [
    new BatchSpanProcessor(exporter, {
      maxQueueSize: 65_536,
      maxExportBatchSize: 1024,
      scheduledDelayMillis: 100,
    }),
  ],
});

class MinimalSpanHandler {
  constructor(tracer) {
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
}
for (const method of CALLBACKS) {
  if (method === "handleLLMNewToken") MinimalSpanHandler.prototype[method] = () => {};
  else if (method.endsWith("Start"))
    MinimalSpanHandler.prototype[method] = function (_a, _b, runId, parentRunId) {
      this.start(runId, parentRunId);
    };
  else
    MinimalSpanHandler.prototype[method] = function (_a, runId) {
      this.end(runId);
    };
}

const recorder = new Recorder();
const workload = WORKLOADS[workloadName]();
await workload.invoke([recorder]);
// A fresh, independent copy of each event per iteration would cost more than the handler; the
// recorded arguments are reused and only the run ids change.
const ids = [...recorder.runIds];

let handler;
if (contenderName === "minimal") handler = new MinimalSpanHandler(provider.getTracer("minimal"));
else {
  const { OpenTelemetryCallbackHandler } = await import("../dist/esm/index.js");
  handler = new OpenTelemetryCallbackHandler({
    tracerProvider: provider,
    captureContent: contenderName === "langchain-otel",
  });
}
if (contenderName === "empty")
  (handler = new MinimalSpanHandler(undefined)), (handler.start = handler.end = () => {});

const plans = recorder.events.map(([method, args]) => ({
  method,
  args,
  slots: args.map((arg, i) => (ids.includes(arg) ? [i, ids.indexOf(arg)] : undefined)).filter(Boolean),
}));
function once(iteration) {
  const fresh = ids.map((id) => `${id}-${iteration}`);
  for (const plan of plans) {
    const args = plan.args.slice();
    for (const [i, which] of plan.slots) args[i] = fresh[which];
    handler[plan.method](...args);
  }
}
for (let i = 0; i < 2000; i++) once(i);
await provider.forceFlush();
globalThis.gc?.();
const start = process.hrtime.bigint();
const cpu = process.cpuUsage();
for (let i = 0; i < iterations; i++) {
  once(i + 10_000_000);
  if (i % 256 === 0) await new Promise((r) => setImmediate(r));
}
await provider.forceFlush();
const elapsed = Number(process.hrtime.bigint() - start) / 1000;
const used = process.cpuUsage(cpu);
console.log(
  JSON.stringify({
    contender: contenderName,
    workload: workloadName,
    spansPerInvocation: ids.length,
    usPerSpan: elapsed / iterations / ids.length,
    cpuUsPerSpan: (used.user + used.system) / iterations / ids.length,
  }),
);
await provider.shutdown();
