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
      // The article's second question on one line: the request's tokens and cost.
      expect(line(/└─ rag-pipeline/)).to.match(
        /request: 588 in \(128 cached\) \/ 59 out tokens · \$0\.000\d\d\d · 2 model calls, 2 embeddings calls, 1 tool call$/,
      );
      expect(line(/retrieval KnowledgeBaseRetriever/)).to.include("2 documents");
      // The retriever is a vector search with a traced OpenAIEmbeddings: the articles, then the question.
      const embeddings = lines.filter((text) => text.includes("embeddings text-embedding-3-small"));
      expect(embeddings).to.have.length(2);
      // Priced at text-embedding-3-small's $0.02 per million: 92 × 0.02 / 1e6, and 16 × 0.02 / 1e6.
      expect(embeddings[0]).to.match(/text-embedding-3-small · 92 in tokens · \$0\.000002$/);
      expect(embeddings[1]).to.match(/text-embedding-3-small · 16 in tokens · \$0\.00000032$/);
      expect(line(/execute_tool check_order/)).to.match(/call_/);
      const models = lines.filter((text) => text.includes("chat gpt-4o-mini"));
      // Each call's cost at gpt-4o-mini's prices: (84 × 0.15 + 128 × 0.075 + 18 × 0.6) / 1e6, (268 × 0.15 + 41 × 0.6) / 1e6.
      expect(models[0]).to.match(/212 in \(128 cached\) \/ 18 out tokens · \$0\.000033 · tool_calls/);
      expect(models[1]).to.match(/268 in \/ 41 out tokens · \$0\.000065 · stop · ttfc \d+ ms/);
      // The context bridge: each HTTP call inside the run that made it, the orders service continuing the trace.
      const index = (pattern: RegExp) => lines.findIndex((text) => pattern.test(text));
      expect(lines[index(/chat gpt-4o-mini .*tool_calls/) + 1]).to.match(
        /└─ POST .*\/v1\/chat\/completions → 200$/,
      );
      expect(lines[index(/execute_tool check_order/) + 1]).to.match(/└─ GET .*\/orders\/A-1042 → 200$/);
      expect(lines[index(/execute_tool check_order/) + 2]).to.match(/└─ GET \/orders\/:id/);
      expect(stdout.match(/^trace [0-9a-f]{32}/gm)).to.have.length(1);
      expect(stdout).to.match(/A: Yes\. Order A-1042 was delivered/);
      expect(receiver.spans().map((span) => span.name)).to.include.members([
        "POST /api/chat",
        "rag-pipeline",
        "execute_tool check_order",
        "embeddings text-embedding-3-small",
      ]);
      // The context bridge that setupTracing() registers (LangChainContextManager) puts the
      // embeddings calls made inside the retriever's body under its retrieval span; without it
      // they would hang under the request span.
      const retrieval = receiver.spans().find((span) => span.name === "retrieval KnowledgeBaseRetriever");
      const embeddingSpans = receiver
        .spans()
        .filter((span) => span.name === "embeddings text-embedding-3-small");
      expect(embeddingSpans.map((span) => span.parentSpanId)).to.deep.equal([
        retrieval?.spanId,
        retrieval?.spanId,
      ]);
      // The vector search finds the two articles the answer is made of.
      const documents = JSON.parse(String(retrieval?.attributes["gen_ai.retrieval.documents"])) as {
        id: string;
      }[];
      expect(documents.map((document) => document.id)).to.deep.equal(["refund-timing", "returns-policy"]);
    } finally {
      await receiver.close();
    }
  });
});

describe("the agent examples", () => {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const key of [
    "OPENAI_API_KEY",
    "LANGFUSE_PUBLIC_KEY",
    "LANGFUSE_SECRET_KEY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
  ])
    delete env[key];
  const example = async (file: string) =>
    (await run(process.execPath, ["--import", "tsx", join(root, "examples", file)], { cwd: root, env }))
      .stdout;

  it("examples/agent.ts prints one invoke_agent tree with both tools", async function () {
    this.timeout(60_000);
    const stdout = await example("agent.ts");
    expect(stdout).to.match(/^invoke_agent travel_assistant\s/m);
    expect(stdout).to.match(/execute_tool get_weather/);
    expect(stdout).to.match(/execute_tool get_time/);
    expect(stdout).to.include("It is sunny in Paris");
  });

  it("examples/langgraph.ts pauses at the approval and resumes in a linked trace", async function () {
    this.timeout(60_000);
    const stdout = await example("langgraph.ts");
    const traces = stdout.match(/^trace ([0-9a-f]{32})/gm) ?? [];
    expect(traces).to.have.length(2);
    expect(stdout).to.match(/approval\s+\d+\.\d ms {2}paused \(GraphInterrupt\)/);
    expect(stdout).to.match(new RegExp(`resumes trace ${String(traces[0]).slice(6, 22)}`));
    expect(stdout).to.include("resumed: approved = true");
  });
});
