// Cold start: what importing an integration and constructing its handler adds to a fresh Node
// process that has already imported @langchain/core's callback base and @opentelemetry/api (what
// any LangChain app with OpenTelemetry loads anyway). Run from the repository root after
// `npm run build`:
//
//   node bench/cold-start.mjs              15 processes per contender
//   node bench/cold-start.mjs --runs 31    more processes
//   node bench/cold-start.mjs --smoke      3 processes, no target check (CI)
//
// Each process times, with performance.now(), (1) the baseline imports, then (2) the contender's
// import and construction, and prints both; the table gives medians over processes, which run
// interleaved in a rotating order so that drift hits every contender alike. Module counts come from
// one more process per contender that records every module loaded: ES modules through a
// `module.register` load hook, CommonJS ones from `require.cache` (hooks would slow the timed runs).
// The alternatives run when bench/node_modules has them (`npm --prefix bench ci`).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const bench = dirname(fileURLToPath(import.meta.url));
const root = join(bench, "..");
const smoke = process.argv.includes("--smoke");
const runsIndex = process.argv.indexOf("--runs");
const runs = runsIndex >= 0 ? Number(process.argv[runsIndex + 1]) : smoke ? 3 : 15;
const TARGET_MS = 30;

/** Each contender: where it resolves its packages from, what it needs installed, what it runs. */
const CONTENDERS = [
  { name: "baseline", cwd: root, code: "" },
  {
    name: "langchain-otel (ESM)",
    cwd: root,
    needs: join(root, "dist/esm/index.js"),
    code: `const { OpenTelemetryCallbackHandler } = await import("./dist/esm/index.js");
new OpenTelemetryCallbackHandler();`,
  },
  { name: "baseline (CommonJS)", cwd: root, format: "cjs", code: "" },
  {
    name: "langchain-otel (CommonJS)",
    cwd: root,
    format: "cjs",
    needs: join(root, "dist/cjs/index.js"),
    code: `const { OpenTelemetryCallbackHandler } = createRequire(process.cwd() + "/")("./dist/cjs/index.js");
new OpenTelemetryCallbackHandler();`,
  },
  {
    name: "@langfuse/langchain",
    cwd: bench,
    needs: join(bench, "node_modules/@langfuse/langchain"),
    code: `const { CallbackHandler } = await import("@langfuse/langchain");
new CallbackHandler();`,
  },
  {
    // Its handler is added by patching LangChain's callback manager, which it imports to do so.
    name: "@arizeai/openinference-instrumentation-langchain",
    cwd: bench,
    needs: join(bench, "node_modules/@arizeai/openinference-instrumentation-langchain"),
    code: `const { LangChainInstrumentation } = await import("@arizeai/openinference-instrumentation-langchain");
new LangChainInstrumentation().manuallyInstrument(await import("@langchain/core/callbacks/manager"));`,
  },
];

// The process body: baseline imports, then the contender; times and (when recording) module counts.
// A CommonJS contender's baseline is required, as a CommonJS application would.
const baselineImports = (format) =>
  format === "cjs"
    ? `createRequire(process.cwd() + "/")("@langchain/core/callbacks/base");
createRequire(process.cwd() + "/")("@opentelemetry/api");`
    : `await import("@langchain/core/callbacks/base");
await import("@opentelemetry/api");`;
const body = (code, format) => `
const { createRequire } = await import("node:module");
const { readFileSync, existsSync } = await import("node:fs");
const log = process.env.COLD_START_LOG;
const count = () =>
  Object.keys(createRequire(process.cwd() + "/").cache).length +
  (log && existsSync(log) ? readFileSync(log, "utf8").split("\\n").filter(Boolean).length : 0);
const t0 = performance.now();
${baselineImports(format)}
const t1 = performance.now();
const m1 = count();
{
${code}
}
const t2 = performance.now();
console.log(JSON.stringify({ baselineMs: t1 - t0, addedMs: t2 - t1, baselineModules: m1, addedModules: count() - m1 }));
`;

const HOOKS = `
import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  if (!url.startsWith("node:")) appendFileSync(file, url + "\\n");
  return next(url, context);
}
`;

function runOnce(contender, recordModules) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const args = ["--input-type=module", "-e", body(contender.code, contender.format)];
  let dir;
  if (recordModules) {
    dir = mkdtempSync(join(tmpdir(), "cold-start-"));
    writeFileSync(join(dir, "hooks.mjs"), HOOKS);
    writeFileSync(
      join(dir, "register.mjs"),
      `import { register } from "node:module";
register(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)}, { data: { file: process.env.COLD_START_LOG } });`,
    );
    env.COLD_START_LOG = join(dir, "loaded.txt");
    args.unshift("--import", pathToFileURL(join(dir, "register.mjs")).href);
  }
  try {
    const out = execFileSync(process.execPath, args, { cwd: contender.cwd, env, encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").at(-1));
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const present = CONTENDERS.filter(
  (contender) => contender.needs === undefined || existsSync(contender.needs),
);
const skipped = CONTENDERS.filter((contender) => !present.includes(contender));
const samples = new Map(present.map((contender) => [contender.name, []]));
for (let round = 0; round < runs; round++) {
  const order = present.map((_, i) => present[(i + round) % present.length]);
  for (const contender of order) samples.get(contender.name).push(runOnce(contender, false));
  process.stderr.write(`cold start: round ${round + 1}/${runs}\n`);
}

const rows = present.map((contender) => {
  const results = samples.get(contender.name);
  const modules = runOnce(contender, true);
  const added = results.map((r) => r.addedMs);
  return {
    contender: contender.name,
    baselineMs: median(results.map((r) => r.baselineMs)),
    addedMs: contender.code === "" ? undefined : median(added),
    addedMinMs: contender.code === "" ? undefined : Math.min(...added),
    addedMaxMs: contender.code === "" ? undefined : Math.max(...added),
    baselineModules: modules.baselineModules,
    addedModules: contender.code === "" ? undefined : modules.addedModules,
  };
});

const fmt = (value, digits = 1) => (value === undefined ? "—" : value.toFixed(digits));
const lines = [
  `cold start: ${runs} fresh processes per contender, node ${process.version}`,
  "",
  "| contender | baseline ms | added ms (median) | added ms (min–max) | baseline modules | added modules |",
  "|---|---|---|---|---|---|",
  ...rows.map(
    (r) =>
      `| ${r.contender} | ${fmt(r.baselineMs)} | ${fmt(r.addedMs)} | ${r.addedMs === undefined ? "—" : `${fmt(r.addedMinMs)}–${fmt(r.addedMaxMs)}`} | ${r.baselineModules} | ${r.addedModules ?? "—"} |`,
  ),
];
if (skipped.length > 0)
  lines.push("", `not installed, skipped: ${skipped.map((c) => c.name).join(", ")} (npm --prefix bench ci)`);
const ours = rows.find((r) => r.contender === "langchain-otel (ESM)");
if (!smoke && ours !== undefined)
  lines.push(
    "",
    `target: langchain-otel adds at most ${TARGET_MS} ms: ${ours.addedMs <= TARGET_MS ? "met" : "NOT met"} (${fmt(ours.addedMs)} ms)`,
  );
console.log(lines.join("\n"));
mkdirSync(join(bench, "results"), { recursive: true });
writeFileSync(
  join(bench, "results", smoke ? "cold-start-smoke.json" : "cold-start.json"),
  JSON.stringify({ runs, node: process.version, rows, samples: Object.fromEntries(samples) }, null, 2),
);
// The counting run must have seen modules, or its numbers mean nothing.
if (rows.some((r) => !(r.baselineModules > 0))) {
  console.error("cold start: the module count recorded nothing");
  process.exit(1);
}
