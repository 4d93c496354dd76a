import { diag } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode, type ReadableSpan, type SpanExporter } from "./sdk-types.js";

/**
 * Wraps an exporter so that a backend that is down, rejects the keys or throttles produces one
 * clear diagnostic, not one per batch: the first failure is logged with its cause, later ones are
 * counted until an export succeeds again, which is logged too. The wrapped exporter's own retries
 * and timeouts are untouched; the batch processor's queue bound still drops spans rather than grow.
 */
export class FailureReportingExporter implements SpanExporter {
  private failing = false;
  private suppressed = 0;
  private dropped = 0;

  constructor(
    private readonly inner: SpanExporter,
    private readonly destination: string,
  ) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let settled = false;
    const done = (result: ExportResult) => {
      if (settled) return;
      settled = true;
      this.report(result, spans.length);
      // The failure is reported here once; telling the processor would log it again per batch.
      resultCallback({ code: ExportResultCode.SUCCESS });
    };
    try {
      this.inner.export(spans, done);
    } catch (error) {
      done({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  private report(result: ExportResult, count: number): void {
    if (result.code === ExportResultCode.SUCCESS) {
      if (this.failing) {
        diag.info(
          `langchain-otel: exporting to ${this.destination} works again; ${this.suppressed} more failed exports (${this.dropped} spans) were not logged`,
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
      `langchain-otel: exporting ${count} spans to ${this.destination} failed: ${describe(result.error)}. ` +
        "Spans are dropped while this lasts; further failures are not logged until an export succeeds.",
    );
  }
}

function describe(error: Error | undefined): string {
  if (error === undefined) return "unknown error";
  const code = (error as { code?: unknown }).code;
  return `${error.message || error.name}${code !== undefined ? ` (${String(code)})` : ""}`;
}
