import { type Attributes, metrics } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  MetricReader,
} from "@opentelemetry/sdk-metrics";
import { expect } from "chai";
import {
  DURATION_BUCKETS,
  GenAIMetrics,
  type InferenceMetricRecord,
  MAX_CACHED_ATTRIBUTE_SETS,
  TOKEN_BUCKETS,
} from "../src/genai/metrics.js";
import { SCOPE_NAME, VERSION } from "../src/version.js";

/** A reader the test collects from when it wants: no timer, no exporter. */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function setup() {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ readers: [reader] });
  const genAIMetrics = new GenAIMetrics(provider);
  const collect = async (): Promise<Map<string, HistogramMetricData>> => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).to.deep.equal([]);
    const found = new Map<string, HistogramMetricData>();
    for (const scope of resourceMetrics.scopeMetrics) {
      expect(scope.scope.name).to.equal(SCOPE_NAME);
      expect(scope.scope.version).to.equal(VERSION);
      for (const metric of scope.metrics) {
        expect(metric.dataPointType).to.equal(DataPointType.HISTOGRAM);
        found.set(metric.descriptor.name, metric as HistogramMetricData);
      }
    }
    return found;
  };
  return { provider, genAIMetrics, collect };
}

/** Each data point as (attributes, count, sum). */
const points = (metric: HistogramMetricData | undefined) =>
  (metric?.dataPoints ?? []).map((point) => ({
    attributes: point.attributes,
    count: point.value.count,
    sum: point.value.sum,
  }));

const ALLOWED_ATTRIBUTES = new Set([
  "gen_ai.operation.name",
  "gen_ai.provider.name",
  "gen_ai.request.model",
  "gen_ai.response.model",
  "server.address",
  "server.port",
  "error.type",
  "gen_ai.token.type",
  "gen_ai.tool.name",
  "gen_ai.agent.name",
]);

const streamed: InferenceMetricRecord = {
  operation: "chat",
  provider: "openai",
  requestModel: "gpt-4o-mini",
  responseModel: "gpt-4o-mini-2024-07-18",
  serverAddress: "api.openai.com",
  serverPort: 443,
  durationS: 1.5,
  usage: { inputTokens: 1200, outputTokens: 80, cacheReadInputTokens: 1000, reasoningOutputTokens: 10 },
  timeToFirstChunkS: 0.3,
  chunkIntervalsS: [0.05, 0.1, 0.15],
};

const CALL_ATTRIBUTES: Attributes = {
  "gen_ai.operation.name": "chat",
  "gen_ai.provider.name": "openai",
  "gen_ai.request.model": "gpt-4o-mini",
  "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
  "server.address": "api.openai.com",
  "server.port": 443,
};

describe("GenAIMetrics", () => {
  it("creates the semconv instruments: names, units, bucket advice", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordInference(streamed);
    genAIMetrics.recordTool("search", 0.2);
    genAIMetrics.recordAgent("researcher", 3);
    const found = await collect();
    const expected: [string, string, readonly number[]][] = [
      ["gen_ai.client.token.usage", "{token}", TOKEN_BUCKETS],
      ["gen_ai.client.operation.duration", "s", DURATION_BUCKETS],
      ["gen_ai.client.operation.time_to_first_chunk", "s", DURATION_BUCKETS],
      ["gen_ai.client.operation.time_per_output_chunk", "s", DURATION_BUCKETS],
      ["gen_ai.execute_tool.duration", "s", DURATION_BUCKETS],
      ["gen_ai.invoke_agent.duration", "s", DURATION_BUCKETS],
    ];
    expect([...found.keys()].sort()).to.deep.equal(expected.map(([name]) => name).sort());
    for (const [name, unit, buckets] of expected) {
      const metric = found.get(name);
      expect(metric?.descriptor.unit, name).to.equal(unit);
      expect(metric?.dataPoints[0].value.buckets.boundaries, name).to.deep.equal([...buckets]);
    }
    expect(TOKEN_BUCKETS).to.deep.equal([
      1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
    ]);
    expect(DURATION_BUCKETS).to.deep.equal([
      0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    ]);
  });

  it("records a streamed call: tokens by type (billed totals), duration, first chunk, each later chunk", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordInference(streamed);
    const found = await collect();
    expect(points(found.get("gen_ai.client.token.usage"))).to.have.deep.members([
      { attributes: { ...CALL_ATTRIBUTES, "gen_ai.token.type": "input" }, count: 1, sum: 1200 },
      { attributes: { ...CALL_ATTRIBUTES, "gen_ai.token.type": "output" }, count: 1, sum: 80 },
    ]);
    expect(points(found.get("gen_ai.client.operation.duration"))).to.deep.equal([
      { attributes: CALL_ATTRIBUTES, count: 1, sum: 1.5 },
    ]);
    expect(points(found.get("gen_ai.client.operation.time_to_first_chunk"))).to.deep.equal([
      { attributes: CALL_ATTRIBUTES, count: 1, sum: 0.3 },
    ]);
    const perChunk = points(found.get("gen_ai.client.operation.time_per_output_chunk"));
    expect(perChunk).to.have.length(1);
    expect(perChunk[0].attributes).to.deep.equal(CALL_ATTRIBUTES);
    expect(perChunk[0].count).to.equal(3);
    expect(perChunk[0].sum).to.be.closeTo(0.3, 1e-12);
  });

  it("records no chunk metrics for a call that was not streamed, and no tokens it does not know", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordInference({
      operation: "text_completion",
      provider: "anthropic",
      requestModel: "claude-haiku-4-5",
      durationS: 0.8,
      usage: { outputTokens: 12 },
    });
    genAIMetrics.recordInference({ operation: "embeddings", provider: "openai", durationS: 0.1 });
    const found = await collect();
    expect(found.has("gen_ai.client.operation.time_to_first_chunk")).to.equal(false);
    expect(found.has("gen_ai.client.operation.time_per_output_chunk")).to.equal(false);
    expect(points(found.get("gen_ai.client.token.usage"))).to.deep.equal([
      {
        attributes: {
          "gen_ai.operation.name": "text_completion",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-haiku-4-5",
          "gen_ai.token.type": "output",
        },
        count: 1,
        sum: 12,
      },
    ]);
    expect(points(found.get("gen_ai.client.operation.duration"))).to.have.deep.members([
      {
        attributes: {
          "gen_ai.operation.name": "text_completion",
          "gen_ai.provider.name": "anthropic",
          "gen_ai.request.model": "claude-haiku-4-5",
        },
        count: 1,
        sum: 0.8,
      },
      {
        attributes: { "gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai" },
        count: 1,
        sum: 0.1,
      },
    ]);
  });

  it("a failed call carries error.type on its duration only", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordInference({ ...streamed, errorType: "RateLimitError", timeToFirstChunkS: undefined });
    genAIMetrics.recordInference({ ...streamed, errorType: "RateLimitError", chunkIntervalsS: undefined });
    genAIMetrics.recordInference({ ...streamed, errorType: "TimeoutError", usage: undefined });
    genAIMetrics.recordInference(streamed);
    const found = await collect();
    expect(points(found.get("gen_ai.client.operation.duration"))).to.have.deep.members([
      { attributes: { ...CALL_ATTRIBUTES, "error.type": "RateLimitError" }, count: 2, sum: 3 },
      { attributes: { ...CALL_ATTRIBUTES, "error.type": "TimeoutError" }, count: 1, sum: 1.5 },
      { attributes: CALL_ATTRIBUTES, count: 1, sum: 1.5 },
    ]);
    for (const name of [
      "gen_ai.client.token.usage",
      "gen_ai.client.operation.time_to_first_chunk",
      "gen_ai.client.operation.time_per_output_chunk",
    ]) {
      for (const point of points(found.get(name)))
        expect(point.attributes, name).to.not.have.property("error.type");
    }
  });

  it("the server port only with an address; empty names count as absent", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordInference({
      operation: "chat",
      provider: "",
      requestModel: "",
      serverPort: 8080,
      durationS: 1,
    });
    const found = await collect();
    expect(points(found.get("gen_ai.client.operation.duration"))).to.deep.equal([
      { attributes: { "gen_ai.operation.name": "chat" }, count: 1, sum: 1 },
    ]);
  });

  it("tool and agent durations carry their name and, on failure, error.type", async () => {
    const { genAIMetrics, collect } = await setup();
    genAIMetrics.recordTool("search", 0.25);
    genAIMetrics.recordTool("search", 0.75);
    genAIMetrics.recordTool("search", 1, "ToolException");
    genAIMetrics.recordAgent("researcher", 4);
    genAIMetrics.recordAgent("researcher", 2, "GraphRecursionError");
    const found = await collect();
    expect(points(found.get("gen_ai.execute_tool.duration"))).to.have.deep.members([
      {
        attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "search" },
        count: 2,
        sum: 1,
      },
      {
        attributes: {
          "gen_ai.operation.name": "execute_tool",
          "gen_ai.tool.name": "search",
          "error.type": "ToolException",
        },
        count: 1,
        sum: 1,
      },
    ]);
    expect(points(found.get("gen_ai.invoke_agent.duration"))).to.have.deep.members([
      {
        attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "researcher" },
        count: 1,
        sum: 4,
      },
      {
        attributes: {
          "gen_ai.operation.name": "invoke_agent",
          "gen_ai.agent.name": "researcher",
          "error.type": "GraphRecursionError",
        },
        count: 1,
        sum: 2,
      },
    ]);
  });

  it("never records an attribute outside the allowed sets (no user, session, conversation, run or thread id)", async () => {
    const { genAIMetrics, collect } = await setup();
    // Extra fields a careless caller might pass along are not read.
    const record = {
      ...streamed,
      userId: "u-1",
      sessionId: "s-1",
      conversationId: "c-1",
      runId: "r-1",
      threadId: "t-1",
    } as InferenceMetricRecord;
    genAIMetrics.recordInference(record);
    genAIMetrics.recordInference({ ...record, errorType: "Error" });
    genAIMetrics.recordTool("search", 1, "Error");
    genAIMetrics.recordAgent("agent", 1, "Error");
    const found = await collect();
    for (const [name, metric] of found) {
      for (const point of metric.dataPoints) {
        for (const key of Object.keys(point.attributes)) {
          expect(ALLOWED_ATTRIBUTES.has(key), `${name}: ${key}`).to.equal(true);
        }
      }
    }
  });

  it("token sums agree with the usage recorded over many calls", async () => {
    const { genAIMetrics, collect } = await setup();
    let input = 0;
    let output = 0;
    for (let i = 1; i <= 50; i++) {
      genAIMetrics.recordInference({ ...streamed, usage: { inputTokens: i * 10, outputTokens: i } });
      input += i * 10;
      output += i;
    }
    const tokens = points((await collect()).get("gen_ai.client.token.usage"));
    const byType = Object.fromEntries(tokens.map((point) => [point.attributes["gen_ai.token.type"], point]));
    expect(byType.input).to.include({ count: 50, sum: input });
    expect(byType.output).to.include({ count: 50, sum: output });
  });

  it(`keeps at most ${MAX_CACHED_ATTRIBUTE_SETS} attribute sets, and stays right past the bound`, async () => {
    const { genAIMetrics, collect } = await setup();
    for (let i = 0; i < MAX_CACHED_ATTRIBUTE_SETS + 50; i++) {
      genAIMetrics.recordInference({
        operation: "chat",
        provider: "openai",
        requestModel: `m-${i}`,
        durationS: 1,
      });
      genAIMetrics.recordTool(`tool-${i}`, 1);
    }
    const cache = (genAIMetrics as unknown as { callAttributes: Map<string, unknown> }).callAttributes;
    const tools = (genAIMetrics as unknown as { toolAttributes: Map<string, unknown> }).toolAttributes;
    expect(cache.size).to.equal(MAX_CACHED_ATTRIBUTE_SETS);
    expect(tools.size).to.equal(MAX_CACHED_ATTRIBUTE_SETS);
    genAIMetrics.recordInference({
      operation: "chat",
      provider: "openai",
      requestModel: "m-0",
      durationS: 1,
    });
    const durations = points((await collect()).get("gen_ai.client.operation.duration"));
    expect(durations).to.have.length(MAX_CACHED_ATTRIBUTE_SETS + 50);
    expect(durations.find((point) => point.attributes["gen_ai.request.model"] === "m-0")?.count).to.equal(2);
  });

  it("without a provider, follows the global meter provider, also one registered later", async () => {
    const genAIMetrics = new GenAIMetrics();
    genAIMetrics.recordTool("before", 1); // the no-op provider: dropped
    const reader = new CollectingReader();
    const provider = new MeterProvider({ readers: [reader] });
    expect(metrics.setGlobalMeterProvider(provider)).to.equal(true);
    try {
      genAIMetrics.recordTool("after", 1);
      const { resourceMetrics } = await reader.collect();
      const tool = resourceMetrics.scopeMetrics[0]?.metrics.find(
        (metric) => metric.descriptor.name === "gen_ai.execute_tool.duration",
      );
      expect(tool?.dataPoints.map((point) => point.attributes["gen_ai.tool.name"])).to.deep.equal(["after"]);
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });
});
