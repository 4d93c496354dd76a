import type {
  Attributes,
  HrTime,
  Link,
  MeterProvider,
  SpanContext,
  SpanKind,
  SpanStatus,
  TracerProvider,
} from "@opentelemetry/api";

/**
 * The shapes of the OpenTelemetry SDK that our exporters and `setupTracing` exchange with it,
 * declared here rather than imported so that the package's types need only `@opentelemetry/api`:
 * the SDK is an optional peer, on either line (2.x: `sdk-trace-base`; 3.x: `sdk-trace`). Each
 * is the subset both lines agree on, so the SDK's own objects fit them and ours fit the SDK's.
 */

/** `ExportResultCode` of `@opentelemetry/core` (the same numbers on both lines). */
export const ExportResultCode = { SUCCESS: 0, FAILED: 1 } as const;

/** `ExportResult` of `@opentelemetry/core`. */
export interface ExportResult {
  code: number;
  error?: Error;
}

/** The finished span an exporter receives (`ReadableSpan`), as far as this package reads it. */
export interface ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly spanContext: () => SpanContext;
  readonly parentSpanContext?: SpanContext;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly links: Link[];
  readonly events: { name: string; time: HrTime; attributes?: Attributes }[];
  readonly ended: boolean;
}

/** A span exporter of either SDK line (`SpanExporter`). */
export interface SpanExporter {
  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/** Batch span processor settings, named as both SDK lines name them (2.x `BufferConfig`). */
export interface BufferConfig {
  /** Most spans per export. Default 512. */
  maxExportBatchSize?: number;
  /** Delay between two exports (ms). Default 5000. */
  scheduledDelayMillis?: number;
  /** How long one export may run (ms). Default 30000. */
  exportTimeoutMillis?: number;
  /** Most spans queued; past it spans are dropped. Default 2048. */
  maxQueueSize?: number;
}

/** The tracer provider `setupTracing` builds: a `NodeTracerProvider` (SDK 2.x) or a `TracerProvider` (3.x). */
export interface SdkTracerProvider extends TracerProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** The meter provider `setupTracing` builds: `MeterProvider` of `@opentelemetry/sdk-metrics`. */
export interface SdkMeterProvider extends MeterProvider {
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}
