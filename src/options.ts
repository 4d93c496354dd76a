import {
  type Attributes,
  type MeterProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import type { ContentMask } from "./genai/capture.js";
import type { ModelPrices } from "./genai/cost.js";
import { GEN_AI_METRIC_NAMES, type GenAIMetricName, type GenAIMetricsSelection } from "./genai/metrics.js";
import { type Environment, environment } from "./runtime.js";
import { SCOPE_NAME, VERSION } from "./version.js";

/** Options of `new OpenTelemetryCallbackHandler(options)`. Every option is optional. */
export interface OpenTelemetryCallbackHandlerOptions {
  /** Provider to get the tracer from. Default: the global provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** A tracer to use as is, instead of one from `tracerProvider`. Pass one or the other. */
  tracer?: Tracer;
  /**
   * Record content: prompts, completions, system instructions, tool definitions, tool arguments and
   * results, retrieval queries and documents. Default: true, unless the environment variable
   * `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `false` (or `NO_CONTENT`).
   * When false, no content is read or serialized at all.
   */
  captureContent?: boolean;
  /**
   * Applied to every captured string (each message text, argument, document…) before it is set on a
   * span; return the text to record. If it throws, the value is replaced by `[masked: mask threw]`.
   * Default: none.
   */
  mask?: ContentMask;
  /** Most characters of content one attribute may carry; longer values are cut and marked. Default 32768. */
  maxContentLength?: number;
  /**
   * Have LangChain await this handler instead of running it in its background callback queue.
   * Awaited (the default, true) is what keeps spans under the caller's active span and ended
   * before `invoke()` returns; the handler only does in-memory work, so it adds no I/O to the call.
   */
  awaitHandlers?: boolean;
  /**
   * Spans for chat model and LLM runs. Default "auto": an inference span (`chat {model}`) per
   * call, which gives way to a provider instrumentation's (OpenLLMetry, OpenInference, OTel's
   * OpenAI instrumentation) when the context bridge sees one start under it: ours then stays as a
   * plain LangChain span, so the call counts once. `true`: always an inference span. `false`: no
   * span for model runs at all.
   */
  modelSpans?: boolean | "auto";
  /**
   * The context bridge: while a LangChain run's code executes, `context.active()` returns its
   * span, so HTTP calls, database queries and app spans made inside it nest under it. Needs
   * `LangChainContextManager` as the context manager (`setupTracing()` registers it). Default
   * true, unless the environment variable `LANGCHAIN_OTEL_CONTEXT_BRIDGE` is `false`.
   */
  contextBridge?: boolean;
  /** Attributes added to every span this handler starts. Default: none. */
  attributes?: Attributes;
  /**
   * The user of every trace (`user.id`), unless the run's metadata names one
   * (`langfuseUserId`, `userId`, `user_id`). Default: none.
   */
  userId?: string;
  /**
   * The session of every trace (`session.id`, `gen_ai.conversation.id`), unless the run's metadata
   * names one (`langfuseSessionId`, `sessionId`, `session_id`, LangGraph's `thread_id`). Default: none.
   */
  sessionId?: string;
  /** Tags of every trace (`langfuse.trace.tags`), merged with `langfuseTags` metadata and the run's own tags. */
  tags?: string[];
  /** Trace name (`langfuse.trace.name`). Default: `langfuseTraceName` metadata, else the outermost run's name when it is the trace's root. */
  traceName?: string;
  /** Trace metadata (`langfuse.trace.metadata.*`) on every span. Default: none. */
  traceMetadata?: Record<string, unknown>;
  /**
   * Also write the Langfuse dialect: `langfuse.observation.*` (type, level, input/output, metadata,
   * usage details, prompt link) and `langfuse.trace.*`. Default true. Turn off for other backends
   * to keep spans smaller; the GenAI attributes are written either way.
   */
  langfuseAttributes?: boolean;
  /**
   * Show LangGraph's plumbing runs (`__start__`, channel writes, branch and route runnables, unnamed
   * wrappers inside nodes). Default false: they are hidden and their children attach to the nearest
   * visible ancestor.
   */
  showInternalRuns?: boolean;
  /**
   * Where the GenAI client metrics go (docs/metrics.md). Default: the global meter provider
   * (`metrics.getMeterProvider()`), looked up again on each record, so one registered later is used.
   */
  meterProvider?: MeterProvider;
  /**
   * Record the GenAI client metrics (token usage, operation duration, time to first chunk, time
   * per output chunk, tool and agent durations), sampled or not. Default true. An object records
   * them all but those its `exclude` names, and adds the cost counter when its `cost` is true.
   */
  metrics?: boolean | MetricsOptions;
  /**
   * The cost of each model call in USD (`langchain_otel.cost_usd`) and of each request (on its
   * outermost span), from the `@pydantic/genai-prices` table. Default true. `false`: no cost.
   * An object: `prices` per model name (USD per million tokens) that win over the table, and
   * `langfuse` to also send the cost to Langfuse as the observation's cost (see docs/metrics.md).
   */
  cost?: boolean | CostOptions;
  /** Most runs open at once; past it the oldest is ended as orphaned. Default 10000. */
  maxOpenRuns?: number;
  /**
   * How many finished outermost runs `traceIdOf(runId)` still answers for; past it the oldest is
   * forgotten first. Default 10000.
   */
  maxRecentTraces?: number;
  /** A run open longer than this (ms) is ended as orphaned by the next sweep. Default 600000 (10 minutes). */
  orphanTimeoutMs?: number;
}

/** The `metrics` option as an object. */
export interface MetricsOptions {
  /**
   * Metrics never to record, by name, e.g. `["gen_ai.client.operation.time_per_output_chunk"]`
   * (one measurement per streamed chunk). Nothing is measured for them, where a View that drops a
   * metric still pays the SDK for every measurement. Default: none.
   */
  exclude?: readonly GenAIMetricName[];
  /**
   * Also count each priced model call's estimated cost in USD: `langchain_otel.client.cost`, a
   * counter with the token usage's attributes (no token type), for cost per model over time. One
   * more measurement per model call, so off by default. Needs `cost` on. Default false.
   */
  cost?: boolean;
}

/** The `cost` option as an object. */
export interface CostOptions {
  /** Prices per model name, matched exactly before the table. */
  prices?: Record<string, ModelPrices>;
  /**
   * Also write the cost as `langfuse.observation.cost_details`, which Langfuse takes as the
   * provided cost instead of pricing the call itself: `true` for every model, or the model names
   * Langfuse cannot price. Default false: Langfuse prices calls with its own table and yours.
   */
  langfuse?: boolean | string[];
}

/** The options with every default applied: the only place defaults live. */
export interface ResolvedHandlerOptions {
  tracer: Tracer;
  captureContent: boolean;
  mask: ContentMask | undefined;
  maxContentLength: number;
  awaitHandlers: boolean;
  modelSpans: ModelSpans;
  contextBridge: boolean;
  attributes: Attributes | undefined;
  identity: { userId?: string; sessionId?: string; tags?: string[]; traceName?: string };
  traceMetadata: Record<string, unknown> | undefined;
  langfuse: boolean;
  showInternalRuns: boolean;
  meterProvider: MeterProvider | undefined;
  metrics: boolean;
  /** Which metrics (`metrics.exclude`, `metrics.cost`), when `metrics` is true. */
  metricsSelection: Required<GenAIMetricsSelection>;
  cost: CostSelection;
  maxOpenRuns: number;
  maxRecentTraces: number;
  orphanTimeoutMs: number;
}

/** The `cost` option with its defaults applied. */
export interface CostSelection {
  enabled: boolean;
  prices: Record<string, ModelPrices> | undefined;
  langfuse: boolean | string[];
}

/** "auto": inference spans that give way to a provider instrumentation's; "always"; "never". */
export type ModelSpans = "auto" | "always" | "never";

export const DEFAULT_MAX_CONTENT_LENGTH = 32_768;
export const DEFAULT_MAX_OPEN_RUNS = 10_000;
export const DEFAULT_MAX_RECENT_TRACES = 10_000;
export const DEFAULT_ORPHAN_TIMEOUT_MS = 600_000;

const CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT";
const BRIDGE_ENV = "LANGCHAIN_OTEL_CONTEXT_BRIDGE";

/** Reads the capture switch from the environment: undefined when it is unset. */
export function captureContentFromEnv(env: Environment = environment()): boolean | undefined {
  const raw = env[CAPTURE_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  // Booleans (older JS instrumentations) and the python util-genai modes (genai-semconv §4).
  // EVENT_ONLY asks for content on events alone, and this package writes no events: none on spans.
  if (raw === "false" || raw === "0" || raw === "no_content" || raw === "none" || raw === "event_only")
    return false;
  return true;
}

/** Reads the context bridge switch from the environment: undefined when it is unset. */
export function contextBridgeFromEnv(env: Environment = environment()): boolean | undefined {
  const raw = env[BRIDGE_ENV]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return undefined;
  return !(raw === "false" || raw === "0" || raw === "off" || raw === "no");
}

function configError(message: string): TypeError {
  return new TypeError(`langchain-otel: ${message}`);
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0) {
    throw configError(
      `option "${name}" must be a positive integer, got ${String(value)}. Omit it to use ${fallback}.`,
    );
  }
  return value;
}

/**
 * The `metrics` option as an object, checked: an unknown name in `exclude` is a typo that would
 * record the metric all the same. `error` makes the setup error (the handler's or `traceEmbeddings`').
 */
export function metricsSelection(
  option: boolean | MetricsOptions | undefined,
  error: (message: string) => TypeError = configError,
): Required<GenAIMetricsSelection> {
  if (option === undefined || typeof option === "boolean") return { exclude: new Set(), cost: false };
  if (typeof option !== "object" || option === null) {
    throw error(
      `option "metrics" must be true, false or { exclude?: [metric names], cost?: boolean }, got ${String(option)}.`,
    );
  }
  if (option.cost !== undefined && typeof option.cost !== "boolean") {
    throw error(`option "metrics.cost" must be true or false, got ${String(option.cost)}.`);
  }
  return { exclude: excludedMetrics(option.exclude, error), cost: option.cost ?? false };
}

/**
 * The `cost` option, checked (the handler's and `traceEmbeddings`'): `countsCost` is `metrics.cost`,
 * which needs the cost on. `error` makes the setup error.
 */
export function costSelection(
  option: boolean | CostOptions | undefined,
  countsCost: boolean,
  error: (message: string) => TypeError = configError,
): CostSelection {
  const cost = typeof option === "object" && option !== null ? option : undefined;
  if (option !== undefined && typeof option !== "boolean" && cost === undefined) {
    throw error('option "cost" must be true, false or { prices?, langfuse? }.');
  }
  if (countsCost && option === false) {
    throw error(
      'option "metrics.cost" counts the cost of each call, which "cost: false" turns off: drop one of the two.',
    );
  }
  if (
    cost?.langfuse !== undefined &&
    typeof cost.langfuse !== "boolean" &&
    !(Array.isArray(cost.langfuse) && cost.langfuse.every((model) => typeof model === "string"))
  ) {
    throw error('option "cost.langfuse" must be true, false or a list of model names.');
  }
  return { enabled: option !== false, prices: cost?.prices, langfuse: cost?.langfuse ?? false };
}

function excludedMetrics(
  exclude: unknown,
  error: (message: string) => TypeError,
): ReadonlySet<GenAIMetricName> {
  if (exclude === undefined) return new Set();
  const known: readonly string[] = GEN_AI_METRIC_NAMES;
  if (!Array.isArray(exclude)) {
    throw error(
      `option "metrics.exclude" must be a list of metric names, one or more of: ${known.join(", ")}.`,
    );
  }
  for (const name of exclude) {
    if (!known.includes(name)) {
      throw error(
        `option "metrics.exclude" names an unknown metric ${JSON.stringify(name)}; the metrics are: ${known.join(", ")}.`,
      );
    }
  }
  return new Set(exclude as GenAIMetricName[]);
}

/**
 * Options that must be true or false when given: a string such as "false" would be truthy.
 * `error` makes the setup error (the handler's or `traceEmbeddings`').
 */
export function checkSwitches<O extends object>(
  options: O,
  names: readonly (keyof O & string)[],
  error: (message: string) => TypeError = configError,
): void {
  for (const name of names) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== "boolean") {
      throw error(`option "${name}" must be true or false, got ${JSON.stringify(value) ?? String(value)}.`);
    }
  }
}

/** The handler's switches, each checked. */
const BOOLEAN_OPTIONS = [
  "captureContent",
  "awaitHandlers",
  "contextBridge",
  "langfuseAttributes",
  "showInternalRuns",
] as const;

export function resolveHandlerOptions(
  options: OpenTelemetryCallbackHandlerOptions = {},
): ResolvedHandlerOptions {
  if (typeof options !== "object" || options === null) {
    throw configError(
      "the handler options must be an object, e.g. new OpenTelemetryCallbackHandler({ captureContent: false }).",
    );
  }
  if (options.tracer !== undefined && options.tracerProvider !== undefined) {
    throw configError('pass either "tracer" or "tracerProvider", not both.');
  }
  if (options.tracer !== undefined && typeof options.tracer.startSpan !== "function") {
    throw configError('option "tracer" must be an OpenTelemetry Tracer (from provider.getTracer(name)).');
  }
  if (options.tracerProvider !== undefined && typeof options.tracerProvider.getTracer !== "function") {
    throw configError(
      'option "tracerProvider" must be an OpenTelemetry TracerProvider, e.g. a NodeTracerProvider.',
    );
  }
  if (
    options.tags !== undefined &&
    (!Array.isArray(options.tags) || options.tags.some((tag) => typeof tag !== "string"))
  ) {
    throw configError('option "tags" must be an array of strings, e.g. ["production", "rag"].');
  }
  for (const name of ["userId", "sessionId", "traceName"] as const) {
    if (options[name] !== undefined && typeof options[name] !== "string") {
      throw configError(`option "${name}" must be a string, got ${typeof options[name]}.`);
    }
  }
  if (
    options.modelSpans !== undefined &&
    typeof options.modelSpans !== "boolean" &&
    options.modelSpans !== "auto"
  ) {
    throw configError(
      `option "modelSpans" must be true, false or "auto", got ${String(options.modelSpans)}.`,
    );
  }
  if (options.meterProvider !== undefined && typeof options.meterProvider.getMeter !== "function") {
    throw configError(
      'option "meterProvider" must be an OpenTelemetry MeterProvider, e.g. an SDK MeterProvider.',
    );
  }
  const selection = metricsSelection(options.metrics);
  const cost = costSelection(options.cost, selection.cost);
  if (options.mask !== undefined && typeof options.mask !== "function") {
    throw configError('option "mask" must be a function (value: string, attribute: string) => string.');
  }
  checkSwitches(options, BOOLEAN_OPTIONS);
  for (const name of ["attributes", "traceMetadata"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "object" || value === null || Array.isArray(value))) {
      throw configError(`option "${name}" must be an object, e.g. { "app.tier": "search" }.`);
    }
  }
  const provider = options.tracerProvider ?? trace.getTracerProvider();
  return {
    tracer: options.tracer ?? provider.getTracer(SCOPE_NAME, VERSION),
    captureContent: options.captureContent ?? captureContentFromEnv() ?? true,
    mask: options.mask,
    maxContentLength: positiveInteger(
      "maxContentLength",
      options.maxContentLength,
      DEFAULT_MAX_CONTENT_LENGTH,
    ),
    awaitHandlers: options.awaitHandlers ?? true,
    modelSpans: options.modelSpans === true ? "always" : options.modelSpans === false ? "never" : "auto",
    contextBridge: options.contextBridge ?? contextBridgeFromEnv() ?? true,
    attributes: options.attributes,
    identity: {
      userId: options.userId,
      sessionId: options.sessionId,
      tags: options.tags,
      traceName: options.traceName,
    },
    traceMetadata: options.traceMetadata,
    langfuse: options.langfuseAttributes ?? true,
    showInternalRuns: options.showInternalRuns ?? false,
    meterProvider: options.meterProvider,
    // Excluding every metric, with no cost counter, is metrics off.
    metrics:
      options.metrics !== false && (selection.exclude.size < GEN_AI_METRIC_NAMES.length || selection.cost),
    metricsSelection: selection,
    cost,
    maxOpenRuns: positiveInteger("maxOpenRuns", options.maxOpenRuns, DEFAULT_MAX_OPEN_RUNS),
    maxRecentTraces: positiveInteger("maxRecentTraces", options.maxRecentTraces, DEFAULT_MAX_RECENT_TRACES),
    orphanTimeoutMs: positiveInteger("orphanTimeoutMs", options.orphanTimeoutMs, DEFAULT_ORPHAN_TIMEOUT_MS),
  };
}
