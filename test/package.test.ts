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

  it("reports the package.json version as its scope version", () => {
    expect(VERSION).to.equal(packageJson.version);
  });
});
