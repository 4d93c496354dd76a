import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { startOtlpReceiver } from "./support/receiver.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");

describe("the demo (npm run demo)", () => {
  it("runs offline, prints the waterfall and exports when an OTLP endpoint is set", async function () {
    this.timeout(60_000);
    const receiver = await startOtlpReceiver();
    try {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        NO_COLOR: "1",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      };
      for (const key of ["OPENAI_API_KEY", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"]) delete env[key];
      const { stdout } = await run(process.execPath, ["--import", "tsx", join(root, "examples/demo.ts")], {
        cwd: root,
        env,
      });
      const lines = stdout.split("\n");
      const line = (prefix: RegExp) => lines.find((text) => prefix.test(text)) ?? "";
      expect(line(/^POST \/api\/chat/)).to.match(/ms$/);
      expect(line(/└─ rag-pipeline/)).to.match(/ms$/);
      expect(line(/retrieval KnowledgeBaseRetriever/)).to.include("2 documents");
      expect(line(/execute_tool check_order/)).to.match(/call_/);
      const models = lines.filter((text) => text.includes("chat gpt-4o-mini"));
      expect(models[0]).to.match(/212 in \(128 cached\) \/ 18 out tokens · tool_calls/);
      expect(models[1]).to.match(/268 in \/ 41 out tokens · stop · ttfc \d+ ms/);
      expect(stdout).to.match(/A: Yes\. Order A-1042 was delivered/);
      expect(receiver.spans().map((span) => span.name)).to.include.members([
        "POST /api/chat",
        "rag-pipeline",
        "execute_tool check_order",
      ]);
    } finally {
      await receiver.close();
    }
  });
});
