import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { nodeFileTrace } from "@vercel/nft";
import { expect } from "chai";
import { build } from "esbuild";
import webpack from "webpack";
import { type ModelServer, startModelServer } from "../examples/support/model-server.js";
import { projectWith } from "./support/project.js";
import { type OtlpReceiver, startOtlpReceiver } from "./support/receiver.js";

/**
 * Serverless apps are bundled (AWS CDK's NodejsFunction and Netlify run esbuild, Next.js webpack)
 * and deployed without node_modules. The SDK and the price table load only when they are needed,
 * so each is named by a literal specifier that bundlers follow (src/optional-modules.cts): a bundle
 * of an app that calls setupTracing() must hold the exporter, and its model calls a price.
 */

const _root = join(import.meta.dirname, "..");
const run = promisify(execFile);

const APP_PACKAGES = [
  "@langchain/core",
  "@langchain/openai",
  "@opentelemetry/api",
  "@pydantic/genai-prices",
  "@opentelemetry/sdk-trace-node",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/resources",
  "@opentelemetry/core",
  "@opentelemetry/context-async-hooks",
  "@opentelemetry/sdk-metrics",
  "@opentelemetry/exporter-trace-otlp-proto",
  "@opentelemetry/exporter-metrics-otlp-proto",
];

// The app a user writes: setupTracing() from the environment, one priced model call, shutdown.
// No top-level await: esbuild's CommonJS output (what AWS CDK deploys) cannot hold it.
const APP = `
import { ChatOpenAI } from "@langchain/openai";
import { setupTracing } from "langchain-otel";

async function main() {
  const { handler, shutdown } = setupTracing({ serviceName: "bundled-app" });
  try {
    const model = new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: process.env.MODEL_BASE_URL },
      maxRetries: 0,
    });
    const answer = await model.invoke("Where is my order?", { callbacks: [handler] });
    console.log("answered:", typeof answer.content);
  } finally {
    await shutdown();
  }
}
main().catch((error) => {
  console.error(error.message);
  process.exitCode = 1;
});
`;

/** A project holding a copy of the built package, the app and these packages. */
function makeProject(packages: string[]): string {
  const dir = projectWith(packages, "langchain-otel-bundle-");
  writeFileSync(join(dir, "app.mjs"), APP);
  return dir;
}

type Bundler = "esbuild, CommonJS" | "esbuild, ESM" | "esbuild, ESM, no banner" | "webpack";

/** The banner docs/configuration.md gives for esbuild's ESM output (and most guides do). */
const ESM_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * Bundles the project's app into a directory of its own, outside the project (Node would find the
 * project's node_modules from below it): the deployment.
 */
async function bundle(
  project: string,
  bundler: Bundler,
): Promise<{ deployed: string; ourWarnings: string[] }> {
  const deployed = mkdtempSync(join(tmpdir(), "langchain-otel-deployed-"));
  const entry = join(project, "app.mjs");
  if (bundler === "webpack") {
    const stats = await new Promise<webpack.Stats | undefined>((resolve, reject) =>
      webpack(
        {
          mode: "production",
          target: "node20",
          entry,
          output: { path: deployed, filename: "app.cjs" },
          optimization: { minimize: false },
        },
        (error, result) => (error ? reject(error) : resolve(result)),
      ),
    );
    if (stats?.hasErrors()) throw new Error(stats.toString("errors-only"));
    const warnings = stats?.toJson({ all: false, warnings: true }).warnings ?? [];
    const ourWarnings = warnings
      .filter((warning) => warning.moduleName?.includes("langchain-otel"))
      .map((warning) => warning.message.split("\n")[0]);
    return { deployed, ourWarnings };
  }
  const esm = bundler !== "esbuild, CommonJS";
  const result = await build({
    entryPoints: [entry],
    outfile: join(deployed, esm ? "app.mjs" : "app.cjs"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: esm ? "esm" : "cjs",
    // ESM output needs a real require for the CommonJS packages it holds: the usual esbuild banner.
    ...(bundler === "esbuild, ESM" ? { banner: { js: ESM_BANNER } } : {}),
    logLevel: "silent",
  });
  const ourWarnings = result.warnings
    .filter((warning) => warning.location?.file.includes("langchain-otel"))
    .map((warning) => warning.text);
  return { deployed, ourWarnings };
}

// The one warning a bundler may give about the package: an optional package that is not installed.
const OPTIONAL_ABSENT =
  /^Module not found: Error: Can't resolve '(@opentelemetry\/[a-z-]+|@pydantic\/genai-prices)'/;

async function runDeployed(deployed: string, env: NodeJS.ProcessEnv): Promise<string> {
  expect(readdirSync(deployed)).to.not.include("node_modules");
  const file = readdirSync(deployed).find((name) => /^app\.(c|m)js$/.test(name))!;
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...env };
  const { stdout } = await run(process.execPath, [join(deployed, file)], {
    cwd: deployed,
    env: childEnv,
    encoding: "utf8",
  });
  return stdout;
}

describe("a bundled app, deployed without node_modules", function () {
  this.timeout(60_000);

  let receiver: OtlpReceiver;
  let server: ModelServer;
  const projects: string[] = []; // and deployments
  before(async () => {
    receiver = await startOtlpReceiver();
    server = await startModelServer();
  });
  afterEach(() => receiver.clear());
  after(async () => {
    await receiver.close();
    await server.close();
    for (const dir of projects) rmSync(dir, { recursive: true, force: true });
  });

  for (const bundler of ["esbuild, CommonJS", "esbuild, ESM", "webpack"] as const) {
    it(`${bundler}: setupTracing() exports the priced model call and its metrics over OTLP`, async () => {
      const project = makeProject(APP_PACKAGES);
      projects.push(project);
      const { deployed, ourWarnings } = await bundle(project, bundler);
      projects.push(deployed);
      for (const warning of ourWarnings) expect(warning).to.match(OPTIONAL_ABSENT);

      const out = await runDeployed(deployed, {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        MODEL_BASE_URL: server.baseURL,
      });

      expect(out).to.include("answered: string");
      const [chat] = (await receiver.waitForSpans(1)).filter((span) => span.name === "chat gpt-4o-mini");
      expect(chat, "the chat span").to.not.equal(undefined);
      // The price table is in the bundle: the call has a cost.
      expect(chat.attributes["langchain_otel.cost_usd"]).to.be.a("number").above(0);
      const usage = await receiver.waitForMetric("gen_ai.client.token.usage");
      expect(usage.dataPoints.length).to.be.above(0);
    });
  }

  it("a package missing when the app was bundled: the error says so and points to the bundling docs", async () => {
    const withoutExporter = APP_PACKAGES.filter(
      (name) => name !== "@opentelemetry/exporter-trace-otlp-proto",
    );
    const project = makeProject(withoutExporter);
    projects.push(project);
    const { deployed } = await bundle(project, "esbuild, CommonJS");
    projects.push(deployed);

    const failure = await runDeployed(deployed, {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      MODEL_BASE_URL: server.baseURL,
    }).then(
      () => "no error",
      (error: { stderr?: string }) => error.stderr ?? "",
    );
    expect(failure).to.include('"@opentelemetry/exporter-trace-otlp-proto"');
    expect(failure).to.include("npm install @opentelemetry/exporter-trace-otlp-proto@^0.223");
    expect(failure).to.include("This app is bundled");
  });

  it("Vercel's file tracer (nft) ships the SDK and the price table that setupTracing() loads", async () => {
    const project = makeProject(APP_PACKAGES);
    projects.push(project);
    // Traced from the file system's root: the project's packages are links, and the files shipped
    // are those of their targets.
    const { fileList } = await nodeFileTrace([join(project, "app.mjs")], { base: "/" });
    const shipped = (name: string) => {
      const files = `${relative("/", realpathSync(join(project, "node_modules", name)))}/`;
      return [...fileList].some((file) => file.startsWith(files) && !file.endsWith("/package.json"));
    };

    for (const name of [
      "@pydantic/genai-prices",
      "@opentelemetry/sdk-trace-node",
      "@opentelemetry/exporter-trace-otlp-proto",
      "@opentelemetry/sdk-metrics",
      "@opentelemetry/exporter-metrics-otlp-proto",
    ]) {
      expect(shipped(name), name).to.equal(true);
    }
  });

  it("esbuild's ESM output without the banner: the error names the banner, not a missing package", async () => {
    const project = makeProject(APP_PACKAGES);
    projects.push(project);
    const { deployed } = await bundle(project, "esbuild, ESM, no banner");
    projects.push(deployed);

    const failure = await runDeployed(deployed, { MODEL_BASE_URL: server.baseURL }).then(
      () => "no error",
      (error: { stderr?: string }) => error.stderr ?? "",
    );
    expect(failure).to.include("needs a real require");
    expect(failure).to.include('"Bundled apps"');
    expect(failure).to.not.include("not installed");
  });

  it("a browser bundle, in a project that also has the Node SDK for its server: no Node-only package, a priced trace", async () => {
    const project = makeProject(APP_PACKAGES);
    projects.push(project);
    writeFileSync(join(project, "browser.mjs"), BROWSER_APP);
    const deployed = mkdtempSync(join(tmpdir(), "langchain-otel-deployed-"));
    projects.push(deployed);
    // What a front-end build does (Vite's client build resolves the same `browser` condition).
    const result = await build({
      entryPoints: [join(project, "browser.mjs")],
      outfile: join(deployed, "app.mjs"),
      bundle: true,
      platform: "browser",
      format: "esm",
      metafile: true,
      logLevel: "silent",
    });
    const bundled = Object.keys(result.metafile.inputs);
    // The full list would have pulled in context-async-hooks, whose require("async_hooks") fails
    // a browser build, and sdk-trace-node.
    expect(
      bundled.filter((file) => /@opentelemetry\/(context-async-hooks|sdk-trace-node)\//.test(file)),
    ).to.deep.equal([]);
    expect(
      bundled.some((file) => file.includes("langchain-otel/dist/cjs/optional-modules-browser.js")),
    ).to.equal(true);
    expect(bundled.some((file) => file.includes("@pydantic/genai-prices/"))).to.equal(true);

    const out = await runDeployed(deployed, { MODEL_BASE_URL: server.baseURL });
    expect(out.trim()).to.match(/^chat gpt-4o-mini cost [0-9.e-]+$/);
    expect(Number(out.trim().split(" ").at(-1))).to.be.greaterThan(0);
  });
});

// A page's script: the handler with the page's own provider, one model call, its cost.
const BROWSER_APP = `
import { ChatOpenAI } from "@langchain/openai";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { OpenTelemetryCallbackHandler } from "langchain-otel";

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const handler = new OpenTelemetryCallbackHandler({ tracerProvider });
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  apiKey: "sk-test-0123456789abcdefghij",
  configuration: { baseURL: globalThis.process?.env.MODEL_BASE_URL, dangerouslyAllowBrowser: true },
  maxRetries: 0,
});
await model.invoke("Where is my order?", { callbacks: [handler] });
for (const span of exporter.getFinishedSpans()) console.log(span.name, "cost", span.attributes["langchain_otel.cost_usd"]);
`;
