import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { setupTracing } from "../src/export/setup.js";
import { type OtlpReceiver, startOtlpReceiver } from "./support/receiver.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

// A script that sets up tracing, runs a chain and ends without calling shutdown(). The batch delay
// is a minute, so only the flush on exit can send its spans before the process ends.
const SCRIPT = `
import { RunnableLambda } from "@langchain/core/runnables";
import { setupTracing } from "./dist/esm/index.js";
const signals = () => ["SIGINT", "SIGTERM", "SIGHUP"].map((name) => process.listenerCount(name));
const before = { signals: signals(), beforeExit: process.listenerCount("beforeExit") };
const setup = setupTracing({ serviceName: "exit-test", batch: { scheduledDelayMillis: 60000 } });
const after = { signals: signals(), beforeExit: process.listenerCount("beforeExit") };
setup.meterProvider?.getMeter("exit-test").createCounter("exit_test.runs").add(1);
const step = RunnableLambda.from(async (x) => x + 1).withConfig({ runName: "step" });
const pipeline = RunnableLambda.from(async (x) => step.invoke(x)).withConfig({ runName: "pipeline" });
await pipeline.invoke(1, { callbacks: [setup.handler] });
console.log(JSON.stringify({ before, after }));
`;

describe("setupTracing: spans are not lost at exit", () => {
  let receiver: OtlpReceiver;
  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => receiver.close());

  it("a script that never calls shutdown() still exports its spans and metrics, and exits promptly", async function () {
    this.timeout(30_000);
    const env: NodeJS.ProcessEnv = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
    for (const name of Object.keys(env)) {
      if (/^(LANGFUSE_|OTEL_(?!EXPORTER_OTLP_ENDPOINT$))/.test(name) || name === "NODE_OPTIONS")
        delete env[name];
    }
    const started = Date.now();
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", SCRIPT], { cwd: root, env });
    const elapsed = Date.now() - started;
    const { before, after } = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
    // One beforeExit listener, no signal handler.
    expect(after.beforeExit).to.equal(before.beforeExit + 1);
    expect(after.signals).to.deep.equal(before.signals);
    const spans = await receiver.waitForSpans(2, 2000);
    expect(spans.map((span) => span.name).sort()).to.deep.equal(["pipeline", "step"]);
    expect(spans[0].resource["service.name"]).to.equal("exit-test");
    await receiver.waitForMetric("exit_test.runs", 2000);
    // Nothing kept it alive: it ended once the flush was done, far below the batch delay.
    expect(elapsed).to.be.lessThan(15_000);
  });

  it("shutdown() removes the beforeExit listener; each setup adds exactly one", async () => {
    const baseline = process.listenerCount("beforeExit");
    const setup = setupTracing({ register: false, exporter: "console", console: { write: () => {} } });
    expect(process.listenerCount("beforeExit")).to.equal(baseline + 1);
    await setup.shutdown();
    expect(process.listenerCount("beforeExit")).to.equal(baseline);
  });
});
