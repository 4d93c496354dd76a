import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { VERSION } from "../src/version.js";

const root = join(import.meta.dirname, "..");
const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };

/** Runs a script in a fresh project that depends on the built package by name, as a user would. */
function runAsUser(script: string, type: "module" | "commonjs"): string {
  const dir = mkdtempSync(join(tmpdir(), "langchain-otel-user-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules", "langchain-otel"), "dir");
    const file = join(dir, type === "module" ? "main.mjs" : "main.cjs");
    writeFileSync(file, script);
    return execFileSync(process.execPath, [file], { cwd: dir, encoding: "utf8" }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const probe = (load: string) => `${load}
const handler = new lib.OpenTelemetryCallbackHandler();
console.log(JSON.stringify({
  exports: Object.keys(lib).sort(),
  handler: handler.name,
  version: lib.VERSION,
  awaitHandlers: handler.awaitHandlers,
}));`;

describe("the built package", () => {
  const expectedExports = [
    "ConsoleWaterfallExporter",
    "OpenTelemetryCallbackHandler",
    "formatWaterfall",
    "langfuseExporter",
    "setupTracing",
  ];

  it("loads with import (ESM)", () => {
    const out = JSON.parse(runAsUser(probe('import * as lib from "langchain-otel";'), "module"));
    expect(out.exports).to.include.members(expectedExports);
    expect(out).to.deep.include({
      handler: "OpenTelemetryCallbackHandler",
      version: packageJson.version,
      awaitHandlers: true,
    });
  });

  it("loads with require (CommonJS)", () => {
    const out = JSON.parse(runAsUser(probe('const lib = require("langchain-otel");'), "commonjs"));
    expect(out.exports).to.include.members(expectedExports);
    expect(out).to.deep.include({
      handler: "OpenTelemetryCallbackHandler",
      version: packageJson.version,
      awaitHandlers: true,
    });
  });

  it("the ESM and CommonJS builds share one context bridge (a CommonJS tracing setup, an ESM app)", () => {
    const script = `
import { createRequire } from "node:module";
import * as esm from "langchain-otel";
const cjs = createRequire(import.meta.url)("langchain-otel");
const fromRepo = createRequire(${JSON.stringify(join(root, "package.json"))});
const { context } = fromRepo("@opentelemetry/api");
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = fromRepo("@opentelemetry/sdk-trace-base");
const { RunnableLambda } = fromRepo("@langchain/core/runnables");
context.setGlobalContextManager(new cjs.LangChainContextManager().enable());
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const handler = new esm.OpenTelemetryCallbackHandler({ tracerProvider: provider });
const step = RunnableLambda.from(() => provider.getTracer("app").startSpan("inside").end()).withConfig({ runName: "step" });
await step.invoke(1, { callbacks: [handler] });
const spans = exporter.getFinishedSpans();
const inside = spans.find((span) => span.name === "inside");
const outer = spans.find((span) => span.name === "step");
console.log(JSON.stringify({ nested: inside.parentSpanContext?.spanId === outer.spanContext().spanId }));`;
    expect(JSON.parse(runAsUser(script, "module"))).to.deep.equal({ nested: true });
  });

  it("reports the package.json version as its scope version", () => {
    expect(VERSION).to.equal(packageJson.version);
  });
});
