// langchain-otel in the non-Node runtimes LangChain.js supports: Cloudflare Workers (workerd, with
// and without nodejs_compat), the Vercel Edge Runtime, Deno and Bun. Run from the repository root:
// `npm run compat:edge` (builds, installs from the lockfile, runs this).
//
// One app (app.mjs) runs in each, bundled the way the platform's own tool bundles it: `wrangler
// deploy --dry-run` then Miniflare (the real workerd); esbuild with the conditions Next.js resolves
// edge routes with, run in the `edge-runtime` package with what `next dev` adds to it; Deno and Bun
// unbundled. It calls a real ChatOpenAI against a local OpenAI-compatible server started here, and
// answers with its spans, its metrics and what OpenTelemetry's diagnostics logger was told, which
// this file checks.
//
// The app runs from a copy outside this repository holding only its production dependencies: from
// inside it, bundlers and runtimes would find the repository's node_modules, which holds optional
// SDK packages (exporters, context-async-hooks) that a user of the handler alone does not install.
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import { execFile, spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { EdgeRuntime } from "edge-runtime";
import { build, transform } from "esbuild";
import { Miniflare } from "miniflare";
import { check, failures } from "../checks.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const bin = (name) => join(here, "node_modules", ".bin", name);

const USAGE = { prompt_tokens: 1200, completion_tokens: 80 };
const RESPONSE_MODEL = "gpt-4o-mini-2024-07-18";
// gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
const COST = USAGE.prompt_tokens * 0.15e-6 + USAGE.completion_tokens * 0.6e-6;
const RAG_SPANS = [
  "rag",
  "retrieve",
  "retrieval Shelf",
  "ChatPromptTemplate",
  "chat gpt-4o-mini",
  "StrOutputParser",
];

/** The demo's model server (examples/support/model-server.ts), every reply with USAGE. */
async function startModelServer() {
  const source = readFileSync(join(here, "../../examples/support/model-server.ts"), "utf8");
  const { code } = await transform(source, { loader: "ts", format: "esm" });
  const server = await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
  return server.startModelServer({
    reply: (request, index) => ({ ...server.defaultReply(request, index), usage: USAGE }),
  });
}

/** A user's project in a fresh directory: the app's files and its production dependencies. */
function stageProject() {
  const project = mkdtempSync(join(tmpdir(), "langchain-otel-compat-edge-"));
  for (const file of [
    "package.json",
    "app.mjs",
    "worker-nodejs-compat.mjs",
    "wrangler.toml",
    "wrangler.nodejs-compat.toml",
  ]) {
    cpSync(join(here, file), join(project, file));
  }
  const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === "" || entry.dev || entry.devOptional) continue;
    // Nested node_modules are entries of their own.
    const filter = (source) => !relative(join(here, path), source).includes("node_modules");
    cpSync(join(here, path), join(project, path), { recursive: true, filter });
  }
  return project;
}

const run = async (command, args, options) => {
  try {
    return await promisify(execFile)(command, args, { maxBuffer: 64 << 20, ...options });
  } catch (error) {
    throw new Error(`${command.split("/").pop()} ${args.join(" ")} failed:\n${error.stdout}${error.stderr}`);
  }
};

/** The app's answer, or an error that carries what the runtime said. */
async function reportFrom(response) {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`the app answered ${response.status}:\n${text}`);
  return JSON.parse(text);
}

/** The host's stand-in for Langfuse: every OTLP request it receives, with its path, auth and spans. */
async function startLangfuse() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      // Gzipped by the exporter's Node transport (Deno, Bun); its fetch transport does not compress.
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      received.push({
        path: req.url,
        authorization: req.headers.authorization,
        encoding: req.headers["content-encoding"],
        body: JSON.parse(body.toString() || "{}"),
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** The requests received since the last call. */
    take: () => received.splice(0),
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
const langfuse = await startLangfuse();

const request = (baseURL) => ({
  method: "POST",
  body: JSON.stringify({ baseURL, langfuseURL: langfuse.url }),
});

/** Bundled by `wrangler deploy --dry-run` with the variant's wrangler.toml, run by Miniflare. */
async function workers(project, config, baseURL) {
  const outdir = join(project, "dist", config.replace(/\.toml$/, ""));
  await run(bin("wrangler"), ["deploy", "--dry-run", "--config", config, "--outdir", outdir], {
    cwd: project,
    // No metrics, no update check, its logs in the project.
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_HIDE_BANNER: "true",
      WRANGLER_LOG_PATH: join(project, "logs"),
    },
  });
  const toml = readFileSync(join(project, config), "utf8");
  const setting = (key) => toml.match(new RegExp(`^${key} = (.+)$`, "m"))?.[1];
  const miniflare = new Miniflare({
    modules: true,
    modulesRoot: outdir,
    scriptPath: join(outdir, JSON.parse(setting("main")).replace(/\.mjs$/, ".js")),
    compatibilityDate: JSON.parse(setting("compatibility_date")),
    compatibilityFlags: JSON.parse(setting("compatibility_flags") ?? "[]"),
  });
  try {
    return await reportFrom(await miniflare.dispatchFetch("http://app.example/", request(baseURL)));
  } finally {
    await miniflare.dispose();
  }
}

// The Node.js modules the Edge Runtime provides (Next.js' SUPPORTED_NATIVE_MODULES).
const EDGE_NODE_MODULES = ["async_hooks", "buffer", "events", "util", "assert"];

/**
 * What `next dev` adds to the `edge-runtime` package's context for an edge route
 * (next/src/server/web/sandbox/context.ts): `process` with `env` only (its other functions throw),
 * `require` of the Node.js modules above, `AsyncLocalStorage` as a global, and `setImmediate` and
 * `clearImmediate` as functions that throw.
 */
function nextEdgeSandbox(context) {
  const unsupported = (name) => () => {
    throw new Error(`A Node.js API is used (${name}) which is not supported in the Edge Runtime.`);
  };
  context.process = { env: {} };
  for (const key of Object.keys(process).filter((key) => key !== "env")) {
    const value = typeof process[key] === "function" ? unsupported(`process.${key}`) : undefined;
    Object.defineProperty(context.process, key, { get: () => value });
  }
  const modules = new Map(
    EDGE_NODE_MODULES.map((name) => [`node:${name}`, globalThis.process.getBuiltinModule(name)]),
  );
  context.require = (id) => {
    const module = modules.get(id.startsWith("node:") ? id : `node:${id}`);
    if (module === undefined) throw new TypeError(`Native module not found: ${id}`);
    return module;
  };
  context.AsyncLocalStorage = AsyncLocalStorage;
  for (const name of ["setImmediate", "clearImmediate"]) context[name] = unsupported(name);
  return context;
}

/** Bundled by esbuild as Next.js bundles an edge route, run in the Edge Runtime. */
async function edgeRuntime(project, baseURL) {
  const { outputFiles } = await build({
    absWorkingDir: project,
    entryPoints: ["app.mjs"],
    bundle: true,
    write: false,
    platform: "browser",
    format: "iife",
    globalName: "app",
    conditions: ["edge-light", "worker", "browser", "import", "module", "default"],
    external: EDGE_NODE_MODULES.flatMap((name) => [name, `node:${name}`]),
    logLevel: "silent",
  });
  const runtime = new EdgeRuntime({
    extend: nextEdgeSandbox,
    initialCode: `${outputFiles[0].text}
      addEventListener("fetch", (event) => event.respondWith(app.default.fetch(event.request)));`,
  });
  const response = await runtime.dispatchFetch("http://app.example/", request(baseURL));
  await response.waitUntil();
  return reportFrom(response);
}

/**
 * Starts a server process that prints the address it listens on, POSTs to it, and stops it. Its
 * output is in the error when it fails.
 */
async function serve(baseURL, command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  try {
    const address = await new Promise((resolve, reject) => {
      const read = (chunk) => {
        output += chunk;
        const found = output.match(/http:\/\/127\.0\.0\.1:\d+/);
        if (found) resolve(found[0]);
      };
      child.stdout.on("data", read);
      child.stderr.on("data", read);
      child.on("exit", (code) => reject(new Error(`exited (${code}) before listening`)));
      setTimeout(() => reject(new Error("not listening after 30 s")), 30_000).unref();
    });
    const response = await fetch(address, { ...request(baseURL), signal: AbortSignal.timeout(60_000) });
    return await reportFrom(response);
  } catch (error) {
    throw new Error(`${command.split("/").pop()} ${args.join(" ")}: ${error.message}\n${output}`);
  } finally {
    child.kill();
  }
}

// Deno 2 reads the project's package.json and node_modules. Its narrowest permissions for this app:
// the loopback address (to listen, and to call the model server); the environment variables the
// OpenTelemetry SDK (OTEL_*) and the OpenAI SDK (OPENAI_*) read, which throw when not allowed; the
// home directory, which LangSmith asks for when LangChain makes a run tree. langchain-otel's own
// LANGCHAIN_OTEL_CONTEXT_BRIDGE is left out on purpose: the handler should take a variable it may not
// read for an unset one, as LangChain does.
const DENO_FLAGS = ["--allow-net=127.0.0.1", "--allow-env=OTEL_*,OPENAI_*", "--allow-sys=homedir"];
const deno = (project, baseURL) =>
  serve(
    baseURL,
    bin("deno"),
    ["serve", "--no-lock", "--host", "127.0.0.1", "--port", "0", ...DENO_FLAGS, "app.mjs"],
    { cwd: project, env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } },
  );

/** Bun serves the app's default export itself. */
const bun = (project, baseURL) => serve(baseURL, bin("bun"), ["app.mjs"], { cwd: project });

const near = (actual, expected, what) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual}, expected ${expected}`);

/** Throws the app's own error for a call that failed. */
function outcome(report, call) {
  const { value, error } = report.outcomes[call];
  if (error) throw Object.assign(new Error(`the ${call} call failed in the app: ${error.message}`), error);
  return value;
}

async function checkReport(label, report) {
  const spans = report.spans;
  const named = (name) => spans.filter((span) => span.name === name);
  const children = (parent) => spans.filter((span) => span.parentSpanId === parent.spanId);
  const [root] = named("rag");
  const chats = named("chat gpt-4o-mini");
  const [streamed] = chats.filter((span) => span.attributes["gen_ai.request.stream"] === true);

  await check(`${label}: the RAG chain is one trace, the chain at its root and its steps under it`, () => {
    assert.match(outcome(report, "rag"), /^Based on \d+ characters of context/);
    assert.ok(root, "the chain's span");
    assert.equal(root.parentSpanId, undefined, "the chain is the trace's root");
    const trace = spans.filter((span) => span.traceId === root.traceId).map((span) => span.name);
    assert.deepEqual(trace.sort(), [...RAG_SPANS].sort(), "the chain's spans, all in its trace");
    assert.deepEqual(
      children(root).map((span) => span.name),
      ["retrieve", "ChatPromptTemplate", "chat gpt-4o-mini", "StrOutputParser"],
    );
    assert.deepEqual(
      children(named("retrieve")[0]).map((span) => span.name),
      ["retrieval Shelf"],
    );
  });

  await check(`${label}: the chat spans' GenAI attributes and the usage the server reported`, () => {
    outcome(report, "stream");
    assert.equal(chats.length, 2, "the chain's chat span and the stream's");
    const read = (chat) => ({
      stream: chat.attributes["gen_ai.request.stream"] === true,
      operation: chat.attributes["gen_ai.operation.name"],
      provider: chat.attributes["gen_ai.provider.name"],
      request: chat.attributes["gen_ai.request.model"],
      response: chat.attributes["gen_ai.response.model"],
      input: chat.attributes["gen_ai.usage.input_tokens"],
      output: chat.attributes["gen_ai.usage.output_tokens"],
      inputMessages: typeof chat.attributes["gen_ai.input.messages"],
    });
    const expected = (stream) => ({
      stream,
      operation: "chat",
      provider: "openai",
      request: "gpt-4o-mini",
      response: RESPONSE_MODEL,
      input: USAGE.prompt_tokens,
      output: USAGE.completion_tokens,
      inputMessages: "string",
    });
    assert.deepEqual(chats.map(read), [expected(false), expected(true)]);
  });

  await check(`${label}: the cost of each chat call, and the request totals on the chain`, () => {
    assert.equal(chats.length, 2, "the chain's chat span and the stream's");
    for (const chat of chats) near(chat.attributes["langchain_otel.cost_usd"], COST, `${chat.name}'s cost`);
    assert.equal(root.attributes["langchain_otel.request.input_tokens"], USAGE.prompt_tokens);
    assert.equal(root.attributes["langchain_otel.request.output_tokens"], USAGE.completion_tokens);
    assert.equal(root.attributes["langchain_otel.request.inference_calls"], 1);
    near(root.attributes["langchain_otel.request.cost_usd"], COST, "the request's cost");
  });

  await check(`${label}: the stream's time to first chunk, on its span and as a metric`, () => {
    assert.equal(outcome(report, "stream"), `Based on 0 characters of context: Where is my order?`);
    assert.ok(streamed, "the streamed call's span");
    assert.equal(streamed.parentSpanId, undefined, "a trace of its own");
    assert.ok(streamed.attributes["gen_ai.response.time_to_first_chunk"] > 0, "time to first chunk");
    const metric = report.metrics.find((m) => m.name === "gen_ai.client.operation.time_to_first_chunk");
    assert.equal(
      metric?.points.reduce((count, point) => count + point.count, 0),
      1,
    );
  });

  await check(`${label}: the failing tool's span is an error`, () => {
    assert.equal(report.outcomes.tool.error?.message, "mail service unavailable");
    const [tool] = named("execute_tool notify_customer");
    assert.ok(tool, "the tool's span");
    assert.equal(tool.status.code, 2, "status ERROR");
    assert.equal(tool.attributes["error.type"], "Error");
  });

  await check(
    `${label}: a span started in a lambda's body nests under the lambda (the context bridge)`,
    () => {
      const [lookup] = named("lookup");
      assert.ok(lookup, "the lambda's span");
      if (label === "Cloudflare Workers, no flags") {
        // No AsyncLocalStorage, so no context manager to bridge: the handler traces all the same.
        assert.equal(report.bridged, false);
        assert.equal(outcome(report, "bridge"), null);
        return;
      }
      assert.equal(report.bridged, true, "the app installed LangChainContextManager");
      assert.equal(outcome(report, "bridge"), lookup.spanId);
    },
  );

  await check(`${label}: a run whose metadata carries a traceparent starts under that span`, () => {
    assert.equal(outcome(report, "traceparent"), "ok");
    const [run] = named("under-request");
    assert.ok(run, "the run's span");
    assert.equal(run.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(run.parentSpanId, "00f067aa0ba902b7");
  });

  await check(`${label}: setupTracing() where there is no Node says what to use instead`, () => {
    if (!label.startsWith("Cloudflare Workers, no flags") && !label.startsWith("Vercel Edge")) {
      assert.equal(report.setupTracing, "not tried: a Node-like runtime");
      return;
    }
    assert.match(
      report.setupTracing,
      /^langchain-otel: setupTracing\(\) sets up the Node\.js OpenTelemetry SDK.*registerOTel.*OpenTelemetryCallbackHandler/,
    );
  });

  await check(`${label}: new LangChainContextManager() names what it lacks here`, () => {
    if (label === "Cloudflare Workers, no flags") {
      assert.match(
        report.defaultContextManager,
        /^langchain-otel: LangChainContextManager needs AsyncLocalStorage, which this runtime does not have/,
      );
      return;
    }
    // The app has the 2.x SDK's sdk-trace-base (no sdk-trace-node): the 2.x line's install.
    assert.match(
      report.defaultContextManager,
      /needs the package "@opentelemetry\/context-async-hooks", which is not installed\. Install it: npm install @opentelemetry\/context-async-hooks@\^2\b/,
    );
  });

  await check(`${label}: the console waterfall prints the chain's trace`, () => {
    assert.match(report.waterfall, /rag .*\n.*retrieve/s);
    assert.match(report.waterfall, /chat gpt-4o-mini/);
  });

  await check(`${label}: langfuseExporter() sends the spans to Langfuse's OTLP path with the keys`, () => {
    assert.deepEqual(report.langfuse, { code: 0 });
    const [received, ...more] = langfuse.take();
    assert.equal(more.length, 0, "one request");
    assert.equal(received.path, "/api/public/otel/v1/traces");
    assert.equal(received.authorization, `Basic ${Buffer.from("pk-lf-edge:sk-lf-edge").toString("base64")}`);
    const names = received.body.resourceSpans
      .flatMap((resource) => resource.scopeSpans)
      .flatMap((scope) => scope.spans)
      .map((span) => span.name);
    assert.deepEqual(names.sort(), spans.map((span) => span.name).sort());
  });

  await check(
    `${label}: nothing reported through OpenTelemetry's diagnostics but what the runtime lacks`,
    () => {
      if (!label.startsWith("Cloudflare Workers, nodejs_compat")) {
        assert.deepEqual(report.diagnostics, []);
        return;
      }
      // workerd's AsyncLocalStorage has no enterWith: the bridge says once what it leaves out there.
      assert.equal(report.diagnostics.length, 1, JSON.stringify(report.diagnostics));
      assert.match(
        report.diagnostics[0].message,
        /^langchain-otel: the context bridge cannot mark a model's or retriever's body in this runtime/,
      );
      assert.match(report.diagnostics[0].details.join(" "), /enterWith/);
    },
  );

  await check(`${label}: gen_ai.client.token.usage has the calls' tokens`, () => {
    const usage = report.metrics.find((m) => m.name === "gen_ai.client.token.usage");
    assert.ok(usage?.points.length > 0, "points");
    const sum = (type) =>
      usage.points
        .filter((point) => point.attributes["gen_ai.token.type"] === type)
        .reduce((total, point) => total + point.sum, 0);
    assert.equal(sum("input"), 2 * USAGE.prompt_tokens);
    assert.equal(sum("output"), 2 * USAGE.completion_tokens);
  });
}

const RUNTIMES = {
  "Cloudflare Workers, nodejs_compat": (project, url) => workers(project, "wrangler.nodejs-compat.toml", url),
  "Cloudflare Workers, no flags": (project, url) => workers(project, "wrangler.toml", url),
  "Vercel Edge Runtime": edgeRuntime,
  Deno: deno,
  Bun: bun,
};

const server = await startModelServer();
const project = stageProject();
try {
  for (const [label, runIn] of Object.entries(RUNTIMES)) {
    const started = performance.now();
    let report;
    await check(`${label}: bundles, starts and answers`, async () => {
      report = await runIn(project, server.baseURL);
    });
    if (report) await checkReport(label, report);
    else console.log(`skip ${label}: the other checks (no report)`);
    console.log(`     ${label}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  await server.close();
  await langfuse.close();
  rmSync(project, { recursive: true, force: true });
}
console.log(failures() === 0 ? "compat edge: all checks passed" : `compat edge: ${failures()} checks failed`);
// Exit now: the Edge Runtime ran in this process, and its setTimeout returns a number, which has no
// unref(), so the handler's orphan sweep timer (up to 60 s) would keep this process up.
process.exit(failures() === 0 ? 0 : 1);
