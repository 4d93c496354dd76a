import { type Context, type ContextManager, diag } from "@opentelemetry/api";
import { installSpecs, sdkLine } from "../export/sdk.js";
import { requireOptional } from "../optional.js";
import { asyncLocalStorageClass } from "../runtime.js";
import {
  bridgedContext,
  enteredContext,
  installBridge,
  type MarkableManager,
  noteActivated,
  uninstallBridge,
} from "./bridge.js";

/**
 * An OpenTelemetry context manager that makes the LangChain run whose code is executing the
 * active span: the provider SDK's HTTP call nests under its `chat …` span, a tool's `fetch` under
 * `execute_tool …`, a span the app starts in a lambda under that lambda's span, and outgoing
 * `traceparent` headers name those spans.
 *
 * It wraps another context manager (default: `AsyncLocalStorageContextManager` from
 * `@opentelemetry/context-async-hooks`) and changes only what `active()` returns while a
 * LangChain run traced by an `OpenTelemetryCallbackHandler` executes. `setupTracing()` registers
 * it; with your own SDK, pass it once:
 *
 * ```ts
 * new NodeSDK({ contextManager: new LangChainContextManager(), ... })
 * ```
 */
export class LangChainContextManager implements ContextManager {
  private readonly inner: ContextManager;
  private enabled = false;

  /** @param inner The context manager to wrap. Default: a new `AsyncLocalStorageContextManager`. */
  constructor(inner?: ContextManager) {
    if (inner !== undefined && (typeof inner.active !== "function" || typeof inner.with !== "function")) {
      throw new TypeError(
        "langchain-otel: LangChainContextManager wraps an OpenTelemetry ContextManager, e.g. new AsyncLocalStorageContextManager().",
      );
    }
    if (inner === undefined && asyncLocalStorageClass() === undefined) {
      throw new Error(
        'langchain-otel: LangChainContextManager needs AsyncLocalStorage, which this runtime does not have (a browser, a Worker without nodejs_compat), so there is no context to bridge: leave it out; the handler traces without it. See docs/configuration.md, "Edge runtimes".',
      );
    }
    this.inner =
      inner ??
      new (requireOptional<typeof import("@opentelemetry/context-async-hooks")>(
        "@opentelemetry/context-async-hooks",
        "LangChainContextManager",
        // The version of the SDK line the app is on, as setupTracing's errors give it.
        () => installSpecs(["context-async-hooks"], sdkLine()),
      ).AsyncLocalStorageContextManager)();
  }

  active(): Context {
    const base = this.inner.active();
    try {
      return bridgedContext(base);
    } catch (error) {
      diag.debug("langchain-otel: the context bridge failed; using the underlying context", error);
      return base;
    }
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    let entered = context;
    try {
      noteActivated(context);
      entered = enteredContext(context, this.inner.active());
    } catch (error) {
      diag.debug("langchain-otel: the context bridge failed to inspect a context", error);
    }
    return this.inner.with(entered, fn, thisArg, ...args);
  }

  bind<T>(context: Context, target: T): T {
    // A bound function enters its context through with(), where a run's code choosing it is seen.
    if (typeof target !== "function") return this.inner.bind(context, target);
    const manager = this;
    const fn = target as (...args: unknown[]) => unknown;
    const bound = function (this: unknown, ...args: unknown[]) {
      return manager.with(context, () => fn.apply(this, args));
    };
    Object.defineProperty(bound, "length", {
      enumerable: false,
      configurable: true,
      writable: false,
      value: fn.length,
    });
    return bound as T;
  }

  /** Delegates the API 1.10 `attach` (experimental) to the wrapped manager, when it has one. */
  attach(context: Context): { dispose(): void } {
    const markable = this.markable();
    if (markable === undefined) return { dispose() {} };
    return markable.attach(context) as { dispose(): void };
  }

  enable(): this {
    this.inner.enable();
    if (!this.enabled) installBridge(this.markable());
    this.enabled = true;
    return this;
  }

  disable(): this {
    this.inner.disable();
    if (this.enabled) uninstallBridge(this.markable());
    this.enabled = false;
    return this;
  }

  /** The wrapped manager, when it can attach a context (marks then live in the OTel context). */
  private markable(): MarkableManager | undefined {
    const inner = this.inner as Partial<MarkableManager>;
    return typeof inner.attach === "function" ? (inner as MarkableManager) : undefined;
  }
}
