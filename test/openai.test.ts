import type { AIMessageChunk } from "@langchain/core/messages";
import { tool } from "@langchain/core/tools";
import { ChatOpenAI, OpenAI } from "@langchain/openai";
import { type Attributes, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { SamplingDecision } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { z } from "zod";
import { type ModelServer, type ScriptedReply, startModelServer } from "../examples/support/model-server.js";
import { jsonAttribute, parentId, setupTestTracing, spanId, type TestTracing } from "./support/tracing.js";

const lookup = tool(async ({ orderId }: { orderId: string }) => `order ${orderId} shipped`, {
  name: "lookup_order",
  description: "Look up an order",
  schema: z.object({ orderId: z.string() }),
});

describe("real ChatOpenAI against the local OpenAI-compatible server", () => {
  let server: ModelServer;
  let tracing: TestTracing;
  let script: ScriptedReply[] = [];

  before(async () => {
    // Each test scripts its replies in order; an unscripted call fails loudly.
    server = await startModelServer({ reply: () => script.shift() ?? { status: 599 } });
  });
  after(async () => server.close());
  beforeEach(() => {
    tracing = setupTestTracing();
    server.requests.length = 0;
  });
  afterEach(async () => tracing.shutdown());

  const chat = (fields: Record<string, unknown> = {}) =>
    new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
      temperature: 0.1,
      ...fields,
    });

  it("non-streaming: model, usage, finish reason, response id", async () => {
    script = [
      {
        content: "Hello!",
        usage: { prompt_tokens: 11, completion_tokens: 3, cached_tokens: 4, reasoning_tokens: 1 },
      },
    ];
    const message = await chat({ maxTokens: 50 }).invoke("Hi", { callbacks: [tracing.handler] });
    expect(message.content).to.equal("Hello!");
    const span = tracing.span("chat gpt-4o-mini");
    expect(span.kind).to.equal(SpanKind.CLIENT);
    expect(span.attributes).to.include({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai",
      "gen_ai.request.model": "gpt-4o-mini",
      "gen_ai.request.temperature": 0.1,
      "gen_ai.request.max_tokens": 50,
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
      "gen_ai.response.id": "chatcmpl-1",
      "gen_ai.usage.input_tokens": 11,
      "gen_ai.usage.output_tokens": 3,
      "gen_ai.usage.cache_read.input_tokens": 4,
      "gen_ai.usage.reasoning.output_tokens": 1,
    });
    expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
    expect(span.attributes).not.to.have.property("gen_ai.request.stream");
  });

  it("JSON mode: gen_ai.output.type json; a plain call names no output type", async () => {
    script = [{ content: '{"answer":"yes"}' }, { content: "plain" }];
    const structured = chat().withStructuredOutput(z.object({ answer: z.string() }), { method: "jsonMode" });
    expect(await structured.invoke("Answer in JSON", { callbacks: [tracing.handler] })).to.deep.equal({
      answer: "yes",
    });
    expect(server.requests[0].body.response_format).to.deep.equal({ type: "json_object" });
    await chat().invoke("Hi", { callbacks: [tracing.handler] });
    const [json, plain] = tracing.spans().filter((span) => span.name === "chat gpt-4o-mini");
    expect(json.attributes["gen_ai.output.type"]).to.equal("json");
    expect(plain.attributes).not.to.have.property("gen_ai.output.type");
  });

  it("the sampler is given the operation, provider, model and server, as the conventions ask", async () => {
    const seen: Attributes[] = [];
    await tracing.shutdown();
    tracing = setupTestTracing(
      {},
      {
        sampler: {
          shouldSample: (_context, _traceId, _name, _kind, attributes) => {
            seen.push({ ...attributes });
            return { decision: SamplingDecision.RECORD_AND_SAMPLED };
          },
          toString: () => "recording",
        },
      },
    );
    script = [{ content: "Hello!" }];
    await chat().invoke("Hi", { callbacks: [tracing.handler] });
    expect(seen).to.deep.equal([
      {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": Number(new URL(server.baseURL).port),
      },
    ]);
  });

  it("streaming: stream flag, time to first chunk, usage from the final chunk", async () => {
    script = [{ content: "one two three four five", usage: { prompt_tokens: 20, completion_tokens: 5 } }];
    let text = "";
    for await (const chunk of await chat({ streamUsage: true }).stream("count", {
      callbacks: [tracing.handler],
    })) {
      text += chunk.content;
    }
    expect(text).to.equal("one two three four five");
    const span = tracing.span("chat gpt-4o-mini");
    expect(span.attributes).to.include({
      "gen_ai.request.stream": true,
      "gen_ai.usage.input_tokens": 20,
      "gen_ai.usage.output_tokens": 5,
      "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    });
    expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
    expect(span.attributes["gen_ai.response.time_to_first_chunk"]).to.be.a("number").greaterThan(0);
    expect(jsonAttribute(span, "gen_ai.output.messages")).to.deep.equal([
      {
        role: "assistant",
        parts: [{ type: "text", content: "one two three four five" }],
        finish_reason: "stop",
      },
    ]);
  });

  for (const streaming of [false, true]) {
    it(`tool calls (${streaming ? "streaming" : "non-streaming"}): the tool span carries the model's tool call id`, async () => {
      script = [
        {
          toolCalls: [{ id: "call_abc123", name: "lookup_order", arguments: { orderId: "A-1" } }],
          usage: { prompt_tokens: 30, completion_tokens: 9 },
        },
        { content: "Order A-1 shipped.", usage: { prompt_tokens: 45, completion_tokens: 4 } },
      ];
      // Streamed through .stream(): ChatOpenAI's streaming invoke() estimates tokens with a tokenizer
      // it downloads, which an offline machine cannot.
      const model = chat({ streamUsage: true }).bindTools([lookup]);
      const ask = async (input: Parameters<typeof model.invoke>[0]) => {
        if (!streaming) return model.invoke(input, { callbacks: [tracing.handler] });
        let message: AIMessageChunk | undefined;
        for await (const chunk of await model.stream(input, { callbacks: [tracing.handler] })) {
          message = message === undefined ? chunk : message.concat(chunk);
        }
        return message!;
      };
      const first = await ask("Where is A-1?");
      expect(first.tool_calls?.[0]).to.deep.include({
        id: "call_abc123",
        name: "lookup_order",
        args: { orderId: "A-1" },
      });
      const toolMessage = await lookup.invoke(first.tool_calls![0], { callbacks: [tracing.handler] });
      await ask(["Where is A-1?", first, toolMessage]);

      const [request, answer] = tracing.spans().filter((span) => span.name === "chat gpt-4o-mini");
      expect(request.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["tool_calls"]);
      expect(request.attributes).to.include({
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 9,
      });
      const output = jsonAttribute(request, "gen_ai.output.messages") as {
        parts: unknown[];
        finish_reason: string;
      }[];
      expect(output[0].parts).to.deep.equal([
        { type: "tool_call", id: "call_abc123", name: "lookup_order", arguments: { orderId: "A-1" } },
      ]);
      expect(output[0].finish_reason).to.equal("tool_call");
      expect(jsonAttribute(request, "gen_ai.tool.definitions")).to.deep.equal([
        { type: "function", name: "lookup_order", description: "Look up an order" },
      ]);
      const toolSpan = tracing.span("execute_tool lookup_order");
      expect(toolSpan.attributes).to.include({
        "gen_ai.tool.call.id": "call_abc123",
        "gen_ai.tool.description": "Look up an order",
      });
      expect(answer.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
      const input = jsonAttribute(answer, "gen_ai.input.messages") as {
        role: string;
        parts: { type: string; id?: string }[];
      }[];
      expect(input[2]).to.deep.equal({
        role: "tool",
        name: "lookup_order",
        parts: [{ type: "tool_call_response", id: "call_abc123", response: "order A-1 shipped" }],
      });
    });
  }

  it("n=2 choices: a finish reason per choice, usage counted once, choice count recorded", async () => {
    script = [{ content: "same", usage: { prompt_tokens: 7, completion_tokens: 2 } }];
    await chat({ n: 2 }).generate([["Say same"]], { callbacks: [tracing.handler] });
    const span = tracing.span("chat gpt-4o-mini");
    expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop", "stop"]);
    expect(span.attributes).to.include({ "gen_ai.request.choice.count": 2, "gen_ai.usage.input_tokens": 7 });
  });

  it("an API error ends the span failed, nested under the caller's chain", async () => {
    script = [{ status: 500 }];
    const error = await chat()
      .invoke("Hi", { callbacks: [tracing.handler] })
      .catch((caught: unknown) => caught);
    expect(error).to.be.instanceOf(Error);
    const span = tracing.span("chat gpt-4o-mini");
    expect(span.status.code).to.equal(SpanStatusCode.ERROR);
    expect(span.attributes["error.type"]).to.be.a("string").and.not.equal("_OTHER");
    expect(span.events.some((event) => event.name === "exception")).to.equal(true);
  });

  it("legacy OpenAI LLM: a text_completion span", async () => {
    const llm = new OpenAI({
      model: "gpt-3.5-turbo-instruct",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
    });
    await llm.invoke("Once upon a time", { callbacks: [tracing.handler] });
    const span = tracing.span("text_completion gpt-3.5-turbo-instruct");
    expect(span.attributes).to.include({
      "gen_ai.operation.name": "text_completion",
      "gen_ai.provider.name": "openai",
      "gen_ai.usage.input_tokens": 4,
    });
    expect(span.attributes["gen_ai.response.finish_reasons"]).to.deep.equal(["stop"]);
  });

  it("the API key never lands in a span", async () => {
    script = [{ content: "ok" }];
    await chat().invoke("Hi", { callbacks: [tracing.handler] });
    expect(server.requests[0].headers.authorization).to.equal("Bearer sk-test-0123456789abcdefghij");
    const everything = JSON.stringify(
      tracing.spans().map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
    );
    expect(everything).not.to.include("sk-test-0123456789abcdefghij");
  });

  it("a model attached once via callbacks nests under the active chain", async () => {
    script = [{ content: "ok" }];
    const model = chat({ callbacks: [tracing.handler] });
    await tracing.provider.getTracer("app").startActiveSpan("job", async (job) => {
      await model.invoke("Hi");
      job.end();
    });
    expect(parentId(tracing.span("chat gpt-4o-mini"))).to.equal(spanId(tracing.span("job")));
  });
});
