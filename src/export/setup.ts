import { type Attributes, context, diag, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter as OTLPJsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OTLPProtoTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type BufferConfig,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { OpenTelemetryCallbackHandler } from "../handler.js";
import { LANGFUSE_RELEASE } from "../langfuse/attributes.js";
import { type LangfuseExporterOptions, langfuseExporter } from "../langfuse/exporter.js";
import type { OpenTelemetryCallbackHandlerOptions } from "../options.js";
import { FailureReportingExporter } from "./resilient.js";
import { ConsoleWaterfallExporter, type WaterfallExporterOptions } from "./waterfall.js";

/** Where `setupTracing` sends spans. */
export type ExporterChoice = "langfuse" | "otlp" | "console";

/** Options of `setupTracing()`: the handler's options plus the provider's. */
export interface SetupTracingOptions
  extends Omit<OpenTelemetryCallbackHandlerOptions, "tracer" | "tracerProvider"> {
  /** `service.name` of the resource. Default: `OTEL_SERVICE_NAME`, then "langchain-app". */
  serviceName?: string;
  /** More resource attributes (e.g. `service.version`). */
  resourceAttributes?: Attributes;
  /** Release (`langfuse.release` on the resource). Default: `LANGFUSE_RELEASE`. */
  release?: string;
  /** Deployment environment (`deployment.environment.name`). Default: `LANGFUSE_TRACING_ENVIRONMENT`, then `OTEL_DEPLOYMENT_ENVIRONMENT`. */
  environment?: string;
  /**
   * Force an exporter instead of picking one from the environment: "langfuse" (needs its keys),
   * "otlp" (needs `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), "console",
   * or any SpanExporter. Default: Langfuse when its keys are set, else OTLP when an endpoint is set,
   * else the console waterfall.
   */
  exporter?: ExporterChoice | SpanExporter;
  /** Also print the console waterfall when exporting elsewhere. Default false. */
  console?: boolean | WaterfallExporterOptions;
  /** Options of the Langfuse exporter, when it is picked. */
  langfuse?: LangfuseExporterOptions;
  /** Batch span processor settings for remote exporters (queue size, batch size, delay). */
  batch?: BufferConfig;
  /** Register the provider as the global tracer provider, with context manager and propagator. Default true. */
  register?: boolean;
  /** Most milliseconds `flush()` and `shutdown()` wait for the exporter. Default 10000. */
  shutdownTimeoutMs?: number;
}

export interface TracingSetup {
  /** A handler bound to the new provider: pass it as `callbacks: [handler]`. */
  handler: OpenTelemetryCallbackHandler;
  provider: NodeTracerProvider;
  /** Which exporters were picked, for logging: e.g. ["langfuse", "console"]. */
  exporters: string[];
  /** Exports every finished span now (serverless handlers call it before returning). Bounded by `shutdownTimeoutMs`. */
  flush(): Promise<void>;
  /** Ends runs still open, flushes and shuts the provider down. Bounded by `shutdownTimeoutMs`. */
  shutdown(): Promise<void>;
}

function setupError(message: string): Error {
  return new Error(`langchain-otel: setupTracing: ${message}`);
}

const hasLangfuseKeys = (env: NodeJS.ProcessEnv): boolean =>
  Boolean(env.LANGFUSE_PUBLIC_KEY?.trim() && env.LANGFUSE_SECRET_KEY?.trim());

const otlpEndpoint = (env: NodeJS.ProcessEnv): string | undefined =>
  env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;

/** The exporter `setupTracing` picks when none is forced. */
export function pickExporter(env: NodeJS.ProcessEnv = process.env): ExporterChoice {
  if (hasLangfuseKeys(env)) return "langfuse";
  if (otlpEndpoint(env) !== undefined) return "otlp";
  return "console";
}

/** A plain OTLP/HTTP exporter configured by the standard `OTEL_EXPORTER_OTLP_*` variables. */
function otlpExporter(env: NodeJS.ProcessEnv): SpanExporter {
  if (otlpEndpoint(env) === undefined) {
    throw setupError(
      'exporter "otlp" needs OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.',
    );
  }
  const protocol = (
    env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    "http/protobuf"
  ).trim();
  const destination = `the OTLP endpoint ${withoutCredentials(otlpEndpoint(env) ?? "")}`;
  if (protocol === "http/json") return new FailureReportingExporter(new OTLPJsonTraceExporter(), destination);
  if (protocol === "http/protobuf")
    return new FailureReportingExporter(new OTLPProtoTraceExporter(), destination);
  throw setupError(
    `OTLP protocol "${protocol}" is not built in; use http/protobuf or http/json, or pass your own exporter (e.g. from @opentelemetry/exporter-trace-otlp-grpc) as the "exporter" option.`,
  );
}

/** A URL for messages: no user info, no query (either may carry a credential). */
function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

function withTimeout(work: Promise<void>, timeoutMs: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      diag.warn(
        `langchain-otel: ${what} did not finish within ${timeoutMs} ms; spans still queued are dropped`,
      );
      resolve();
    }, timeoutMs);
    timer.unref?.();
  });
  return Promise.race([
    work.catch((error) => diag.warn(`langchain-otel: ${what} failed`, error)),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/**
 * One call for applications with no tracer provider yet: a `NodeTracerProvider` with a batch span
 * processor and an exporter picked from the environment, and a handler bound to it.
 */
export function setupTracing(options: SetupTracingOptions = {}): TracingSetup {
  const env = process.env;
  const {
    serviceName,
    resourceAttributes,
    release = env.LANGFUSE_RELEASE?.trim() || undefined,
    environment = env.LANGFUSE_TRACING_ENVIRONMENT?.trim() ||
      env.OTEL_DEPLOYMENT_ENVIRONMENT?.trim() ||
      undefined,
    exporter: forced,
    console: alsoConsole,
    langfuse,
    batch,
    register = true,
    shutdownTimeoutMs = 10_000,
    ...handlerOptions
  } = options;
  if (!Number.isInteger(shutdownTimeoutMs) || shutdownTimeoutMs <= 0) {
    throw setupError(
      `option "shutdownTimeoutMs" must be a positive integer, got ${String(shutdownTimeoutMs)}.`,
    );
  }
  const choice = forced ?? pickExporter(env);
  const processors: SpanProcessor[] = [];
  const exporters: string[] = [];
  const consoleOptions = typeof alsoConsole === "object" ? alsoConsole : undefined;
  if (typeof choice === "object") {
    processors.push(new BatchSpanProcessor(choice, batch));
    exporters.push(choice.constructor?.name ?? "custom");
  } else if (choice === "langfuse") {
    processors.push(new BatchSpanProcessor(langfuseExporter(langfuse), batch));
    exporters.push("langfuse");
  } else if (choice === "otlp") {
    processors.push(new BatchSpanProcessor(otlpExporter(env), batch));
    exporters.push("otlp");
  } else if (choice !== "console") {
    throw setupError(
      `unknown exporter "${String(choice)}"; use "langfuse", "otlp", "console" or a SpanExporter.`,
    );
  }
  if (choice === "console" || alsoConsole) {
    // The waterfall buffers per trace itself; a simple processor prints each trace as soon as it ends.
    processors.push(new SimpleSpanProcessor(new ConsoleWaterfallExporter(consoleOptions)));
    exporters.push("console");
  }

  if (register && isGlobalProviderSet()) {
    throw setupError(
      "a global tracer provider is already registered. Pass it to the handler instead: new OpenTelemetryCallbackHandler({ tracerProvider }), or call setupTracing({ register: false }).",
    );
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: serviceName ?? env.OTEL_SERVICE_NAME?.trim() ?? "langchain-app",
      ...(release !== undefined ? { [LANGFUSE_RELEASE]: release } : {}),
      ...(environment !== undefined ? { [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: environment } : {}),
      ...resourceAttributes,
    }),
    spanProcessors: processors,
  });
  const registered = register
    ? registerGlobals(provider)
    : { tracerProvider: false, contextManager: false, propagator: false };
  const handler = new OpenTelemetryCallbackHandler({ ...handlerOptions, tracerProvider: provider });

  let shutdownPromise: Promise<void> | undefined;
  return {
    handler,
    provider,
    exporters,
    flush: () => withTimeout(provider.forceFlush(), shutdownTimeoutMs, "flush"),
    shutdown: () => {
      shutdownPromise ??= (async () => {
        handler.endOpenRuns();
        await withTimeout(provider.shutdown(), shutdownTimeoutMs, "shutdown");
        // Unregister what this call registered, so a later setupTracing() (tests, hot reload)
        // starts clean, and leave alone what the application had registered before.
        if (registered.tracerProvider) trace.disable();
        if (registered.contextManager) context.disable();
        if (registered.propagator) propagation.disable();
      })();
      return shutdownPromise;
    },
  };
}

/**
 * Registers the provider, an async-hooks context manager and the W3C propagators globally, each
 * only if none is registered yet (the API refuses duplicates), and says which it registered.
 */
function registerGlobals(provider: NodeTracerProvider): {
  tracerProvider: boolean;
  contextManager: boolean;
  propagator: boolean;
} {
  const tracerProvider = trace.setGlobalTracerProvider(provider);
  const contextManager = isContextManagerSet()
    ? false
    : context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const propagator = isPropagatorSet()
    ? false
    : propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      );
  return { tracerProvider, contextManager, propagator };
}

// The API has no getter for its globals; a registered context manager or propagator is one whose
// class is not the no-op one the API falls back to.
function isContextManagerSet(): boolean {
  const manager = (context as unknown as { _getContextManager?: () => object })._getContextManager?.();
  return manager !== undefined && manager.constructor.name !== "NoopContextManager";
}

function isPropagatorSet(): boolean {
  const propagator = (
    propagation as unknown as { _getGlobalPropagator?: () => object }
  )._getGlobalPropagator?.();
  return propagator !== undefined && propagator.constructor.name !== "NoopTextMapPropagator";
}

/** True when some tracer provider other than the no-op one is registered globally. */
function isGlobalProviderSet(): boolean {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof global.getDelegate === "function" ? global.getDelegate() : global;
  return delegate?.constructor?.name !== "NoopTracerProvider";
}
