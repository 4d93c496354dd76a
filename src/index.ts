export { LangChainContextManager } from "./context/manager.js";
export { type TraceEmbeddingsOptions, traceEmbeddings } from "./embeddings.js";
export type {
  BufferConfig,
  ExportResult,
  ReadableSpan,
  SdkMeterProvider,
  SdkTracerProvider,
  SpanExporter,
} from "./export/sdk-types.js";
export {
  type ExporterChoice,
  pickExporter,
  type SetupMetricsOptions,
  type SetupTracingOptions,
  setupTracing,
  type TracingSetup,
} from "./export/setup.js";
export {
  ConsoleWaterfallExporter,
  formatWaterfall,
  type WaterfallExporterOptions,
} from "./export/waterfall.js";
export type { ContentMask } from "./genai/capture.js";
export type { GenAIMetricName } from "./genai/metrics.js";
export { OpenTelemetryCallbackHandler } from "./handler.js";
export {
  LANGFUSE_INGESTION_VERSION,
  LANGFUSE_TRACES_PATH,
  type LangfuseExporterOptions,
  type LangfuseRegion,
  langfuseExporter,
} from "./langfuse/exporter.js";
export type { CostOptions, MetricsOptions, OpenTelemetryCallbackHandlerOptions } from "./options.js";
export { SCOPE_NAME, VERSION } from "./version.js";
