import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { type ContextManager, context, propagation } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { LangChainContextManager } from "../../src/context/manager.js";
import { parentId, spanId } from "./tracing.js";

/**
 * Swaps the global context manager for the bridge (and back), registers the W3C propagator, and
 * turns on the real undici (fetch) instrumentation: the setup of an app that traces its HTTP calls.
 */
export function useContextBridge(inner?: () => ContextManager): {
  instrumentUndici(provider: NodeTracerProvider): void;
} {
  let undici: UndiciInstrumentation | undefined;
  before(() => {
    context.disable();
    context.setGlobalContextManager(new LangChainContextManager(inner?.()).enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterEach(() => undici?.disable());
  after(() => {
    propagation.disable();
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  return {
    instrumentUndici(provider) {
      undici?.disable();
      // Enabled on construction (constructed disabled, it ignores every request for good).
      undici = new UndiciInstrumentation();
      undici.setTracerProvider(provider);
    },
  };
}

/** An async-hooks context manager without `attach` (as API 1.9 managers are): the bridge marks with its own storage. */
export function withoutAttach(manager: ContextManager): ContextManager {
  return {
    active: () => manager.active(),
    with: (ctx, fn, thisArg, ...args) => manager.with(ctx, fn, thisArg, ...args),
    bind: (ctx, target) => manager.bind(ctx, target),
    enable() {
      manager.enable();
      return this;
    },
    disable() {
      manager.disable();
      return this;
    },
  };
}

/** A downstream service on 127.0.0.1 that records each request's path and headers. */
export interface Downstream {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startDownstream(): Promise<Downstream> {
  const requests: Downstream["requests"] = [];
  const server = createServer((request, response) => {
    requests.push({ path: request.url ?? "", headers: request.headers });
    request.resume();
    request.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end("ok"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The W3C traceparent header, split: {traceId, parentId}. */
export function traceparent(headers: IncomingHttpHeaders): { traceId: string; parentId: string } {
  const value = String(headers.traceparent ?? "");
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(value);
  if (match === null) throw new Error(`no W3C traceparent header: ${JSON.stringify(value)}`);
  return { traceId: match[1], parentId: match[2] };
}

/** The HTTP client spans undici made for requests whose URL contains `fragment`. */
export function httpSpans(spans: ReadableSpan[], fragment: string): ReadableSpan[] {
  return spans.filter((span) => String(span.attributes["url.full"] ?? "").includes(fragment));
}

/** The span's parent among `spans` (undefined when it has none there). */
export function parentOf(spans: ReadableSpan[], span: ReadableSpan): ReadableSpan | undefined {
  const id = parentId(span);
  return spans.find((candidate) => spanId(candidate) === id);
}
