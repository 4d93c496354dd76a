/**
 * A LangGraph graph with a model node, a conditional edge, a tool node and a human approval
 * step (interrupt/resume), traced. The first invocation pauses at the approval; resuming the same
 * thread produces a second trace linked to the first, in the same session (the thread id).
 *
 *   npx tsx examples/langgraph.ts
 */
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import {
  Annotation,
  Command,
  END,
  interrupt,
  MemorySaver,
  MessagesAnnotation,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";
import { setupTracing } from "../src/index.js";
import { type ReplyScript, startModelServer } from "./support/model-server.js";

const tracing = setupTracing({ serviceName: "langgraph-example", console: true });

const script: ReplyScript = (request) =>
  request.messages.some((m) => m.role === "tool")
    ? { content: "Refund of 40 EUR for order A-7 is ready to send." }
    : { toolCalls: [{ name: "lookup_order", arguments: { orderId: "A-7" } }] };
const local = process.env.OPENAI_API_KEY ? undefined : await startModelServer({ reply: script });
const lookupOrder = tool(
  async ({ orderId }: { orderId: string }) => `order ${orderId}: 40 EUR, delivered damaged`,
  {
    name: "lookup_order",
    description: "Look up an order",
    schema: z.object({ orderId: z.string() }),
  },
);
const model = new ChatOpenAI({
  model: "gpt-4o-mini",
  ...(local ? { apiKey: "sk-local-example", configuration: { baseURL: local.baseURL } } : {}),
}).bindTools([lookupOrder]);

const State = Annotation.Root({ ...MessagesAnnotation.spec, approved: Annotation<boolean> });

const graph = new StateGraph(State)
  .addNode("assistant", async (state) => ({ messages: [await model.invoke(state.messages)] }))
  .addNode("tools", new ToolNode([lookupOrder]))
  .addNode("approval", async (state) => {
    const last = state.messages.at(-1) as BaseMessage;
    // Pauses the graph until a human answers; the trace shows it as a pause, not an error.
    const approved = interrupt({ question: "Send this refund?", draft: last.content }) as boolean;
    return { approved };
  })
  .addEdge(START, "assistant")
  .addConditionalEdges("assistant", (state) =>
    (state.messages.at(-1) as AIMessage).tool_calls?.length ? "tools" : "approval",
  )
  .addEdge("tools", "assistant")
  .addEdge("approval", END)
  .compile({ checkpointer: new MemorySaver(), name: "refund_flow" });

const config = { configurable: { thread_id: "refund-thread-1" }, callbacks: [tracing.handler] };
const paused = await graph.invoke(
  { messages: [{ role: "user", content: "Refund order A-7, it arrived damaged." }] },
  config,
);
console.log(
  `\npaused: ${JSON.stringify((paused as { __interrupt__?: { value: unknown }[] }).__interrupt__?.[0]?.value)}\n`,
);

const resumed = await graph.invoke(new Command({ resume: true }), config);
console.log(`\nresumed: approved = ${resumed.approved}\n`);

await local?.close();
await tracing.shutdown();
