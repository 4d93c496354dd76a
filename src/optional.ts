import { createRequire } from "node:module";

/**
 * Loads an optional peer dependency (an OpenTelemetry SDK piece, the price table) on first use,
 * synchronously, so that importing the package never loads it: only the helpers that need it do.
 * Throws an error that names the package to install when it is missing.
 */
export function requireOptional<T>(name: string, neededFor: string): T {
  try {
    return load(name) as T;
  } catch (error) {
    if ((error as { code?: unknown })?.code === "MODULE_NOT_FOUND") {
      throw new Error(
        `langchain-otel: ${neededFor} needs the package "${name}". Install it: npm install ${name}`,
      );
    }
    throw error;
  }
}

// One `require` for both builds: the CommonJS one has its own; the ESM one makes one here.
let loader: NodeJS.Require | undefined;
function load(name: string): unknown {
  loader ??= typeof require === "function" ? require : createRequire(import.meta.url);
  return loader(name);
}
