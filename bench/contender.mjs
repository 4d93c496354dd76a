// One contender, one workload, in a fresh process: prints one JSON line of measurements.
// Usage: node --expose-gc contender.mjs <contender> <workload> <iterations> <heapIterations>
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { CountingExporter, setUpContender } from "./contenders.mjs";
import { WORKLOADS } from "./workloads.mjs";

const [contenderName, workloadName, iterationsArg, heapArg] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const heapIterations = Number(heapArg);
const exporter = new CountingExporter();

const { callbacks, handler, provider } = await setUpContender(contenderName, exporter);
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
    // langchain-otel's own count of runs it still holds: 0 once every invocation has ended.
    openRunsAfter: typeof handler?.openRuns === "number" ? handler.openRuns : undefined,
  }),
);
await provider?.shutdown();
process.exit(0);
