import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  diag,
  type MeterProvider,
  type Span,
  SpanKind,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { bridgedRun } from "./context/bridge.js";
import { CallAccounting } from "./genai/accounting.js";
import { ContentCapture, type ContentMask } from "./genai/capture.js";
import { PriceTable } from "./genai/cost.js";
import {
  type EmbeddingsRequest,
  embeddingsRequestAttributes,
  embeddingsSpanName,
  embeddingsStartAttributes,
  serverAttributes,
  setEmbeddingsResult,
} from "./genai/embeddings.js";
import {
  CANCELLED,
  errorMessage,
  errorType,
  isCancellation,
  recordCancellation,
  recordError,
} from "./genai/errors.js";
import { GenAIMetrics, type GenAIMetricsSelection } from "./genai/metrics.js";
import type { InferenceCall } from "./genai/records.js";
import type { RequestTotals } from "./genai/totals.js";
import {
  OPENAI_RESPONSE_METHOD,
  readEmbeddingsProvider,
  readEmbeddingsRequest,
  readEmbeddingsResult,
  readEmbeddingsServer,
  readEmbeddingsUsage,
} from "./langchain/embeddings.js";
import {
  LANGFUSE_OBSERVATION_INPUT,
  LANGFUSE_OBSERVATION_OUTPUT,
  LANGFUSE_OBSERVATION_TYPE,
} from "./langfuse/attributes.js";
import { setLevel, setUsageDetails } from "./langfuse/dialect.js";
import {
  type CostOptions,
  type CostSelection,
  captureContentFromEnv,
  checkSwitches,
  costSelection,
  DEFAULT_MAX_CONTENT_LENGTH,
  type MetricsOptions,
  metricsSelection,
} from "./options.js";
import { SCOPE_NAME, VERSION } from "./version.js";

/**
 * `traceEmbeddings()`: spans for LangChain `Embeddings`, which have no callbacks. The entry point
 * for embeddings as `handler.ts` is for callbacks: it wraps the instance, reads it with
 * `langchain/embeddings.ts` and writes spans with `genai/embeddings.ts` and the Langfuse dialect.
 */

/** Options of `traceEmbeddings(embeddings, options)`. Every option is optional; the names are the handler's. */
export interface TraceEmbeddingsOptions {
  /** Provider to get the tracer from. Default: the global provider (`trace.getTracerProvider()`). */
  tracerProvider?: TracerProvider;
  /** A tracer to use as is, instead of one from `tracerProvider`. Pass one or the other. */
  tracer?: Tracer;
  /**
   * Record the embedded texts (as the Langfuse input). Default: true, unless the environment
   * variable `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT` is `false` (or `NO_CONTENT`).
   * When false, the texts are not read at all.
   */
  captureContent?: boolean;
  /** Applied to every captured text before it is set on a span; return the text to record. Default: none. */
  mask?: ContentMask;
  /** Most characters of content one attribute may carry; longer values are cut and marked. Default 32768. */
  maxContentLength?: number;
  /** Also write the Langfuse dialect (observation type `embedding`, input, output, usage, level). Default true. */
  langfuseAttributes?: boolean;
  /** Attributes added to every embeddings span. Default: none. */
  attributes?: Attributes;
  /**
   * Provider of the meters for `gen_ai.client.operation.duration` and `gen_ai.client.token.usage`
   * (input tokens). Default: the global provider (`metrics.getMeterProvider()`); none registered
   * means no metrics.
   */
  meterProvider?: MeterProvider;
  /**
   * Record those two metrics. Default true. An object records them but those its `exclude` names,
   * and with `cost: true` also counts each priced call's cost, as the handler's `metrics` option.
   */
  metrics?: boolean | MetricsOptions;
  /**
   * The cost of each call in USD (`langchain_otel.cost_usd`), from its input tokens and the
   * `@pydantic/genai-prices` table, as the handler's `cost` option: `prices` per model name win
   * over the table; `langfuse` also sends it to Langfuse. Inside a traced LangChain request (with
   * the context bridge) the call's tokens and cost count in the request's totals. Default true.
   */
  cost?: boolean | CostOptions;
}

/** The options with every default applied. */
interface EmbeddingsTracing {
  tracer: Tracer;
  capture: ContentCapture;
  langfuse: boolean;
  attributes: Attributes | undefined;
  /** The metrics (none with `metrics: false`), the cost and the request totals of each call. */
  accounting: CallAccounting;
}

/** Marks a traced instance (a registered symbol: two copies of this package, ESM and CJS, agree). */
const TRACED = Symbol.for("langchain-otel.traceEmbeddings");

/** Context key: the embeddings call whose code is running (its HTTP request, its response). */
const ACTIVE_CALL = createContextKey("langchain-otel embeddings call");

/** The traced methods, and whether each embeds one text (a vector back) or many (a list of vectors). */
const TRACED_METHODS = [
  ["embedQuery", true],
  ["embedDocuments", false],
] as const;

/** One `embedQuery` / `embedDocuments` call in flight. */
class EmbeddingsCall {
  /** Input tokens summed over the call's responses (one per batch), when the provider reports them. */
  inputTokens: number | undefined;
  context!: Context;
  /** The totals of the traced request this call runs in, when there is one. */
  totals: RequestTotals | undefined;
  readonly startedAt = performance.now();

  constructor(
    readonly instance: object,
    readonly span: Span,
    readonly single: boolean,
    readonly request: EmbeddingsRequest,
  ) {}
}

function optionsError(message: string): TypeError {
  return new TypeError(`langchain-otel: traceEmbeddings: ${message}`);
}

function resolveOptions(options: TraceEmbeddingsOptions | undefined): EmbeddingsTracing {
  const given = options ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw optionsError(
      "the options must be an object, e.g. traceEmbeddings(embeddings, { captureContent: false }).",
    );
  }
  if (given.tracer !== undefined && given.tracerProvider !== undefined) {
    throw optionsError('pass either "tracer" or "tracerProvider", not both.');
  }
  if (given.tracer !== undefined && typeof given.tracer?.startSpan !== "function") {
    throw optionsError('option "tracer" must be an OpenTelemetry Tracer (from provider.getTracer(name)).');
  }
  if (given.tracerProvider !== undefined && typeof given.tracerProvider?.getTracer !== "function") {
    throw optionsError(
      'option "tracerProvider" must be an OpenTelemetry TracerProvider, e.g. a NodeTracerProvider.',
    );
  }
  checkSwitches(given, ["captureContent", "langfuseAttributes"], optionsError);
  if (given.mask !== undefined && typeof given.mask !== "function") {
    throw optionsError('option "mask" must be a function (value: string, attribute: string) => string.');
  }
  const maxChars = given.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH;
  if (!Number.isInteger(maxChars) || maxChars <= 0) {
    throw optionsError(
      `option "maxContentLength" must be a positive integer, got ${String(given.maxContentLength)}. Omit it to use ${DEFAULT_MAX_CONTENT_LENGTH}.`,
    );
  }
  if (given.meterProvider !== undefined && typeof given.meterProvider?.getMeter !== "function") {
    throw optionsError(
      'option "meterProvider" must be an OpenTelemetry MeterProvider, e.g. a MeterProvider of @opentelemetry/sdk-metrics.',
    );
  }
  if (given.attributes !== undefined && (typeof given.attributes !== "object" || given.attributes === null)) {
    throw optionsError(
      'option "attributes" must be an object of span attributes, e.g. { "app.tier": "search" }.',
    );
  }
  const selection = metricsSelection(given.metrics, optionsError);
  const cost = costSelection(given.cost, selection.cost, optionsError);
  const langfuse = given.langfuseAttributes ?? true;
  const provider = given.tracerProvider ?? trace.getTracerProvider();
  const captureContent = given.captureContent ?? captureContentFromEnv() ?? true;
  return {
    tracer: given.tracer ?? provider.getTracer(SCOPE_NAME, VERSION),
    // The handler's budget: the same limits for the same content.
    capture: new ContentCapture(captureContent, given.mask, { maxChars, maxDepth: 20, maxItems: 1000 }),
    langfuse,
    attributes: given.attributes,
    accounting: new CallAccounting(
      given.metrics === false ? undefined : metricsFor(given.meterProvider, selection),
      pricesFor(cost),
      langfuse ? cost.langfuse : false,
    ),
  };
}

/** One set of instruments per meter provider, shared by every traced instance. */
let globalMetrics: GenAIMetrics | undefined;
const metricsByProvider = new WeakMap<MeterProvider, GenAIMetrics>();

function metricsFor(
  meterProvider: MeterProvider | undefined,
  selection: Required<GenAIMetricsSelection>,
): GenAIMetrics {
  // Rare enough to be made per traced instance; the SDK hands back the same instruments.
  if (selection.exclude.size > 0 || selection.cost) return new GenAIMetrics(meterProvider, selection);
  if (meterProvider === undefined) {
    globalMetrics ??= new GenAIMetrics();
    return globalMetrics;
  }
  let found = metricsByProvider.get(meterProvider);
  if (found === undefined) {
    found = new GenAIMetrics(meterProvider);
    metricsByProvider.set(meterProvider, found);
  }
  return found;
}

/** The price table without prices of the user's, shared by every traced instance (one cache of the table's answers). */
let tablePrices: PriceTable | undefined;

/** The table for these cost options; a bad price of the user's is this function's setup error. */
function pricesFor(cost: CostSelection): PriceTable {
  if (cost.enabled && cost.prices === undefined) {
    tablePrices ??= new PriceTable({ enabled: true });
    return tablePrices;
  }
  try {
    return new PriceTable(cost);
  } catch (error) {
    throw optionsError(errorMessage(error).replace(/^langchain-otel: /, ""));
  }
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

function methodOf(instance: object, name: string): Method | undefined {
  const method = (instance as Record<string, unknown>)[name];
  return typeof method === "function" ? (method as Method) : undefined;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Traces a LangChain `Embeddings` instance: every `embedQuery` and `embedDocuments` call becomes an
 * `embeddings {model}` CLIENT span (GenAI semantic conventions), a child of the span active where
 * it is called (inside a retriever traced with the context bridge, the retrieval span).
 *
 * The instance is wrapped **in place** and returned: the same object, so `instanceof`, identity,
 * private fields and every other method keep working, and code that already holds it is traced
 * too. Its two methods become own (non-enumerable) properties that call the originals. Tracing an
 * instance a second time returns it unchanged (the first options stay).
 *
 * Errors of the call itself reach the caller unchanged; a failure of the tracing code never does
 * (it goes to OpenTelemetry's `diag` logger). Invalid options throw here, at setup.
 *
 * ```ts
 * const embeddings = traceEmbeddings(new OpenAIEmbeddings({ model: "text-embedding-3-small" }));
 * ```
 */
export function traceEmbeddings<T extends EmbeddingsInterface<unknown>>(
  embeddings: T,
  options?: TraceEmbeddingsOptions,
): T {
  const instance = embeddings as unknown as Record<PropertyKey, unknown>;
  if (
    typeof embeddings !== "object" ||
    embeddings === null ||
    methodOf(embeddings, "embedQuery") === undefined ||
    methodOf(embeddings, "embedDocuments") === undefined
  ) {
    throw optionsError(
      `expects a LangChain Embeddings instance with embedQuery and embedDocuments, e.g. traceEmbeddings(new OpenAIEmbeddings()); got ${embeddings === null ? "null" : typeof embeddings}.`,
    );
  }
  const tracing = resolveOptions(options);
  if (instance[TRACED] !== undefined) {
    diag.debug("langchain-otel: traceEmbeddings: this instance is traced already; returning it as it is");
    return embeddings;
  }
  const tracer = new EmbeddingsTracer(tracing, readEmbeddingsProvider(embeddings));
  try {
    for (const [name, single] of TRACED_METHODS)
      wrap(embeddings, name, tracer.traced(embeddings, name, single));
    const respond = methodOf(embeddings, OPENAI_RESPONSE_METHOD);
    if (respond !== undefined) wrap(embeddings, OPENAI_RESPONSE_METHOD, tracer.observed(respond));
    Object.defineProperty(embeddings, TRACED, { value: true, enumerable: false });
    keepContextThroughQueue(embeddings);
  } catch (error) {
    throw optionsError(
      `cannot wrap this instance's methods (${errorMessage(error)}); pass an instance that is not frozen or sealed.`,
    );
  }
  return embeddings;
}

/**
 * LangChain's `AsyncCaller` queues requests past its `maxConcurrency` (2 for `OpenAIEmbeddings`)
 * and starts a waiting one when the one before finishes, in that one's async context: its HTTP
 * span would land under another call, often another request's. The instance's own caller gets a
 * `call` that binds each request to the context it was queued from.
 */
function keepContextThroughQueue(instance: object): void {
  const caller = (instance as { caller?: unknown }).caller;
  if (typeof caller !== "object" || caller === null) return;
  const call = methodOf(caller, "call");
  if (call === undefined) return;
  try {
    wrap(caller, "call", function queued(this: unknown, callable: unknown, ...args: unknown[]) {
      const bound = typeof callable === "function" ? context.bind(context.active(), callable) : callable;
      return call.call(this, bound, ...args);
    });
  } catch (error) {
    // A frozen caller: the requests still run, only their HTTP spans may be misplaced.
    diag.debug("langchain-otel: traceEmbeddings: cannot bind the instance's request queue", error);
  }
}

/** Replaces a method by an own property, as enumerable as the method it shadows. */
function wrap(instance: object, name: string, method: Method): void {
  const own = Object.getOwnPropertyDescriptor(instance, name);
  Object.defineProperty(instance, name, {
    value: method,
    writable: true,
    configurable: true,
    enumerable: own?.enumerable ?? false,
  });
}

/** Starts and ends the spans of one traced instance. No method here throws into the caller. */
class EmbeddingsTracer {
  /**
   * The instance's calls in flight: a call is open while it is here. Without a context manager
   * (none registered) the running call cannot be found in the context; when only one is in
   * flight, it is that one.
   */
  private readonly inFlight = new Set<EmbeddingsCall>();

  constructor(
    private readonly config: EmbeddingsTracing,
    private readonly provider: string | undefined,
  ) {}

  /** `embedQuery` / `embedDocuments`, traced. */
  traced(instance: object, name: string, single: boolean): Method {
    const original = methodOf(instance, name) as Method;
    const tracer = this;
    return function traced(this: unknown, ...args: unknown[]): unknown {
      const call = tracer.start(instance, single, args[0]);
      if (call === undefined) return original.apply(this, args);
      let result: unknown;
      try {
        // The call runs inside its span: the SDK's HTTP request nests under it.
        result = context.with(call.context, original, this, ...args);
      } catch (error) {
        tracer.fail(call, error);
        throw error;
      }
      if (!isThenable(result)) {
        tracer.end(call, result);
        return result;
      }
      return result.then(
        (value) => {
          tracer.end(call, value);
          return value;
        },
        (error: unknown) => {
          tracer.fail(call, error);
          throw error;
        },
      );
    };
  }

  /**
   * `embeddingWithRetry`, observed: OpenAIEmbeddings drops each response's usage before
   * returning vectors; this reads it on the way (one response per batch) for the running call.
   */
  observed(original: Method): Method {
    const inFlight = this.inFlight;
    return function observed(this: unknown, ...args: unknown[]): unknown {
      const result = original.apply(this, args);
      try {
        const call =
          (context.active().getValue(ACTIVE_CALL) as EmbeddingsCall | undefined) ??
          (inFlight.size === 1 ? inFlight.values().next().value : undefined);
        // In flight on this instance: a call of another instance, or one that ended, is not this one's.
        if (call !== undefined && inFlight.has(call) && isThenable(result)) {
          // Registered before the caller's own `await`, so it runs before the call ends.
          result.then(
            (response) => {
              const tokens = readEmbeddingsUsage(response);
              if (tokens !== undefined) call.inputTokens = (call.inputTokens ?? 0) + tokens;
            },
            () => undefined,
          );
        }
      } catch (error) {
        diag.warn("langchain-otel: reading an embeddings response failed", error);
      }
      return result;
    };
  }

  /** The span of a call, or undefined to run it untraced (inside another call of the same instance). */
  private start(instance: object, single: boolean, input: unknown): EmbeddingsCall | undefined {
    try {
      const parent = context.active();
      const outer = parent.getValue(ACTIVE_CALL) as EmbeddingsCall | undefined;
      // An embedQuery implemented with this.embedDocuments(): one call, one span.
      if (outer !== undefined && this.inFlight.has(outer)) return undefined;
      const { tracer, capture, langfuse, attributes } = this.config;
      const request = readEmbeddingsRequest(instance, this.provider);
      const span = tracer.startSpan(
        embeddingsSpanName(request.model),
        { kind: SpanKind.CLIENT, attributes: embeddingsStartAttributes(request) },
        parent,
      );
      span.setAttributes(embeddingsRequestAttributes(request));
      if (langfuse) span.setAttribute(LANGFUSE_OBSERVATION_TYPE, "embedding");
      // Made inside a traced LangChain run (the context bridge): the call belongs to its request.
      const run = bridgedRun(parent);
      const scope = run?.trace;
      if (scope !== undefined && span.isRecording()) {
        // Langfuse reads user, session, tags and the trace name from each span's own attributes.
        if (scope.identity !== undefined) span.setAttributes(scope.identity);
        if (langfuse && scope.attributes !== undefined) span.setAttributes(scope.attributes);
      }
      if (attributes !== undefined) span.setAttributes(attributes);
      // A span the sampler dropped records nothing: don't serialize the texts for it.
      if (langfuse && span.isRecording()) capture.setJson(span, LANGFUSE_OBSERVATION_INPUT, () => input);
      const call = new EmbeddingsCall(instance, span, single, request);
      call.context = trace.setSpan(parent, span).setValue(ACTIVE_CALL, call);
      call.totals = scope?.totals;
      this.config.accounting.inferenceStarted();
      this.inFlight.add(call);
      return call;
    } catch (error) {
      diag.warn("langchain-otel: starting an embeddings span failed; the call runs untraced", error);
      return undefined;
    }
  }

  private end(call: EmbeddingsCall, output: unknown): void {
    this.inFlight.delete(call);
    try {
      const result = readEmbeddingsResult(output, call.single);
      setEmbeddingsResult(call.span, result, call.inputTokens);
      // The shape of the result, never the vectors.
      if (this.config.langfuse && result !== undefined) {
        const dimensions = result.dimensions === undefined ? "" : `,"dimensions":${result.dimensions}`;
        call.span.setAttribute(LANGFUSE_OBSERVATION_OUTPUT, `{"vectors":${result.count}${dimensions}}`);
      }
      this.finish(call, undefined);
    } catch (error) {
      diag.warn("langchain-otel: ending an embeddings span failed; the span may be incomplete", error);
    }
    endSpan(call.span);
  }

  private fail(call: EmbeddingsCall, error: unknown): void {
    this.inFlight.delete(call);
    try {
      const langfuse = this.config.langfuse;
      const cancelled = isCancellation(error);
      if (cancelled) {
        const message = recordCancellation(call.span, error);
        if (langfuse) setLevel(call.span, "WARNING", message);
      } else {
        recordError(call.span, error, true);
        if (langfuse) setLevel(call.span, "ERROR", errorMessage(error));
      }
      setEmbeddingsResult(call.span, undefined, call.inputTokens);
      this.finish(call, cancelled ? CANCELLED : errorType(error));
    } catch (failure) {
      diag.warn("langchain-otel: recording an embeddings error failed; the span may be incomplete", failure);
    }
    endSpan(call.span);
  }

  /**
   * What only the end can tell (usage for Langfuse, the server once the SDK client exists), and
   * the call's metrics, cost and part of the request totals. `failure`: the call's `error.type`,
   * when it failed.
   */
  private finish(call: EmbeddingsCall, failure: string | undefined): void {
    const { request, inputTokens } = call;
    if (this.config.langfuse && inputTokens !== undefined) setUsageDetails(call.span, { inputTokens });
    let server = request.server;
    if (server === undefined) {
      server = readEmbeddingsServer(call.instance);
      if (server !== undefined) call.span.setAttributes(serverAttributes(server));
    }
    const inference: InferenceCall = {
      operation: "embeddings",
      provider: request.provider,
      requestModel: request.model,
      serverAddress: server?.address,
      serverPort: server?.port,
      chunkTimes: undefined,
    };
    this.config.accounting.inferenceEnded(inference, {
      startedAt: call.startedAt,
      endedAt: performance.now(),
      firstChunkAt: undefined,
      response:
        inputTokens === undefined
          ? undefined
          : { finishReasons: [], generationReasons: [], usage: { inputTokens } },
      errorType: failure,
      span: call.span.isRecording() ? call.span : undefined,
      totals: call.totals,
      metrics: true,
    });
  }
}

function endSpan(span: Span): void {
  try {
    span.end();
  } catch (error) {
    diag.warn("langchain-otel: ending an embeddings span failed", error);
  }
}
