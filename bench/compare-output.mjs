// Checks that two contenders export the same spans on a workload (names, kinds and attributes,
// ids and times aside) and record the same metrics (names, units, descriptions, buckets,
// attribute sets, counts, token sums; durations aside). The benchmark runs it for langchain-otel
// and output-floor, whose claim ("the same output, none of the rules") it keeps true. Prints one JSON line; exit code 1 on a
// difference. Usage: node compare-output.mjs <contender> <contender> <workload>
import { CountingExporter, CountingMetricExporter, setUpContender } from "./contenders.mjs";
import { WORKLOADS } from "./workloads.mjs";

/** Attributes whose values differ from run to run by nature. */
const VARYING =
  /^(langchain\.run\.id|gen_ai\.response\.time_to_first_chunk|langfuse\.observation\.completion_start_time)$/;

/** Spans (name, kind, attributes) and metrics (per data point: attributes, count, and sums of token counts). */
async function outputOf(name, workload) {
  const exporter = new CountingExporter();
  exporter.measureBytes = true;
  const metricExporter = new CountingMetricExporter();
  const { callbacks, provider, meterProvider } = await setUpContender(name, exporter, metricExporter);
  await WORKLOADS[workload]().invoke(callbacks);
  await provider.forceFlush();
  await provider.shutdown();
  await meterProvider?.forceFlush();
  const spans = exporter.last.map((span) => ({
    name: span.name,
    kind: span.kind,
    attributes: Object.fromEntries(Object.entries(span.attributes).filter(([key]) => !VARYING.test(key))),
  }));
  // Durations vary from run to run: their counts are compared, token counts by their sums too.
  const metrics = (metricExporter.last?.scopeMetrics ?? [])
    .flatMap((scope) => scope.metrics)
    .map((metric) => ({
      name: metric.descriptor.name,
      unit: metric.descriptor.unit,
      description: metric.descriptor.description,
      points: metric.dataPoints.map((point) => ({
        attributes: point.attributes,
        count: point.value.count,
        boundaries: point.value.buckets.boundaries,
        ...(metric.descriptor.unit === "s" ? {} : { sum: point.value.sum }),
      })),
    }))
    .sort((x, y) => (x.name < y.name ? -1 : 1));
  return { spans, metrics };
}

const [first, second, workload] = process.argv.slice(2);
const a = await outputOf(first, workload);
const b = await outputOf(second, workload);
const differences = [];
for (let i = 0; i < Math.max(a.spans.length, b.spans.length); i++) {
  const left = JSON.stringify(a.spans[i]);
  const right = JSON.stringify(b.spans[i]);
  if (left !== right) differences.push({ span: i, [first]: a.spans[i], [second]: b.spans[i] });
}
for (let i = 0; i < Math.max(a.metrics.length, b.metrics.length); i++) {
  const left = JSON.stringify(a.metrics[i]);
  const right = JSON.stringify(b.metrics[i]);
  if (left !== right) differences.push({ metric: i, [first]: a.metrics[i], [second]: b.metrics[i] });
}
console.log(
  JSON.stringify({
    workload,
    same: differences.length === 0,
    spans: a.spans.length,
    metrics: a.metrics.map((metric) => metric.name),
    differences,
  }),
);
process.exit(differences.length === 0 ? 0 : 1);
