import type { HrTime } from "@opentelemetry/api";
import { environment, hostProcess } from "../runtime.js";
import { type ExportResult, ExportResultCode, type ReadableSpan, type SpanExporter } from "./sdk-types.js";

/**
 * Prints each finished trace as an indented tree: what a developer sees locally with no tracing
 * backend. Spans are buffered per trace and printed when the trace's local root ends.
 */
export interface WaterfallExporterOptions {
  /** Where the text goes. Default: `process.stdout.write`; `console.log` where there is no stdout (a Worker). */
  write?: (text: string) => void;
  /** ANSI colours. Default: stdout is a TTY and `NO_COLOR` is unset. */
  color?: boolean;
  /** A trace whose root has not ended after this long (ms) is printed anyway. Default 30000. */
  maxTraceAgeMs?: number;
  /** Most traces buffered at once; past it the oldest is printed early. Default 1000. */
  maxTraces?: number;
}

const STATUS_ERROR = 2;
/** `[seconds, nanoseconds]` to milliseconds, as `hrTimeToMilliseconds` of `@opentelemetry/core` does. */
const hrTimeToMilliseconds = (time: HrTime): number => time[0] * 1e3 + time[1] / 1e6;
const MODEL_OPERATIONS = new Set(["chat", "text_completion", "generate_content", "embeddings"]);
const NAME_WIDTH = 48;
/** How long a trace whose local root has a remote parent waits for an in-process caller's span. */
const REMOTE_ROOT_GRACE_MS = 100;

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
const startOf = (span: ReadableSpan): number => hrTimeToMilliseconds(span.startTime);

function formatDuration(ms: number): string {
  return ms < 10_000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function fitWidth(text: string, width: number): string {
  return text.length <= width ? text.padEnd(width) : `${cut(text, width - 1)}…`;
}

function firstLine(text: string, max = 120): string {
  const line = text.split("\n", 1)[0];
  return line.length > max ? `${cut(line, max - 1)}…` : line;
}

/** The first `length` UTF-16 units, without splitting a surrogate pair (an emoji) in two. */
function cut(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}

/** Span data with its control characters (ANSI escapes, line breaks from model output) made visible. */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters replaced.
  return text.replace(/[\u0000-\u001f\u007f]/g, "�");
}

/** USD as a short string: enough digits for a fraction of a cent. */
function formatCost(usd: unknown): string | undefined {
  if (typeof usd !== "number" || !Number.isFinite(usd)) return undefined;
  if (usd >= 0.01) return `$${usd.toFixed(4)}`;
  if (usd >= 0.000001 || usd <= 0) return `$${usd.toFixed(6)}`;
  // Below a millionth (a short embeddings call): two significant digits, not "$0.000000".
  return `$${usd.toFixed(Math.min(10, Math.ceil(-Math.log10(usd)) + 1))}`;
}

/** `412 in (128 cached) / 38 out tokens`; just `92 in tokens` when there is no output count. */
function formatTokens(input: unknown, output: unknown, cached: unknown, reasoning: unknown): string {
  const inPart = `${input ?? "?"} in${cached ? ` (${cached} cached)` : ""}`;
  if (output === undefined) return `${inPart} tokens`;
  return `${inPart} / ${output} out${reasoning ? ` (${reasoning} reasoning)` : ""} tokens`;
}

/** The request's totals, on the outermost LangChain span: the trace's tokens and cost on one line. */
function requestTotals(a: ReadableSpan["attributes"]): string | undefined {
  const input = a["langchain_otel.request.input_tokens"];
  if (input === undefined) return undefined;
  // A request of one model call is that call's own line; one with no model call has no tokens to sum.
  const calls = a["langchain_otel.request.inference_calls"];
  const embeddings = a["langchain_otel.request.embeddings_calls"];
  const modelCalls =
    (typeof calls === "number" ? calls : 0) + (typeof embeddings === "number" ? embeddings : 0);
  if (
    modelCalls === 0 ||
    (modelCalls === 1 &&
      typeof a["gen_ai.operation.name"] === "string" &&
      MODEL_OPERATIONS.has(a["gen_ai.operation.name"]))
  )
    return undefined;
  const parts = [
    `request: ${formatTokens(input, a["langchain_otel.request.output_tokens"], a["langchain_otel.request.cache_read.input_tokens"], a["langchain_otel.request.reasoning.output_tokens"])}`,
  ];
  const cost = formatCost(a["langchain_otel.request.cost_usd"]);
  if (cost !== undefined)
    parts.push(a["langchain_otel.request.unpriced_calls"] ? `${cost} + unpriced calls` : cost);
  const tools = a["langchain_otel.request.tool_calls"];
  parts.push(
    [
      `${calls} model call${calls === 1 ? "" : "s"}`,
      embeddings === undefined ? undefined : `${embeddings} embeddings call${embeddings === 1 ? "" : "s"}`,
      `${tools} tool call${tools === 1 ? "" : "s"}`,
    ]
      .filter((part) => part !== undefined)
      .join(", "),
  );
  return parts.join(" · ");
}

/** The detail column: model, tokens, cost and finish reason for model spans; call id for tools; errors. */
function details(span: ReadableSpan): string {
  const a = span.attributes;
  const parts: string[] = [];
  const operation = a["gen_ai.operation.name"];
  if (typeof operation === "string" && MODEL_OPERATIONS.has(operation)) {
    const model = a["gen_ai.response.model"] ?? a["gen_ai.request.model"];
    if (model !== undefined) parts.push(String(model));
    const input = a["gen_ai.usage.input_tokens"];
    const output = a["gen_ai.usage.output_tokens"];
    if (input !== undefined || output !== undefined) {
      parts.push(
        formatTokens(
          input,
          output,
          a["gen_ai.usage.cache_read.input_tokens"],
          a["gen_ai.usage.reasoning.output_tokens"],
        ),
      );
    }
    const cost = formatCost(a["langchain_otel.cost_usd"]);
    if (cost !== undefined) parts.push(cost);
    const reasons = a["gen_ai.response.finish_reasons"];
    if (Array.isArray(reasons) && reasons.length > 0) parts.push(reasons.join(","));
    const ttfc = a["gen_ai.response.time_to_first_chunk"];
    if (typeof ttfc === "number") parts.push(`ttfc ${(ttfc * 1000).toFixed(0)} ms`);
  } else if (operation === "execute_tool") {
    const callId = a["gen_ai.tool.call.id"];
    if (callId !== undefined) parts.push(String(callId));
  } else if (typeof a["url.full"] === "string") {
    // An HTTP client span of another instrumentation: where it went and what came back.
    parts.push(httpTarget(a["url.full"], a["http.response.status_code"]));
  } else if (operation === "retrieval") {
    const documents = a["gen_ai.retrieval.documents"];
    if (typeof documents === "string") {
      try {
        const parsed: unknown = JSON.parse(documents);
        if (Array.isArray(parsed)) parts.push(`${parsed.length} document${parsed.length === 1 ? "" : "s"}`);
      } catch {
        // A cut value is not a list; show nothing rather than a wrong count.
      }
    }
  }
  const totals = requestTotals(a);
  if (totals !== undefined) parts.push(totals);
  const pause = span.events.find((event) => event.name === "langgraph.interrupt");
  if (pause !== undefined)
    parts.push(`paused (${String(pause.attributes?.["langgraph.interrupt.reason"] ?? "interrupt")})`);
  if (a["langgraph.resumed"] === true) {
    const from = span.links[0]?.context.traceId;
    parts.push(from ? `resumes trace ${from.slice(0, 16)}` : "resumed");
  }
  if (span.status.code === STATUS_ERROR) {
    const type = a["error.type"];
    parts.push(`ERROR ${type ? `${type}: ` : ""}${firstLine(span.status.message ?? "")}`.trim());
  }
  return parts.join(" · ");
}

/** `127.0.0.1:4000/v1/chat/completions → 200`: host and path, no query (it may carry a credential). */
function httpTarget(url: string, status: unknown): string {
  let target = url;
  try {
    const parsed = new URL(url);
    target = `${parsed.host}${parsed.pathname}`;
  } catch {
    target = url.split("?")[0];
  }
  return status === undefined ? target : `${target} → ${String(status)}`;
}

/** One trace's spans as text (no colour). Spans whose parent is missing become top-level lines. */
export function formatWaterfall(spans: ReadableSpan[], color = false): string {
  if (spans.length === 0) return "";
  const ids = new Set(spans.map(idOf));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const span of spans) {
    const parent = parentOf(span);
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    const list = children.get(key) ?? [];
    list.push(span);
    children.set(key, list);
  }
  for (const list of children.values()) list.sort((a, b) => startOf(a) - startOf(b));
  const roots = children.get(undefined) ?? [];
  const red = (text: string) => (color ? `\u001b[31m${text}\u001b[0m` : text);
  const dim = (text: string) => (color ? `\u001b[2m${text}\u001b[0m` : text);
  // Spans in a parent cycle reach no root: they are shown at the top level too.
  const reached = new Set<string>();
  const first = roots[0] ?? spans[0];
  const total = roots.reduce((max, root) => Math.max(max, hrTimeToMilliseconds(root.duration)), 0);
  const lines = [
    dim(
      `trace ${first.spanContext().traceId} · ${printable(firstLine(first.name))} · ${formatDuration(total)}`,
    ),
  ];
  // Depth-first with a stack of our own: a trace thousands of spans deep cannot overflow the call stack.
  const walk = (root: ReadableSpan) => {
    const stack: [ReadableSpan, string, string][] = [[root, "", ""]];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      const [span, prefix] = next;
      let guide = next[2];
      if (reached.has(idOf(span))) continue;
      reached.add(idOf(span));
      const failed = span.status.code === STATUS_ERROR;
      const label = fitWidth(`${prefix}${failed ? "✗ " : ""}${printable(span.name)}`, NAME_WIDTH);
      const duration = formatDuration(hrTimeToMilliseconds(span.duration)).padStart(10);
      const detail = printable(details(span));
      const line = `${label} ${duration}${detail ? `  ${detail}` : ""}`;
      lines.push(failed ? red(line) : line);
      const kids = children.get(idOf(span)) ?? [];
      // Guides past the name column are never shown: keep them no longer, however deep the trace.
      if (guide.length > NAME_WIDTH) guide = guide.slice(0, NAME_WIDTH);
      for (let index = kids.length - 1; index >= 0; index--) {
        const last = index === kids.length - 1;
        stack.push([kids[index], `${guide}${last ? "└─ " : "├─ "}`, `${guide}${last ? "   " : "│  "}`]);
      }
    }
  };
  for (const root of roots) walk(root);
  for (const span of spans) if (!reached.has(idOf(span))) walk(span);
  return `${lines.join("\n")}\n`;
}

/** True when every span of `spans` is `root` or descends from it through spans of `spans`. */
function allUnder(spans: ReadableSpan[], root: ReadableSpan): boolean {
  const byId = new Map(spans.map((span) => [idOf(span), span]));
  const rootId = idOf(root);
  return spans.every((span) => {
    let current: ReadableSpan | undefined = span;
    for (let depth = 0; current !== undefined && depth <= spans.length; depth++) {
      if (idOf(current) === rootId) return true;
      const parent = parentOf(current);
      current = parent === undefined ? undefined : byId.get(parent);
    }
    return false;
  });
}

/** Bad options are a TypeError naming the option, when the exporter is made. */
function checkOptions(options: WaterfallExporterOptions): void {
  const fail = (message: string) => new TypeError(`langchain-otel: ConsoleWaterfallExporter: ${message}`);
  if (typeof options !== "object" || options === null) throw fail("the options must be an object.");
  if (options.write !== undefined && typeof options.write !== "function")
    throw fail('option "write" must be a function (text: string) => void.');
  if (options.color !== undefined && typeof options.color !== "boolean")
    throw fail(`option "color" must be true or false, got ${String(options.color)}.`);
  for (const name of ["maxTraceAgeMs", "maxTraces"] as const) {
    const value = options[name];
    if (value !== undefined && (!Number.isInteger(value) || value <= 0))
      throw fail(`option "${name}" must be a positive integer, got ${String(value)}.`);
  }
}

interface BufferedTrace {
  spans: ReadableSpan[];
  firstSeen: number;
}

export class ConsoleWaterfallExporter implements SpanExporter {
  private readonly traces = new Map<string, BufferedTrace>();
  private readonly write: (text: string) => void;
  private readonly color: boolean;
  private readonly maxTraceAgeMs: number;
  private readonly maxTraces: number;
  private stopped = false;
  /** Traces whose local root has a remote parent, waiting to see whether the caller is local. */
  private readonly pending = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: WaterfallExporterOptions = {}) {
    checkOptions(options);
    const stdout = hostProcess()?.stdout;
    this.write =
      options.write ??
      (typeof stdout?.write === "function"
        ? (text) => process.stdout.write(text)
        : // No stdout (a Worker, an edge function): the runtime's console, a line per call.
          (text) => console.log(text.replace(/\n$/, "")));
    this.color = options.color ?? (stdout?.isTTY === true && environment().NO_COLOR === undefined);
    this.maxTraceAgeMs = options.maxTraceAgeMs ?? 30_000;
    this.maxTraces = options.maxTraces ?? 1000;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error("exporter is shut down") });
      return;
    }
    try {
      const now = Date.now();
      const ended = new Set<string>();
      const remoteRoots: ReadableSpan[] = [];
      for (const span of spans) {
        const traceId = span.spanContext().traceId;
        let trace = this.traces.get(traceId);
        if (trace === undefined) {
          trace = { spans: [], firstSeen: now };
          this.traces.set(traceId, trace);
        }
        trace.spans.push(span);
        if (parentOf(span) === undefined) ended.add(traceId);
        else if (span.parentSpanContext?.isRemote) remoteRoots.push(span);
      }
      for (const traceId of ended) this.print(traceId);
      for (const span of remoteRoots) this.awaitCaller(span);
      for (const [traceId, trace] of this.traces) {
        if (this.traces.size <= this.maxTraces && now - trace.firstSeen < this.maxTraceAgeMs) break;
        this.print(traceId);
      }
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  async forceFlush(): Promise<void> {
    for (const traceId of [...this.traces.keys()]) this.print(traceId);
  }

  async shutdown(): Promise<void> {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    await this.forceFlush();
    this.stopped = true;
  }

  /**
   * A span whose parent came over the wire (a server span) is the local root of a service in
   * another process, unless the caller runs in this one (a test service, the demo's order API):
   * then the caller's client span ends moments later, outside this span's subtree. So wait a
   * moment, and print the trace only if all of it still lies under this span; else the trace's own
   * root prints it, whole.
   */
  private awaitCaller(span: ReadableSpan): void {
    const traceId = span.spanContext().traceId;
    if (this.pending.has(traceId)) return;
    const timer = setTimeout(() => {
      this.pending.delete(traceId);
      const trace = this.traces.get(traceId);
      if (trace !== undefined && allUnder(trace.spans, span)) this.print(traceId);
    }, REMOTE_ROOT_GRACE_MS);
    timer.unref?.();
    this.pending.set(traceId, timer);
  }

  private print(traceId: string): void {
    const trace = this.traces.get(traceId);
    if (trace === undefined) return;
    this.traces.delete(traceId);
    clearTimeout(this.pending.get(traceId));
    this.pending.delete(traceId);
    this.write(formatWaterfall(trace.spans, this.color));
  }
}
