import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";

interface PrintedSpan {
  name: string;
  spanId: string;
  traceId: string;
  parentSpanId?: string;
  scope: string;
  url?: string;
}

/** Runs test/fixtures/bridge-app.ts in a fresh process (the SDKs register process-wide globals). */
async function runApp(mode: string): Promise<PrintedSpan[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "test/fixtures/bridge-app.ts", mode],
    { timeout: 60_000, env: { ...process.env, OTEL_LOG_LEVEL: "none" } },
  );
  return stdout
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as PrintedSpan);
}

function parentName(spans: PrintedSpan[], span: PrintedSpan | undefined): string | undefined {
  return spans.find((candidate) => candidate.spanId === span?.parentSpanId)?.name;
}

describe("context bridge in the setups apps have", () => {
  for (const mode of ["node-sdk", "setup-tracing"]) {
    it(`${mode === "node-sdk" ? "NodeSDK with getNodeAutoInstrumentations() and one line" : "setupTracing(), on by default"}: provider call, tool I/O and the downstream service nest in the run`, async function () {
      this.timeout(90_000);
      const spans = await runApp(mode);
      const post = spans.find((span) => span.url?.includes("/v1/chat/completions"));
      expect(parentName(spans, post)).to.equal("chat gpt-4o-mini");
      const toolCall = spans.find((span) => span.url?.includes("/orders/A-1"));
      expect(parentName(spans, toolCall)).to.equal("execute_tool lookup_order");
      // The downstream service continued the same trace, under the HTTP client span.
      const downstream = spans.find((span) => span.name === "downstream work");
      expect(downstream?.traceId).to.equal(toolCall?.traceId);
      expect(downstream?.parentSpanId).to.equal(toolCall?.spanId);
      const request = spans.find((span) => span.name === "request");
      expect(spans.every((span) => span.traceId === request?.traceId)).to.equal(true);
    });
  }
});
