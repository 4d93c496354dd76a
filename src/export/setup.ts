import { type Attributes, context, diag, metrics, propagation, trace } from "@opentelemetry/api";
import { LangChainContextManager } from "../context/manager.js";
import { ATTR_DEPLOYMENT_ENVIRONMENT_NAME, ATTR_SERVICE_NAME } from "../genai/attributes.js";
import { PriceTable } from "../genai/cost.js";
import { OpenTelemetryCallbackHandler } from "../handler.js";
import { LANGFUSE_RELEASE } from "../langfuse/attributes.js";
import { type LangfuseExporterOptions, langfuseExporter } from "../langfuse/exporter.js";
import {
  contextBridgeFromEnv,
  type MetricsOptions,
  type OpenTelemetryCallbackHandlerOptions,
  resolveHandlerOptions,
} from "../options.js";
import { type Environment, hostProcess, environment as processEnvironment } from "../runtime.js";
import { FailureReportingExporter, FailureReportingMetricExporter } from "./resilient.js";
import {
  checkInstalled,
  loadSdk,
  loadTraceSdk,
  otlpTraceExporter,
  type SdkPackage,
  type SpanProcessor,
  sdkLine,
  sdkResource,
  TRACE_PACKAGES,
} from "./sdk.js";
import type { BufferConfig, SdkMeterProvider, SdkTracerProvider, SpanExporter } from "./sdk-types.js";
import { ConsoleWaterfallExporter, type WaterfallExporterOptions } from "./waterfall.js";

/** Where `setupTracing` sends spans. */
export type ExporterChoice = "langfuse" | "otlp" | "console";

/** Metrics settings of `setupTracing()`: the handler's (`exclude`, `cost`) and the export interval. */
export interface SetupMetricsOptions extends MetricsOptions {
  /** Milliseconds between two exports. Default: `OTEL_METRIC_EXPORT_INTERVAL`, else 60000. */
  exportIntervalMillis?: number;
}

/** Options of `setupTracing()`: the handler's options plus the provider's. */
export interface SetupTracingOptions
  extends Omit<OpenTelemetryCallbackHandlerOptions, "tracer" | "tracerProvider" | "metrics"> {
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
  /**
   * GenAI metrics. Exported over OTLP (a `MeterProvider` with a periodic reader) when an OTLP
   * metrics endpoint is configured (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_ENDPOINT`) and `OTEL_METRICS_EXPORTER` is not `none`; an object sets the
   * export interval, and what the handler leaves out or adds (`exclude`, `cost`: its `metrics` option).
   * `false`: no meter provider, and the handler records no metrics. Default true.
   */
  metrics?: boolean | SetupMetricsOptions;
  /**
   * Register the providers globally (tracer provider, meter provider, context manager, W3C
   * propagator), each only where none is registered yet; a tracer provider already registered is an
   * error. Default true.
   */
  register?: boolean;
  /** Most milliseconds `flush()` and `shutdown()` wait for the exporters. Default 10000. */
  shutdownTimeoutMs?: number;
}

export interface TracingSetup {
  /** A handler bound to the new provider: pass it as `callbacks: [handler]`. */
  handler: OpenTelemetryCallbackHandler;
  /** The tracer provider: a `NodeTracerProvider` with SDK 2.x, a `TracerProvider` with 3.x. */
  provider: SdkTracerProvider;
  /** The meter provider (`@opentelemetry/sdk-metrics`), when metrics are exported. */
  meterProvider?: SdkMeterProvider;
  /** Which span exporters were picked, for logging: e.g. ["langfuse", "console"]. */
  exporters: string[];
  /** Exports every finished span and the metrics now (serverless handlers call it before returning). Bounded by `shutdownTimeoutMs`. */
  flush(): Promise<void>;
  /** Ends runs still open, flushes and shuts the providers down. Bounded by `shutdownTimeoutMs`. */
  shutdown(): Promise<void>;
}

const NEEDED_FOR = "setupTracing()";

function setupError(message: string): Error {
  return new Error(`langchain-otel: setupTracing: ${message}`);
}

const hasLangfuseKeys = (env: Environment): boolean =>
  Boolean(env.LANGFUSE_PUBLIC_KEY?.trim() && env.LANGFUSE_SECRET_KEY?.trim());

const otlpEndpoint = (env: Environment): string | undefined =>
  env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;

const otlpMetricsEndpoint = (env: Environment): string | undefined =>
  env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || undefined;

/** The exporter `setupTracing` picks when none is forced. */
export function pickExporter(env: Environment = processEnvironment()): ExporterChoice {
  if (hasLangfuseKeys(env)) return "langfuse";
  if (otlpEndpoint(env) !== undefined) return "otlp";
  return "console";
}

type Encoding = "protobuf" | "json";

/** The OTLP/HTTP encoding of a signal from the standard protocol variables; gRPC is not built in. */
function otlpEncoding(env: Environment, signal: "TRACES" | "METRICS"): Encoding {
  // An empty variable is unset (the OTel environment specification).
  const protocol =
    env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]?.trim() ||
    env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim() ||
    "http/protobuf";
  if (protocol === "http/json") return "json";
  if (protocol === "http/protobuf") return "protobuf";
  const instead =
    signal === "TRACES"
      ? 'pass your own exporter (e.g. from @opentelemetry/exporter-trace-otlp-grpc) as the "exporter" option'
      : "turn metrics off with metrics: false and set up your own MeterProvider";
  throw setupError(
    `OTLP protocol "${protocol}" is not built in; use http/protobuf or http/json, or ${instead}.`,
  );
}

/**
 * Whether metrics go out: OTLP is the only metrics exporter built in, so on when the environment
 * names an OTLP metrics endpoint and `OTEL_METRICS_EXPORTER` (default "otlp") asks for OTLP.
 */
function metricsWanted(option: SetupTracingOptions["metrics"], env: Environment): boolean {
  if (option === false || otlpMetricsEndpoint(env) === undefined) return false;
  const exporters = (env.OTEL_METRICS_EXPORTER ?? "otlp").split(",").map((name) => name.trim().toLowerCase());
  if (exporters.includes("otlp") || exporters.every((name) => name === "")) return true;
  if (!exporters.includes("none")) {
    diag.warn(
      `langchain-otel: setupTracing exports metrics over OTLP only; OTEL_METRICS_EXPORTER=${env.OTEL_METRICS_EXPORTER} is ignored and no metrics are exported`,
    );
  }
  return false;
}

function positiveIntegerFromEnv(env: Environment, name: string, fallback: number): number {
  const value = Number(env[name]?.trim() || Number.NaN);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/**
 * An OTLP endpoint must be an http(s) URL: the exporter would otherwise send to its default
 * (localhost:4318) and only say so in a diagnostic. The message never echoes the value, which may
 * carry a credential.
 */
function checkEndpoint(endpoint: string | undefined, variable: string): void {
  if (endpoint === undefined) return;
  let protocol: string | undefined;
  try {
    protocol = new URL(endpoint).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== "http:" && protocol !== "https:") {
    throw setupError(
      `the OTLP endpoint (${variable} or OTEL_EXPORTER_OTLP_ENDPOINT) is not an http(s) URL; set it to e.g. http://localhost:4318.`,
    );
  }
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

function withTimeout(work: Promise<unknown>, timeoutMs: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      diag.warn(
        `langchain-otel: ${what} did not finish within ${timeoutMs} ms; spans and metrics still queued are dropped`,
      );
      resolve();
    }, timeoutMs);
    // Never what keeps the process alive.
    timer.unref?.();
  });
  return Promise.race([
    work.then(
      () => undefined,
      (error: unknown) => diag.warn(`langchain-otel: ${what} failed`, error),
    ),
    timeout,
  ]).finally(() => clearTimeout(timer));
}

/**
 * One call for applications with no tracer provider yet: a tracer provider with a batch span
 * processor and an exporter picked from the environment, a meter provider when an OTLP endpoint is
 * configured, and a handler bound to both. The OpenTelemetry SDK (2.x or 3.x, whichever the
 * application has) is loaded here, not when the package is imported; a missing SDK package is an
 * error naming the `npm install` line.
 */
export function setupTracing(options: SetupTracingOptions = {}): TracingSetup {
  // Node, Bun and Deno say which Node they are; a Worker, Next.js' edge sandbox and a browser do not.
  const host = hostProcess();
  if (typeof host?.versions?.node !== "string" || typeof host.once !== "function") {
    throw new Error(
      "langchain-otel: setupTracing() sets up the Node.js OpenTelemetry SDK, and this runtime is not Node.js (a Worker, an edge function, a browser). Register your platform's tracer provider instead (@vercel/otel's registerOTel, @microlabs/otel-cf-workers) and pass new OpenTelemetryCallbackHandler(); see docs/configuration.md, \"Edge runtimes\".",
    );
  }
  const env = processEnvironment();
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
    metrics: metricsOption,
    register = true,
    shutdownTimeoutMs = 10_000,
    ...handlerOptions
  } = options;
  if (!Number.isInteger(shutdownTimeoutMs) || shutdownTimeoutMs <= 0) {
    throw setupError(
      `option "shutdownTimeoutMs" must be a positive integer, got ${String(shutdownTimeoutMs)}.`,
    );
  }
  // The handler's options are checked before anything is built or registered: a bad one must not
  // leave a global provider behind that makes the corrected call fail as "already registered".
  new PriceTable(resolveHandlerOptions({ ...handlerOptions, metrics: metricsOption }).cost);
  // Langfuse keys given as options mean Langfuse, as the same keys in the environment would.
  const langfuseKeysGiven = Boolean(langfuse?.publicKey?.trim() && langfuse?.secretKey?.trim());
  const choice = forced ?? (langfuseKeysGiven ? "langfuse" : pickExporter(env));
  if (typeof choice !== "object" && choice !== "langfuse" && choice !== "otlp" && choice !== "console") {
    throw setupError(
      `unknown exporter "${String(choice)}"; use "langfuse", "otlp", "console" or a SpanExporter.`,
    );
  }
  if (choice === "langfuse" && environment !== undefined && !isLangfuseEnvironment(environment)) {
    // Langfuse files any other value under "default", without a word.
    throw setupError(
      `Langfuse keeps an environment of at most 40 characters of a-z, 0-9, "_" and "-" (case aside), and shows any other as "default"; got ${JSON.stringify(environment)}. Pass e.g. environment: "production" (or set LANGFUSE_TRACING_ENVIRONMENT so).`,
    );
  }
  if (choice === "otlp") checkEndpoint(otlpEndpoint(env), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (choice === "otlp" && otlpEndpoint(env) === undefined) {
    throw setupError(
      'exporter "otlp" needs OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT.',
    );
  }
  const traceEncoding = choice === "otlp" ? otlpEncoding(env, "TRACES") : undefined;
  // A meter provider the caller passes for the handler wins: then we build none.
  const withMetrics = handlerOptions.meterProvider === undefined && metricsWanted(metricsOption, env);
  const metricsEncoding = withMetrics ? otlpEncoding(env, "METRICS") : undefined;
  if (withMetrics) checkEndpoint(otlpMetricsEndpoint(env), "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
  const metricsInterval =
    (typeof metricsOption === "object" ? metricsOption.exportIntervalMillis : undefined) ??
    positiveIntegerFromEnv(env, "OTEL_METRIC_EXPORT_INTERVAL", 60_000);
  if (!Number.isInteger(metricsInterval) || metricsInterval <= 0) {
    throw setupError(
      `option "metrics.exportIntervalMillis" must be a positive integer, got ${String(metricsInterval)}.`,
    );
  }
  if (register && isGlobalProviderSet()) {
    throw setupError(
      "a global tracer provider is already registered. Pass it to the handler instead: new OpenTelemetryCallbackHandler({ tracerProvider }), or call setupTracing({ register: false }).",
    );
  }

  // Every SDK package this configuration needs, checked at once: one error, one install line.
  const line = sdkLine();
  const needed: SdkPackage[] = [...TRACE_PACKAGES[line], "resources"];
  if (register) needed.push("core", "context-async-hooks");
  const langfuseEncoding = langfuse?.encoding === "json" ? "json" : "protobuf";
  const spanEncoding = choice === "langfuse" ? langfuseEncoding : traceEncoding;
  if (spanEncoding !== undefined)
    needed.push(spanEncoding === "json" ? "exporter-trace-otlp-http" : "exporter-trace-otlp-proto");
  if (metricsEncoding !== undefined) {
    needed.push(
      "sdk-metrics",
      metricsEncoding === "json" ? "exporter-metrics-otlp-http" : "exporter-metrics-otlp-proto",
    );
  }
  checkInstalled(needed, NEEDED_FOR, line);
  const sdk = loadTraceSdk(NEEDED_FOR, line);

  const processors: SpanProcessor[] = [];
  const exporters: string[] = [];
  if (typeof choice === "object") {
    processors.push(sdk.batchProcessor(choice, batch));
    exporters.push(choice.constructor?.name ?? "custom");
  } else if (choice === "langfuse") {
    processors.push(sdk.batchProcessor(langfuseExporter(langfuse), batch));
    exporters.push("langfuse");
  } else if (choice === "otlp") {
    const destination = `the OTLP endpoint ${withoutCredentials(otlpEndpoint(env) ?? "")}`;
    const exporter = otlpTraceExporter(traceEncoding ?? "protobuf", NEEDED_FOR);
    processors.push(sdk.batchProcessor(new FailureReportingExporter(exporter, destination), batch));
    exporters.push("otlp");
  }
  if (choice === "console" || alsoConsole) {
    // The waterfall buffers per trace itself; a simple processor prints each trace as soon as it ends.
    const consoleOptions = typeof alsoConsole === "object" ? alsoConsole : undefined;
    processors.push(sdk.simpleProcessor(new ConsoleWaterfallExporter(consoleOptions)));
    exporters.push("console");
  }

  const resource: Attributes = {
    // Unset: OTEL_RESOURCE_ATTRIBUTES may name the service, else the default (sdkResource).
    [ATTR_SERVICE_NAME]: serviceName ?? (env.OTEL_SERVICE_NAME?.trim() || undefined),
    ...(release !== undefined ? { [LANGFUSE_RELEASE]: release } : {}),
    ...(environment !== undefined ? { [ATTR_DEPLOYMENT_ENVIRONMENT_NAME]: environment } : {}),
    ...resourceAttributes,
  };
  const provider = sdk.tracerProvider(resource, processors);
  const meterProvider =
    metricsEncoding !== undefined
      ? otlpMeterProvider(env, resource, metricsEncoding, metricsInterval, line)
      : undefined;
  const contextBridge = handlerOptions.contextBridge ?? contextBridgeFromEnv() ?? true;
  const registered = register
    ? registerGlobals(provider, meterProvider, contextBridge, line)
    : { tracerProvider: false, meterProvider: false, contextManager: false, propagator: false };
  const handler = new OpenTelemetryCallbackHandler({
    ...handlerOptions,
    tracerProvider: provider,
    // The handler reads its own fields of the object (`exclude`, `cost`); undefined is its default.
    metrics: metricsOption,
    ...(meterProvider !== undefined ? { meterProvider } : {}),
  });

  const flushAll = () =>
    withTimeout(
      Promise.all([provider.forceFlush(), meterProvider?.forceFlush()]),
      shutdownTimeoutMs,
      "flush",
    );
  // A script that ends without shutdown() still exports what is buffered: flush once when the
  // event loop empties. The flush's own timer is unref'd, so it never keeps the process alive;
  // signals are left to the application.
  const onBeforeExit = () => void flushAll();
  process.once("beforeExit", onBeforeExit);

  let shutdownPromise: Promise<void> | undefined;
  return {
    handler,
    provider,
    meterProvider,
    exporters,
    flush: flushAll,
    shutdown: () => {
      shutdownPromise ??= (async () => {
        process.off("beforeExit", onBeforeExit);
        handler.endOpenRuns();
        await withTimeout(
          Promise.all([provider.shutdown(), meterProvider?.shutdown()]),
          shutdownTimeoutMs,
          "shutdown",
        );
        // Unregister what this call registered, so a later setupTracing() (tests, hot reload)
        // starts clean, and leave alone what the application had registered before.
        if (registered.tracerProvider) trace.disable();
        if (registered.meterProvider) metrics.disable();
        if (registered.contextManager) context.disable();
        if (registered.propagator) propagation.disable();
      })();
      return shutdownPromise;
    },
  };
}

/** A `MeterProvider` exporting over OTLP/HTTP with a periodic reader, configured by the standard variables. */
function otlpMeterProvider(
  env: Environment,
  resource: Attributes,
  encoding: Encoding,
  exportIntervalMillis: number,
  line: ReturnType<typeof sdkLine>,
): SdkMeterProvider {
  const exporterPackage = encoding === "json" ? "exporter-metrics-otlp-http" : "exporter-metrics-otlp-proto";
  const sdk = loadSdk(["sdk-metrics", "resources", exporterPackage], NEEDED_FOR, line);
  const { OTLPMetricExporter } = sdk[exporterPackage];
  // The reader refuses a timeout longer than its interval.
  const exportTimeoutMillis = Math.min(
    positiveIntegerFromEnv(env, "OTEL_METRIC_EXPORT_TIMEOUT", 30_000),
    exportIntervalMillis,
  );
  return new sdk["sdk-metrics"].MeterProvider({
    resource: sdkResource(sdk.resources, resource),
    readers: [
      new sdk["sdk-metrics"].PeriodicExportingMetricReader({
        // One diagnostic while the backend is down, not one per interval.
        exporter: new FailureReportingMetricExporter(
          new OTLPMetricExporter(),
          `the OTLP metrics endpoint ${withoutCredentials(otlpMetricsEndpoint(env) ?? "")}`,
        ) as never,
        exportIntervalMillis,
        exportTimeoutMillis,
      }),
    ],
  });
}

/**
 * Registers the providers, a context manager and the W3C propagators globally, each only if none
 * is registered yet (the API refuses duplicates), and says which it registered. The context
 * manager is `LangChainContextManager` around the async-hooks one, so that spans started inside a
 * LangChain run nest under it, unless the context bridge is off.
 */
function registerGlobals(
  provider: SdkTracerProvider,
  meterProvider: SdkMeterProvider | undefined,
  contextBridge: boolean,
  line: ReturnType<typeof sdkLine>,
): { tracerProvider: boolean; meterProvider: boolean; contextManager: boolean; propagator: boolean } {
  const sdk = loadSdk(["core", "context-async-hooks"], NEEDED_FOR, line);
  const tracerProvider = trace.setGlobalTracerProvider(provider);
  const meter =
    meterProvider !== undefined && !isGlobalMeterProviderSet()
      ? metrics.setGlobalMeterProvider(meterProvider)
      : false;
  let contextManager = false;
  if (!isContextManagerSet()) {
    const inner = new sdk["context-async-hooks"].AsyncLocalStorageContextManager();
    const manager = contextBridge ? new LangChainContextManager(inner) : inner;
    contextManager = context.setGlobalContextManager(manager.enable());
  }
  const { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } = sdk.core;
  const propagator = isPropagatorSet()
    ? false
    : propagation.setGlobalPropagator(
        new CompositePropagator({
          propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
        }),
      );
  return { tracerProvider, meterProvider: meter, contextManager, propagator };
}

// The API has no getter for its globals; a registered context manager, propagator or meter
// provider is one whose class is not the no-op one the API falls back to.
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

function isGlobalMeterProviderSet(): boolean {
  return metrics.getMeterProvider().constructor.name !== "NoopMeterProvider";
}

/** True when some tracer provider other than the no-op one is registered globally. */
/** Langfuse's rule for an environment: lowercased, a `langfuse-` prefix dropped, ≤ 40 of [a-z0-9_-]. */
function isLangfuseEnvironment(value: string): boolean {
  return /^[a-z0-9_-]{1,40}$/.test(value.toLowerCase().replace(/^langfuse-/, ""));
}

function isGlobalProviderSet(): boolean {
  const global = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const delegate = typeof global.getDelegate === "function" ? global.getDelegate() : global;
  return delegate?.constructor?.name !== "NoopTracerProvider";
}
