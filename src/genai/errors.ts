import { type Span, SpanStatusCode } from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "./attributes.js";

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

export function errorMessage(error: unknown): string {
  try {
    if (error instanceof Error) return error.message;
    if (typeof error === "string") return error;
    const message = (error as { message?: unknown } | null)?.message;
    if (typeof message === "string") return message;
    return String(error);
  } catch {
    return "unknown error";
  }
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
    const exception =
      error instanceof Error ? error : { name: type, message: typeof error === "string" ? error : message };
    span.recordException(exception);
  } catch {
    span.addEvent("exception", { "exception.type": type, "exception.message": message });
  }
}
