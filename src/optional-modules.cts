import { createRequire } from "node:module";

/**
 * Every optional dependency, each named by a literal specifier, so that a bundler (esbuild,
 * webpack) puts the installed ones into an application's bundle and a file tracer (Vercel's nft)
 * ships them. Loaded only when called: importing the package loads none of them.
 *
 * Each is named twice, for the two ways bundlers read a load: `require("…")` (esbuild; also the
 * CommonJS build's own require) and a `createRequire(import.meta.url)` binding (webpack and nft read
 * that one; also how Node's ESM loads it, where `require` is undefined). Every load sits in a `try`:
 * bundlers warn instead of failing the build when an optional package is not installed.
 *
 * This module is built on its own, outside the package's bundles (scripts/build.mjs): bundling it
 * would turn `require` into a helper that no bundler reads.
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

/** Loads an optional module; throws what `require` throws when it is absent (`MODULE_NOT_FOUND`). */
export function loadOptionalModule(name: OptionalModule): unknown {
  return typeof require === "function" ? viaRequire(name) : viaOwnRequire(name);
}

function viaRequire(name: OptionalModule): unknown {
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
    // Where this is ESM, Node's resolution from this file may still find it: esbuild's ESM output
    // has a stand-in `require` that throws, and webpack's leaves `require` to Node.
    if (import.meta.url && notFound(error)) return viaOwnRequire(name);
    throw error;
  }
  return unknownModule(name);
}

function viaOwnRequire(name: OptionalModule): unknown {
  // Written as webpack and nft recognise it: `const x = createRequire(import.meta.url)`.
  const ownRequire = createRequire(import.meta.url);
  try {
    switch (name) {
      case "@opentelemetry/sdk-trace-node":
        return ownRequire("@opentelemetry/sdk-trace-node");
      case "@opentelemetry/sdk-trace-base":
        return ownRequire("@opentelemetry/sdk-trace-base");
      case "@opentelemetry/sdk-trace":
        return ownRequire("@opentelemetry/sdk-trace");
      case "@opentelemetry/core":
        return ownRequire("@opentelemetry/core");
      case "@opentelemetry/resources":
        return ownRequire("@opentelemetry/resources");
      case "@opentelemetry/context-async-hooks":
        return ownRequire("@opentelemetry/context-async-hooks");
      case "@opentelemetry/exporter-trace-otlp-proto":
        return ownRequire("@opentelemetry/exporter-trace-otlp-proto");
      case "@opentelemetry/exporter-trace-otlp-http":
        return ownRequire("@opentelemetry/exporter-trace-otlp-http");
      case "@opentelemetry/sdk-metrics":
        return ownRequire("@opentelemetry/sdk-metrics");
      case "@opentelemetry/exporter-metrics-otlp-proto":
        return ownRequire("@opentelemetry/exporter-metrics-otlp-proto");
      case "@opentelemetry/exporter-metrics-otlp-http":
        return ownRequire("@opentelemetry/exporter-metrics-otlp-http");
      case "@pydantic/genai-prices":
        return ownRequire("@pydantic/genai-prices");
    }
  } catch (error) {
    // biome-ignore lint/complexity/noUselessCatch: a bundler treats a require inside a try as optional
    throw error;
  }
  return unknownModule(name);
}

/** The file `@opentelemetry/api` resolves to, or undefined where there is none (in a bundle). */
export function apiEntryFile(): string | undefined {
  try {
    if (typeof require === "function") return require.resolve("@opentelemetry/api");
    const ownRequire = createRequire(import.meta.url);
    return ownRequire.resolve("@opentelemetry/api");
  } catch {
    return undefined;
  }
}

/**
 * True when this module runs inside an application's bundle rather than from its own file (found
 * by its file name; webpack, which rewrites `import.meta.url` to the source file, is not seen).
 */
export function inBundle(): boolean {
  const file = import.meta.url || (typeof __filename === "string" ? __filename : "");
  return !/optional-modules\.[jt]s$/.test(file);
}

/** Node's "cannot find module", or esbuild's "Dynamic require of … is not supported". */
function notFound(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (
    code === "MODULE_NOT_FOUND" || (typeof message === "string" && message.startsWith("Dynamic require of"))
  );
}

function unknownModule(name: never): never {
  throw new Error(`langchain-otel: "${String(name)}" is not one of the package's optional modules`);
}
