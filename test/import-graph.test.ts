import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";

/**
 * What `import "langchain-otel"` and `new OpenTelemetryCallbackHandler()` load, in a fresh Node
 * process, from the built package (`npm test` builds first). The handler needs the OTel API and
 * @langchain/core only: the SDK, the exporters, protobuf, the incubating semantic conventions and
 * the price table load when `setupTracing()`, `langfuseExporter()` or pricing runs, never here.
 *
 * Every module is recorded two ways, since neither sees all of them on Node 20: a `load` hook
 * registered with `module.register` sees each ES module (and each CommonJS module imported from
 * one), and `require.cache` lists every CommonJS module, those loaded through `require`
 * (`requireOptional`) included.
 */

const root = join(import.meta.dirname, "..");

const FORBIDDEN: [string, RegExp][] = [
  [
    "an OpenTelemetry SDK package",
    /node_modules\/@opentelemetry\/(sdk-|core\/|resources\/|context-async-hooks\/)/,
  ],
  ["an OTLP exporter", /node_modules\/@opentelemetry\/(exporter-|otlp-)/],
  ["protobufjs", /node_modules\/(protobufjs|@protobufjs)\//],
  ["the semantic conventions", /node_modules\/@opentelemetry\/semantic-conventions\//],
  ["the price table", /node_modules\/@pydantic\/genai-prices\//],
];

const HOOKS = `
import { appendFileSync } from "node:fs";
let file;
export function initialize(data) { file = data.file; }
export async function load(url, context, next) {
  appendFileSync(file, url + "\\n");
  return next(url, context);
}
export async function resolve(specifier, context, next) {
  if (context.parentURL?.includes("/dist/")) appendFileSync(file, "import " + specifier + " from " + context.parentURL + "\\n");
  return next(specifier, context);
}
`;
const REGISTER = `
import { register } from "node:module";
register("./hooks.mjs", import.meta.url, { data: { file: process.env.IMPORT_GRAPH_LOG } });
`;
// Every require a file of the package makes (the CommonJS build, and the ESM build's CommonJS helper).
const RECORD_REQUIRES = `
const requires = [];
const original = Module.prototype.require;
Module.prototype.require = function (request) {
  if (this.filename?.includes("/dist/")) requires.push("require " + request + " from " + this.filename);
  return original.apply(this, arguments);
};
`;
const ESM_MAIN = `
import { createRequire, Module } from "node:module";
${RECORD_REQUIRES}
const lib = await import(process.argv[2]);
const handler = new lib.OpenTelemetryCallbackHandler();
if (handler.name !== "OpenTelemetryCallbackHandler") throw new Error("no handler");
console.log(JSON.stringify([...requires, ...Object.keys(createRequire(import.meta.url).cache)]));
`;
const CJS_MAIN = `
const { Module } = require("node:module");
${RECORD_REQUIRES}
const lib = require(process.argv[2]);
const handler = new lib.OpenTelemetryCallbackHandler();
if (handler.name !== "OpenTelemetryCallbackHandler") throw new Error("no handler");
console.log(JSON.stringify([...requires, ...Object.keys(require.cache)]));
`;

/** Every module a fresh process loads importing `entry` and constructing a handler: paths and URLs. */
function loadedModules(entry: string, format: "esm" | "cjs"): string[] {
  const dir = mkdtempSync(join(tmpdir(), "langchain-otel-import-graph-"));
  try {
    writeFileSync(join(dir, "hooks.mjs"), HOOKS);
    writeFileSync(join(dir, "register.mjs"), REGISTER);
    const main = join(dir, format === "esm" ? "main.mjs" : "main.cjs");
    writeFileSync(main, format === "esm" ? ESM_MAIN : CJS_MAIN);
    const log = join(dir, "loaded.txt");
    const env: NodeJS.ProcessEnv = { ...process.env, IMPORT_GRAPH_LOG: log };
    delete env.NODE_OPTIONS;
    const out = execFileSync(
      process.execPath,
      ["--import", pathToFileURL(join(dir, "register.mjs")).href, main, entry],
      { cwd: dir, env, encoding: "utf8" },
    );
    const viaRequire = JSON.parse(out.trim().split("\n").at(-1) ?? "[]") as string[];
    const viaHooks = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    return [...viaHooks, ...viaRequire].map((module) => module.replaceAll("\\", "/"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the import graph of the package root and a handler", function () {
  this.timeout(30_000);

  const builds = [
    { format: "esm", entry: pathToFileURL(join(root, "dist/esm/index.js")).href },
    { format: "cjs", entry: join(root, "dist/cjs/index.js") },
  ] as const;

  for (const { format, entry } of builds) {
    describe(`dist/${format}`, () => {
      let modules: string[] = [];
      before(() => {
        modules = loadedModules(entry, format);
      });

      it("loads the package, @opentelemetry/api and @langchain/core's callback base (the recording works)", () => {
        expect(modules.some((module) => module.includes(`/dist/${format}/index.js`))).to.equal(true);
        expect(modules.some((module) => module.includes("node_modules/@opentelemetry/api/"))).to.equal(true);
        expect(
          modules.some((module) => /node_modules\/@langchain\/core\/.*callbacks\/base/.test(module)),
        ).to.equal(true);
      });

      it("asks for no Node built-in: the handler loads in Workers and the Vercel Edge Runtime", () => {
        const requests = modules.filter((module) => /^(import|require) /.test(module));
        // The recording works: the package's own files are seen asking for their imports.
        expect(requests.some((request) => request.includes("@langchain/core"))).to.equal(true);
        const builtins = requests.filter((request) => {
          const specifier = request.split(" ")[1] ?? "";
          return specifier.startsWith("node:") || builtinModules.includes(specifier);
        });
        expect(builtins).to.deep.equal([]);
      });

      for (const [what, pattern] of FORBIDDEN) {
        it(`loads no module of ${what}`, () => {
          expect(modules.filter((module) => pattern.test(module))).to.deep.equal([]);
        });
      }
    });
  }
});
