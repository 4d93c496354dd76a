import type { NodeBuiltin, OptionalModule } from "./optional-modules.cjs";

/**
 * The optional modules of a browser bundle, which package.json's `imports` ("#optional-modules",
 * condition `browser`) gives bundlers in place of `optional-modules.cts`. A browser has a use for
 * the trace exporters (`langfuseExporter()`) and the price table only: the rest serve
 * `setupTracing()` and the default of `LangChainContextManager`, which need Node. Naming them here
 * would make a bundler pull them in wherever an app also has them installed for its server, and
 * fail on their `require("async_hooks")` (esbuild) or stub it (Vite). Workers and edge functions,
 * which may have Node's modules, keep the full list (conditions `workerd`, `edge-light`).
 */
export function loadOptionalModule(name: OptionalModule): unknown {
  try {
    switch (name) {
      case "@opentelemetry/exporter-trace-otlp-proto":
        return require("@opentelemetry/exporter-trace-otlp-proto");
      case "@opentelemetry/exporter-trace-otlp-http":
        return require("@opentelemetry/exporter-trace-otlp-http");
      case "@pydantic/genai-prices":
        return require("@pydantic/genai-prices");
    }
  } catch (error) {
    // biome-ignore lint/complexity/noUselessCatch: a bundler treats a require inside a try as optional
    throw error;
  }
  // What Node throws for a package that is not there: the caller's "not installed" error follows.
  throw Object.assign(new Error(`Cannot find module '${name}' (not part of a browser bundle)`), {
    code: "MODULE_NOT_FOUND",
  });
}

/** No package files in a browser. */
export function apiEntryFile(): string | undefined {
  return undefined;
}

/** A browser bundle is a bundle. */
export function inBundle(): boolean {
  return true;
}

/** No Node built-ins in a browser. */
export function nodeBuiltin(_name: NodeBuiltin): unknown {
  return undefined;
}
