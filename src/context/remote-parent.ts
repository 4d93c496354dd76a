import { type Context, context, isSpanContextValid, type SpanContext, trace } from "@opentelemetry/api";

/**
 * The context an outermost run starts in: the span active in the caller, or, when the run's
 * metadata carries a W3C `traceparent`, that span. The explicit parent is for where the active span
 * cannot reach the handler: a browser (sdk-trace-web's StackContextManager loses it across the
 * `await` before LangChain's start callback), a Worker without nodejs_compat (no
 * AsyncLocalStorage), or a job that received its caller's trace context in a message.
 */
export function rootParentContext(traceParent: string | undefined): Context {
  const active = context.active();
  if (traceParent === undefined) return active;
  const remote = parseTraceParent(traceParent);
  return remote === undefined ? active : trace.setSpanContext(active, remote);
}

// version-traceid-parentid-flags (W3C Trace Context, level 1); a later version may add fields.
const TRACE_PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** The span context a `traceparent` header value names, or undefined for one that is not valid. */
export function parseTraceParent(value: string): SpanContext | undefined {
  const match = TRACE_PARENT.exec(value.trim());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  const remote: SpanContext = {
    traceId: traceId as string,
    spanId: spanId as string,
    traceFlags: Number.parseInt(flags as string, 16) & 1,
    isRemote: true,
  };
  return isSpanContextValid(remote) ? remote : undefined;
}
