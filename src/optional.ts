import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Loads an optional peer dependency (an OpenTelemetry SDK piece, the price table) on first use,
 * synchronously, so that importing the package never loads it: only the helpers that need it do.
 * Throws an error that names the package and the `npm install` line when it is missing.
 *
 * @param install what to pass to `npm install`; default: the package name.
 */
export function requireOptional<T>(
  name: string,
  neededFor: string,
  install: string | (() => string) = name,
): T {
  try {
    return load(name) as T;
  } catch (error) {
    if (isMissing(error, name)) {
      // A function: the install line is worked out only when it is needed.
      const what = typeof install === "function" ? install() : install;
      throw new Error(
        `langchain-otel: ${neededFor} needs the package "${name}", which is not installed. Install it: npm install ${what}`,
      );
    }
    throw error;
  }
}

/** True when `name` resolves from this package, without loading it. */
export function isInstalled(name: string): boolean {
  try {
    loader().resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * The installed version of a package, read from its package.json (found from its resolved entry,
 * since packages such as `@opentelemetry/api` do not export `./package.json`); undefined if absent.
 */
export function installedVersion(name: string): string | undefined {
  let directory: string;
  try {
    directory = dirname(loader().resolve(name));
  } catch {
    return undefined;
  }
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === name && typeof manifest.version === "string") return manifest.version;
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
  return code === "MODULE_NOT_FOUND" && typeof message === "string" && message.includes(`'${name}'`);
}

// One `require` for both builds: the ESM one makes one from its URL; the CommonJS one, where the
// bundler leaves import.meta empty, has its own. (Asking `typeof require` first would not do: an
// ESM bundle defines a `require` stand-in that throws.)
let cached: NodeJS.Require | undefined;
function loader(): NodeJS.Require {
  const url: string | undefined = import.meta.url;
  cached ??= url !== undefined ? createRequire(url) : require;
  return cached;
}

function load(name: string): unknown {
  return loader()(name);
}
