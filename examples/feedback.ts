/**
 * A thumbs-up from the front end, attached to the trace that produced the answer. Offline, no keys:
 *
 *   npx tsx examples/feedback.ts
 *
 *   POST /api/chat      runs the chain with a run id picked up front and answers { answer, traceId }
 *   POST /api/feedback  takes { traceId, score } and attaches a Langfuse score to that trace
 *
 * The score is sent by Langfuse's own client (`@langfuse/client`), pointed here at a local
 * stand-in for Langfuse's API that prints what it receives. The spans go to the console waterfall
 * and to an in-memory exporter, so the script can check that the score's trace id is the one the
 * spans carry. With a real Langfuse: drop `baseUrl` and the stand-in, set LANGFUSE_PUBLIC_KEY and
 * LANGFUSE_SECRET_KEY, and call setupTracing() without `exporter`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { ChatOpenAI } from "@langchain/openai";
import { LangfuseClient } from "@langfuse/client";
import { SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { setupTracing } from "../src/index.js";
import { startModelServer } from "./support/model-server.js";

// ── Langfuse, played by a local server that records score requests ─────────────────────────────
interface IngestionEvent {
  type: string;
  body: { traceId?: string; name?: string; value?: unknown };
}
const receivedScores: IngestionEvent["body"][] = [];
const langfuseStandIn = createServer(async (req, res) => {
  const { batch } = (await readJson(req)) as { batch: (IngestionEvent & { id: string })[] };
  for (const event of batch) {
    console.log(`langfuse ← ${req.method} ${req.url} ${event.type} ${JSON.stringify(event.body)}`);
    if (event.type === "score-create") receivedScores.push(event.body);
  }
  // Langfuse answers an ingestion batch with 207 and a status per event.
  sendJson(res, 207, { successes: batch.map((event) => ({ id: event.id, status: 201 })), errors: [] });
});
const langfuseUrl = await listen(langfuseStandIn);

// ── the application ──────────────────────────────────────────────────────────────────────────
const spans = new InMemorySpanExporter();
const tracing = setupTracing({ serviceName: "feedback-example", exporter: spans, console: true });
const langfuse = new LangfuseClient({
  publicKey: "pk-lf-local",
  secretKey: "sk-lf-local",
  baseUrl: langfuseUrl,
});

const local = process.env.OPENAI_API_KEY
  ? undefined
  : await startModelServer({
      reply: () => ({ content: "Yes: returns are accepted within 30 days of delivery." }),
    });
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  temperature: 0,
  ...(local ? { apiKey: "sk-local-example", configuration: { baseURL: local.baseURL } } : {}),
});
const chain = ChatPromptTemplate.fromMessages([
  ["system", "You are the shop's support assistant. Answer in one sentence."],
  ["human", "{question}"],
])
  .pipe(model)
  .pipe(new StringOutputParser())
  .withConfig({ runName: "support-answer" });

const TRACE_ID = /^[0-9a-f]{32}$/;
const tracer = trace.getTracer("feedback-example-app");

const app = createServer((req, res) => {
  // The request span an HTTP instrumentation would make; the LangChain run nests under it.
  tracer.startActiveSpan(`${req.method} ${req.url}`, { kind: SpanKind.SERVER }, async (span) => {
    try {
      const body = (await readJson(req)) as Record<string, unknown>;
      if (req.url === "/api/chat") {
        // Pick the run id up front, so the trace can be looked up once the run has ended.
        const runId = randomUUID();
        const answer = await chain.invoke(
          { question: String(body.question) },
          { runId, callbacks: [tracing.handler] },
        );
        sendJson(res, 200, { answer, traceId: tracing.handler.traceIdOf(runId) });
      } else if (req.url === "/api/feedback") {
        const { traceId, score } = body;
        if (typeof traceId !== "string" || !TRACE_ID.test(traceId) || (score !== 0 && score !== 1)) {
          sendJson(res, 400, { error: "expected { traceId: 32 hex digits, score: 0 or 1 }" });
          return;
        }
        // For any OTel backend: the feedback request's span names the trace it is about.
        span.setAttribute("feedback.trace_id", traceId);
        span.addEvent("feedback", { "feedback.score": score });
        // Queued and sent in a batch by the client; flushed at shutdown below.
        langfuse.score.create({ traceId, name: "user-feedback", value: score, dataType: "BOOLEAN" });
        sendJson(res, 202, { ok: true });
      } else {
        sendJson(res, 404, { error: "not found" });
      }
    } catch (error) {
      sendJson(res, 500, { error: String(error) });
    } finally {
      span.end();
    }
  });
});
const appUrl = await listen(app);

// ── what the front end does ──────────────────────────────────────────────────────────────────
const chat = await post("/api/chat", { question: "Can I still return an order delivered 10 days ago?" });
const { answer, traceId } = chat as { answer: string; traceId: string };
// …the user reads the answer and clicks 👍, maybe a minute later:
await post("/api/feedback", { traceId, score: 1 });

await langfuse.flush(); // in a server: on shutdown (langfuse.shutdown()), the client batches meanwhile
await tracing.flush();
// The spans of the answer: the LangChain run's outermost span, and every span in its trace.
const finished = spans.getFinishedSpans();
const answerTrace = finished.find((span) => span.name === "support-answer")?.spanContext().traceId;
const answerSpans = finished.filter((span) => span.spanContext().traceId === answerTrace);
console.log(`\nthe answer: "${answer}"`);
console.log(`its spans: ${answerSpans.map((span) => span.name).join(", ")}, all in trace ${answerTrace}`);
const scored = receivedScores.map((score) => score.traceId);
if (
  answerTrace !== undefined &&
  traceId === answerTrace &&
  scored.length === 1 &&
  scored[0] === answerTrace
) {
  console.log(`✓ the score landed on trace ${answerTrace}, the trace the spans carry`);
} else {
  console.log(`✗ the score landed on ${JSON.stringify(scored)}; the answer's spans carry ${answerTrace}`);
  process.exitCode = 1;
}

await new Promise<void>((resolve) => app.close(() => resolve()));
await new Promise<void>((resolve) => langfuseStandIn.close(() => resolve()));
await local?.close();
await langfuse.shutdown();
await tracing.shutdown();

// ── helpers ──────────────────────────────────────────────────────────────────────────────────
async function post(path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${appUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  console.log(`POST ${path} ${JSON.stringify(body)} → ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function listen(server: ReturnType<typeof createServer>): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
