import { DiagLogLevel, diag, SpanKind, trace } from "@opentelemetry/api";
import { BatchSpanProcessor, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import { describe as describeExportError } from "../src/export/resilient.js";
import { pickExporter, setupTracing } from "../src/export/setup.js";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { langfuseExporter, resolveLangfuseEndpoint } from "../src/langfuse/exporter.js";
import { ScriptedChatModel } from "./support/models.js";
import { type OtlpReceiver, startOtlpReceiver } from "./support/receiver.js";

const PUBLIC_KEY = "pk-lf-1234567890";
const SECRET_KEY = "sk-lf-secret-0987654321abcdef";
const basicAuth = `Basic ${Buffer.from(`${PUBLIC_KEY}:${SECRET_KEY}`).toString("base64")}`;

async function traceOneCall(handler: OpenTelemetryCallbackHandler): Promise<void> {
  const model = new ScriptedChatModel([{ text: "hi there" }]);
  await model.invoke("hello", { callbacks: [handler] });
}

describe("an export failure's likely cause", () => {
  // OTLP's messages: Node's http transport, and the fetch transport of browsers and Workers.
  const cases: [string, Error, string][] = [
    [
      "Node, 401",
      Object.assign(new Error("Unauthorized"), { code: 401 }),
      "Unauthorized (401) (the backend refused the credentials: check the keys)",
    ],
    [
      "Node, 429",
      new Error("Export failed with retryable status"),
      "Export failed with retryable status (the backend throttles or is unavailable: 429, 502, 503 or 504)",
    ],
    [
      "Node, 500",
      Object.assign(new Error("Internal Server Error"), { code: 500 }),
      "Internal Server Error (500)",
    ],
    [
      "fetch, 401",
      new Error("Fetch request failed with non-retryable status 401"),
      "Fetch request failed with non-retryable status 401 (the backend refused the credentials: check the keys)",
    ],
    [
      "fetch, 400",
      new Error("Fetch request failed with non-retryable status 400"),
      "Fetch request failed with non-retryable status 400",
    ],
    [
      "fetch, 503",
      new Error("Fetch request failed with retryable status 503"),
      "Fetch request failed with retryable status 503 (the backend throttles or is unavailable: 429, 502, 503 or 504)",
    ],
  ];
  for (const [name, error, expected] of cases) {
    it(name, () => expect(describeExportError(error)).to.equal(expected));
  }
});

describe("langfuseExporter", () => {
  it("encodes the keys as Buffer does, without Buffer (a Worker without nodejs_compat has none)", () => {
    const [publicKey, secretKey] = ["pk-lf-ünïcode", "sk-lf-€ 秘密"];
    const { headers } = resolveLangfuseEndpoint(
      { publicKey, secretKey, baseUrl: "https://cloud.langfuse.com" },
      {},
    );
    expect(headers.Authorization).to.equal(
      `Basic ${Buffer.from(`${publicKey}:${secretKey}`).toString("base64")}`,
    );
  });

  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => receiver.close());
  beforeEach(() => {
    receiver.clear();
    receiver.setBehaviour({ kind: "ok" });
  });

  const variants = [
    { encoding: "protobuf", compression: "gzip" },
    { encoding: "protobuf", compression: "none" },
    { encoding: "json", compression: "gzip" },
    { encoding: "json", compression: "none" },
  ] as const;
  for (const variant of variants) {
    it(`sends ${variant.encoding} (${variant.compression}) with Basic auth and the ingestion version header`, async () => {
      const exporter = langfuseExporter({
        publicKey: PUBLIC_KEY,
        secretKey: SECRET_KEY,
        baseUrl: receiver.url,
        ...variant,
      });
      const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider });
      await traceOneCall(handler);
      await provider.forceFlush();
      const [span] = await receiver.waitForSpans(1);
      const [request] = receiver.requests;
      expect(request.path).to.equal("/api/public/otel/v1/traces");
      expect(request.headers.authorization).to.equal(basicAuth);
      expect(request.headers["x-langfuse-ingestion-version"]).to.equal("4");
      expect(request.encoding).to.equal(variant.encoding);
      expect(request.gzip).to.equal(variant.compression === "gzip");
      expect(span.name).to.equal("chat gpt-test");
      expect(span.kind).to.equal("CLIENT");
      expect(span.scope.name).to.equal("langchain-otel");
      expect(span.attributes).to.include({
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-test",
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.output_tokens": 30,
        "langfuse.observation.type": "generation",
      });
      expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
      await provider.shutdown();
    });
  }

  it("sends Langfuse none of the OTLP headers the environment holds for another backend", async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_HEADERS: "x-other-vendor=OTHER-KEY",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-trace-only=TRACE-KEY",
    });
    const exporter = langfuseExporter({
      publicKey: PUBLIC_KEY,
      secretKey: SECRET_KEY,
      baseUrl: receiver.url,
    });
    // Restored for whoever reads them next (the metrics exporter).
    expect(process.env.OTEL_EXPORTER_OTLP_HEADERS).to.equal("x-other-vendor=OTHER-KEY");
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    await traceOneCall(new OpenTelemetryCallbackHandler({ tracerProvider: provider }));
    await provider.forceFlush();
    await receiver.waitForSpans(1);
    const headers = receiver.requests[0].headers;
    expect(headers.authorization).to.equal(basicAuth);
    expect(headers).not.to.have.property("x-other-vendor");
    expect(headers).not.to.have.property("x-trace-only");
    await provider.shutdown();
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS;
  });

  it("an empty LANGFUSE_BASE_URL does not hide LANGFUSE_HOST; a region must be one of the regions", () => {
    const keys = { LANGFUSE_PUBLIC_KEY: PUBLIC_KEY, LANGFUSE_SECRET_KEY: SECRET_KEY };
    expect(
      resolveLangfuseEndpoint({}, { ...keys, LANGFUSE_BASE_URL: "", LANGFUSE_HOST: "https://lf.example" })
        .url,
    ).to.equal("https://lf.example/api/public/otel/v1/traces");
    expect(() => resolveLangfuseEndpoint({ region: "toString" as never }, keys)).to.throw(
      /unknown Langfuse region "toString"/,
    );
    // A base URL given with the OTel path on it: the path is not doubled.
    for (const baseUrl of [
      "https://lf.example/x/api/public/otel",
      "https://lf.example/x/api/public/otel/v1/traces/",
    ])
      expect(resolveLangfuseEndpoint({ baseUrl }, keys).url).to.equal(
        "https://lf.example/x/api/public/otel/v1/traces",
      );
    expect(() =>
      langfuseExporter({ publicKey: PUBLIC_KEY, secretKey: SECRET_KEY, compression: "brotli" as never }),
    ).to.throw(/"compression" must be "gzip" or "none", got "brotli"/);
  });

  it("reads keys and the base URL from the environment, with a self-hosted path prefix", () => {
    const env = {
      LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
      LANGFUSE_SECRET_KEY: SECRET_KEY,
      LANGFUSE_BASE_URL: "https://langfuse.internal.example/prefix/",
    };
    expect(resolveLangfuseEndpoint({}, env).url).to.equal(
      "https://langfuse.internal.example/prefix/api/public/otel/v1/traces",
    );
    expect(
      resolveLangfuseEndpoint(
        {},
        { ...env, LANGFUSE_BASE_URL: undefined, LANGFUSE_BASEURL: "http://localhost:3000" },
      ).url,
    ).to.equal("http://localhost:3000/api/public/otel/v1/traces");
    expect(
      resolveLangfuseEndpoint(
        {},
        { ...env, LANGFUSE_BASE_URL: undefined, LANGFUSE_HOST: "https://us.cloud.langfuse.com" },
      ).url,
    ).to.equal("https://us.cloud.langfuse.com/api/public/otel/v1/traces");
  });

  it("picks the Langfuse Cloud region, EU by default", () => {
    const keys = { publicKey: PUBLIC_KEY, secretKey: SECRET_KEY };
    expect(resolveLangfuseEndpoint(keys, {}).url).to.equal(
      "https://cloud.langfuse.com/api/public/otel/v1/traces",
    );
    expect(resolveLangfuseEndpoint({ ...keys, region: "us" }, {}).url).to.equal(
      "https://us.cloud.langfuse.com/api/public/otel/v1/traces",
    );
    expect(resolveLangfuseEndpoint({ ...keys, region: "jp" }, {}).url).to.equal(
      "https://jp.cloud.langfuse.com/api/public/otel/v1/traces",
    );
    expect(resolveLangfuseEndpoint({ ...keys, region: "hipaa" }, {}).url).to.equal(
      "https://hipaa.cloud.langfuse.com/api/public/otel/v1/traces",
    );
  });

  it("fails at construction naming the missing variables, never echoing a key", () => {
    const saved = { ...process.env };
    delete process.env.LANGFUSE_PUBLIC_KEY;
    delete process.env.LANGFUSE_SECRET_KEY;
    try {
      expect(() => langfuseExporter()).to.throw(/LANGFUSE_PUBLIC_KEY.*LANGFUSE_SECRET_KEY/);
      expect(() => langfuseExporter({ publicKey: PUBLIC_KEY })).to.throw(/missing: LANGFUSE_SECRET_KEY/);
      const swapped = (() => {
        try {
          langfuseExporter({ publicKey: SECRET_KEY, secretKey: PUBLIC_KEY });
        } catch (error) {
          return String(error);
        }
        return "";
      })();
      expect(swapped).to.match(/swapped/);
      expect(swapped).not.to.include(SECRET_KEY);
      expect(() =>
        langfuseExporter({ publicKey: PUBLIC_KEY, secretKey: SECRET_KEY, baseUrl: "not a url" }),
      ).to.throw(/LANGFUSE_BASE_URL/);
      expect(() =>
        langfuseExporter({ publicKey: PUBLIC_KEY, secretKey: SECRET_KEY, region: "mars" as never }),
      ).to.throw(/unknown Langfuse region/);
    } finally {
      process.env = saved;
    }
  });

  it("keeps the secret out of diagnostics when the backend rejects the keys", async () => {
    const logged: string[] = [];
    const record = (...args: unknown[]) =>
      logged.push(
        args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack}` : String(arg))).join(" "),
      );
    diag.setLogger(
      { error: record, warn: record, info: record, debug: record, verbose: record },
      DiagLogLevel.ALL,
    );
    try {
      receiver.setBehaviour({ kind: "status", status: 401 });
      const exporter = langfuseExporter({
        publicKey: PUBLIC_KEY,
        secretKey: SECRET_KEY,
        baseUrl: receiver.url,
      });
      const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
      await traceOneCall(new OpenTelemetryCallbackHandler({ tracerProvider: provider }));
      // The export fails (401): flushing reports it, which is what we want logged without the secret.
      await provider.forceFlush().catch((error: unknown) => record(error));
      await provider.shutdown().catch((error: unknown) => record(error));
    } finally {
      diag.disable();
    }
    expect(receiver.hits).to.be.greaterThan(0);
    expect(logged.join("\n")).not.to.include(SECRET_KEY);
    expect(logged.join("\n")).not.to.include(basicAuth.slice(6));
  });
});

describe("setupTracing", () => {
  let receiver: OtlpReceiver;
  const saved = { ...process.env };
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => receiver.close());
  beforeEach(() => receiver.clear());
  afterEach(() => {
    process.env = { ...saved };
  });

  it("picks Langfuse when its keys are set, else OTLP when an endpoint is set, else the console", () => {
    expect(
      pickExporter({
        LANGFUSE_PUBLIC_KEY: "pk",
        LANGFUSE_SECRET_KEY: "sk",
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://x",
      }),
    ).to.equal("langfuse");
    expect(pickExporter({ LANGFUSE_PUBLIC_KEY: "pk", OTEL_EXPORTER_OTLP_ENDPOINT: "http://x" })).to.equal(
      "otlp",
    );
    expect(pickExporter({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://x/v1/traces" })).to.equal("otlp");
    expect(pickExporter({})).to.equal("console");
  });

  it("exports to Langfuse from the environment, nested under the caller's request span", async () => {
    Object.assign(process.env, {
      LANGFUSE_PUBLIC_KEY: PUBLIC_KEY,
      LANGFUSE_SECRET_KEY: SECRET_KEY,
      LANGFUSE_BASE_URL: receiver.url,
      OTEL_SERVICE_NAME: "svc-from-env",
    });
    const setup = setupTracing({ batch: { scheduledDelayMillis: 10 } });
    expect(setup.exporters).to.deep.equal(["langfuse"]);
    await trace
      .getTracer("app")
      .startActiveSpan("POST /api/chat", { kind: SpanKind.SERVER }, async (request) => {
        await traceOneCall(setup.handler);
        request.end();
      });
    await setup.shutdown();
    const spans = await receiver.waitForSpans(2);
    const request = spans.find((span) => span.name === "POST /api/chat");
    const model = spans.find((span) => span.name === "chat gpt-test");
    expect(model?.parentSpanId).to.equal(request?.spanId);
    expect(model?.resource["service.name"]).to.equal("svc-from-env");
    expect(receiver.requests[0].headers["x-langfuse-ingestion-version"]).to.equal("4");
  });

  it("exports over plain OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (JSON when asked)", async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    const setup = setupTracing({ serviceName: "svc" });
    expect(setup.exporters).to.deep.equal(["otlp"]);
    await traceOneCall(setup.handler);
    await setup.shutdown();
    const [span] = await receiver.waitForSpans(1);
    expect(receiver.requests[0].path).to.equal("/v1/traces");
    expect(receiver.requests[0].encoding).to.equal("json");
    expect(span.resource["service.name"]).to.equal("svc");
  });

  it("prints the console waterfall when nothing else is configured", async () => {
    const printed: string[] = [];
    const setup = setupTracing({ console: { write: (text) => printed.push(text), color: false } });
    expect(setup.exporters).to.deep.equal(["console"]);
    await traceOneCall(setup.handler);
    await setup.shutdown();
    expect(printed.join("")).to.match(
      /chat gpt-test\s+\d+\.\d ms {2}gpt-test-2025-01-01 · 120 in \(20 cached\) \/ 30 out \(5 reasoning\) tokens · stop/,
    );
  });

  it("refuses to replace a registered provider, naming the fix", () => {
    const first = setupTracing({ exporter: "console", console: { write: () => {} } });
    try {
      expect(() => setupTracing()).to.throw(/already registered.*tracerProvider/);
    } finally {
      void first.shutdown();
    }
  });

  it("the resource follows OTEL_RESOURCE_ATTRIBUTES and carries the SDK's own attributes; options win", async () => {
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_RESOURCE_ATTRIBUTES:
        "service.name=from-attributes,service.version=1.2.3,deployment.environment.name=staging",
    });
    const resourceOf = async (options: Parameters<typeof setupTracing>[0]) => {
      receiver.clear();
      const setup = setupTracing({ register: false, ...options });
      await traceOneCall(setup.handler);
      await setup.shutdown();
      return (await receiver.waitForSpans(1))[0].resource;
    };
    expect(await resourceOf({})).to.deep.include({
      "service.name": "from-attributes",
      "service.version": "1.2.3",
      "deployment.environment.name": "staging",
      "telemetry.sdk.language": "nodejs",
      "telemetry.sdk.name": "opentelemetry",
    });
    expect(await resourceOf({ serviceName: "svc", environment: "prod" })).to.deep.include({
      "service.name": "svc",
      "service.version": "1.2.3",
      "deployment.environment.name": "prod",
    });
    process.env.OTEL_SERVICE_NAME = "from-service-name";
    expect((await resourceOf({}))["service.name"]).to.equal("from-service-name");
    delete process.env.OTEL_SERVICE_NAME;
    delete process.env.OTEL_RESOURCE_ATTRIBUTES;
    expect((await resourceOf({}))["service.name"]).to.equal("langchain-app");
  });

  it("a bad handler option throws before anything is registered: the corrected call works", async () => {
    const quiet = { console: { write: () => {} } };
    expect(() => setupTracing({ ...quiet, metrics: { exclude: ["nope" as never] } })).to.throw(
      /unknown metric "nope"/,
    );
    expect(() => setupTracing({ ...quiet, cost: { prices: { m: { input: -1, output: 0 } } } })).to.throw(
      /cost\.prices\["m"\]\.input/,
    );
    expect(() => setupTracing({ ...quiet, cost: false, metrics: { cost: true } })).to.throw(/cost: false/);
    const setup = setupTracing(quiet);
    await setup.shutdown();
  });

  it("Langfuse keys given as options pick Langfuse, as the same keys in the environment would", async () => {
    const setup = setupTracing({
      register: false,
      langfuse: { publicKey: PUBLIC_KEY, secretKey: SECRET_KEY, baseUrl: receiver.url },
    });
    expect(setup.exporters).to.deep.equal(["langfuse"]);
    await setup.shutdown();
  });

  it('rejects an environment Langfuse would file under "default", naming the fix', () => {
    const langfuse = {
      exporter: "langfuse" as const,
      register: false,
      langfuse: { publicKey: "pk-lf-1", secretKey: "sk-lf-1" },
    };
    expect(() => setupTracing({ ...langfuse, environment: "staging.eu west" })).to.throw(
      /at most 40 characters of a-z, 0-9, "_" and "-".*got "staging\.eu west"\. Pass e\.g\. environment: "production"/,
    );
    expect(() => setupTracing({ ...langfuse, environment: "x".repeat(41) })).to.throw(/at most 40/);
    // Case aside, and other backends take any value.
    void setupTracing({ ...langfuse, environment: "Production" }).shutdown();
    void setupTracing({
      exporter: "console",
      register: false,
      console: { write: () => {} },
      environment: "staging.eu west",
    }).shutdown();
  });

  it("rejects an OTLP endpoint that is not an http(s) URL, without echoing it; empty variables count as unset", () => {
    for (const endpoint of ["localhost:4318", "not a url", "ftp://user:S3CRET@host/"]) {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
      expect(() => setupTracing({ register: false })).to.throw(
        /not an http\(s\) URL; set it to e\.g\. http:\/\/localhost:4318/,
      );
      expect(() => setupTracing({ register: false })).not.to.throw(/S3CRET/);
    }
    // An empty per-signal protocol falls back to the general one.
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    });
    void setupTracing({ register: false, metrics: false }).shutdown();
  });

  it("rejects unknown exporters and protocols at setup time", () => {
    expect(() => setupTracing({ exporter: "zipkin" as never, register: false })).to.throw(
      /unknown exporter "zipkin"/,
    );
    Object.assign(process.env, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    });
    expect(() => setupTracing({ register: false })).to.throw(/grpc.*exporter-trace-otlp-grpc/);
  });

  it("shutdown() returns within its bound when the backend hangs", async () => {
    receiver.setBehaviour({ kind: "hang" });
    try {
      Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const setup = setupTracing({ shutdownTimeoutMs: 300, register: false });
      await traceOneCall(setup.handler);
      const started = Date.now();
      await setup.shutdown();
      expect(Date.now() - started).to.be.lessThan(2000);
    } finally {
      receiver.setBehaviour({ kind: "ok" });
    }
  });
});
