import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { installCommand, loadTraceSdk } from "../src/export/sdk.js";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { ScriptedChatModel } from "./support/models.js";
import { projectWith } from "./support/project.js";

/**
 * The OpenTelemetry SDK is an optional peer: an application with only `@opentelemetry/api` and
 * `@langchain/core` uses the handler, and `setupTracing()` / `langfuseExporter()` tell it the
 * `npm install` line for what they miss. Checked in a fresh project holding a copy of the built
 * package and only the packages each case has.
 */

const _root = join(import.meta.dirname, "..");

/** Runs `script` (CommonJS) in a project with the built package and only these packages. */
function runInProject(packages: string[], script: string, env: NodeJS.ProcessEnv = {}): string {
  const dir = projectWith(packages, "langchain-otel-peers-");
  try {
    const file = join(dir, "main.cjs");
    writeFileSync(file, script);
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    for (const name of Object.keys(childEnv)) {
      if (/^(LANGFUSE_|OTEL_)/.test(name) && !(name in env)) delete childEnv[name];
    }
    delete childEnv.NODE_OPTIONS;
    return execFileSync(process.execPath, [file], { cwd: dir, env: childEnv, encoding: "utf8" }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const errorOf = (call: string) => `
const lib = require("langchain-otel");
try { ${call}; console.log("no error"); } catch (error) { console.log(error.message); }
`;

const HANDLER_ONLY = ["@opentelemetry/api", "@langchain/core", "@pydantic/genai-prices"];
const TRACE_2X = [
  "@opentelemetry/sdk-trace-node",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/resources",
  "@opentelemetry/core",
  "@opentelemetry/context-async-hooks",
];

describe("the SDK as optional peers", function () {
  this.timeout(30_000);

  it("an app with only the API and @langchain/core traces with the handler and the waterfall", () => {
    const out = runInProject(
      HANDLER_ONLY,
      `
const lib = require("langchain-otel");
const { RunnableLambda } = require("@langchain/core/runnables");
const handler = new lib.OpenTelemetryCallbackHandler();
new lib.ConsoleWaterfallExporter({ write() {} });
RunnableLambda.from((x) => x + 1).invoke(1, { callbacks: [handler] }).then((value) => console.log(value));
`,
    );
    expect(out).to.equal("2");
  });

  it("setupTracing() names the npm install line of the SDK it misses (2.x, from the API version)", () => {
    const message = runInProject(HANDLER_ONLY, errorOf("lib.setupTracing()"));
    expect(message).to.include(
      "Install: npm install @opentelemetry/sdk-trace-node@^2 @opentelemetry/sdk-trace-base@^2 @opentelemetry/resources@^2 @opentelemetry/core@^2 @opentelemetry/context-async-hooks@^2",
    );
    expect(message).to.match(/^langchain-otel: setupTracing\(\) needs/);
  });

  it("setupTracing() with OTLP names only the exporters it misses, metrics included", () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9" };
    expect(runInProject(TRACE_2X.concat(HANDLER_ONLY), errorOf("lib.setupTracing()"), env)).to.match(
      / Install: npm install @opentelemetry\/exporter-trace-otlp-proto@\^0\.223 @opentelemetry\/sdk-metrics@\^2 @opentelemetry\/exporter-metrics-otlp-proto@\^0\.223$/,
    );
    expect(
      runInProject(TRACE_2X.concat(HANDLER_ONLY), errorOf("lib.setupTracing({ metrics: false })"), env),
    ).to.match(/ Install: npm install @opentelemetry\/exporter-trace-otlp-proto@\^0\.223$/);
  });

  it("setupTracing() with the console waterfall needs no exporter package", () => {
    const out = runInProject(
      TRACE_2X.concat(HANDLER_ONLY),
      errorOf("lib.setupTracing({ console: { write() {} } }).shutdown()"),
    );
    expect(out).to.equal("no error");
  });

  it("langfuseExporter() names the exporter package and its install line", () => {
    const call = 'lib.langfuseExporter({ publicKey: "pk-lf-1", secretKey: "sk-lf-1" })';
    expect(runInProject(HANDLER_ONLY, errorOf(call))).to.equal(
      'langchain-otel: langfuseExporter() needs the OpenTelemetry SDK package "@opentelemetry/exporter-trace-otlp-proto" (SDK 2.x line), which is not installed. Install: npm install @opentelemetry/exporter-trace-otlp-proto@^0.223',
    );
    const json = 'lib.langfuseExporter({ publicKey: "pk-lf-1", secretKey: "sk-lf-1", encoding: "json" })';
    expect(runInProject(HANDLER_ONLY, errorOf(json))).to.match(
      /npm install @opentelemetry\/exporter-trace-otlp-http@\^0\.223$/,
    );
  });

  it("LangChainContextManager without context-async-hooks names it with the version of the app's line", () => {
    expect(runInProject(HANDLER_ONLY, errorOf("new lib.LangChainContextManager()"))).to.equal(
      'langchain-otel: LangChainContextManager needs the package "@opentelemetry/context-async-hooks", which is not installed. Install it: npm install @opentelemetry/context-async-hooks@^2',
    );
  });

  it("an app on @vercel/otel's pieces (sdk-trace-base 2.x, which brings sdk-trace 2.x; no sdk-trace-node) is told the 2.x line", () => {
    const vercelOtel = [
      ...HANDLER_ONLY,
      "@opentelemetry/sdk-trace-base",
      "@opentelemetry/sdk-trace",
      "@opentelemetry/resources",
      "@opentelemetry/core",
    ];
    expect(runInProject(vercelOtel, errorOf("new lib.LangChainContextManager()"))).to.equal(
      'langchain-otel: LangChainContextManager needs the package "@opentelemetry/context-async-hooks", which is not installed. Install it: npm install @opentelemetry/context-async-hooks@^2',
    );
  });

  it("install lines pin each package to its line", () => {
    expect(installCommand(["sdk-trace", "core", "exporter-trace-otlp-proto"], "3.x")).to.equal(
      "npm install @opentelemetry/sdk-trace@^3 @opentelemetry/core@^3 @opentelemetry/exporter-trace-otlp-proto@^0.301",
    );
  });
});

describe("the 3.x trace path (TracerProvider and options-object processors of @opentelemetry/sdk-trace)", () => {
  // @opentelemetry/sdk-trace 2.12 has the 3.x constructors; compat/sdk3 runs the real 3.x line.
  it("builds a provider whose batch and simple processors export the handler's spans", async () => {
    const sdk = loadTraceSdk("test", "3.x");
    const batched = new InMemorySpanExporter();
    const simple = new InMemorySpanExporter();
    const provider = sdk.tracerProvider({ "service.name": "three" }, [
      sdk.batchProcessor(batched, { scheduledDelayMillis: 10 }),
      sdk.simpleProcessor(simple),
    ]);
    expect(provider.constructor.name).to.equal("TracerProvider");
    const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider });
    await new ScriptedChatModel([{ text: "hi" }]).invoke("hello", { callbacks: [handler] });
    await provider.forceFlush();
    expect(simple.getFinishedSpans().map((span) => span.name)).to.deep.equal(["chat gpt-test"]);
    expect(batched.getFinishedSpans().map((span) => span.name)).to.deep.equal(["chat gpt-test"]);
    expect(batched.getFinishedSpans()[0].resource.attributes["service.name"]).to.equal("three");
    await provider.shutdown();
  });
});
