import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import { ConsoleWaterfallExporter } from "../src/export/waterfall.js";

/**
 * The console waterfall (what setupTracing prints by default) prints a trace when its local root
 * ends. A server span whose parent arrived in a `traceparent` header is the local root of a service
 * in another process, but not when the caller is in this process (the demo's order service): then
 * the trace waits for its own root, and prints once, whole.
 */
describe("setupTracing's console waterfall: server spans with a remote parent", () => {
  const printed: string[] = [];
  let provider: NodeTracerProvider;
  beforeEach(() => {
    printed.length = 0;
    provider = new NodeTracerProvider({
      spanProcessors: [
        new SimpleSpanProcessor(
          new ConsoleWaterfallExporter({ write: (text) => printed.push(text), color: false }),
        ),
      ],
    });
  });
  afterEach(() => provider.shutdown());

  /** The context a server builds from an incoming traceparent naming `client`. */
  const fromTheWire = (client: ReturnType<ReturnType<NodeTracerProvider["getTracer"]>["startSpan"]>) =>
    trace.setSpanContext(ROOT_CONTEXT, { ...client.spanContext(), isRemote: true });

  const aMoment = () => new Promise((resolve) => setTimeout(resolve, 150));

  it("an in-process callee's server span waits for the trace's root: one print, nested", async () => {
    const tracer = provider.getTracer("app");
    const request = tracer.startSpan("POST /api/chat", { kind: SpanKind.SERVER });
    const client = tracer.startSpan("GET", { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, request));
    tracer.startSpan("GET /orders/:id", { kind: SpanKind.SERVER }, fromTheWire(client)).end();
    client.end();
    await aMoment();
    expect(printed).to.deep.equal([]);
    request.end();
    await aMoment();
    expect(printed).to.have.length(1);
    const lines = printed[0].split("\n");
    expect(lines[1]).to.match(/^POST \/api\/chat\s/);
    expect(lines[2]).to.match(/^└─ GET\s/);
    expect(lines[3]).to.match(/^ {3}└─ GET \/orders\/:id\s/);
  });

  it("a service called from another process prints a moment after its server span ends", async () => {
    const tracer = provider.getTracer("service");
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
    const server = tracer.startSpan("GET /orders/:id", { kind: SpanKind.SERVER }, remote);
    tracer.startSpan("SELECT orders", {}, trace.setSpan(ROOT_CONTEXT, server)).end();
    expect(printed).to.deep.equal([]);
    server.end();
    await aMoment();
    expect(printed).to.have.length(1);
    expect(printed[0]).to.match(/GET \/orders\/:id[\s\S]*└─ SELECT orders/);
  });
});
