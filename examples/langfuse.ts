/**
 * Send a LangChain app's traces to Langfuse. Run with your keys:
 *
 *   LANGFUSE_PUBLIC_KEY=pk-lf-… LANGFUSE_SECRET_KEY=sk-lf-… [LANGFUSE_BASE_URL=https://us.cloud.langfuse.com] \
 *   [OPENAI_API_KEY=sk-…] npx tsx examples/langfuse.ts
 *
 * Without OPENAI_API_KEY the model is the local OpenAI-compatible server, so only the Langfuse
 * keys are needed. The trace shows up in Langfuse with its user, session, tags and a generation
 * per model call.
 */

import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { ChatOpenAI } from "@langchain/openai";
import { setupTracing } from "../src/index.js";
import { startModelServer } from "./support/model-server.js";

if (!process.env.LANGFUSE_PUBLIC_KEY || !process.env.LANGFUSE_SECRET_KEY) {
  console.error("Set LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY (Langfuse → project settings → API keys).");
  process.exit(1);
}

// Langfuse is picked from the environment; `console: true` also prints the waterfall here.
const tracing = setupTracing({
  serviceName: "langfuse-example",
  release: "example-1",
  environment: "development",
  console: true,
});

const local = process.env.OPENAI_API_KEY ? undefined : await startModelServer();
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  ...(local ? { apiKey: "sk-local-example", configuration: { baseURL: local.baseURL } } : {}),
});

const chain = ChatPromptTemplate.fromMessages([
  ["system", "You answer in one sentence."],
  ["human", "{question}"],
])
  .pipe(model)
  .pipe(new StringOutputParser())
  .withConfig({ runName: "one-sentence-answer" });

const answer = await chain.invoke(
  { question: "What is OpenTelemetry?" },
  {
    callbacks: [tracing.handler],
    // The same keys @langfuse/langchain reads: switching is a one-line change.
    metadata: {
      langfuseUserId: "example-user",
      langfuseSessionId: "example-session",
      langfuseTags: ["example"],
    },
  },
);
console.log(answer);

await local?.close();
await tracing.shutdown(); // flushes to Langfuse before exiting
