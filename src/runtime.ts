import { type NodeBuiltin, nodeBuiltin } from "./optional-modules.cjs";

/**
 * What the package uses of the runtime it runs in, reached without a Node built-in at load time:
 * the handler runs where LangChain.js does outside Node too (Bun, Deno, Cloudflare Workers, the
 * Vercel Edge Runtime; compat/edge checks each). Only `setupTracing` is for Node alone.
 */

export type Environment = Readonly<Record<string, string | undefined>>;

/** What the package reads of a Node-like `process`; each part may be missing outside Node. */
interface HostProcess {
  env?: Record<string, string | undefined>;
  versions?: { node?: unknown };
  once?: unknown;
  stdout?: { write?: unknown; isTTY?: boolean };
}

/**
 * The runtime's `process`, or undefined where there is none (a Worker without nodejs_compat, a
 * browser); Next.js' edge sandbox has one with only `env`.
 */
export function hostProcess(): HostProcess | undefined {
  return (globalThis as { process?: HostProcess }).process;
}

/**
 * The process environment, or an empty one where the runtime has none (a Worker without
 * nodejs_compat, a browser). A variable that cannot be read is unset: Deno throws on a read its
 * permissions (`--allow-env`) do not cover.
 */
export function environment(): Environment {
  const env = hostProcess()?.env;
  if (env === undefined) return {};
  return new Proxy(
    {},
    {
      get(_, name) {
        try {
          return typeof name === "string" ? env[name] : undefined;
        } catch {
          return undefined;
        }
      },
    },
  );
}

/**
 * Runs `task` soon, off the caller's path, without keeping a Node process alive for it; false when
 * it could not be scheduled. Next.js' edge sandbox defines a `setImmediate` that throws: then a timer.
 */
export function soon(task: () => void): boolean {
  if (typeof setImmediate === "function") {
    try {
      setImmediate(task).unref?.();
      return true;
    } catch {
      // Not supported here after all: fall through.
    }
  }
  try {
    setTimeout(task, 0);
    return true;
  } catch {
    return false;
  }
}

/** The part of `AsyncLocalStorage` the package uses. */
export interface AsyncLocal<T> {
  getStore(): T | undefined;
  enterWith(store: T): void;
}

type AsyncLocalClass = new <T>() => AsyncLocal<T>;

/**
 * The runtime's `AsyncLocalStorage` class, or undefined where it has none: a global in the Vercel
 * Edge Runtime, `node:async_hooks` in Node, Bun, Deno and workerd with nodejs_compat.
 */
export function asyncLocalStorageClass(): AsyncLocalClass | undefined {
  const global = (globalThis as { AsyncLocalStorage?: unknown }).AsyncLocalStorage;
  if (typeof global === "function") return global as AsyncLocalClass;
  const hooks = builtin<{ AsyncLocalStorage?: unknown }>("node:async_hooks");
  return typeof hooks?.AsyncLocalStorage === "function"
    ? (hooks.AsyncLocalStorage as AsyncLocalClass)
    : undefined;
}

/** A Node built-in, typed by the caller, or undefined where the runtime has none. */
export function builtin<T>(name: NodeBuiltin): T | undefined {
  return nodeBuiltin(name) as T | undefined;
}

/** Base64 of the text's UTF-8 bytes, as `Buffer` gives it, where there is no `Buffer` too (a Worker without nodejs_compat). */
export function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}
