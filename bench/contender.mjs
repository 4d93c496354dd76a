// One contender, one workload, in a fresh process: prints one JSON line of measurements.
// Usage: node --expose-gc contender.mjs <contender> <workload> <iterations> <heapIterations>
import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { CountingExporter, setUpContender } from "./contenders.mjs";
import { WORKLOADS } from "./workloads.mjs";

const [contenderName, workloadName, iterationsArg, heapArg] = process.argv.slice(2);
const iterations = Number(iterationsArg);
const heapIterations = Number(heapArg);
const exporter = new CountingExporter();

const { callbacks, handler, provider, meterProvider, metricExporter, recordsMetrics, foreign, unsampled } =
  await setUpContender(contenderName, exporter);
const workload = WORKLOADS[workloadName]();
const gc = globalThis.gc ?? (() => {});

async function settle() {
  await awaitAllCallbacks();
  await provider?.forceFlush();
}

// Warm up (JIT, caches), then time each invocation.
const warmUp = Math.min(500, iterations);
for (let i = 0; i < warmUp; i++) await workload.invoke(callbacks);
await settle();
const spansBefore = exporter.spans;
const foreignBefore = foreign.started;
const times = new Float64Array(iterations);
// CPU time of the whole timed loop (every thread: GC and export included): a mean per invocation
// that another process's load on the machine disturbs less than wall-clock medians.
const cpuStart = process.cpuUsage();
for (let i = 0; i < iterations; i++) {
  const start = process.hrtime.bigint();
  await workload.invoke(callbacks);
  times[i] = Number(process.hrtime.bigint() - start) / 1000;
}
const cpu = process.cpuUsage(cpuStart);
const cpuUsPerInvocation = (cpu.user + cpu.system) / iterations;
await settle();
const spansPerInvocation = (exporter.spans - spansBefore) / iterations;
const foreignPerInvocation = (foreign.started - foreignBefore) / iterations;
// Metrics (collected here, outside the timed loop, as a periodic reader would every minute): every
// model call recorded once, sampled or not.
await meterProvider?.forceFlush();
const modelCallsRecorded = metricExporter.countOf("gen_ai.client.operation.duration");
const modelCallsExpected = recordsMetrics ? (warmUp + iterations) * workload.modelCalls : 0;

// Exported bytes per span, from a short separate pass so serialization never runs while timing.
exporter.measureBytes = true;
foreign.recordParents = true;
const countBefore = exporter.spans;
for (let i = 0; i < 50; i++) await workload.invoke(callbacks);
await settle();
foreign.recordParents = false;
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
// Where the foreign spans (the -http workloads' HTTP calls) landed: under the run that made them
// (the model's POST under `chat …`, the tool's GET under `execute_tool …`), or not.
const names = new Map(exporter.last.map((span) => [span.spanContext().spanId, span.name]));
const foreignUnderTheirRun = foreign.parents.filter(([name, parent]) =>
  (name === "POST" ? /^chat / : /^execute_tool /).test(names.get(parent) ?? ""),
).length;
const foreignRecorded = foreign.parents.length;
exporter.measureBytes = false;
exporter.last = [];
foreign.parents = [];

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
    cpuUsPerInvocation,
    spansPerInvocation,
    expectedSpans: unsampled ? 0 : workload.spans,
    foreignPerInvocation,
    expectedForeign: workload.foreignCalls,
    // Of the measured pass's foreign spans, how many have the run that made them as their parent.
    foreignRecorded,
    foreignUnderTheirRun,
    modelCallsRecorded,
    modelCallsExpected,
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
