// The three workloads, built from real @langchain/core runnables (resolved from the project root).

import { Document } from "@langchain/core/documents";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { z } from "zod";

const usage = {
  input_tokens: 412,
  output_tokens: 38,
  total_tokens: 450,
  input_token_details: { cache_read: 128 },
};

/** A chat model that answers like a provider: model name, id, finish reason, usage; streams in chunks. */
class FakeProviderModel extends BaseChatModel {
  constructor(turns) {
    super({});
    this.turns = turns;
    this.index = 0;
  }
  _llmType() {
    return "fake-provider";
  }
  getLsParams(options) {
    return {
      ls_provider: "openai",
      ls_model_name: "gpt-4o-mini",
      ls_model_type: "chat",
      ls_temperature: 0,
      ls_stop: options?.stop,
    };
  }
  invocationParams() {
    return { model: "gpt-4o-mini", temperature: 0, max_tokens: 512 };
  }
  bindTools(tools) {
    return this.withConfig({ tools });
  }
  next() {
    const turn = this.turns[this.index % this.turns.length];
    this.index++;
    return new AIMessage({
      content: turn.text ?? "",
      id: `chatcmpl-${this.index}`,
      tool_calls: turn.tool
        ? [{ id: `call_${this.index}`, name: turn.tool, args: { query: "refund policy" }, type: "tool_call" }]
        : [],
      response_metadata: {
        model_name: "gpt-4o-mini-2024-07-18",
        finish_reason: turn.tool ? "tool_calls" : "stop",
      },
      usage_metadata: usage,
    });
  }
  async _generate() {
    const message = this.next();
    return { generations: [{ text: String(message.content), message }] };
  }
  async *_streamResponseChunks(_messages, _options, runManager) {
    const message = this.next();
    const words = String(message.content).split(" ");
    for (const word of words) {
      const chunk = new ChatGenerationChunk({
        text: `${word} `,
        message: new AIMessageChunk({ content: `${word} `, id: message.id }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(`${word} `, undefined, undefined, undefined, undefined, { chunk });
    }
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        id: message.id,
        response_metadata: message.response_metadata,
        usage_metadata: usage,
      }),
      generationInfo: { finish_reason: "stop" },
    });
  }
}

class KnowledgeBase extends BaseRetriever {
  lc_namespace = ["bench"];
  async _getRelevantDocuments(query) {
    return [
      new Document({
        id: "kb-1",
        pageContent: `Returns are accepted within 30 days (${query.length}).`,
        metadata: { score: 0.91 },
      }),
      new Document({
        id: "kb-2",
        pageContent: "Refunds are issued within 5 business days.",
        metadata: { score: 0.77 },
      }),
    ];
  }
}

const lookup = tool(async ({ query }) => `policy for ${query}: 30 days`, {
  name: "lookup_policy",
  description: "Look up a policy",
  schema: z.object({ query: z.string() }),
});

const answer = "Returns are accepted within 30 days of delivery and refunds take 5 business days";

/** retrieve → prompt → model → parser → tool: 8 runs (sequence, 2 lambdas, retriever, prompt, model, parser, tool). */
function rag(streaming) {
  const model = new FakeProviderModel([{ text: answer }]);
  const retriever = new KnowledgeBase();
  const chain = RunnableSequence.from([
    RunnableLambda.from(async (input, config) => {
      const docs = await retriever.invoke(input.question, config);
      return { question: input.question, context: docs.map((doc) => doc.pageContent).join("\n") };
    }).withConfig({ runName: "retrieve" }),
    ChatPromptTemplate.fromMessages([
      ["system", "Answer from the context:\n{context}"],
      ["human", "{question}"],
    ]),
    model,
    new StringOutputParser(),
    RunnableLambda.from(async (text, config) => {
      await lookup.invoke({ query: text.slice(0, 20) }, config);
      return text;
    }).withConfig({ runName: "verify" }),
  ]).withConfig({ runName: "rag" });
  return {
    spans: 8,
    invoke: streaming
      ? async (callbacks) => {
          let out = "";
          for await (const chunk of await chain.stream({ question: "Can I return my order?" }, { callbacks }))
            out += chunk;
          return out;
        }
      : (callbacks) => chain.invoke({ question: "Can I return my order?" }, { callbacks }),
  };
}

/** An agent loop of three model calls and two tool calls inside one lambda: 6 runs. */
function agent() {
  const model = new FakeProviderModel([
    { tool: "lookup_policy" },
    { tool: "lookup_policy" },
    { text: answer },
  ]).bindTools([lookup]);
  const loop = RunnableLambda.from(async (question, config) => {
    const messages = [["human", question]];
    for (let step = 0; step < 5; step++) {
      const reply = await model.invoke(messages, config);
      messages.push(reply);
      if (!reply.tool_calls?.length) return reply.content;
      for (const call of reply.tool_calls) messages.push(await lookup.invoke(call, config));
    }
    return "";
  }).withConfig({ runName: "agent-loop" });
  return { spans: 6, invoke: (callbacks) => loop.invoke("What is the refund policy?", { callbacks }) };
}

export const WORKLOADS = { rag: () => rag(false), "rag-stream": () => rag(true), agent };
