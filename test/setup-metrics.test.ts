import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { DiagLogLevel, diag, metrics } from "@opentelemetry/api";
import { expect } from "chai";
import { z } from "zod";
import { setupTracing, type TracingSetup } from "../src/export/setup.js";
import { ScriptedChatModel } from "./support/models.js";
import { type OtlpReceiver, startOtlpReceiver } from "./support/receiver.js";

const PUBLIC_KEY = "pk-lf-1234567890";
const SECRET_KEY = "sk-lf-secret-0987654321abcdef";

describe("setupTracing: metrics", () => {
  let receiver: OtlpReceiver;
  const saved = { ...process.env };
  const setups: TracingSetup[] = [];
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => receiver.close());
  beforeEach(() => {
    receiver.clear();
    for (const name of Object.keys(process.env)) {
      if (/^(OTEL_|LANGFUSE_)/.test(name)) delete process.env[name];
    }
  });
  afterEach(async () => {
    for (const setup of setups.splice(0)) await setup.shutdown();
    process.env = { ...saved };
  });
  const setUp = (options: Parameters<typeof setupTracing>[0]) => {
    const setup = setupTracing(options);
    setups.push(setup);
    return setup;
  };

  it("exports OTLP metrics (protobuf) next to the spans when OTEL_EXPORTER_OTLP_ENDPOINT is set", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const setup = setUp({ serviceName: "metrics-svc", register: false });
    expect(setup.meterProvider).not.to.equal(undefined);
    setup.meterProvider?.getMeter("t").createCounter("x").add(3, { kind: "test" });
    await setup.flush();
    const metric = await receiver.waitForMetric("x");
    expect(metric.kind).to.equal("sum");
    expect(metric.dataPoints[0]).to.deep.include({ value: 3, attributes: { kind: "test" } });
    expect(metric.resource["service.name"]).to.equal("metrics-svc");
    expect(receiver.metricRequests[0].path).to.equal("/v1/metrics");
    expect(receiver.metricRequests[0].encoding).to.equal("protobuf");
  });

  it("follows the metrics-specific endpoint and protocol variables (JSON), tracing to the console", async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/custom/v1/metrics`,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/json",
    });
    const setup = setUp({ register: false, console: { write: () => {} } });
    expect(setup.exporters).to.deep.equal(["console"]);
    const histogram = setup.meterProvider?.getMeter("t").createHistogram("latency", { unit: "s" });
    histogram?.record(0.25);
    histogram?.record(0.75);
    await setup.flush();
    const metric = await receiver.waitForMetric("latency");
    expect(metric.kind).to.equal("histogram");
    expect(metric.unit).to.equal("s");
    expect(metric.dataPoints[0]).to.deep.include({ count: 2, sum: 1 });
    expect(receiver.metricRequests[0].path).to.equal("/custom/v1/metrics");
    expect(receiver.metricRequests[0].encoding).to.equal("json");
  });

  it("shutdown() exports what flush() has not, and registers the meter provider globally only when none is", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const setup = setUp({ console: { write: () => {} } });
    expect(metrics.getMeterProvider()).to.equal(setup.meterProvider);
    metrics.getMeterProvider().getMeter("t").createCounter("at_shutdown").add(1);
    await setup.shutdown();
    await receiver.waitForMetric("at_shutdown");
    // Unregistered by shutdown(), so a later setup starts clean.
    expect(metrics.getMeterProvider()).not.to.equal(setup.meterProvider);
  });

  it("leaves a meter provider the application registered in place", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const first = setUp({ register: false, console: { write: () => {} } });
    metrics.setGlobalMeterProvider(first.meterProvider!);
    try {
      const second = setUp({ console: { write: () => {} } });
      expect(second.meterProvider).not.to.equal(undefined);
      expect(metrics.getMeterProvider()).to.equal(first.meterProvider);
      await second.shutdown();
      expect(metrics.getMeterProvider()).to.equal(first.meterProvider);
    } finally {
      metrics.disable();
    }
  });

  it("sets up no metrics for Langfuse alone, with metrics: false, or with OTEL_METRICS_EXPORTER=none", () => {
    Object.assign(process.env, { LANGFUSE_PUBLIC_KEY: PUBLIC_KEY, LANGFUSE_SECRET_KEY: SECRET_KEY });
    const langfuse = setUp({ register: false });
    expect(langfuse.exporters).to.deep.equal(["langfuse"]);
    expect(langfuse.meterProvider).to.equal(undefined);

    process.env = { ...process.env, LANGFUSE_PUBLIC_KEY: "", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    expect(setUp({ register: false, metrics: false }).meterProvider).to.equal(undefined);
    process.env.OTEL_METRICS_EXPORTER = "none";
    expect(setUp({ register: false }).meterProvider).to.equal(undefined);
    process.env.OTEL_METRICS_EXPORTER = "otlp";
    expect(setUp({ register: false }).meterProvider).not.to.equal(undefined);
  });

  it("hands metrics.exclude and metrics.cost to its handler: the metrics arrive over OTLP, the excluded ones not", async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    const setup = setUp({
      register: false,
      console: { write: () => {} },
      metrics: { exclude: ["gen_ai.client.token.usage", "gen_ai.execute_tool.duration"], cost: true },
      // ScriptedChatModel's gpt-test is in no price table: priced here, USD per million tokens.
      cost: { prices: { "gpt-test": { input: 1, output: 2 } } },
    });
    const lookup = tool(async ({ id }: { id: string }) => `order ${id}`, {
      name: "lookup",
      description: "Looks an order up",
      schema: z.object({ id: z.string() }),
    });
    await RunnableLambda.from(async (question: string, config) => {
      await new ScriptedChatModel([{ text: "on its way" }]).invoke(question, config);
      return lookup.invoke({ id: "A-1" }, config);
    }).invoke("where is A-1?", { callbacks: [setup.handler] });
    await setup.flush();
    await receiver.waitForMetric("gen_ai.client.operation.duration");
    // 120 input and 30 output tokens per ScriptedChatModel call.
    const cost = await receiver.waitForMetric("langchain_otel.client.cost");
    expect(cost.dataPoints[0].value).to.be.closeTo((120 * 1 + 30 * 2) / 1e6, 1e-12);
    const names = new Set(receiver.metrics().map((metric) => metric.name));
    expect(names.has("gen_ai.client.token.usage")).to.equal(false);
    expect(names.has("gen_ai.execute_tool.duration")).to.equal(false);
  });

  it("rejects a metrics protocol it cannot export, and a bad interval, at setup time", () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "grpc",
    });
    expect(() => setUp({ register: false })).to.throw(/"grpc" is not built in.*metrics: false/);
    delete process.env.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL;
    expect(() => setUp({ register: false, metrics: { exportIntervalMillis: 0 } })).to.throw(
      /exportIntervalMillis/,
    );
  });

  it("a metrics backend that fails says so once, not at every interval or flush; then that it works again", async () => {
    const lines: string[] = [];
    const log =
      (level: string) =>
      (...args: unknown[]) =>
        lines.push(`${level} ${args.map(String).join(" ")}`);
    diag.setLogger(
      { error: log("ERROR"), warn: log("WARN"), info: log("INFO"), debug: () => {}, verbose: () => {} },
      { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true },
    );
    receiver.setBehaviour({ kind: "status", status: 500 });
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
      const setup = setUp({
        register: false,
        console: { write: () => {} },
        metrics: { exportIntervalMillis: 100 },
      });
      setup.meterProvider?.getMeter("t").createCounter("failing").add(1);
      for (let i = 0; i < 4; i++) await setup.flush();
      await new Promise((resolve) => setTimeout(resolve, 350));
      // Errors and warnings: ours, once (the OTLP exporter's own INFO line per export is its own).
      const failures = lines.filter((line) => /^(ERROR|WARN) /.test(line));
      expect(failures, failures.join("\n")).to.have.length(1);
      expect(failures[0]).to.match(
        /^ERROR langchain-otel: exporting \d+ metrics to the OTLP metrics endpoint http:\/\/127\.0\.0\.1:\d+\/ failed/,
      );
      receiver.setBehaviour({ kind: "ok" });
      await setup.flush();
      expect(lines.filter((line) => /works again/.test(line))).to.have.length(1);
    } finally {
      diag.disable();
      receiver.setBehaviour({ kind: "ok" });
    }
  });

  it("flush() and shutdown() return within shutdownTimeoutMs when the metrics backend hangs", async () => {
    receiver.setBehaviour({ kind: "hang" });
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
      const setup = setUp({ register: false, shutdownTimeoutMs: 300, console: { write: () => {} } });
      setup.meterProvider?.getMeter("t").createCounter("stuck").add(1);
      const started = Date.now();
      await setup.flush();
      await setup.shutdown();
      expect(Date.now() - started).to.be.lessThan(2000);
    } finally {
      receiver.setBehaviour({ kind: "ok" });
    }
  });
});
