import { diag } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode, type ReadableSpan, type SpanExporter } from "./sdk-types.js";

/**
 * The failures of one exporter, told once: the first failure is logged with its cause, later ones
 * are counted until an export succeeds again, which is logged too with what was not.
 */
class FailureLog {
  private failing = false;
  private suppressed = 0;
  private dropped = 0;

  /** @param what the exported items, plural ("spans", "metrics"). */
  constructor(
    private readonly destination: string,
    private readonly what: string,
  ) {}

  report(result: ExportResult, count: number): void {
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.failing) {
        diag.info(
          `langchain-otel: exporting to ${this.destination} works again; ${this.suppressed} failed exports after the one logged (${this.dropped} ${this.what} in all) were not logged`,
        );
      }
      this.failing = false;
      this.suppressed = 0;
      this.dropped = 0;
      return;
    }
    this.dropped += count;
    if (this.failing) {
      this.suppressed++;
      return;
    }
    this.failing = true;
    diag.error(
      `langchain-otel: exporting ${count} ${this.what} to ${this.destination} failed: ${describe(result.error)}. ` +
        `${capitalized(this.what)} are dropped while this lasts; further failures are not logged until an export succeeds.`,
    );
  }
}

/**
 * Wraps a span exporter so that a backend that is down, rejects the keys or throttles produces one
 * clear diagnostic, not one per batch. The wrapped exporter's own retries and timeouts are
 * untouched; the batch processor's queue bound still drops spans rather than grow.
 */
export class FailureReportingExporter implements SpanExporter {
  private readonly log: FailureLog;

  constructor(
    private readonly inner: SpanExporter,
    destination: string,
  ) {
    this.log = new FailureLog(destination, "spans");
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    exportOnce(this.log, spans.length, resultCallback, (done) => this.inner.export(spans, done));
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** The metric exporter interface, as far as the periodic reader uses it. */
export interface MetricExporterLike {
  export(metrics: unknown, resultCallback: (result: ExportResult) => void): void;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
  selectAggregationTemporality?(instrumentType: unknown): unknown;
  selectAggregation?(instrumentType: unknown): unknown;
}

/**
 * The same for a metric exporter: without it the periodic reader logs an error at every interval
 * (and at every `flush()`) while the backend is down. The temporality and aggregation the wrapped
 * exporter selects (from `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`) are kept.
 */
export class FailureReportingMetricExporter implements MetricExporterLike {
  private readonly log: FailureLog;
  readonly selectAggregationTemporality?: (instrumentType: unknown) => unknown;
  readonly selectAggregation?: (instrumentType: unknown) => unknown;

  constructor(
    private readonly inner: MetricExporterLike,
    destination: string,
  ) {
    this.log = new FailureLog(destination, "metrics");
    if (inner.selectAggregationTemporality !== undefined)
      this.selectAggregationTemporality = (type) => inner.selectAggregationTemporality?.(type);
    if (inner.selectAggregation !== undefined)
      this.selectAggregation = (type) => inner.selectAggregation?.(type);
  }

  export(metrics: unknown, resultCallback: (result: ExportResult) => void): void {
    exportOnce(this.log, metricCount(metrics), resultCallback, (done) => this.inner.export(metrics, done));
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** Runs one export, reports its outcome to `log`, and tells the caller success either way. */
function exportOnce(
  log: FailureLog,
  count: number,
  resultCallback: (result: ExportResult) => void,
  run: (done: (result: ExportResult) => void) => void,
): void {
  let settled = false;
  const done = (result: ExportResult) => {
    if (settled) return;
    settled = true;
    log.report(result, count);
    // The failure is reported here once; telling the processor or reader would log it again each time.
    resultCallback({ code: ExportResultCode.SUCCESS });
  };
  try {
    run(done);
  } catch (error) {
    done({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
  }
}

/** The number of metrics in a `ResourceMetrics`. */
function metricCount(metrics: unknown): number {
  let count = 0;
  const scopes = (metrics as { scopeMetrics?: { metrics?: unknown[] }[] } | undefined)?.scopeMetrics;
  if (Array.isArray(scopes)) for (const scope of scopes) count += scope.metrics?.length ?? 0;
  return count;
}

function capitalized(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** An export error in a line, with the likely cause where OTLP's own message does not name it. */
export function describe(error: Error | undefined): string {
  if (error === undefined) return "unknown error";
  const code = (error as { code?: unknown }).code;
  const message = error.message || error.name;
  return `${message}${code !== undefined ? ` (${String(code)})` : ""}${hint(message, code)}`;
}

// OTLP's exporters say "retryable status" (Node: 429, 502, 503, 504) or, with the fetch transport of
// browsers and Workers, "non-retryable status 401"; Node's gives the status as the error's code.
function hint(message: string, code: unknown): string {
  const status = /\bstatus (\d{3})\b/i.exec(message)?.[1] ?? String(code);
  if (status === "401" || status === "403") return " (the backend refused the credentials: check the keys)";
  if (/\bnon-retryable status\b/i.test(message)) return "";
  if (/\bretryable status\b/i.test(message))
    return " (the backend throttles or is unavailable: 429, 502, 503 or 504)";
  return "";
}
