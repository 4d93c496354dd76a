// Runs every contender on every workload, each in a fresh process, interleaved over several
// rounds, and prints medians and ratios measured in this run. `--smoke`: a few hundred
// invocations, one round, no heap soak: only proves the harness works.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTENDERS } from "./contenders.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const smoke = process.argv.includes("--smoke");
const arg = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const iterations = arg("--iterations", smoke ? 300 : 2000);
const rounds = arg("--rounds", smoke ? 1 : 5);
const heapIterations = arg("--heap", smoke ? 0 : 100_000);
const replayIterations = arg("--replay", smoke ? 200 : 5000);
const only = process.argv.includes("--only")
  ? process.argv[process.argv.indexOf("--only") + 1].split(",")
  : undefined;

/** Contenders with a handler of their own, whose callbacks the replay feeds directly. */
const REPLAYED = CONTENDERS.filter((name) => name !== "none" && name !== "noop");
const WORKLOADS = ["rag", "rag-stream", "agent"];
const contenders = only
  ? CONTENDERS.filter((name) => only.includes(name) || name === "none" || name === "minimal")
  : CONTENDERS;

/** Runs one script in a fresh Node process and returns the JSON line it prints last. */
function measure(script, args) {
  const out = execFileSync(process.execPath, ["--expose-gc", join(here, script), ...args.map(String)], {
    cwd: here,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out.trim().split("\n").at(-1));
}

const results = [];
const replays = [];
for (let round = 0; round < rounds; round++) {
  for (const workload of WORKLOADS) {
    // Interleave: every contender once per round, in a rotating order, so drift hits all alike.
    const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
    for (const contender of order) {
      // The heap soak runs once per contender, on the rag workload, in the last round.
      const heap = round === rounds - 1 && workload === "rag" ? heapIterations : 0;
      const result = { round, ...measure("contender.mjs", [contender, workload, iterations, heap]) };
      results.push(result);
      process.stderr.write(
        `round ${round + 1}/${rounds} ${workload.padEnd(10)} ${contender.padEnd(26)} median ${result.medianUs.toFixed(1)} µs\n`,
      );
    }
    for (const contender of order.filter((name) => REPLAYED.includes(name))) {
      if (replayIterations <= 0) continue;
      const replay = { round, ...measure("replay.mjs", [contender, workload, replayIterations]) };
      replays.push(replay);
      process.stderr.write(
        `round ${round + 1}/${rounds} ${workload.padEnd(10)} ${contender.padEnd(26)} replay ${replay.usPerSpan.toFixed(2)} µs/span\n`,
      );
    }
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const rows = [];
let failed = false;
for (const workload of WORKLOADS) {
  const of = (contender) => results.filter((r) => r.workload === workload && r.contender === contender);
  const base = median(of("none").map((r) => r.medianUs));
  const minimal = of("minimal");
  const minimalOverhead = (median(minimal.map((r) => r.medianUs)) - base) / minimal[0].expectedSpans;
  for (const contender of contenders) {
    const runs = of(contender);
    const last = runs.at(-1);
    const med = median(runs.map((r) => r.medianUs));
    const spans = last.spansPerInvocation;
    const perSpan =
      contender === "none" || contender === "noop" ? undefined : (med - base) / (spans || last.expectedSpans);
    const exportsSpans = !(contender === "none" || contender === "noop");
    const countOk = !exportsSpans || spans === last.expectedSpans;
    if (exportsSpans && (!countOk || !last.treeOk)) failed = true;
    // langchain-otel must hold no run once every invocation has ended: no internal map grows.
    if (last.openRunsAfter !== undefined && last.openRunsAfter !== 0) failed = true;
    rows.push({
      workload,
      contender,
      medianUs: med,
      p99Us: median(runs.map((r) => r.p99Us)),
      overheadPerSpanUs: perSpan,
      ratioToMinimal: perSpan === undefined ? undefined : perSpan / minimalOverhead,
      spansPerInvocation: spans,
      treeOk: exportsSpans ? countOk && last.treeOk : undefined,
      heapGrowthMb: last.heapIterations > 0 ? last.heapEndMb - last.heapStartMb : undefined,
      bytesPerSpan: exportsSpans ? last.bytesPerSpan : undefined,
    });
  }
}

const replayRows = [];
for (const workload of WORKLOADS) {
  const of = (contender) => replays.filter((r) => r.workload === workload && r.contender === contender);
  if (of("minimal").length === 0) continue;
  const floor = median(of("minimal").map((r) => r.usPerSpan));
  for (const contender of REPLAYED.filter((name) => contenders.includes(name))) {
    const runs = of(contender);
    if (runs.length === 0) continue;
    const usPerSpan = median(runs.map((r) => r.usPerSpan));
    const expected = results.find((r) => r.workload === workload)?.expectedSpans;
    if (runs.some((r) => r.spansPerInvocation !== expected)) failed = true;
    replayRows.push({
      workload,
      contender,
      usPerSpan,
      cpuUsPerSpan: median(runs.map((r) => r.cpuUsPerSpan)),
      ratioToMinimal: usPerSpan / floor,
      spansPerInvocation: runs.at(-1).spansPerInvocation,
    });
  }
}

const fmt = (value, digits = 1) => (value === undefined ? "—" : value.toFixed(digits));
const lines = [
  `iterations ${iterations} × ${rounds} rounds, heap soak ${heapIterations} invocations, node ${process.version}`,
  "",
  "| workload | contender | median µs | p99 µs | overhead µs/span | × minimal | spans/inv | tree | heap Δ MB | bytes/span |",
  "|---|---|---|---|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.workload} | ${r.contender} | ${fmt(r.medianUs)} | ${fmt(r.p99Us)} | ${fmt(r.overheadPerSpanUs)} | ${fmt(r.ratioToMinimal, 2)} | ${fmt(r.spansPerInvocation, 0)} | ${r.treeOk === undefined ? "—" : r.treeOk ? "ok" : "WRONG"} | ${fmt(r.heapGrowthMb, 2)} | ${fmt(r.bytesPerSpan, 0)} |`,
  ),
];
if (replayRows.length > 0)
  lines.push(
    "",
    `Handler only: one invocation's callbacks replayed ${replayIterations} times straight into each handler (LangChain's plumbing left out), ${rounds} rounds.`,
    "",
    "| workload | contender | µs/span | CPU µs/span | × minimal | spans/inv |",
    "|---|---|---|---|---|---|",
    ...replayRows.map(
      (r) =>
        `| ${r.workload} | ${r.contender} | ${fmt(r.usPerSpan, 2)} | ${fmt(r.cpuUsPerSpan, 2)} | ${fmt(r.ratioToMinimal, 2)} | ${fmt(r.spansPerInvocation, 0)} |`,
    ),
  );
console.log(lines.join("\n"));
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", smoke ? "smoke.json" : "latest.json"),
  JSON.stringify({ rows, replayRows, results, replays }, null, 2),
);
// output-floor must export what langchain-otel exports, or its row means nothing.
if (contenders.includes("output-floor")) {
  for (const workload of WORKLOADS) {
    const check = spawnSync(
      process.execPath,
      [join(here, "compare-output.mjs"), "langchain-otel", "output-floor", workload],
      { cwd: here, encoding: "utf8" },
    );
    if (check.status !== 0) {
      failed = true;
      console.error(
        `output-floor does not export what langchain-otel exports on ${workload}: ${check.stdout}`,
      );
    }
  }
}
if (failed) {
  console.error(
    "a contender exported the wrong number of spans or a broken tree, langchain-otel held runs after the soak, or output-floor's output differs",
  );
  process.exit(1);
}
