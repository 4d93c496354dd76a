import type { AttributeValue } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
  type SpanLimits,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { OpenTelemetryCallbackHandler } from "../../src/handler.js";
import type { OpenTelemetryCallbackHandlerOptions } from "../../src/options.js";

/** A real SDK pipeline: NodeTracerProvider → SimpleSpanProcessor → InMemorySpanExporter. */
export interface TestTracing {
  provider: NodeTracerProvider;
  exporter: InMemorySpanExporter;
  handler: OpenTelemetryCallbackHandler;
  spans(): ReadableSpan[];
  span(name: string): ReadableSpan;
  shutdown(): Promise<void>;
}

export function setupTestTracing(
  options: Omit<OpenTelemetryCallbackHandlerOptions, "tracerProvider"> = {},
  limits?: { spanLimits?: SpanLimits; sampler?: Sampler },
): TestTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)], ...limits });
  const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider, ...options });
  return {
    provider,
    exporter,
    handler,
    spans: () => exporter.getFinishedSpans(),
    span(name) {
      const matches = exporter.getFinishedSpans().filter((span) => span.name === name);
      if (matches.length !== 1) {
        const names = exporter.getFinishedSpans().map((span) => span.name);
        throw new Error(
          `expected one span named "${name}", found ${matches.length} among ${JSON.stringify(names)}`,
        );
      }
      return matches[0];
    },
    shutdown: () => provider.shutdown(),
  };
}

export const parentId = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
export const spanId = (span: ReadableSpan): string => span.spanContext().spanId;
export const traceId = (span: ReadableSpan): string => span.spanContext().traceId;

/** The children of `parent` among `spans`, in start order. */
export function childrenOf(spans: ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans
    .filter((span) => parentId(span) === spanId(parent))
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
}

/** The tree under `root` as nested names: ["root", [["child", []], …]], for readable deep-equal assertions. */
export type NameTree = [string, NameTree[]];
export function nameTree(spans: ReadableSpan[], root: ReadableSpan): NameTree {
  return [root.name, childrenOf(spans, root).map((child) => nameTree(spans, child))];
}

/** A JSON attribute, parsed (fails the test when it is not valid JSON). */
export function jsonAttribute(span: ReadableSpan, name: string): unknown {
  const value: AttributeValue | undefined = span.attributes[name];
  if (typeof value !== "string")
    throw new Error(`attribute ${name} is ${JSON.stringify(value)}, not a JSON string`);
  return JSON.parse(value);
}
