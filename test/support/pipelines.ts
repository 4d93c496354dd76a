import { StringOutputParser } from "@langchain/core/output_parsers";
import type { BasePromptValueInterface } from "@langchain/core/prompt_values";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { z } from "zod";
import { KeywordRetriever, ScriptedChatModel } from "./models.js";

const corpus = [
  { id: "doc-1", text: "Refunds are accepted within 30 days." },
  { id: "doc-2", text: "Shipping takes 5 days." },
  { id: "doc-3", text: "Refunds for digital goods are not accepted." },
];

export const lookupOrder = tool(async ({ orderId }: { orderId: string }) => `order ${orderId}: delivered`, {
  name: "lookup_order",
  description: "Look up an order by id",
  schema: z.object({ orderId: z.string() }),
});

/** prompt → retrieve → model (tool call) → tool → model → parse: the RAG shape this package exists for. */
export function ragPipeline(model: ScriptedChatModel) {
  const retriever = new KeywordRetriever(corpus);
  const prompt = ChatPromptTemplate.fromMessages([
    ["system", "Answer from the context.\n{context}"],
    ["human", "{question}"],
  ]);
  const bound = model.bindTools([lookupOrder]);
  return RunnableSequence.from([
    RunnableLambda.from(async (input: { question: string }, config) => {
      const docs = await retriever.invoke(input.question, config);
      return { question: input.question, context: docs.map((doc) => doc.pageContent).join("\n") };
    }).withConfig({ runName: "retrieve" }),
    prompt,
    RunnableLambda.from(async (value: BasePromptValueInterface, config) => {
      const messages = value.toChatMessages();
      const first = await bound.invoke(messages, config);
      const results = [];
      for (const call of first.tool_calls ?? []) results.push(await lookupOrder.invoke(call, config));
      return bound.invoke([...messages, first, ...results], config);
    }).withConfig({ runName: "agent-loop" }),
    new StringOutputParser(),
  ]).withConfig({ runName: "rag-pipeline" });
}

export const scripted = () =>
  new ScriptedChatModel([
    { toolCalls: [{ id: "call_1", name: "lookup_order", args: { orderId: "A-7" } }] },
    { text: "Refunds are accepted within 30 days. Order A-7 was delivered." },
  ]);
