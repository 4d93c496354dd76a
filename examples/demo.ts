/**
 * The RAG request this package exists to trace, end to end and offline:
 *
 *   POST /api/chat                       (the HTTP request span, made by the app)
 *   └─ rag-pipeline                      (LangChain from here on, traced by the handler)
 *      ├─ retrieve
 *      │  └─ retrieval KnowledgeBaseRetriever  (a vector search)
 *      │     ├─ embeddings text-embedding-3-small   the articles (first search only)
 *      │     │  └─ POST                             its HTTP call
 *      │     └─ embeddings text-embedding-3-small   the question
 *      │        └─ POST
 *      ├─ ChatPromptTemplate
 *      ├─ answer
 *      │  ├─ chat gpt-4o-mini            → asks for the check_order tool
 *      │  │  └─ POST                     the OpenAI SDK's HTTP call
 *      │  ├─ execute_tool check_order
 *      │  │  └─ GET                      the tool's fetch to the orders service
 *      │  │     └─ GET /orders/:id       the orders service, continuing the trace
 *      │  └─ chat gpt-4o-mini            → streams the answer
 *      │     └─ POST
 *      └─ validate-answer
 *
 * The model is the real ChatOpenAI class, pointed at a local OpenAI-compatible server unless
 * OPENAI_API_KEY is set. The app traces its HTTP calls with the standard undici (fetch)
 * instrumentation; setupTracing's context bridge puts them inside the LangChain runs that make
 * them. The trace prints as a waterfall; with Langfuse keys or an OTLP endpoint in the
 * environment it is exported there too.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { AIMessageChunk, BaseMessage } from "@langchain/core/messages";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { z } from "zod";
import { setupTracing, traceEmbeddings } from "../src/index.js";
import { KnowledgeBaseRetriever } from "./support/knowledge-base.js";
import { type ReplyScript, startModelServer } from "./support/model-server.js";

const tracing = setupTracing({ serviceName: "rag-demo", console: true });
// The app traces its outgoing HTTP calls, as apps with OpenTelemetry do.
new UndiciInstrumentation();
const tracer = trace.getTracer("rag-demo-app");

// The shop's orders service, another service of the app: it continues the caller's trace from
// the W3C traceparent header of each request.
const ordersService = createServer((req, res) => {
  const caller = propagation.extract(context.active(), req.headers);
  const span = tracer.startSpan("GET /orders/:id", { kind: SpanKind.SERVER }, caller);
  const orderId = decodeURIComponent(req.url?.split("/").at(-1) ?? "");
  const status = orderId === "A-1042" ? "delivered 10 days ago" : "not found";
  span.setAttribute("http.response.status_code", 200);
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ orderId, status }));
  span.end();
});
await new Promise<void>((resolve) => ordersService.listen(0, "127.0.0.1", resolve));
const ordersUrl = `http://127.0.0.1:${(ordersService.address() as AddressInfo).port}`;

// The local model follows a script: first ask for the order's status, then answer from the
// retrieved context and the tool's result (streamed, with usage, like OpenAI).
const script: ReplyScript = (request) => {
  const toolResult = request.messages.find((message) => message.role === "tool");
  if (toolResult === undefined && request.tools?.length) {
    const question = String(request.messages.at(-1)?.content ?? "");
    const orderId = /[A-Z]-\d+/.exec(question)?.[0] ?? "unknown";
    return {
      toolCalls: [{ name: "check_order", arguments: { orderId } }],
      usage: { prompt_tokens: 212, completion_tokens: 18, cached_tokens: 128 },
    };
  }
  return {
    content: `Yes. ${String(toolResult?.content)} and returns are accepted within 30 days of delivery, so you can still return it; the refund reaches your card within 5 business days after the return arrives.`,
    usage: { prompt_tokens: 268, completion_tokens: 41 },
  };
};
const local = process.env.OPENAI_API_KEY
  ? undefined
  : await startModelServer({ reply: script, chunkDelayMs: 15 });

const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  temperature: 0,
  streamUsage: true,
  maxRetries: 1,
  ...(local ? { apiKey: "sk-local-demo-key", configuration: { baseURL: local.baseURL } } : {}),
});

const checkOrder = tool(
  async ({ orderId }: { orderId: string }) => {
    const response = await fetch(`${ordersUrl}/orders/${encodeURIComponent(orderId)}`);
    const order = (await response.json()) as { status: string };
    return `Order ${orderId} was ${order.status}`;
  },
  {
    name: "check_order",
    description: "Look up the delivery status of an order by its id",
    schema: z.object({ orderId: z.string() }),
  },
);

// Embeddings have no callbacks: traceEmbeddings makes each call an `embeddings …` span.
const embeddings = traceEmbeddings(
  new OpenAIEmbeddings({
    model: "text-embedding-3-small",
    maxRetries: 1,
    ...(local ? { apiKey: "sk-local-demo-key", configuration: { baseURL: local.baseURL } } : {}),
  }),
);
const retriever = new KnowledgeBaseRetriever(embeddings);
const prompt = ChatPromptTemplate.fromMessages([
  ["system", "You are the shop's support assistant. Answer from these help-center articles:\n{context}"],
  ["human", "{question}"],
]);

const pipeline = RunnableSequence.from([
  RunnableLambda.from(async (input: { question: string }, config) => {
    const documents = await retriever.invoke(input.question, config);
    return { question: input.question, context: documents.map((doc) => `- ${doc.pageContent}`).join("\n") };
  }).withConfig({ runName: "retrieve" }),
  prompt,
  RunnableLambda.from(async (promptValue: { toChatMessages(): BaseMessage[] }, config) => {
    const messages = promptValue.toChatMessages();
    const withTools = model.bindTools([checkOrder]);
    const request = await withTools.invoke(messages, config);
    const toolMessages = await Promise.all(
      (request.tool_calls ?? []).map((call) => checkOrder.invoke(call, config)),
    );
    // The final answer streams, as a chat UI would show it.
    let answer: AIMessageChunk | undefined;
    for await (const chunk of await withTools.stream([...messages, request, ...toolMessages], config)) {
      answer = answer === undefined ? chunk : answer.concat(chunk);
    }
    return String(answer?.content ?? "");
  }).withConfig({ runName: "answer" }),
  RunnableLambda.from((answer: string) => {
    if (answer.trim().length < 20) throw new Error("the answer is too short to be useful");
    return { answer, grounded: /30 days/.test(answer) };
  }).withConfig({ runName: "validate-answer" }),
]).withConfig({ runName: "rag-pipeline" });

// A minimal app: the request handler opens the SERVER span (an HTTP instrumentation would do it
// in a real service); the LangChain run nests under it because it runs inside that span.
const app = createServer((req, res) => {
  tracer.startActiveSpan(
    `${req.method} /api/chat`,
    {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": req.method ?? "", "url.path": req.url ?? "" },
    },
    async (span) => {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const { question } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { question: string };
        const result = await pipeline.invoke(
          { question },
          {
            callbacks: [tracing.handler],
            metadata: { userId: "demo-user", sessionId: "demo-session-1" },
            tags: ["demo"],
          },
        );
        span.setAttribute("http.response.status_code", 200);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(result));
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        span.setAttribute("http.response.status_code", 500);
        res.writeHead(500).end(JSON.stringify({ error: String(error) }));
      } finally {
        span.end();
      }
    },
  );
});
await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
const { port } = app.address() as AddressInfo;

console.log(
  `model: ${local ? `local OpenAI-compatible server at ${local.baseURL}` : "OpenAI"} · exporters: ${tracing.exporters.join(", ")}\n`,
);
const question = "Can I still return order A-1042? It was delivered 10 days ago.";
// The front end's request; it is not part of the app's trace.
const response = await context.with(suppressTracing(context.active()), () =>
  fetch(`http://127.0.0.1:${port}/api/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question }),
  }),
);
const body = (await response.json()) as { answer?: string; error?: string };
console.log(`Q: ${question}\nA: ${body.answer ?? body.error}\n`);

await new Promise<void>((resolve) => app.close(() => resolve()));
ordersService.close();
await local?.close();
await tracing.shutdown();
