// The workloads, built from real @langchain/core runnables (resolved from the project root):
// rag, rag-stream and agent, and each again with `-http`: the same runs, plus what an instrumented
// app's HTTP client instrumentation does inside them (`foreignCall`).

import { Document } from "@langchain/core/documents";
import { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk } from "@langchain/core/messages";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { z } from "zod";

/**
 * What an HTTP client instrumentation (undici, http) does around a request: a CLIENT span whose
 * parent is the active context, and the request's context read again to inject `traceparent`.
 * Ended at once: no I/O. Its spans go to the global tracer provider (contenders.mjs, ForeignSpans).
 */
function foreignCall(tracer, method) {
  const span = tracer.startSpan(method, { kind: SpanKind.CLIENT }, context.active());
  const headers = {};
  propagation.inject(trace.setSpan(context.active(), span), headers);
  span.end();
}

/** With `http`, a function making one foreign call named `method`; without, undefined. */
function httpClient(http, method) {
  if (!http) return undefined;
  // Got at the first call, once contenders.mjs has registered the global provider.
  let tracer;
  return () => {
    tracer ??= trace.getTracer("http");
    foreignCall(tracer, method);
  };
}

const usage = {
  input_tokens: 412,
  output_tokens: 38,
  total_tokens: 450,
  input_token_details: { cache_read: 128 },
};

/** A chat model that answers like a provider: model name, id, finish reason, usage; streams in chunks. */
class FakeProviderModel extends BaseChatModel {
  constructor(turns, http = false) {
    super({});
    this.turns = turns;
    this.index = 0;
    // The provider SDK's request: POST, before the response (and its first chunk).
    this.request = httpClient(http, "POST");
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
    this.request?.();
    const message = this.next();
    return { generations: [{ text: String(message.content), message }] };
  }
  async *_streamResponseChunks(_messages, _options, runManager) {
    this.request?.();
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

/** The tool; with `http`, its body makes a GET (a fetch in a tool). */
function lookupTool(http) {
  const fetch = httpClient(http, "GET");
  return tool(
    async ({ query }) => {
      fetch?.();
      return `policy for ${query}: 30 days`;
    },
    {
      name: "lookup_policy",
      description: "Look up a policy",
      schema: z.object({ query: z.string() }),
    },
  );
}

const answer = "Returns are accepted within 30 days of delivery and refunds take 5 business days";

/**
 * retrieve → prompt → model → parser → tool: 8 runs (sequence, 2 lambdas, retriever, prompt,
 * model, parser, tool); with `http`, 2 foreign calls (the model's POST, the tool's GET).
 */
function rag(streaming, http = false) {
  const model = new FakeProviderModel([{ text: answer }], http);
  const lookup = lookupTool(http);
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
    modelCalls: 1,
    foreignCalls: http ? 2 : 0,
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

/** An agent loop of three model calls and two tool calls inside one lambda: 6 runs; with `http`, 5 foreign calls. */
function agent(http = false) {
  const lookup = lookupTool(http);
  const model = new FakeProviderModel(
    [{ tool: "lookup_policy" }, { tool: "lookup_policy" }, { text: answer }],
    http,
  ).bindTools([lookup]);
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
  return {
    spans: 6,
    modelCalls: 3,
    foreignCalls: http ? 5 : 0,
    invoke: (callbacks) => loop.invoke("What is the refund policy?", { callbacks }),
  };
}

export const WORKLOADS = {
  rag: () => rag(false),
  "rag-stream": () => rag(true),
  agent: () => agent(false),
  "rag-http": () => rag(false, true),
  "rag-stream-http": () => rag(true, true),
  "agent-http": () => agent(true),
};
