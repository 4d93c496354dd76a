import {
  type Attributes,
  type Counter,
  type Histogram,
  type MeterProvider,
  metrics,
} from "@opentelemetry/api";
import { SCOPE_NAME, VERSION } from "../version.js";
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_TOKEN_TYPE_VALUE_INPUT,
  GEN_AI_TOKEN_TYPE_VALUE_OUTPUT,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
  METRIC_GEN_AI_INVOKE_AGENT_DURATION,
} from "./attributes.js";
import type { InferenceOperation, TokenUsage } from "./records.js";

/**
 * The GenAI client metrics of semconv v1.41 (genai-semconv §5), plus the development conventions'
 * tool and agent durations. Fed one neutral record per finished run; every attribute value comes from
 * a small set (operation, provider, model, server, error type, tool or agent name), never an id.
 */

/** Bucket advice for token counts (genai-semconv §5, "TOK"). */
export const TOKEN_BUCKETS: readonly number[] = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
/** Bucket advice for durations in seconds (genai-semconv §5, "DUR"). */
export const DURATION_BUCKETS: readonly number[] = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/** A finished model call (an inference or an embeddings request), as the metrics read it. */
export interface InferenceMetricRecord {
  operation: InferenceOperation | "embeddings";
  provider?: string;
  requestModel?: string;
  responseModel?: string;
  serverAddress?: string;
  serverPort?: number;
  /** From the call's start to its end (the last chunk of a stream), in seconds. */
  durationS: number;
  /** Set when the call failed: a low-cardinality name (exception class or error code, genai-semconv §2). */
  errorType?: string;
  /** Billed counts; a count left undefined records nothing. */
  usage?: TokenUsage;
  /** Streamed calls only: from the call's start to the first chunk, in seconds. */
  timeToFirstChunkS?: number;
  /** The call's estimated cost in USD, when it was priced. */
  costUsd?: number;
  /**
   * Streamed calls only: for each chunk after the first, the seconds since the previous chunk
   * (semconv: "recorded for each chunk received after the first one, measured as the time elapsed
   * from the end of the previous chunk to the end of the current chunk"). One measurement each.
   */
  chunkIntervalsS?: readonly number[];
}

/** Every metric this package records, by name: what the `metrics.exclude` option may name. */
export const GEN_AI_METRIC_NAMES = [
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_EXECUTE_TOOL_DURATION,
  METRIC_GEN_AI_INVOKE_AGENT_DURATION,
] as const;
export type GenAIMetricName = (typeof GEN_AI_METRIC_NAMES)[number];

/**
 * The estimated cost of model calls in USD, a counter in this package's own namespace (no GenAI
 * convention names one), recorded only when asked for (`metrics: { cost: true }`).
 */
export const METRIC_COST = "langchain_otel.client.cost";

/** What the metrics record besides the defaults, and what they leave out. */
export interface GenAIMetricsSelection {
  /** Metrics never to record: no instrument is made for them. Default: none. */
  exclude?: ReadonlySet<GenAIMetricName>;
  /** Also count each priced call's cost (`langchain_otel.client.cost`). Default false. */
  cost?: boolean;
}

/** Most attribute sets kept for reuse; past it the oldest is dropped (and rebuilt when needed again). */
export const MAX_CACHED_ATTRIBUTE_SETS = 1000;

/** The instruments; an excluded metric has none, so nothing is measured or hashed for it. */
interface Instruments {
  tokenUsage: Histogram | undefined;
  operationDuration: Histogram | undefined;
  timeToFirstChunk: Histogram | undefined;
  timePerOutputChunk: Histogram | undefined;
  toolDuration: Histogram | undefined;
  agentDuration: Histogram | undefined;
  cost: Counter | undefined;
}

/** The attribute sets of one (operation, provider, models, server): built once, shared by every call. */
interface CallAttributes {
  base: Attributes;
  input: Attributes;
  output: Attributes;
  /** `base` plus `error.type`, per error type seen. */
  failed: Map<string, Attributes>;
}

/** Error types kept per attribute set; more (a misbehaving error name) are built per call. */
const MAX_ERROR_TYPES = 32;

export class GenAIMetrics {
  private instruments: Instruments;
  /** The global provider the instruments come from, when none was given: followed if it changes. */
  private global: MeterProvider | undefined;
  private readonly callAttributes = new Map<string, CallAttributes>();
  private readonly toolAttributes = new Map<string, Attributes>();
  private readonly agentAttributes = new Map<string, Attributes>();

  /**
   * @param meterProvider where the instruments come from. Default: the global provider, looked up
   *   again on each record. The metrics API has no proxy (unlike tracing), so a provider registered
   *   after this object was made is still picked up.
   * @param selection metrics left out (no instrument is made for them: a View that drops a metric
   *   saves its export, not its cost, since the SDK still hashes each measurement's attributes),
   *   and the cost counter, off by default.
   */
  constructor(
    meterProvider?: MeterProvider,
    private readonly selection: GenAIMetricsSelection = {},
  ) {
    if (meterProvider === undefined) {
      this.global = metrics.getMeterProvider();
      this.instruments = createInstruments(this.global, selection);
    } else {
      this.instruments = createInstruments(meterProvider, selection);
    }
  }

  /** Whether `name` is recorded: a default metric not excluded, or the cost counter when asked for. */
  records(name: GenAIMetricName | typeof METRIC_COST): boolean {
    if (name === METRIC_COST) return this.selection.cost === true;
    return this.selection.exclude?.has(name) !== true;
  }

  recordInference(call: InferenceMetricRecord): void {
    const { operationDuration, tokenUsage, timeToFirstChunk, timePerOutputChunk, cost } = this.current();
    const attributes = this.attributesOf(call);
    const { errorType, usage } = call;
    operationDuration?.record(
      call.durationS,
      errorType === undefined ? attributes.base : failedAttributes(attributes, errorType),
    );
    if (usage !== undefined && tokenUsage !== undefined) {
      if (usage.inputTokens !== undefined) tokenUsage.record(usage.inputTokens, attributes.input);
      if (usage.outputTokens !== undefined) tokenUsage.record(usage.outputTokens, attributes.output);
    }
    if (call.timeToFirstChunkS !== undefined) {
      timeToFirstChunk?.record(call.timeToFirstChunkS, attributes.base);
    }
    const intervals = call.chunkIntervalsS;
    if (intervals !== undefined && timePerOutputChunk !== undefined) {
      for (let i = 0; i < intervals.length; i++) {
        timePerOutputChunk.record(intervals[i], attributes.base);
      }
    }
    if (call.costUsd !== undefined && call.costUsd > 0) cost?.add(call.costUsd, attributes.base);
  }

  /** A finished tool execution: `gen_ai.execute_tool.duration` (development conventions). */
  recordTool(name: string, durationS: number, errorType?: string): void {
    const histogram = this.current().toolDuration;
    if (histogram === undefined) return;
    const attributes = this.namedAttributes(
      this.toolAttributes,
      GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
      ATTR_GEN_AI_TOOL_NAME,
      name,
      errorType,
    );
    histogram.record(durationS, attributes);
  }

  /** A finished in-process agent invocation: `gen_ai.invoke_agent.duration` (development conventions). */
  recordAgent(name: string, durationS: number, errorType?: string): void {
    const histogram = this.current().agentDuration;
    if (histogram === undefined) return;
    const attributes = this.namedAttributes(
      this.agentAttributes,
      GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
      ATTR_GEN_AI_AGENT_NAME,
      name,
      errorType,
    );
    histogram.record(durationS, attributes);
  }

  private current(): Instruments {
    if (this.global !== undefined) {
      const provider = metrics.getMeterProvider();
      if (provider !== this.global) {
        this.global = provider;
        this.instruments = createInstruments(provider, this.selection);
      }
    }
    return this.instruments;
  }

  private attributesOf(call: InferenceMetricRecord): CallAttributes {
    const { operation, provider, requestModel, responseModel, serverAddress, serverPort } = call;
    // Empty strings count as absent, so the key need not tell "" from undefined. Each free-text
    // field is prefixed with its length: names containing the separator cannot make two calls meet.
    const p = provider ?? "";
    const req = requestModel ?? "";
    const res = responseModel ?? "";
    const addr = serverAddress ?? "";
    const key = `${operation}\n${p.length}:${p}${req.length}:${req}${res.length}:${res}${addr.length}:${addr}${serverPort ?? ""}`;
    let cached = this.callAttributes.get(key);
    if (cached === undefined) {
      const base: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: operation };
      if (provider) base[ATTR_GEN_AI_PROVIDER_NAME] = provider;
      if (requestModel) base[ATTR_GEN_AI_REQUEST_MODEL] = requestModel;
      if (responseModel) base[ATTR_GEN_AI_RESPONSE_MODEL] = responseModel;
      if (serverAddress) {
        base[ATTR_SERVER_ADDRESS] = serverAddress;
        // The spec asks for the port only with an address.
        if (serverPort !== undefined) base[ATTR_SERVER_PORT] = serverPort;
      }
      cached = {
        base: Object.freeze(base),
        input: Object.freeze({ ...base, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_INPUT }),
        output: Object.freeze({ ...base, [ATTR_GEN_AI_TOKEN_TYPE]: GEN_AI_TOKEN_TYPE_VALUE_OUTPUT }),
        failed: new Map(),
      };
      remember(this.callAttributes, key, cached);
    }
    return cached;
  }

  private namedAttributes(
    cache: Map<string, Attributes>,
    operation: string,
    nameAttribute: string,
    name: string,
    errorType: string | undefined,
  ): Attributes {
    // The name's length first: a name containing "\n" cannot pass for another name with an error.
    const key = errorType === undefined ? `${name.length}:${name}` : `${name.length}:${name}\n${errorType}`;
    let attributes = cache.get(key);
    if (attributes === undefined) {
      const built: Attributes = { [ATTR_GEN_AI_OPERATION_NAME]: operation, [nameAttribute]: name };
      if (errorType !== undefined) built[ATTR_ERROR_TYPE] = errorType;
      attributes = Object.freeze(built);
      remember(cache, key, attributes);
    }
    return attributes;
  }
}

function failedAttributes(attributes: CallAttributes, errorType: string): Attributes {
  let failed = attributes.failed.get(errorType);
  if (failed === undefined) {
    failed = Object.freeze({ ...attributes.base, [ATTR_ERROR_TYPE]: errorType });
    if (attributes.failed.size < MAX_ERROR_TYPES) attributes.failed.set(errorType, failed);
  }
  return failed;
}

function remember<T>(cache: Map<string, T>, key: string, value: T): void {
  if (cache.size >= MAX_CACHED_ATTRIBUTE_SETS) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, value);
}

function createInstruments(provider: MeterProvider, selection: GenAIMetricsSelection): Instruments {
  const meter = provider.getMeter(SCOPE_NAME, VERSION);
  const histogram = (
    name: GenAIMetricName,
    description: string,
    unit: string,
    buckets: readonly number[],
  ): Histogram | undefined =>
    selection.exclude?.has(name)
      ? undefined
      : meter.createHistogram(name, {
          description,
          unit,
          advice: { explicitBucketBoundaries: [...buckets] },
        });
  const duration = (name: GenAIMetricName, description: string) =>
    histogram(name, description, "s", DURATION_BUCKETS);
  return {
    tokenUsage: histogram(
      METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
      "Number of input and output tokens used.",
      "{token}",
      TOKEN_BUCKETS,
    ),
    operationDuration: duration(METRIC_GEN_AI_CLIENT_OPERATION_DURATION, "GenAI operation duration."),
    timeToFirstChunk: duration(
      METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK,
      "Time to receive the first chunk of a streamed response.",
    ),
    timePerOutputChunk: duration(
      METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK,
      "Time per output chunk after the first, from the end of the previous chunk to the end of this one.",
    ),
    toolDuration: duration(METRIC_GEN_AI_EXECUTE_TOOL_DURATION, "The duration of a single tool execution."),
    agentDuration: duration(
      METRIC_GEN_AI_INVOKE_AGENT_DURATION,
      "The end-to-end duration of a single agent invocation.",
    ),
    cost:
      selection.cost === true
        ? meter.createCounter(METRIC_COST, {
            description:
              "Estimated cost of model calls in USD, from the price table or the prices given (langchain-otel).",
            unit: "{USD}",
          })
        : undefined,
  };
}
