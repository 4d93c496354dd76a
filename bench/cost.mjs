// What cost and metrics add per model call: the first priced call (it loads the price table), a
// warm `costOf`, `calcPrice` itself for comparison, and `GenAIMetrics.recordInference` through the
// real metrics SDK. Not a test: numbers for docs/metrics.md and the 10 % budget of issue 18.
//
//   node --expose-gc bench/cost.mjs [--src <the project's src/ directory>]
//
// The build bundles each entry point into one module, so the two modules measured here are
// bundled from src/ with esbuild (dependencies external) into a temporary directory first.
// Run it in a fresh process: the first-call figures are only meaningful once per process.
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));
const srcArg = process.argv.indexOf("--src");
const src = resolve(srcArg >= 0 ? process.argv[srcArg + 1] : join(here, "../src"));
// In a temporary directory whose node_modules is the project's, so the bundles' imports resolve.
const dist = mkdtempSync(join(tmpdir(), "langchain-otel-cost-"));
symlinkSync(join(src, "..", "node_modules"), join(dist, "node_modules"), "dir");
process.on("exit", () => rmSync(dist, { recursive: true, force: true }));
await build({
  entryPoints: { cost: join(src, "genai/cost.ts"), metrics: join(src, "genai/metrics.ts") },
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
const load = (file) => import(pathToFileURL(join(dist, file)).href);
const { PriceTable } = await load("cost.mjs");
const { GenAIMetrics } = await load("metrics.mjs");

const usage = { inputTokens: 1200, outputTokens: 300, cacheReadInputTokens: 1000 };
const calls = [
  { provider: "openai", responseModel: "gpt-4o-mini-2024-07-18", requestModel: "gpt-4o-mini", usage },
  { provider: "anthropic", responseModel: "claude-haiku-4-5-20251001", usage },
  { provider: "anthropic", responseModel: "claude-sonnet-4-5-20250929", usage }, // tiered
  { provider: "deepseek", responseModel: "deepseek-chat", usage }, // daily time window
  { provider: "openai", responseModel: "alias-the-table-lacks", requestModel: "gpt-4o", usage }, // fallback
  { provider: "openai", requestModel: "text-embedding-3-small", usage: { inputTokens: 1200 } }, // traceEmbeddings
];

const microseconds = (ns) => Number(ns) / 1000;
const time = (body) => {
  const start = process.hrtime.bigint();
  const value = body();
  return [microseconds(process.hrtime.bigint() - start), value];
};
/** Median over rounds of the mean µs per call of `body(i)` over `n` calls. */
function perCall(n, body, rounds = 7) {
  const means = [];
  for (let round = 0; round < rounds; round++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) body(i);
    means.push(microseconds(process.hrtime.bigint() - start) / n);
  }
  return means.sort((a, b) => a - b)[rounds >> 1];
}
const fixed = (value, digits = 2) => value.toFixed(digits);

const table = new PriceTable({ enabled: true });
const [firstUs, firstCost] = time(() => table.costOf(calls[0]));
const [secondModelUs] = time(() => table.costOf(calls[1]));
const resolveUs = calls.slice(2).map((call) => time(() => table.costOf(call))[0]);

let sink = 0;
const warm = perCall(200_000, (i) => {
  sink += table.costOf(calls[i % calls.length]) ?? 0;
});
const warmEach = calls.map((call) => perCall(200_000, () => (sink += table.costOf(call) ?? 0)));

const prices = createRequire(join(dist, "index.js"))("@pydantic/genai-prices");
const tableUsage = { input_tokens: 1200, output_tokens: 300, cache_read_tokens: 1000 };
const calcPrice = perCall(2000, () => {
  sink += prices.calcPrice(tableUsage, "gpt-4o-mini-2024-07-18", { providerId: "openai" })?.total_price ?? 0;
});

let metricsLine = "metrics: @opentelemetry/sdk-metrics not installed, skipped";
try {
  const { metricsSdk } = await import("./metrics-sdk.mjs");
  const { AggregationType, MeterProvider, MetricReader } = metricsSdk("sdk");
  class Reader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const provider = new MeterProvider({ readers: [new Reader()] });
  const genAIMetrics = new GenAIMetrics(provider);
  const record = {
    operation: "chat",
    provider: "openai",
    requestModel: "gpt-4o-mini",
    responseModel: "gpt-4o-mini-2024-07-18",
    durationS: 0.8,
    usage,
  };
  const recordUs = perCall(100_000, (i) =>
    genAIMetrics.recordInference({ ...record, durationS: (i % 100) / 10 }),
  );
  const streamedUs = perCall(100_000, (i) =>
    genAIMetrics.recordInference({
      ...record,
      durationS: (i % 100) / 10,
      timeToFirstChunkS: 0.2,
      chunkIntervalsS: [0.02, 0.03, 0.02, 0.05, 0.01, 0.02, 0.03, 0.02, 0.04, 0.02],
    }),
  );
  const toolUs = perCall(100_000, (i) => genAIMetrics.recordTool("search", (i % 100) / 50));
  // The opt-in cost counter (`metrics: { cost: true }`): one more measurement per priced call.
  const counting = new GenAIMetrics(provider, { cost: true });
  const withCostUs = perCall(100_000, (i) =>
    counting.recordInference({ ...record, durationS: (i % 100) / 10, costUsd: 0.00021 }),
  );
  // A long stream's time per output chunk, left out two ways: the handler's `metrics.exclude`
  // (no instrument, nothing measured) and a View that drops it (the SDK still takes each record).
  const PER_CHUNK = "gen_ai.client.operation.time_per_output_chunk";
  const streamedCall = (i) => ({
    ...record,
    durationS: (i % 100) / 10,
    timeToFirstChunkS: 0.2,
    chunkIntervalsS: [0.02, 0.03, 0.02, 0.05, 0.01, 0.02, 0.03, 0.02, 0.04, 0.02],
  });
  const excluding = new GenAIMetrics(provider, { exclude: new Set([PER_CHUNK]) });
  const excludedUs = perCall(100_000, (i) => excluding.recordInference(streamedCall(i)));
  const dropping = new GenAIMetrics(
    new MeterProvider({
      readers: [new Reader()],
      views: [{ instrumentName: PER_CHUNK, aggregation: { type: AggregationType.DROP } }],
    }),
  );
  const droppedUs = perCall(100_000, (i) => dropping.recordInference(streamedCall(i)));
  const noop = new GenAIMetrics();
  const noopUs = perCall(100_000, () => noop.recordInference(record));
  // The SDK's own price of one `Histogram.record`, by the number of attributes it must hash: the
  // floor under any instrumentation that records these metrics with their required attributes.
  const histogram = provider.getMeter("bench").createHistogram("bench.sdk.record");
  const tokenAttributes = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.token.type": "input",
  };
  const keyCounts = [0, 1, 4, 7];
  const sdkRecordUs = keyCounts.map((count) => {
    const attributes = Object.freeze(Object.fromEntries(Object.entries(tokenAttributes).slice(0, count)));
    return perCall(100_000, (i) => histogram.record(i % 1000, attributes));
  });
  // What-if: the same with a cheaper attribute-set hash in the SDK (metrics-sdk.mjs), fresh
  // providers so that every attribute map is made with it.
  const whatIf = ["concat", "cached"].map((variant) => {
    metricsSdk(variant);
    const patched = new MeterProvider({ readers: [new Reader()] });
    const patchedMetrics = new GenAIMetrics(patched);
    const inferenceUs = perCall(100_000, (i) =>
      patchedMetrics.recordInference({ ...record, durationS: (i % 100) / 10 }),
    );
    const patchedHistogram = patched.getMeter("bench").createHistogram("bench.sdk.record");
    const attributes = Object.freeze({ ...tokenAttributes });
    const recordSevenUs = perCall(100_000, (i) => patchedHistogram.record(i % 1000, attributes));
    return `${variant}: recordInference ${fixed(inferenceUs)} µs, Histogram.record with 7 ${fixed(recordSevenUs)} µs`;
  });
  metricsSdk("sdk");
  metricsLine = [
    `metrics, SDK MeterProvider: recordInference ${fixed(recordUs)} µs (duration + 2 token counts),`,
    `streamed with 10 chunks ${fixed(streamedUs)} µs, recordTool ${fixed(toolUs)} µs;`,
    `with the cost counter (metrics.cost) ${fixed(withCostUs)} µs;`,
    `\nstreamed with 10 chunks, time_per_output_chunk excluded (metrics.exclude) ${fixed(excludedUs)} µs,`,
    `dropped by a View instead ${fixed(droppedUs)} µs;`,
    `no-op global provider ${fixed(noopUs)} µs\n`,
    `the SDK's Histogram.record alone, by attributes hashed:`,
    keyCounts.map((count, i) => `${count}: ${fixed(sdkRecordUs[i])} µs`).join(", "),
    `\nwhat-if, the SDK with a cheaper attribute-set hash (metrics-sdk.mjs): ${whatIf.join("; ")}`,
  ].join(" ");
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" && error?.code !== "MODULE_NOT_FOUND") throw error;
}

console.log(
  [
    `first costOf (loads the table, resolves gpt-4o-mini): ${fixed(firstUs / 1000, 1)} ms, $${firstCost}`,
    `first costOf of another model (table loaded): ${fixed(secondModelUs)} µs; then ${resolveUs.map((us) => fixed(us)).join(", ")} µs`,
    `warm costOf, ${calls.length} calls mixed: ${fixed(warm, 3)} µs per call`,
    `warm costOf each: ${calls.map((call, i) => `${call.responseModel ?? call.requestModel} ${fixed(warmEach[i], 3)}`).join(", ")} µs`,
    `calcPrice itself (gpt-4o-mini-2024-07-18): ${fixed(calcPrice)} µs per call`,
    metricsLine,
  ].join("\n"),
);
if (sink === -1) console.log(sink);
