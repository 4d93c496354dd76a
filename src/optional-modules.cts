/**
 * Every optional dependency, each named by a literal `require("…")`, so that a bundler (esbuild,
 * webpack, Rollup, Vite, Bun) puts the installed ones into an application's bundle and a file
 * tracer (Vercel's nft) ships them. Loaded only when called: importing the package loads none of
 * them. Each load sits in a `try`: bundlers then warn instead of failing the build when an
 * optional package is not installed.
 *
 * CommonJS on purpose, and built on its own beside the bundles (scripts/build.mjs), where both
 * builds import it: every bundler reads `require` in a CommonJS module, while in an ES module
 * some leave it alone (Rollup, webpack) and bundling it into the package's ESM build would turn it
 * into a helper no bundler reads.
 */
export type OptionalModule =
  | "@opentelemetry/sdk-trace-node"
  | "@opentelemetry/sdk-trace-base"
  | "@opentelemetry/sdk-trace"
  | "@opentelemetry/core"
  | "@opentelemetry/resources"
  | "@opentelemetry/context-async-hooks"
  | "@opentelemetry/exporter-trace-otlp-proto"
  | "@opentelemetry/exporter-trace-otlp-http"
  | "@opentelemetry/sdk-metrics"
  | "@opentelemetry/exporter-metrics-otlp-proto"
  | "@opentelemetry/exporter-metrics-otlp-http"
  | "@pydantic/genai-prices";

/** Loads an optional module; throws what `require` throws when it is absent. */
export function loadOptionalModule(name: OptionalModule): unknown {
  try {
    switch (name) {
      case "@opentelemetry/sdk-trace-node":
        return require("@opentelemetry/sdk-trace-node");
      case "@opentelemetry/sdk-trace-base":
        return require("@opentelemetry/sdk-trace-base");
      case "@opentelemetry/sdk-trace":
        return require("@opentelemetry/sdk-trace");
      case "@opentelemetry/core":
        return require("@opentelemetry/core");
      case "@opentelemetry/resources":
        return require("@opentelemetry/resources");
      case "@opentelemetry/context-async-hooks":
        return require("@opentelemetry/context-async-hooks");
      case "@opentelemetry/exporter-trace-otlp-proto":
        return require("@opentelemetry/exporter-trace-otlp-proto");
      case "@opentelemetry/exporter-trace-otlp-http":
        return require("@opentelemetry/exporter-trace-otlp-http");
      case "@opentelemetry/sdk-metrics":
        return require("@opentelemetry/sdk-metrics");
      case "@opentelemetry/exporter-metrics-otlp-proto":
        return require("@opentelemetry/exporter-metrics-otlp-proto");
      case "@opentelemetry/exporter-metrics-otlp-http":
        return require("@opentelemetry/exporter-metrics-otlp-http");
      case "@pydantic/genai-prices":
        return require("@pydantic/genai-prices");
    }
  } catch (error) {
    // biome-ignore lint/complexity/noUselessCatch: a bundler treats a require inside a try as optional
    throw error;
  }
  return unknownModule(name);
}

/**
 * The file `@opentelemetry/api` resolves to, or undefined where there is none: in a bundle, where
 * webpack answers a module id and Bun the path on the machine that built it.
 */
export function apiEntryFile(): string | undefined {
  try {
    const file: unknown = require.resolve("@opentelemetry/api");
    return typeof file === "string" ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True when this module runs inside an application's bundle rather than from its own file. Called
 * only to word an error, so the file check may touch the disk: Bun writes the path this file had on
 * the machine that built the bundle.
 */
export function inBundle(): boolean {
  const file = typeof __filename === "string" ? __filename : "";
  if (!/optional-modules\.c?[jt]s$/.test(file)) return true;
  // Asked for, not required: a require of a built-in fails an edge build (or warns in wrangler's).
  const fs = nodeBuiltin("node:fs") as typeof import("node:fs") | undefined;
  if (fs === undefined) return true;
  try {
    return !fs.existsSync(file);
  } catch {
    return true;
  }
}

/** The Node built-ins the package asks for at run time. */
export type NodeBuiltin = "node:fs" | "node:path" | "node:async_hooks";

/**
 * A Node built-in, or undefined where the runtime has none (a Worker without nodejs_compat, the
 * Vercel Edge Runtime, a browser). Asked for when needed, never imported at the top of a module, so
 * that the handler loads wherever LangChain.js runs. `process.getBuiltinModule` (Node 20.16+, Deno,
 * Bun, workerd with nodejs_compat): no bundler follows it, where a `require` of a built-in fails an
 * edge build and a computed one warns in webpack's.
 */
export function nodeBuiltin(name: NodeBuiltin): unknown {
  try {
    const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    return host?.getBuiltinModule?.(name);
  } catch {
    return undefined;
  }
}

function unknownModule(name: never): never {
  throw new Error(`langchain-otel: "${String(name)}" is not one of the package's optional modules`);
}
