/**
 * A createAgent agent with two tools, traced: one invoke_agent span per invocation, with every
 * model call and tool execution under it. Offline (local model server) unless OPENAI_API_KEY is set.
 *
 *   npx tsx examples/agent.ts
 */
import { tool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { createAgent } from "langchain";
import { z } from "zod";
import { setupTracing } from "../src/index.js";
import { type ReplyScript, startModelServer } from "./support/model-server.js";

const tracing = setupTracing({ serviceName: "agent-example", console: true });

// The local model asks for the weather, then the time, then answers.
const script: ReplyScript = (request) => {
  const done = new Set(
    request.messages.filter((m) => m.role === "tool").map((m) => String(m.content).split(":")[0]),
  );
  if (!done.has("weather")) return { toolCalls: [{ name: "get_weather", arguments: { city: "Paris" } }] };
  if (!done.has("time")) return { toolCalls: [{ name: "get_time", arguments: { city: "Paris" } }] };
  return { content: "It is sunny in Paris, and it is noon there." };
};
const local = process.env.OPENAI_API_KEY ? undefined : await startModelServer({ reply: script });
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  ...(local ? { apiKey: "sk-local-example", configuration: { baseURL: local.baseURL } } : {}),
});

const getWeather = tool(async ({ city }: { city: string }) => `weather: sunny in ${city}`, {
  name: "get_weather",
  description: "Current weather in a city",
  schema: z.object({ city: z.string() }),
});
const getTime = tool(async ({ city }: { city: string }) => `time: 12:00 in ${city}`, {
  name: "get_time",
  description: "Local time in a city",
  schema: z.object({ city: z.string() }),
});

const agent = createAgent({ model, tools: [getWeather, getTime], name: "travel_assistant" });
const result = await agent.invoke(
  { messages: [{ role: "user", content: "What's the weather and the time in Paris?" }] },
  { callbacks: [tracing.handler], metadata: { userId: "example-user" } },
);
console.log(`\n${String(result.messages.at(-1)?.content)}\n`);

await local?.close();
await tracing.shutdown();
