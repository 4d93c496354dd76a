import { type Span, SpanStatusCode } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "./attributes.js";
import { boundText } from "./json.js";

/** `error.type`: the exception's class name, or `_OTHER` when it has none (semconv). */
export function errorType(error: unknown): string {
  try {
    if (error instanceof Error) {
      const name = error.constructor?.name;
      return name && name !== "Object" ? name : error.name || "_OTHER";
    }
    const name = (error as { name?: unknown } | null)?.name;
    if (typeof name === "string" && name.length > 0) return name;
  } catch {
    // An error object with throwing accessors still gets a type.
  }
  return "_OTHER";
}

/**
 * Characters kept of an error's message and stack on a span. An error can carry a whole payload
 * in its message; the span waiting for export must not.
 */
export const MAX_ERROR_CHARS = 8192;

function bounded(text: string): string {
  return boundText(text, MAX_ERROR_CHARS);
}

/** The error's message, at most MAX_ERROR_CHARS characters. */
export function errorMessage(error: unknown): string {
  try {
    if (error instanceof Error) return bounded(String(error.message));
    if (typeof error === "string") return bounded(error);
    const message = (error as { message?: unknown } | null)?.message;
    if (typeof message === "string") return bounded(message);
    return bounded(String(error));
  } catch {
    return "unknown error";
  }
}

const CANCELLATION_NAMES = new Set(["AbortError", "APIUserAbortError", "CanceledError", "CancelledError"]);
const CANCELLATION_MESSAGES = new Set([
  "Aborted",
  "AbortError",
  "This operation was aborted",
  "Request was aborted.",
  "Aborted by the caller",
  // LangGraph ends a graph whose signal fired, or whose stream was left, with new Error("Abort").
  "Abort",
]);

/** An AbortSignal fired (LangChain, fetch and the OpenAI SDK each have their own error for it). */
export function isCancellation(error: unknown): boolean {
  try {
    const name = (error as { name?: unknown } | null)?.name;
    if (typeof name === "string" && CANCELLATION_NAMES.has(name)) return true;
    const message = (error as { message?: unknown } | null)?.message;
    return typeof message === "string" && CANCELLATION_MESSAGES.has(message);
  } catch {
    return false;
  }
}

/** `error.type` of a cancelled run. */
export const CANCELLED = "cancelled";

/** `error.type` of a run that ended with this error, as spans and metrics give it. */
export function endErrorType(error: unknown): string {
  return isCancellation(error) ? CANCELLED : errorType(error);
}

/**
 * A cancelled run: status ERROR (OTel's only status with a message) saying it was cancelled,
 * `error.type` "cancelled", and no exception event: nothing broke.
 */
export function recordCancellation(span: Span, error: unknown): string {
  const message = `cancelled: ${errorMessage(error) || "aborted by the caller"}`;
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(ATTR_ERROR_TYPE, CANCELLED);
  return message;
}

/**
 * Marks a span failed. The exception event (with its stack) goes only on the span where the
 * error happened (`origin`); ancestors that fail with the same error get status and type only.
 */
export function recordError(span: Span, error: unknown, origin: boolean): void {
  const message = errorMessage(error);
  const type = errorType(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(ATTR_ERROR_TYPE, type);
  if (!origin) return;
  try {
    const stack = error instanceof Error ? error.stack : undefined;
    // An ordinary Error goes to the SDK as it is; one too long to keep goes as a bounded copy.
    const exception =
      error instanceof Error &&
      error.message === message &&
      (stack === undefined || stack.length <= MAX_ERROR_CHARS)
        ? error
        : { name: type, message, stack: stack === undefined ? undefined : bounded(stack) };
    span.recordException(exception);
  } catch {
    span.addEvent("exception", { "exception.type": type, "exception.message": message });
  }
}
