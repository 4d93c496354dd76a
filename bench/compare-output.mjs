// Checks that two contenders export the same spans on a workload: names, kinds and attributes,
// ids and times aside. The benchmark runs it for langchain-otel and output-floor, whose claim
// ("the same output, none of the rules") it keeps true. Prints one JSON line; exit code 1 on a
// difference. Usage: node compare-output.mjs <contender> <contender> <workload>
import { CountingExporter, setUpContender } from "./contenders.mjs";
import { WORKLOADS } from "./workloads.mjs";

/** Attributes whose values differ from run to run by nature. */
const VARYING =
  /^(langchain\.run\.id|gen_ai\.response\.time_to_first_chunk|langfuse\.observation\.completion_start_time)$/;

async function spansOf(name, workload) {
  const exporter = new CountingExporter();
  exporter.measureBytes = true;
  const { callbacks, provider } = await setUpContender(name, exporter);
  await WORKLOADS[workload]().invoke(callbacks);
  await provider.forceFlush();
  await provider.shutdown();
  return exporter.last.map((span) => ({
    name: span.name,
    kind: span.kind,
    attributes: Object.fromEntries(Object.entries(span.attributes).filter(([key]) => !VARYING.test(key))),
  }));
}

const [first, second, workload] = process.argv.slice(2);
const a = await spansOf(first, workload);
const b = await spansOf(second, workload);
const differences = [];
for (let i = 0; i < Math.max(a.length, b.length); i++) {
  const left = JSON.stringify(a[i]);
  const right = JSON.stringify(b[i]);
  if (left !== right) differences.push({ span: i, [first]: a[i], [second]: b[i] });
}
console.log(JSON.stringify({ workload, same: differences.length === 0, spans: a.length, differences }));
process.exit(differences.length === 0 ? 0 : 1);
