import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import protobuf from "protobufjs";

/**
 * A local OTLP/HTTP receiver that decodes what exporters send, protobuf or JSON, gzipped or not,
 * and records it: traces (any path but `…/v1/metrics`) and metrics (`…/v1/metrics`); with
 * misbehaviours on demand (error statuses, hanging, dropped sockets).
 */

// The OTLP trace request schema (opentelemetry-proto: collector/trace/v1, trace/v1, common/v1,
// resource/v1), with the official field numbers. Decoded by protobufjs, a complete protobuf runtime.
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  repeated Event events = 11; uint32 dropped_events_count = 12;
  repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
}
message Status { string message = 2; int32 code = 3; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
`;
const requestType = protobuf
  .parse(OTLP_TRACE_PROTO, { keepCase: false })
  .root.lookupType("otlp.ExportTraceServiceRequest");

// The OTLP metrics request schema (collector/metrics/v1, metrics/v1), official field numbers;
// exemplars, exponential histograms and summaries are left undecoded (only their kind is kept).
const OTLP_METRICS_PROTO = `
syntax = "proto3";
package otlpmetrics;
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; string schema_url = 3; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; string schema_url = 3; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Metric {
  string name = 1; string description = 2; string unit = 3;
  oneof data { Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; Opaque exponential_histogram = 10; Opaque summary = 11; }
  repeated KeyValue metadata = 12;
}
message Opaque {}
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message NumberDataPoint {
  repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  oneof value { double as_double = 4; sfixed64 as_int = 6; } uint32 flags = 8;
}
message HistogramDataPoint {
  repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
  fixed64 count = 4; optional double sum = 5; repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7;
  uint32 flags = 10; optional double min = 11; optional double max = 12;
}
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
`;
const metricsRequestType = protobuf
  .parse(OTLP_METRICS_PROTO, { keepCase: false })
  .root.lookupType("otlpmetrics.ExportMetricsServiceRequest");

export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | Uint8Array
  | AttributeValue[]
  | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

const KINDS = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"] as const;
const STATUS = ["UNSET", "OK", "ERROR"] as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: (typeof KINDS)[number];
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  droppedAttributesCount: number;
  events: { name: string; timeUnixNano: bigint; attributes: Attributes }[];
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  status: { code: (typeof STATUS)[number]; message?: string };
  resource: Attributes;
  scope: { name: string; version?: string };
}

/** One data point: a sum's or gauge's value, or a histogram's count, sum and buckets. */
export interface ReceivedDataPoint {
  attributes: Attributes;
  value?: number;
  count?: number;
  sum?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
}

export interface ReceivedMetric {
  name: string;
  description: string;
  unit: string;
  kind: "gauge" | "sum" | "histogram" | "exponentialHistogram" | "summary" | "unknown";
  dataPoints: ReceivedDataPoint[];
  resource: Attributes;
  scope: { name: string; version?: string };
}

export interface ReceivedMetricsRequest {
  path: string;
  headers: IncomingHttpHeaders;
  encoding: "json" | "protobuf";
  metrics: ReceivedMetric[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  encoding: "json" | "protobuf";
  gzip: boolean;
  /** The body as it arrived (compressed when gzip). */
  rawBytes: Buffer;
  spans: ReceivedSpan[];
}

export type ReceiverBehaviour =
  | { kind: "ok" }
  | { kind: "status"; status: number; retryAfterSeconds?: number }
  | { kind: "hang" }
  | { kind: "destroy" };

export interface OtlpReceiver {
  /** `http://127.0.0.1:PORT`, no path. */
  url: string;
  requests: ReceivedRequest[];
  /** Requests that could not be decoded (answered 400). */
  failures: { path: string; error: string }[];
  spans(): ReceivedSpan[];
  waitForSpans(count: number, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** Metrics requests (`…/v1/metrics`), apart from the trace requests above. */
  metricRequests: ReceivedMetricsRequest[];
  metrics(): ReceivedMetric[];
  /** Resolves once a metric with this name has arrived. */
  waitForMetric(name: string, timeoutMs?: number): Promise<ReceivedMetric>;
  setBehaviour(behaviour: ReceiverBehaviour): void;
  /** Number of requests that arrived, decoded or not, whatever the behaviour. */
  hits: number;
  clear(): void;
  close(): Promise<void>;
}

// ── decoding ─────────────────────────────────────────────────────────────────────────────────

type Json = Record<string, unknown>;
const hex = (value: unknown): string =>
  value instanceof Uint8Array ? Buffer.from(value).toString("hex") : typeof value === "string" ? value : "";

function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" || typeof value === "string") return BigInt(value);
  if (value && typeof value === "object" && "low" in value && "high" in value) {
    const { low, high } = value as { low: number; high: number };
    return (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
  }
  return 0n;
}

function anyValue(value: unknown): AttributeValue {
  if (value === null || typeof value !== "object") return null;
  const v = value as Json;
  if (v.stringValue !== undefined) return v.stringValue as string;
  if (v.boolValue !== undefined) return v.boolValue as boolean;
  if (v.intValue !== undefined) return Number(toBigInt(v.intValue));
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) return (((v.arrayValue as Json).values as unknown[]) ?? []).map(anyValue);
  if (v.kvlistValue !== undefined) return attributes((v.kvlistValue as Json).values);
  if (v.bytesValue !== undefined)
    return v.bytesValue instanceof Uint8Array ? v.bytesValue : Buffer.from(String(v.bytesValue), "base64");
  return null;
}

function attributes(list: unknown): Attributes {
  const out: Attributes = {};
  for (const entry of (list as Json[] | undefined) ?? []) out[entry.key as string] = anyValue(entry.value);
  return out;
}

const kindOf = (value: unknown): ReceivedSpan["kind"] => KINDS[Number(value ?? 0)] ?? "UNSPECIFIED";

/** OTLP (as a plain object, from protobuf or JSON: both use camelCase field names here) → spans. */
function spansOf(request: Json): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of (request.resourceSpans as Json[] | undefined) ?? []) {
    const resource = attributes((resourceSpans.resource as Json | undefined)?.attributes);
    for (const scopeSpans of (resourceSpans.scopeSpans as Json[] | undefined) ?? []) {
      const scopeJson = (scopeSpans.scope as Json | undefined) ?? {};
      const scope = { name: String(scopeJson.name ?? ""), version: scopeJson.version as string | undefined };
      for (const span of (scopeSpans.spans as Json[] | undefined) ?? []) {
        const parent = hex(span.parentSpanId);
        const status = (span.status as Json | undefined) ?? {};
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: parent.length > 0 ? parent : undefined,
          name: String(span.name),
          kind: kindOf(span.kind),
          startTimeUnixNano: toBigInt(span.startTimeUnixNano),
          endTimeUnixNano: toBigInt(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          droppedAttributesCount: Number(span.droppedAttributesCount ?? 0),
          events: ((span.events as Json[] | undefined) ?? []).map((event) => ({
            name: String(event.name),
            timeUnixNano: toBigInt(event.timeUnixNano),
            attributes: attributes(event.attributes),
          })),
          links: ((span.links as Json[] | undefined) ?? []).map((link) => ({
            traceId: hex(link.traceId),
            spanId: hex(link.spanId),
            attributes: attributes(link.attributes),
          })),
          status: {
            code: STATUS[Number(status.code ?? 0)] ?? "UNSET",
            message:
              typeof status.message === "string" && status.message.length > 0 ? status.message : undefined,
          },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

export function decodeOtlpTraces(
  body: Buffer,
  contentType: string,
): { encoding: "json" | "protobuf"; spans: ReceivedSpan[] } {
  if (contentType.includes("application/x-protobuf")) {
    const message = requestType.decode(body);
    const plain = requestType.toObject(message, { longs: String, bytes: Buffer, defaults: false }) as Json;
    return { encoding: "protobuf", spans: spansOf(plain) };
  }
  if (contentType.includes("application/json"))
    return { encoding: "json", spans: spansOf(JSON.parse(body.toString("utf8")) as Json) };
  throw new Error(`unsupported content type "${contentType}"`);
}

const METRIC_KINDS = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const;

const numberOf = (value: unknown): number | undefined =>
  value === undefined || value === null ? undefined : Number(toBigInt(value));

function dataPoint(point: Json): ReceivedDataPoint {
  const out: ReceivedDataPoint = { attributes: attributes(point.attributes) };
  if (point.asDouble !== undefined) out.value = Number(point.asDouble);
  if (point.asInt !== undefined) out.value = numberOf(point.asInt);
  if (point.count !== undefined) out.count = numberOf(point.count);
  if (point.sum !== undefined) out.sum = Number(point.sum);
  if (point.bucketCounts !== undefined)
    out.bucketCounts = (point.bucketCounts as unknown[]).map((count) => numberOf(count) ?? 0);
  if (point.explicitBounds !== undefined)
    out.explicitBounds = (point.explicitBounds as unknown[]).map(Number);
  return out;
}

/** OTLP metrics (as a plain object, from protobuf or JSON) → metrics. */
function metricsOf(request: Json): ReceivedMetric[] {
  const out: ReceivedMetric[] = [];
  for (const resourceMetrics of (request.resourceMetrics as Json[] | undefined) ?? []) {
    const resource = attributes((resourceMetrics.resource as Json | undefined)?.attributes);
    for (const scopeMetrics of (resourceMetrics.scopeMetrics as Json[] | undefined) ?? []) {
      const scopeJson = (scopeMetrics.scope as Json | undefined) ?? {};
      const scope = { name: String(scopeJson.name ?? ""), version: scopeJson.version as string | undefined };
      for (const metric of (scopeMetrics.metrics as Json[] | undefined) ?? []) {
        const kind = METRIC_KINDS.find((name) => metric[name] !== undefined) ?? "unknown";
        const data = kind === "unknown" ? undefined : (metric[kind] as Json);
        out.push({
          name: String(metric.name),
          description: String(metric.description ?? ""),
          unit: String(metric.unit ?? ""),
          kind,
          dataPoints: ((data?.dataPoints as Json[] | undefined) ?? []).map(dataPoint),
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

export function decodeOtlpMetrics(
  body: Buffer,
  contentType: string,
): { encoding: "json" | "protobuf"; metrics: ReceivedMetric[] } {
  if (contentType.includes("application/x-protobuf")) {
    const message = metricsRequestType.decode(body);
    const plain = metricsRequestType.toObject(message, {
      longs: String,
      bytes: Buffer,
      defaults: false,
      oneofs: false,
    }) as Json;
    return { encoding: "protobuf", metrics: metricsOf(plain) };
  }
  if (contentType.includes("application/json"))
    return { encoding: "json", metrics: metricsOf(JSON.parse(body.toString("utf8")) as Json) };
  throw new Error(`unsupported content type "${contentType}"`);
}

// ── server ───────────────────────────────────────────────────────────────────────────────────

function answer(response: ServerResponse, status: number, encoding: "json" | "protobuf"): void {
  if (encoding === "json") {
    response
      .writeHead(status, { "content-type": "application/json" })
      .end(status === 200 ? "{}" : '{"message":"error"}');
  } else {
    response.writeHead(status, { "content-type": "application/x-protobuf" }).end();
  }
}

export async function startOtlpReceiver(
  options: { behaviour?: ReceiverBehaviour } = {},
): Promise<OtlpReceiver> {
  let behaviour: ReceiverBehaviour = options.behaviour ?? { kind: "ok" };
  const requests: ReceivedRequest[] = [];
  const metricRequests: ReceivedMetricsRequest[] = [];
  const failures: { path: string; error: string }[] = [];
  const waiters = new Set<() => void>();
  const state = { hits: 0 };

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      state.hits++;
      if (behaviour.kind === "hang") return;
      if (behaviour.kind === "destroy") {
        request.socket.destroy();
        return;
      }
      const contentType = String(request.headers["content-type"] ?? "");
      const encoding = contentType.includes("json") ? "json" : "protobuf";
      if (behaviour.kind === "status") {
        if (behaviour.retryAfterSeconds !== undefined)
          response.setHeader("retry-after", String(behaviour.retryAfterSeconds));
        answer(response, behaviour.status, encoding);
        return;
      }
      const rawBytes = Buffer.concat(chunks);
      const gzip = request.headers["content-encoding"] === "gzip";
      try {
        const body = gzip ? gunzipSync(rawBytes) : rawBytes;
        if (/\/v1\/metrics\/?$/.test(request.url ?? "")) {
          const decoded = decodeOtlpMetrics(body, contentType);
          metricRequests.push({
            path: request.url ?? "",
            headers: request.headers,
            encoding: decoded.encoding,
            metrics: decoded.metrics,
          });
          for (const wake of waiters) wake();
          answer(response, 200, encoding);
          return;
        }
        const decoded = decodeOtlpTraces(body, contentType);
        requests.push({
          method: request.method ?? "",
          path: request.url ?? "",
          headers: request.headers,
          encoding: decoded.encoding,
          gzip,
          rawBytes,
          spans: decoded.spans,
        });
        for (const wake of waiters) wake();
        answer(response, 200, encoding);
      } catch (error) {
        failures.push({ path: request.url ?? "", error: String(error) });
        answer(response, 400, encoding);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const spans = () => requests.flatMap((request) => request.spans);
  const metrics = () => metricRequests.flatMap((request) => request.metrics);

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failures,
    spans,
    metricRequests,
    metrics,
    get hits() {
      return state.hits;
    },
    setBehaviour(next) {
      behaviour = next;
    },
    clear() {
      requests.length = 0;
      metricRequests.length = 0;
      failures.length = 0;
      state.hits = 0;
    },
    waitForSpans(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (spans().length < count) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(spans());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected ${count} spans, received ${spans().length}; decode failures: ${JSON.stringify(failures)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    waitForMetric(name, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = metrics().find((metric) => metric.name === name);
          if (found === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `expected metric ${name}, received ${JSON.stringify(metrics().map((metric) => metric.name))}; decode failures: ${JSON.stringify(failures)}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
