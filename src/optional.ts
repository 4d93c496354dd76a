import { apiEntryFile, inBundle, loadOptionalModule, type OptionalModule } from "./optional-modules.cjs";
import { builtin } from "./runtime.js";

/**
 * Loads an optional peer dependency (an OpenTelemetry SDK piece, the price table) on first use,
 * synchronously, so that importing the package never loads it: only the helpers that need it do.
 * Throws an error that names the package and the `npm install` line when it is missing.
 *
 * @param install what to pass to `npm install`; default: the package name.
 */
export function requireOptional<T>(
  name: OptionalModule,
  neededFor: string,
  install: string | (() => string) = name,
): T {
  try {
    return loadOptionalModule(name) as T;
  } catch (error) {
    if (isMissing(error, name)) {
      // A function: the install line is worked out only when it is needed.
      const what = typeof install === "function" ? install() : install;
      throw new Error(
        `langchain-otel: ${neededFor} needs the package "${name}", which is not installed. Install it: npm install ${what}${bundlingHint()}`,
      );
    }
    if (isEsmBundleWithoutRequire(error)) {
      throw new Error(
        `langchain-otel: ${neededFor} loads "${name}", which is in the bundle but failed: ${String((error as Error).message)}. An ES module bundle of CommonJS packages (the OpenTelemetry SDK is one) needs a real require; with esbuild, the banner in docs/configuration.md, "Bundled apps".`,
        { cause: error },
      );
    }
    throw error;
  }
}

/**
 * True when `name` is there to load. Found by loading it: in an application's bundle nothing
 * resolves from a file, and the bundle is where it is. (Every caller loads it next anyway.)
 */
export function isInstalled(name: OptionalModule): boolean {
  try {
    loadOptionalModule(name);
    return true;
  } catch (error) {
    // Installed but failing to load is a broken install, which the load that follows reports.
    return !isMissing(error, name);
  }
}

/** What to add to a "not installed" error when the package runs inside an application bundle. */
export function bundlingHint(): string {
  return inBundle()
    ? ' (This app is bundled: install the package before bundling, so that the bundler includes it, or mark it external and deploy it beside the bundle; see docs/configuration.md, "Bundled apps".)'
    : "";
}

/**
 * The installed version of `@opentelemetry/api`, read from its package.json (found from its entry
 * file: the package does not export `./package.json`); undefined where it cannot be read, as in a
 * bundle.
 */
export function installedApiVersion(): string | undefined {
  const entry = apiEntryFile();
  const fs = builtin<typeof import("node:fs")>("node:fs");
  const path = builtin<typeof import("node:path")>("node:path");
  if (entry === undefined || fs === undefined || path === undefined) return undefined;
  const { dirname, join } = path;
  let directory = dirname(entry);
  for (;;) {
    try {
      const manifest = JSON.parse(fs.readFileSync(join(directory, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === "@opentelemetry/api" && typeof manifest.version === "string")
        return manifest.version;
    } catch {
      // No package.json here (or an unreadable one): keep walking up.
    }
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}

// The package itself is missing, not one of its own imports (that is a broken install: rethrown).
function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof message !== "string") return false;
  if (code === "MODULE_NOT_FOUND") return message.includes(`'${name}'`);
  // What a bundler leaves where a module it could not find would be, when the app is bundled
  // without it: esbuild's ESM output, Vite, Bun; Rollup's ESM output keeps a bare `require`, and
  // Next.js' edge sandbox answers one with "Native module not found".
  return (
    message.startsWith(`Dynamic require of "${name}"`) ||
    message.startsWith(`Could not resolve "${name}"`) ||
    message.startsWith(`Cannot require module ${name}`) ||
    message === `Native module not found: ${name}` ||
    (error instanceof ReferenceError && message === "require is not defined")
  );
}

// esbuild's ESM output without a real `require`: a bundled CommonJS package's own require of a
// Node built-in ("util", "async_hooks") throws this.
function isEsmBundleWithoutRequire(error: unknown): boolean {
  const message = (error as { message?: unknown } | undefined)?.message;
  return typeof message === "string" && message.startsWith("Dynamic require of");
}
