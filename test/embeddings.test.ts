import type { DocumentInterface } from "@langchain/core/documents";
import { Embeddings } from "@langchain/core/embeddings";
import { VectorStore } from "@langchain/core/vectorstores";
import { AzureOpenAIEmbeddings, OpenAIEmbeddings } from "@langchain/openai";
import { type Attributes, context, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import {
  AggregationTemporality,
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  type Sampler,
  SamplingDecision,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import {
  type ModelServer,
  type ScriptedEmbeddings,
  startModelServer,
  toyEmbedding,
} from "../examples/support/model-server.js";
import { LangChainContextManager } from "../src/context/manager.js";
import { traceEmbeddings } from "../src/embeddings.js";
import {
  readEmbeddingsModel,
  readEmbeddingsProvider,
  readEmbeddingsResult,
  readEmbeddingsServer,
  readEmbeddingsUsage,
} from "../src/langchain/embeddings.js";
import {
  jsonAttribute,
  parentId,
  setupTestTracing,
  spanId,
  type TestTracing,
  traceId,
} from "./support/tracing.js";

const MODEL = "text-embedding-3-small";

/** An in-process Embeddings whose calls the test decides (for what OpenAIEmbeddings cannot show). */
class InProcessEmbeddings extends Embeddings {
  constructor(private readonly behave: (texts: string[]) => Promise<number[][]>) {
    super({});
  }
  // Implemented through embedDocuments, as many integrations do.
  async embedQuery(text: string): Promise<number[]> {
    return (await this.embedDocuments([text]))[0];
  }
  embedDocuments(texts: string[]): Promise<number[][]> {
    return this.behave(texts);
  }
}

/** A minimal in-memory vector store: LangChain's VectorStoreRetriever calls embedQuery on every search. */
class InMemoryStore extends VectorStore {
  private entries: { vector: number[]; document: DocumentInterface }[] = [];

  _vectorstoreType(): string {
    return "in-memory";
  }

  async addVectors(vectors: number[][], documents: DocumentInterface[]): Promise<void> {
    for (const [i, vector] of vectors.entries()) this.entries.push({ vector, document: documents[i] });
  }

  async addDocuments(documents: DocumentInterface[]): Promise<void> {
    await this.addVectors(
      await this.embeddings.embedDocuments(documents.map((d) => d.pageContent)),
      documents,
    );
  }

  async similaritySearchVectorWithScore(query: number[], k: number): Promise<[DocumentInterface, number][]> {
    const dot = (a: number[]) => a.reduce((sum, value, i) => sum + value * query[i], 0);
    return this.entries
      .map(({ vector, document }): [DocumentInterface, number] => [document, dot(vector)])
      .sort((a, b) => b[1] - a[1])
      .slice(0, k);
  }
}

describe("traceEmbeddings: real OpenAIEmbeddings against the local server", () => {
  let server: ModelServer;
  let tracing: TestTracing;
  let script: ScriptedEmbeddings[] = [];

  before(async () => {
    server = await startModelServer({ embeddings: () => script.shift() ?? {} });
  });
  after(async () => server.close());
  beforeEach(() => {
    tracing = setupTestTracing();
    script = [];
    server.requests.length = 0;
  });
  afterEach(async () => tracing.shutdown());

  const port = () => Number(new URL(server.baseURL).port);
  const openai = (fields: ConstructorParameters<typeof OpenAIEmbeddings>[0] = {}) =>
    new OpenAIEmbeddings({
      model: MODEL,
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
      ...fields,
    });
  const traced = (fields?: ConstructorParameters<typeof OpenAIEmbeddings>[0], options = {}) =>
    traceEmbeddings(openai(fields), { tracerProvider: tracing.provider, ...options });

  it("embedQuery: an `embeddings {model}` CLIENT span with provider, model, dimension, usage and server", async () => {
    script = [{ promptTokens: 7 }];
    const vector = await traced().embedQuery("How long do refunds take?");
    // The call itself is untouched: the server's vector, decoded from base64 by the OpenAI SDK.
    expect(vector).to.deep.equal(Array.from(toyEmbedding("How long do refunds take?")));
    expect(server.requests[0].body.encoding_format).to.equal("base64");

    const span = tracing.span(`embeddings ${MODEL}`);
    expect(span.kind).to.equal(SpanKind.CLIENT);
    expect(span.attributes).to.include({
      "gen_ai.operation.name": "embeddings",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": MODEL,
      "gen_ai.embeddings.dimension.count": 1536,
      "gen_ai.usage.input_tokens": 7,
      "server.address": "127.0.0.1",
      "server.port": port(),
      "langfuse.observation.type": "embedding",
      "langfuse.observation.usage_details": '{"input":7,"total":7}',
    });
    // The SDK picked base64 on its own: no format was asked for, so none is recorded.
    expect(span.attributes).not.to.have.property("gen_ai.request.encoding_formats");
    expect(span.status.code).to.equal(SpanStatusCode.UNSET);
    expect(jsonAttribute(span, "langfuse.observation.input")).to.equal("How long do refunds take?");
    // The shape of the result, never the vectors.
    expect(jsonAttribute(span, "langfuse.observation.output")).to.deep.equal({
      vectors: 1,
      dimensions: 1536,
    });
  });

  it("reads the usage without a context manager too (an app that registered none)", async () => {
    context.disable();
    try {
      script = [{ promptTokens: 7 }];
      await traced().embedQuery("How long do refunds take?");
    } finally {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    }
    expect(tracing.span(`embeddings ${MODEL}`).attributes["gen_ai.usage.input_tokens"]).to.equal(7);
  });

  it("embedDocuments: one span for every batch, usage summed, requested format and dimensions", async () => {
    script = [{ promptTokens: 5 }, { promptTokens: 6 }];
    const texts = ["returns within 30 days", "refunds in 5 business days", "express shipping"];
    const embeddings = traced({ batchSize: 2, dimensions: 256, encodingFormat: "float" });
    const vectors = await embeddings.embedDocuments(texts);
    expect(vectors).to.have.length(3);
    expect(vectors[2]).to.deep.equal(Array.from(toyEmbedding("express shipping", 256)));
    expect(server.requests.map((request) => (request.body.input as string[]).length)).to.deep.equal([2, 1]);

    const span = tracing.span(`embeddings ${MODEL}`);
    expect(span.attributes).to.include({
      "gen_ai.operation.name": "embeddings",
      "gen_ai.embeddings.dimension.count": 256,
      "gen_ai.usage.input_tokens": 11,
    });
    expect(span.attributes["gen_ai.request.encoding_formats"]).to.deep.equal(["float"]);
    expect(jsonAttribute(span, "langfuse.observation.input")).to.deep.equal(texts);
    expect(jsonAttribute(span, "langfuse.observation.output")).to.deep.equal({ vectors: 3, dimensions: 256 });
  });

  it("concurrent calls on one instance: each span gets its own call's usage", async () => {
    const texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"];
    // The server reports as many tokens as the text has characters, and answers the longest first.
    const counting = await startModelServer({
      embeddings: (request) => ({
        promptTokens: request.input[0].length,
        delayMs: 10 - request.input[0].length,
      }),
    });
    try {
      const instance = traceEmbeddings(openai({ configuration: { baseURL: counting.baseURL } }), {
        tracerProvider: tracing.provider,
      });
      await Promise.all(texts.map((text) => instance.embedQuery(text)));
    } finally {
      await counting.close();
    }
    const spans = tracing.spans();
    expect(spans).to.have.length(texts.length);
    for (const span of spans) {
      const text = jsonAttribute(span, "langfuse.observation.input") as string;
      expect(span.attributes["gen_ai.usage.input_tokens"]).to.equal(text.length);
    }
  });

  it("metrics: operation duration (with error.type on failure) and input token usage", async () => {
    class CollectingReader extends MetricReader {
      constructor() {
        super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
      }
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    script = [{ promptTokens: 9 }, { status: 500 }];
    const embeddings = traced({}, { meterProvider });
    await embeddings.embedQuery("ok");
    await embeddings.embedQuery("fails").catch(() => undefined);
    const { resourceMetrics } = await reader.collect();
    const found = new Map<string, HistogramMetricData>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics) found.set(metric.descriptor.name, metric as HistogramMetricData);
    const base = {
      "gen_ai.operation.name": "embeddings",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": MODEL,
      "server.address": "127.0.0.1",
      "server.port": port(),
    };
    const duration = found.get("gen_ai.client.operation.duration")?.dataPoints ?? [];
    expect(duration.map((point) => [point.attributes, point.value.count])).to.deep.equal([
      [base, 1],
      [{ ...base, "error.type": "InternalServerError" }, 1],
    ]);
    const tokens = found.get("gen_ai.client.token.usage")?.dataPoints ?? [];
    expect(tokens.map((point) => [point.attributes, point.value.sum])).to.deep.equal([
      [{ ...base, "gen_ai.token.type": "input" }, 9],
    ]);
    await meterProvider.shutdown();
  });

  it("metrics: false records none; metrics.exclude leaves the named one out", async () => {
    class CollectingReader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const names = async (options: Parameters<typeof traced>[1]) => {
      const reader = new CollectingReader();
      const meterProvider = new MeterProvider({ readers: [reader] });
      script = [{ promptTokens: 9 }];
      await traced({}, { meterProvider, ...options }).embedQuery("ok");
      const { resourceMetrics } = await reader.collect();
      await meterProvider.shutdown();
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics.map((m) => m.descriptor.name));
    };
    expect(await names({})).to.have.members([
      "gen_ai.client.operation.duration",
      "gen_ai.client.token.usage",
    ]);
    expect(await names({ metrics: false })).to.deep.equal([]);
    expect(await names({ metrics: { exclude: ["gen_ai.client.token.usage"] } })).to.deep.equal([
      "gen_ai.client.operation.duration",
    ]);
  });

  it("cost: the table's price on the span ($0.02 per million input tokens), yours first, none when off", async () => {
    const costOf = async (options: Parameters<typeof traced>[1]) => {
      script = [{ promptTokens: 250_000 }];
      await traced({}, options).embedQuery("refunds");
      return tracing.spans().at(-1)?.attributes["langchain_otel.cost_usd"];
    };
    // text-embedding-3-small, as the table publishes it: $0.02 per million input tokens.
    expect(await costOf({})).to.be.closeTo(250_000 * (0.02 / 1e6), 1e-12);
    expect(await costOf({ cost: { prices: { [MODEL]: { input: 0.01, output: 0 } } } })).to.be.closeTo(
      250_000 * (0.01 / 1e6),
      1e-12,
    );
    expect(await costOf({ cost: false })).to.equal(undefined);
    const span = tracing.spans().at(-1);
    expect(span?.attributes).not.to.have.property("langfuse.observation.cost_details");
    // For Langfuse, only when asked.
    script = [{ promptTokens: 1000 }];
    await traced({}, { cost: { langfuse: [MODEL] } }).embedQuery("refunds");
    expect(tracing.spans().at(-1)?.attributes["langfuse.observation.cost_details"]).to.equal(
      JSON.stringify({ total: 1000 * (0.02 / 1e6) }),
    );
  });

  it("metrics.cost counts each priced call's cost, with the common attributes, sampled or not", async () => {
    class CollectingReader extends MetricReader {
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    script = [{ promptTokens: 500_000 }, { promptTokens: 100_000 }];
    await traced({}, { meterProvider, metrics: { cost: true } }).embedQuery("one");
    // A span the sampler drops: no span, the cost still counted.
    const droppedSpans = new InMemorySpanExporter();
    const dropped = new NodeTracerProvider({
      sampler: new AlwaysOffSampler(),
      spanProcessors: [new SimpleSpanProcessor(droppedSpans)],
    });
    await traceEmbeddings(openai(), {
      tracerProvider: dropped,
      meterProvider,
      metrics: { cost: true },
    }).embedQuery("two");
    expect(droppedSpans.getFinishedSpans()).to.have.length(0);
    await dropped.shutdown();
    expect(tracing.spans()).to.have.length(1);
    const { resourceMetrics } = await reader.collect();
    await meterProvider.shutdown();
    const cost = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .find((metric) => metric.descriptor.name === "langchain_otel.client.cost");
    expect(cost?.dataPoints.map((point) => point.attributes)).to.deep.equal([
      {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": port(),
      },
    ]);
    expect(cost?.dataPoints[0].value).to.be.closeTo(600_000 * (0.02 / 1e6), 1e-12);
  });

  it("the operation, provider, model and server are given to the sampler", async () => {
    const seen: Attributes[] = [];
    const sampler: Sampler = {
      shouldSample: (_context, _traceId, _name, _kind, attributes) => {
        seen.push({ ...attributes });
        return { decision: SamplingDecision.RECORD_AND_SAMPLED };
      },
      toString: () => "recording sampler",
    };
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    await traceEmbeddings(openai(), { tracerProvider: provider }).embedQuery("hello");
    expect(seen).to.deep.equal([
      {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": port(),
      },
    ]);
    await provider.shutdown();
  });

  it("is a child of the active span, and the SDK's HTTP request is a child of it", async () => {
    const undici = new UndiciInstrumentation();
    undici.setTracerProvider(tracing.provider);
    try {
      const embeddings = traced();
      const app = tracing.provider.getTracer("app");
      await app.startActiveSpan("search request", async (span) => {
        await embeddings.embedQuery("where is my parcel");
        span.end();
      });
    } finally {
      undici.disable();
    }
    const request = tracing.span("search request");
    const span = tracing.span(`embeddings ${MODEL}`);
    expect(parentId(span)).to.equal(spanId(request));
    const http = tracing.spans().filter((s) => s.kind === SpanKind.CLIENT && s !== span);
    expect(http).to.have.length(1);
    expect(parentId(http[0])).to.equal(spanId(span));
  });

  it("keeps the instance: same object, same class, other members untouched", async () => {
    const original = openai();
    const keys = Object.keys(original);
    const embeddings = traceEmbeddings(original, { tracerProvider: tracing.provider });
    expect(embeddings).to.equal(original);
    expect(embeddings).to.be.instanceOf(OpenAIEmbeddings);
    expect(embeddings).to.be.instanceOf(Embeddings);
    expect(Object.keys(embeddings)).to.deep.equal(keys);
    expect(embeddings.model).to.equal(MODEL);
    expect(embeddings.caller).to.exist;
    expect(await embeddings.embedQuery("a")).to.have.length(1536);
  });

  it("tracing twice does not wrap twice", async () => {
    const once = traced();
    const method = once.embedQuery;
    const twice = traceEmbeddings(once, { tracerProvider: tracing.provider });
    expect(twice).to.equal(once);
    expect(twice.embedQuery).to.equal(method);
    await twice.embedQuery("a");
    await twice.embedDocuments(["b", "c"]);
    expect(tracing.spans().map((span) => span.name)).to.deep.equal([
      `embeddings ${MODEL}`,
      `embeddings ${MODEL}`,
    ]);
  });

  it("a server error: recorded on the span (status, error.type, exception, Langfuse level) and rethrown", async () => {
    script = [{ status: 500 }];
    const embeddings = traced();
    const caught = await embeddings.embedQuery("boom").catch((error: unknown) => error);
    // What the untraced client throws for the same reply.
    script = [{ status: 500 }];
    const plain = await openai()
      .embedQuery("boom")
      .catch((error: unknown) => error);
    expect(caught).to.be.instanceOf(Error);
    expect((caught as Error).constructor).to.equal((plain as Error).constructor);
    expect((caught as Error).message).to.equal((plain as Error).message);

    const span = tracing.span(`embeddings ${MODEL}`);
    expect(span.status.code).to.equal(SpanStatusCode.ERROR);
    expect(span.status.message).to.equal((caught as Error).message);
    expect(span.attributes["error.type"]).to.equal((caught as Error).constructor.name);
    expect(span.attributes["langfuse.observation.level"]).to.equal("ERROR");
    expect(span.events.map((event) => event.name)).to.deep.equal(["exception"]);
    expect(span.attributes).not.to.have.property("gen_ai.embeddings.dimension.count");
    expect(span.attributes).not.to.have.property("langfuse.observation.output");
  });

  it("captureContent false: no input; the output's shape and the rest stay", async () => {
    await traced({}, { captureContent: false }).embedDocuments(["secret text"]);
    const span = tracing.span(`embeddings ${MODEL}`);
    expect(span.attributes).not.to.have.property("langfuse.observation.input");
    expect(span.attributes).to.include({ "langfuse.observation.type": "embedding" });
    expect(jsonAttribute(span, "langfuse.observation.output")).to.deep.equal({
      vectors: 1,
      dimensions: 1536,
    });
  });

  it("the input goes through the mask and the size limit", async () => {
    const embeddings = traced(
      {},
      { mask: (value: string) => value.replace(/\d/g, "#"), maxContentLength: 12 },
    );
    await embeddings.embedDocuments(["card 4242 4242 4242", "more"]);
    const span = tracing.span(`embeddings ${MODEL}`);
    const input = jsonAttribute(span, "langfuse.observation.input") as string[];
    expect(input[0]).to.match(/^card #### ##…\[truncated/);
    expect(span.attributes["langchain_otel.truncated"]).to.deep.equal(["langfuse.observation.input"]);
  });

  it("langfuseAttributes false: no langfuse.* attributes; `attributes` are added", async () => {
    await traced({}, { langfuseAttributes: false, attributes: { "app.tier": "search" } }).embedQuery("a");
    const span = tracing.span(`embeddings ${MODEL}`);
    expect(Object.keys(span.attributes).filter((key) => key.startsWith("langfuse."))).to.deep.equal([]);
    expect(span.attributes).to.include({ "app.tier": "search", "gen_ai.usage.input_tokens": 1 });
  });
});

describe("traceEmbeddings: any Embeddings", () => {
  let tracing: TestTracing;
  beforeEach(() => {
    tracing = setupTestTracing();
  });
  afterEach(async () => tracing.shutdown());

  it("rethrows the call's own error object unchanged", async () => {
    const thrown = new RangeError("quota exceeded");
    const embeddings = traceEmbeddings(new InProcessEmbeddings(() => Promise.reject(thrown)), {
      tracerProvider: tracing.provider,
    });
    const caught = await embeddings.embedDocuments(["a"]).catch((error: unknown) => error);
    expect(caught).to.equal(thrown);
    const span = tracing.span("embeddings");
    expect(span.attributes).to.include({ "error.type": "RangeError", "gen_ai.provider.name": "inprocess" });
  });

  it("an embedQuery built on this.embedDocuments is one span; the call runs inside it", async () => {
    let active: string | undefined;
    const embeddings = traceEmbeddings(
      new InProcessEmbeddings(async (texts) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        return texts.map(() => [0.6, 0.8]);
      }),
      { tracerProvider: tracing.provider },
    );
    expect(await embeddings.embedQuery("a")).to.deep.equal([0.6, 0.8]);
    const span = tracing.span("embeddings");
    expect(active).to.equal(spanId(span));
    expect(span.attributes["gen_ai.embeddings.dimension.count"]).to.equal(2);
    expect(jsonAttribute(span, "langfuse.observation.output")).to.deep.equal({ vectors: 1, dimensions: 2 });
  });

  it("a failing tracer never reaches the call", async () => {
    const broken = {
      startSpan() {
        throw new Error("tracer broke");
      },
      startActiveSpan() {
        throw new Error("tracer broke");
      },
    } as unknown as Tracer;
    const embeddings = traceEmbeddings(new InProcessEmbeddings(async (texts) => texts.map(() => [1])), {
      tracer: broken,
    });
    expect(await embeddings.embedDocuments(["a", "b"])).to.deep.equal([[1], [1]]);
  });

  it("invalid options and arguments throw at setup, naming the fix", () => {
    const embeddings = () => new InProcessEmbeddings(async () => []);
    const provider = tracing.provider;
    const cases: [() => unknown, RegExp][] = [
      [() => traceEmbeddings({} as Embeddings), /expects a LangChain Embeddings instance/],
      [() => traceEmbeddings(null as unknown as Embeddings), /got null/],
      [
        () => traceEmbeddings(embeddings(), { tracerProvider: provider, tracer: provider.getTracer("x") }),
        /either "tracer" or "tracerProvider"/,
      ],
      [() => traceEmbeddings(embeddings(), { tracerProvider: {} as never }), /TracerProvider/],
      [() => traceEmbeddings(embeddings(), { mask: "***" as never }), /"mask" must be a function/],
      [() => traceEmbeddings(embeddings(), { maxContentLength: 0 }), /positive integer.*Omit it/],
      [
        () => traceEmbeddings(embeddings(), { captureContent: "no" as never }),
        /"captureContent" must be true or false/,
      ],
      [() => traceEmbeddings(embeddings(), 5 as never), /options must be an object/],
      [
        () => traceEmbeddings(embeddings(), { metrics: { exclude: ["gen_ai.token.usage" as never] } }),
        /unknown metric "gen_ai\.token\.usage"; the metrics are: gen_ai\.client\.token\.usage/,
      ],
      [
        () => traceEmbeddings(embeddings(), { cost: false, metrics: { cost: true } }),
        /"metrics\.cost" counts the cost of each call, which "cost: false" turns off/,
      ],
      [() => traceEmbeddings(embeddings(), { cost: "yes" as never }), /"cost" must be true, false or/],
      [
        () => traceEmbeddings(embeddings(), { cost: { prices: { m: { input: -1, output: 0 } } } }),
        /cost\.prices\["m"\]\.input must be a non-negative number/,
      ],
      [() => traceEmbeddings(Object.freeze(embeddings())), /not frozen or sealed/],
    ];
    for (const [setup, message] of cases) {
      expect(setup).to.throw(TypeError, /^langchain-otel: traceEmbeddings: /);
      expect(setup).to.throw(message);
    }
  });
});

describe("traceEmbeddings: inside a retriever", () => {
  let server: ModelServer;
  let tracing: TestTracing;
  before(async () => {
    server = await startModelServer();
    // The context bridge, as setupTracing() registers it: a retriever's body runs in its span.
    context.disable();
    context.setGlobalContextManager(new LangChainContextManager().enable());
  });
  after(async () => {
    context.disable();
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    await server.close();
  });
  beforeEach(() => {
    tracing = setupTestTracing();
  });
  afterEach(async () => tracing.shutdown());

  /** A traced OpenAIEmbeddings against `baseURL`, its spans to `provider`. */
  const tracedOpenAI = (baseURL = server.baseURL, provider = tracing.provider) =>
    traceEmbeddings(
      new OpenAIEmbeddings({ model: MODEL, apiKey: "sk-test", configuration: { baseURL }, maxRetries: 0 }),
      { tracerProvider: provider },
    );

  it("a vector-store retriever's embedQuery span is in the retrieval's trace, under the retrieval span", async () => {
    const embeddings = tracedOpenAI();
    const store = new InMemoryStore(embeddings, {});
    await store.addDocuments([
      { pageContent: "Returns are accepted within 30 days of delivery.", metadata: { id: "returns" } },
      { pageContent: "Express shipping takes 1 to 2 business days.", metadata: { id: "shipping" } },
    ]);
    const documents = await store.asRetriever(1).invoke("can I return it?", { callbacks: [tracing.handler] });
    expect(documents.map((document) => document.metadata.id)).to.deep.equal(["returns"]);

    const [indexing, search] = tracing.spans().filter((span) => span.name === `embeddings ${MODEL}`);
    const retrieval = tracing.span("retrieval VectorStoreRetriever");
    expect(parentId(indexing)).to.equal(undefined);
    expect(traceId(search)).to.equal(traceId(retrieval));
    // This one needs the context bridge (LangChainContextManager, registered above): LangChain
    // does not make the retriever's span active while `_getRelevantDocuments` runs; the bridge does.
    expect(parentId(search)).to.equal(spanId(retrieval));
  });

  it("carries the request's user, session, tags and trace name, as Langfuse reads them from each span", async () => {
    const identified = setupTestTracing({
      userId: "u-1",
      sessionId: "s-1",
      tags: ["rag"],
      traceName: "search",
    });
    try {
      const embeddings = tracedOpenAI(server.baseURL, identified.provider);
      const store = new InMemoryStore(embeddings, {});
      await store.addDocuments([{ pageContent: "Returns within 30 days.", metadata: { id: "returns" } }]);
      await store.asRetriever(1).invoke("return?", { callbacks: [identified.handler] });
      const [indexing, search] = identified.spans().filter((span) => span.name === `embeddings ${MODEL}`);
      expect(search.attributes).to.deep.include({
        "user.id": "u-1",
        "session.id": "s-1",
        "langfuse.trace.name": "search",
      });
      // The handler's tags, with the retriever's own (the trace's, as on every span of it).
      expect(search.attributes["langfuse.trace.tags"]).to.deep.equal(
        identified.span("retrieval VectorStoreRetriever").attributes["langfuse.trace.tags"],
      );
      expect(search.attributes["langfuse.trace.tags"]).to.include("rag");
      // Outside any run there is no request to belong to.
      expect(indexing.attributes).not.to.have.property("user.id");
    } finally {
      await identified.shutdown();
    }
  });

  it("counts in the request's totals: tokens, cost and one embeddings call; the indexing outside any run does not", async () => {
    const scripted = await startModelServer({
      embeddings: (request) => ({ promptTokens: request.input.length === 1 ? 40_000 : 999 }),
    });
    try {
      const embeddings = tracedOpenAI(scripted.baseURL);
      const store = new InMemoryStore(embeddings, {});
      await store.addDocuments([
        { pageContent: "Returns are accepted within 30 days.", metadata: { id: "returns" } },
        { pageContent: "Express shipping takes 2 days.", metadata: { id: "shipping" } },
      ]);
      await store.asRetriever(1).invoke("can I return it?", { callbacks: [tracing.handler] });
    } finally {
      await scripted.close();
    }
    const retrieval = tracing.span("retrieval VectorStoreRetriever");
    expect(retrieval.attributes).to.include({
      "langchain_otel.request.input_tokens": 40_000,
      "langchain_otel.request.output_tokens": 0,
      "langchain_otel.request.embeddings_calls": 1,
      "langchain_otel.request.inference_calls": 0,
      "langchain_otel.request.tool_calls": 0,
    });
    expect(retrieval.attributes["langchain_otel.request.cost_usd"]).to.be.closeTo(
      40_000 * (0.02 / 1e6),
      1e-12,
    );
    expect(retrieval.attributes).not.to.have.property("langchain_otel.request.unpriced_calls");
  });
});

describe("reading Embeddings instances", () => {
  const config = { apiKey: "sk-test", configuration: { baseURL: "https://llm.internal:8443/v1" } };

  it("provider: from the class chain", () => {
    class MyEmbeddings extends OpenAIEmbeddings {}
    class OllamaEmbeddings extends InProcessEmbeddings {}
    const azure = new AzureOpenAIEmbeddings({
      azureOpenAIApiKey: "key",
      azureOpenAIApiInstanceName: "contoso",
      azureOpenAIApiDeploymentName: "embed-prod",
      azureOpenAIApiVersion: "2024-10-21",
    });
    const cases: [object, string | undefined][] = [
      [new OpenAIEmbeddings(config), "openai"],
      [azure, "azure.ai.openai"],
      [new MyEmbeddings(config), "openai"],
      [new OllamaEmbeddings(async () => []), "ollama"],
      [{ embedQuery() {}, embedDocuments() {} }, undefined],
    ];
    // Integrations of other packages, by their class names.
    const named = (name: string) =>
      new ({ [name]: class extends InProcessEmbeddings {} })[name](async () => []);
    for (const [name, provider] of [
      ["BedrockEmbeddings", "aws.bedrock"],
      ["CohereEmbeddings", "cohere"],
      ["MistralAIEmbeddings", "mistral_ai"],
      ["VertexAIEmbeddings", "gcp.vertex_ai"],
      ["GoogleGenerativeAIEmbeddings", "gcp.gemini"],
      ["HuggingFaceInferenceEmbeddings", "huggingfaceinference"],
    ]) {
      cases.push([named(name), provider]);
    }
    for (const [instance, provider] of cases) expect(readEmbeddingsProvider(instance)).to.equal(provider);
    expect(readEmbeddingsServer(azure)).to.deep.equal({ address: "contoso.openai.azure.com", port: 443 });
    expect(readEmbeddingsModel(azure)).to.equal("text-embedding-ada-002");
  });

  it("server: the configured base URL, with the scheme's default port", () => {
    expect(readEmbeddingsServer(new OpenAIEmbeddings(config))).to.deep.equal({
      address: "llm.internal",
      port: 8443,
    });
    expect(
      readEmbeddingsServer(
        new OpenAIEmbeddings({ apiKey: "k", configuration: { baseURL: "https://api.example.com/v1" } }),
      ),
    ).to.deep.equal({ address: "api.example.com", port: 443 });
    expect(readEmbeddingsServer({ baseUrl: "http://[::1]:11434" })).to.deep.equal({
      address: "::1",
      port: 11434,
    });
    expect(readEmbeddingsServer({ baseUrl: "not a url" })).to.equal(undefined);
  });

  it("result: count, and the dimension when the vectors agree", () => {
    const cases: [unknown, boolean, unknown][] = [
      [[0.1, 0.2, 0.3], true, { count: 1, dimensions: 3 }],
      [new Float32Array(4), true, { count: 1, dimensions: 4 }],
      ["base64string", true, { count: 1 }],
      [
        [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        false,
        { count: 3, dimensions: 2 },
      ],
      [[[1, 2], [3]], false, { count: 2 }],
      [[], false, { count: 0 }],
      [undefined, false, undefined],
    ];
    for (const [output, single, result] of cases)
      expect(readEmbeddingsResult(output, single)).to.deep.equal(result);
  });

  it("usage: the OpenAI response's prompt tokens", () => {
    expect(readEmbeddingsUsage({ usage: { prompt_tokens: 12, total_tokens: 12 } })).to.equal(12);
    expect(readEmbeddingsUsage({ usage: { prompt_tokens: -1 } })).to.equal(undefined);
    expect(readEmbeddingsUsage({ data: [] })).to.equal(undefined);
    expect(readEmbeddingsUsage(undefined)).to.equal(undefined);
  });
});
