// Runs every contender on every workload of its group, each in a fresh process, interleaved over
// several rounds, and prints medians and ratios measured in this run. `--smoke`: a few hundred
// invocations, one round, no heap soak: only proves the harness works.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CONTENDERS, parseContender } from "./contenders.mjs";
import { SDK_HASH_VARIANTS } from "./metrics-sdk.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const smoke = process.argv.includes("--smoke");
const arg = (name, fallback) => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
};
const list = (name) =>
  process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1].split(",") : undefined;
const iterations = arg("--iterations", smoke ? 300 : 2000);
const rounds = arg("--rounds", smoke ? 1 : 5);
const heapIterations = arg("--heap", smoke ? 0 : 100_000);
const replayIterations = arg("--replay", smoke ? 200 : 5000);
const only = list("--only");
const onlyWorkloads = list("--workloads");
// As in an app that imports `langchain` or LangGraph: LangChain's async-local config storage
// exists for every contender, not only where the context bridge creates it (contenders.mjs).
const langchainStorage = process.argv.includes("--langchain-storage");
// --dist <dir>: measure this ESM build of langchain-otel instead of ../dist/esm (contenders.mjs).
const dist = process.argv.includes("--dist")
  ? resolve(process.argv[process.argv.indexOf("--dist") + 1])
  : undefined;
if (dist) process.env.BENCH_DIST = dist;
// --sdk-hash concat|cached: a what-if, the metrics SDK with a cheaper attribute-set hash (metrics-sdk.mjs).
const sdkHash = process.argv.includes("--sdk-hash")
  ? process.argv[process.argv.indexOf("--sdk-hash") + 1]
  : undefined;
if (sdkHash !== undefined) {
  if (!SDK_HASH_VARIANTS.includes(sdkHash))
    throw new Error(`--sdk-hash ${sdkHash}: use one of ${SDK_HASH_VARIANTS.join(", ")}`);
  process.env.BENCH_SDK_HASH = sdkHash;
}

/**
 * Which contenders run on which workloads. `main`: the comparison with the floor and the
 * alternatives, metrics and cost on and off, and the unsampled variants. `bridge`: the context
 * bridge, on the `-http` workloads, where the app's HTTP instrumentation starts spans inside the
 * runs (for every contender alike). `focus`: the contenders a group is run for; the rest are
 * its references.
 */
const BRIDGE_ONLY = ["langchain-otel-bridge", "langchain-otel-storage"];
const GROUPS = [
  {
    name: "main",
    workloads: ["rag", "rag-stream", "agent"],
    contenders: CONTENDERS.filter((name) => !BRIDGE_ONLY.includes(name)),
    focus: CONTENDERS.filter((name) => !["none", "minimal", ...BRIDGE_ONLY].includes(name)),
    heapOn: "rag",
    soaks: () => true,
  },
  {
    name: "bridge",
    workloads: ["rag-http", "rag-stream-http", "agent-http"],
    contenders: ["none", "minimal", "langchain-otel", "langchain-otel-storage", "langchain-otel-bridge"],
    focus: ["langchain-otel-bridge", "langchain-otel-storage"],
    heapOn: "rag-http",
    // The others soak in `main`.
    soaks: (name) => name === "langchain-otel-bridge",
  },
];
/** Each compared contender's reference, added to `--only` with it. */
const references = (name) =>
  parseContender(name).unsampled
    ? ["minimal-unsampled"]
    : name === "langchain-otel-bridge"
      ? ["langchain-otel", "langchain-otel-storage"]
      : name.startsWith("langchain-otel-")
        ? ["langchain-otel"]
        : [];
const selected = only && new Set(["none", "minimal", ...only, ...only.flatMap(references)]);
// A contender named with --only that no group lists (e.g. `output-floor-unsampled`) joins `main`.
for (const name of only ?? []) {
  if (GROUPS.some((group) => group.contenders.includes(name))) continue;
  GROUPS[0].contenders.push(name);
  GROUPS[0].focus.push(name);
}
const plan = GROUPS.map((group) => ({
  ...group,
  workloads: group.workloads.filter((workload) => !onlyWorkloads || onlyWorkloads.includes(workload)),
  contenders: group.contenders.filter((name) => !selected || selected.has(name)),
})).filter(
  (group) => group.workloads.length > 0 && (!only || group.focus.some((name) => only.includes(name))),
);
if (plan.length === 0)
  throw new Error("nothing to run: --only names no contender compared on these --workloads");

const exportsSpans = (name) => name !== "none" && name !== "noop";
/** Contenders with a handler of their own, whose callbacks the replay feeds directly. */
const replayed = (name) => exportsSpans(name);

/** Runs one script in a fresh Node process and returns the JSON line it prints last. */
function measure(script, args) {
  const out = execFileSync(process.execPath, ["--expose-gc", join(here, script), ...args.map(String)], {
    cwd: here,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    env: langchainStorage ? { ...process.env, BENCH_LANGCHAIN_STORAGE: "1" } : process.env,
  });
  return JSON.parse(out.trim().split("\n").at(-1));
}

const results = [];
const replays = [];
for (let round = 0; round < rounds; round++) {
  for (const group of plan) {
    for (const workload of group.workloads) {
      // Interleave: every contender once per round, in a rotating order, so drift hits all alike.
      const contenders = group.contenders;
      const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]);
      for (const contender of order) {
        // The heap soak runs once per contender, on one workload of its group, in the last round.
        const soak = round === rounds - 1 && workload === group.heapOn && group.soaks(contender);
        const heap = soak ? heapIterations : 0;
        const result = { round, ...measure("contender.mjs", [contender, workload, iterations, heap]) };
        results.push(result);
        process.stderr.write(
          `round ${round + 1}/${rounds} ${workload.padEnd(15)} ${contender.padEnd(30)} median ${result.medianUs.toFixed(1)} µs\n`,
        );
      }
      for (const contender of order.filter(replayed)) {
        if (replayIterations <= 0) continue;
        const replay = { round, ...measure("replay.mjs", [contender, workload, replayIterations]) };
        replays.push(replay);
        process.stderr.write(
          `round ${round + 1}/${rounds} ${workload.padEnd(15)} ${contender.padEnd(30)} replay ${replay.usPerInvocation.toFixed(1)} µs/invocation\n`,
        );
      }
    }
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const range = (values) => [Math.min(...values), Math.max(...values)];
const problems = [];
const rows = [];
for (const group of plan) {
  for (const workload of group.workloads) {
    const of = (contender) => results.filter((r) => r.workload === workload && r.contender === contender);
    const base = median(of("none").map((r) => r.medianUs));
    const minimal = of("minimal");
    const spansOfWorkload = minimal[0].expectedSpans;
    const minimalOverhead = (median(minimal.map((r) => r.medianUs)) - base) / spansOfWorkload;
    const minimalUnsampled = of("minimal-unsampled");
    const minimalUnsampledPerInvocation =
      minimalUnsampled.length > 0 ? median(minimalUnsampled.map((r) => r.medianUs)) - base : undefined;
    // The same from CPU time per invocation (contender.mjs): medians over rounds of each process's mean.
    const cpuOf = (contender) => median(of(contender).map((r) => r.cpuUsPerInvocation));
    const cpuBase = cpuOf("none");
    const cpuMinimal = cpuOf("minimal") - cpuBase;
    const cpuMinimalUnsampled =
      minimalUnsampled.length > 0 ? cpuOf("minimal-unsampled") - cpuBase : undefined;
    for (const contender of group.contenders) {
      const runs = of(contender);
      const last = runs.at(-1);
      const med = median(runs.map((r) => r.medianUs));
      const { unsampled } = parseContender(contender);
      const spans = last.spansPerInvocation;
      const perInvocation = contender === "none" ? undefined : med - base;
      const perSpan = exportsSpans(contender) && !unsampled ? perInvocation / spansOfWorkload : undefined;
      const countOk = !exportsSpans(contender) || spans === last.expectedSpans;
      const where = `${contender} on ${workload}`;
      if (exportsSpans(contender) && !countOk)
        problems.push(`${where}: ${spans} spans per invocation, expected ${last.expectedSpans}`);
      if (exportsSpans(contender) && !last.treeOk) problems.push(`${where}: a broken tree`);
      // langchain-otel must hold no run once every invocation has ended: no internal map grows.
      if (last.openRunsAfter !== undefined && last.openRunsAfter !== 0)
        problems.push(`${where}: ${last.openRunsAfter} runs still open`);
      if (last.modelCallsRecorded !== last.modelCallsExpected)
        problems.push(
          `${where}: metrics recorded ${last.modelCallsRecorded} model calls, expected ${last.modelCallsExpected}`,
        );
      if (last.foreignPerInvocation !== last.expectedForeign)
        problems.push(
          `${where}: ${last.foreignPerInvocation} foreign spans per invocation, expected ${last.expectedForeign}`,
        );
      // With the bridge, every foreign span lands under the run that made it.
      if (
        parseContender(contender).base === "langchain-otel-bridge" &&
        !unsampled &&
        last.foreignUnderTheirRun !== last.foreignRecorded
      )
        problems.push(
          `${where}: ${last.foreignUnderTheirRun} of ${last.foreignRecorded} foreign spans under their run`,
        );
      const perSpanRounds = runs.map(
        (r) =>
          (r.medianUs -
            median(
              of("none")
                .filter((n) => n.round === r.round)
                .map((n) => n.medianUs),
            )) /
          spansOfWorkload,
      );
      rows.push({
        group: group.name,
        workload,
        contender,
        unsampled,
        rounds: runs.length,
        medianUs: med,
        p99Us: median(runs.map((r) => r.p99Us)),
        overheadPerInvocationUs: perInvocation,
        overheadPerSpanUs: perSpan,
        overheadPerSpanRangeUs: perSpan === undefined ? undefined : range(perSpanRounds),
        ratioToMinimal: perSpan === undefined ? undefined : perSpan / minimalOverhead,
        cpuOverheadPerInvocationUs: contender === "none" ? undefined : cpuOf(contender) - cpuBase,
        cpuRatioToMinimal: perSpan === undefined ? undefined : (cpuOf(contender) - cpuBase) / cpuMinimal,
        cpuRatioToMinimalUnsampled:
          unsampled && cpuMinimalUnsampled !== undefined
            ? (cpuOf(contender) - cpuBase) / cpuMinimalUnsampled
            : undefined,
        ratioToMinimalUnsampled:
          unsampled && minimalUnsampledPerInvocation !== undefined
            ? perInvocation / minimalUnsampledPerInvocation
            : undefined,
        spansPerInvocation: spans,
        treeOk: exportsSpans(contender) ? countOk && last.treeOk : undefined,
        foreign:
          last.expectedForeign > 0 ? `${last.foreignUnderTheirRun}/${last.foreignRecorded}` : undefined,
        heapGrowthMb: last.heapIterations > 0 ? last.heapEndMb - last.heapStartMb : undefined,
        bytesPerSpan: exportsSpans(contender) && !unsampled ? last.bytesPerSpan : undefined,
      });
    }
  }
}

const replayRows = [];
for (const group of plan) {
  for (const workload of group.workloads) {
    const of = (contender) => replays.filter((r) => r.workload === workload && r.contender === contender);
    if (of("minimal").length === 0) continue;
    const floor = median(of("minimal").map((r) => r.usPerSpan));
    const floorUnsampled = of("minimal-unsampled").length
      ? median(of("minimal-unsampled").map((r) => r.usPerInvocation))
      : undefined;
    for (const contender of group.contenders.filter(replayed)) {
      const runs = of(contender);
      if (runs.length === 0) continue;
      const { unsampled } = parseContender(contender);
      const usPerSpan = unsampled ? undefined : median(runs.map((r) => r.usPerSpan));
      const usPerInvocation = median(runs.map((r) => r.usPerInvocation));
      const expected = results.find(
        (r) => r.workload === workload && r.contender === contender,
      )?.expectedSpans;
      if (runs.some((r) => r.spansPerInvocation !== expected))
        problems.push(`${contender} on ${workload}: the replay exported the wrong number of spans`);
      replayRows.push({
        group: group.name,
        workload,
        contender,
        usPerSpan,
        cpuUsPerSpan: unsampled ? undefined : median(runs.map((r) => r.cpuUsPerSpan)),
        usPerInvocation,
        ratioToMinimal: usPerSpan === undefined ? undefined : usPerSpan / floor,
        ratioToMinimalUnsampled:
          unsampled && floorUnsampled !== undefined ? usPerInvocation / floorUnsampled : undefined,
        spansPerInvocation: runs.at(-1).spansPerInvocation,
      });
    }
  }
}

/** `a` against `b` on each workload where both ran: overhead per span and per invocation, end to end and replayed. */
function pairs(a, b) {
  const out = [];
  for (const row of rows.filter((r) => r.contender === a)) {
    const other = rows.find((r) => r.contender === b && r.workload === row.workload);
    if (!other) continue;
    const replayA = replayRows.find((r) => r.contender === a && r.workload === row.workload);
    const replayB = replayRows.find((r) => r.contender === b && r.workload === row.workload);
    const of = (name) => results.filter((r) => r.contender === name && r.workload === row.workload);
    const perRound = (measure) =>
      of(a)
        .map((ra) => {
          const at = (name) => of(name).find((r) => r.round === ra.round)?.[measure];
          return (ra[measure] - at("none")) / (at(b) - at("none"));
        })
        .filter(Number.isFinite);
    const cpuRounds = perRound("cpuUsPerInvocation");
    const wallRounds = perRound("medianUs");
    out.push({
      workload: row.workload,
      a: row.overheadPerInvocationUs,
      b: other.overheadPerInvocationUs,
      ratio: row.overheadPerInvocationUs / other.overheadPerInvocationUs,
      ratioRange: wallRounds.length > 1 ? range(wallRounds) : undefined,
      cpuA: row.cpuOverheadPerInvocationUs,
      cpuB: other.cpuOverheadPerInvocationUs,
      cpuRatio: row.cpuOverheadPerInvocationUs / other.cpuOverheadPerInvocationUs,
      cpuRatioRange: cpuRounds.length > 1 ? range(cpuRounds) : undefined,
      replayA: replayA?.usPerInvocation,
      replayB: replayB?.usPerInvocation,
      replayRatio: replayA && replayB ? replayA.usPerInvocation / replayB.usPerInvocation : undefined,
      foreignA: row.foreign,
      foreignB: other.foreign,
    });
  }
  return out;
}

const fmt = (value, digits = 1) =>
  value === undefined || !Number.isFinite(value) ? "—" : value.toFixed(digits);
const fmtRange = (values, digits = 2) =>
  values === undefined ? "" : ` (${fmt(values[0], digits)}–${fmt(values[1], digits)})`;
const sampledRows = rows.filter((r) => !r.unsampled);
const unsampledRows = rows.filter((r) => r.unsampled || r.contender === "none" || r.contender === "minimal");
const lines = [
  `iterations ${iterations} × ${rounds} rounds, heap soak ${heapIterations} invocations, node ${process.version}${langchainStorage ? ", LangChain's async-local storage created for every contender" : ""}${dist ? `, langchain-otel from ${dist}` : ""}${sdkHash ? `, metrics SDK hash: ${sdkHash} (what-if, metrics-sdk.mjs)` : ""}`,
  "",
  "| workload | contender | median µs | p99 µs | overhead µs/span | × minimal | CPU × minimal | spans/inv | tree | heap Δ MB | bytes/span |",
  "|---|---|---|---|---|---|---|---|---|---|---|",
  ...sampledRows.map(
    (r) =>
      `| ${r.workload} | ${r.contender} | ${fmt(r.medianUs)} | ${fmt(r.p99Us)} | ${fmt(r.overheadPerSpanUs)} | ${fmt(r.ratioToMinimal, 2)} | ${fmt(r.cpuRatioToMinimal, 2)} | ${fmt(r.spansPerInvocation, 0)} | ${r.treeOk === undefined ? "—" : r.treeOk ? "ok" : "WRONG"} | ${fmt(r.heapGrowthMb, 2)} | ${fmt(r.bytesPerSpan, 0)} |`,
  ),
];
const comparison = (title, a, b, foreign) => {
  const found = pairs(a, b);
  if (found.length === 0) return;
  lines.push(
    "",
    title,
    "",
    `| workload | ${b} µs/inv | ${a} µs/inv | ratio (rounds) | CPU µs/inv ${b} → ${a} | CPU ratio (rounds) | replay µs/inv ${b} → ${a} | replay ratio |${foreign ? " foreign spans under their run |" : ""}`,
    `|---|---|---|---|---|---|---|---|${foreign ? "---|" : ""}`,
    ...found.map(
      (p) =>
        `| ${p.workload} | ${fmt(p.b)} | ${fmt(p.a)} | ${fmt(p.ratio, 3)}${fmtRange(p.ratioRange)} | ${fmt(p.cpuB)} → ${fmt(p.cpuA)} | ${fmt(p.cpuRatio, 3)}${fmtRange(p.cpuRatioRange)} | ${fmt(p.replayB, 1)} → ${fmt(p.replayA, 1)} | ${fmt(p.replayRatio, 3)} |${foreign ? ` ${p.foreignA} (without: ${p.foreignB}) |` : ""}`,
    ),
  );
};
comparison(
  "Context bridge: overhead over `none` per invocation (the -http workloads; same spans, so the ratio is also per span's):",
  "langchain-otel-bridge",
  "langchain-otel",
  true,
);
comparison(
  "LangChain's async-local config storage, which the bridge creates in an app with @langchain/core alone: langchain-otel without the bridge, with the storage, against without:",
  "langchain-otel-storage",
  "langchain-otel",
  false,
);
comparison(
  "The bridge's own work: with the bridge against without, LangChain's storage present in both:",
  "langchain-otel-bridge",
  "langchain-otel-storage",
  true,
);
comparison(
  "Metrics and cost: overhead over `none` per invocation, on (langchain-otel) and off (-no-accounting):",
  "langchain-otel",
  "langchain-otel-no-accounting",
  false,
);
if (unsampledRows.some((r) => r.unsampled))
  lines.push(
    "",
    "Unsampled (AlwaysOffSampler): overhead over `none` per invocation; sampled `minimal` for scale.",
    "",
    "| workload | contender | median µs | p99 µs | overhead µs/inv | × minimal-unsampled | CPU µs/inv over none | CPU × minimal-unsampled | spans/inv | heap Δ MB |",
    "|---|---|---|---|---|---|---|---|---|---|",
    ...unsampledRows
      .filter((r) => r.group === "main")
      .map(
        (r) =>
          `| ${r.workload} | ${r.contender} | ${fmt(r.medianUs)} | ${fmt(r.p99Us)} | ${fmt(r.overheadPerInvocationUs)} | ${fmt(r.ratioToMinimalUnsampled, 2)} | ${fmt(r.cpuOverheadPerInvocationUs)} | ${fmt(r.cpuRatioToMinimalUnsampled, 2)} | ${fmt(r.spansPerInvocation, 0)} | ${fmt(r.heapGrowthMb, 2)} |`,
      ),
  );
if (replayRows.length > 0)
  lines.push(
    "",
    `Handler only: one invocation's callbacks replayed ${replayIterations} times straight into each handler (LangChain's plumbing left out), ${rounds} rounds.`,
    "",
    "| workload | contender | µs/span | CPU µs/span | × minimal | µs/inv | × minimal-unsampled | spans/inv |",
    "|---|---|---|---|---|---|---|---|",
    ...replayRows.map(
      (r) =>
        `| ${r.workload} | ${r.contender} | ${fmt(r.usPerSpan, 2)} | ${fmt(r.cpuUsPerSpan, 2)} | ${fmt(r.ratioToMinimal, 2)} | ${fmt(r.usPerInvocation, 1)} | ${fmt(r.ratioToMinimalUnsampled, 2)} | ${fmt(r.spansPerInvocation, 0)} |`,
    ),
  );
console.log(lines.join("\n"));
mkdirSync(join(here, "results"), { recursive: true });
writeFileSync(
  join(here, "results", smoke ? "smoke.json" : "latest.json"),
  JSON.stringify({ rows, replayRows, results, replays }, null, 2),
);
// output-floor must export what langchain-otel exports, or its row means nothing.
if (plan.some((group) => group.contenders.includes("output-floor"))) {
  for (const workload of plan.find((group) => group.contenders.includes("output-floor")).workloads) {
    const check = spawnSync(
      process.execPath,
      [join(here, "compare-output.mjs"), "langchain-otel", "output-floor", workload],
      { cwd: here, encoding: "utf8" },
    );
    if (check.status !== 0)
      problems.push(
        `output-floor does not export what langchain-otel exports on ${workload}: ${check.stdout}`,
      );
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
