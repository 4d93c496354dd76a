import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Document } from "@langchain/core/documents";
import {
  AIMessage,
  AIMessageChunk,
  ChatMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
} from "@langchain/core/messages";
import { ChatGenerationChunk } from "@langchain/core/outputs";
import { expect } from "chai";
import fc from "fast-check";
import { toBoundedJson, toBoundedJsonWith, toBoundedText } from "../src/genai/json.js";
import { messagesJson, partsJson } from "../src/genai/message-json.js";
import { readDocuments } from "../src/langchain/documents.js";
import { isStreamInputPlaceholder } from "../src/langchain/io.js";
import { splitChatInput, toGenAIMessage } from "../src/langchain/messages.js";
import { NO_METADATA, type RunMetadata, readRunMetadata } from "../src/langchain/metadata.js";
import { invocationParams, readRequestParams } from "../src/langchain/params.js";
import { normaliseProvider, readProvider } from "../src/langchain/provider.js";
import { normaliseFinishReason, readModelResponse, readOutputMessages } from "../src/langchain/result.js";
import { readToolDefinitions, readToolResult } from "../src/langchain/tools.js";

const serializedClass = (...id: string[]) => ({ lc: 1, type: "constructor", id, kwargs: {} });

/** As the handler reads a model run: its invocation params once, then its parameters and tools. */
const readParams = (serialized: unknown, extraParams: unknown, metadata: RunMetadata) =>
  readRequestParams(serialized, invocationParams(extraParams), metadata);
const readTools = (extraParams: unknown) => readToolDefinitions(invocationParams(extraParams));

describe("LangChain readers", () => {
  describe("readProvider", () => {
    const cases: [string, unknown, unknown, string | undefined][] = [
      [
        "ChatOpenAI",
        serializedClass("langchain", "chat_models", "openai", "ChatOpenAI"),
        { ls_provider: "openai" },
        "openai",
      ],
      [
        "AzureChatOpenAI (ls_provider azure)",
        serializedClass("langchain", "chat_models", "azure_openai", "AzureChatOpenAI"),
        { ls_provider: "azure" },
        "azure.ai.openai",
      ],
      [
        "ChatAnthropic",
        serializedClass("langchain", "chat_models", "anthropic", "ChatAnthropic"),
        { ls_provider: "anthropic" },
        "anthropic",
      ],
      [
        "ChatBedrockConverse",
        serializedClass("langchain", "chat_models", "ChatBedrockConverse"),
        { ls_provider: "amazon_bedrock" },
        "aws.bedrock",
      ],
      [
        "ChatVertexAI",
        serializedClass("langchain", "chat_models", "ChatVertexAI"),
        { ls_provider: "google_vertexai" },
        "gcp.vertex_ai",
      ],
      [
        "ChatGoogleGenerativeAI",
        serializedClass("langchain", "chat_models", "ChatGoogleGenerativeAI"),
        { ls_provider: "google_genai" },
        "gcp.gemini",
      ],
      ["ChatMistralAI", serializedClass("x", "ChatMistralAI"), { ls_provider: "mistral" }, "mistral_ai"],
      ["ChatGroq", serializedClass("x", "ChatGroq"), { ls_provider: "groq" }, "groq"],
      ["ChatXAI", serializedClass("x", "ChatXAI"), { ls_provider: "xai" }, "x_ai"],
      ["ChatDeepSeek", serializedClass("x", "ChatDeepSeek"), { ls_provider: "deepseek" }, "deepseek"],
      ["ChatCohere", serializedClass("x", "ChatCohere"), {}, "cohere"],
      ["ChatOllama: a custom value", serializedClass("x", "ChatOllama"), { ls_provider: "ollama" }, "ollama"],
      ["an unknown class without metadata", serializedClass("x", "ChatAcme"), undefined, "acme"],
      ["nothing at all", undefined, undefined, undefined],
    ];
    for (const [what, serialized, metadata, expected] of cases) {
      it(what, () => expect(readProvider(serialized, readRunMetadata(metadata))).to.equal(expected));
    }
    it("normalises spellings", () => {
      expect(normaliseProvider("Azure-OpenAI")).to.equal("azure.ai.openai");
      expect(normaliseProvider("Vertex AI")).to.equal("gcp.vertex_ai");
    });
  });

  describe("readRunMetadata", () => {
    it("reads identity by key precedence, LangGraph facts, ls_* hints and the keys worth showing", () => {
      const read = readRunMetadata({
        userId: "plain-user",
        langfuseUserId: "lf-user",
        thread_id: 42,
        session_id: "s-1",
        langfuseTags: ["a"],
        langfuse_tags: "b",
        langfuse_trace_name: "named",
        langgraph_node: "agent",
        langgraph_step: 3,
        lc_agent_name: "helper",
        ls_provider: "openai",
        ls_temperature: 0.5,
        tenant: "acme",
        versions: { core: "1" },
        __pregel_task_id: "4b1c",
      });
      expect(read).to.deep.include({
        userId: "lf-user",
        sessionId: "s-1",
        threadId: "42",
        traceName: "named",
        tagValues: [["a"], "b"],
        graphNode: "agent",
        graphStep: 3,
        agentName: "helper",
        lsProvider: "openai",
        lsTemperature: 0.5,
      });
      expect(read.shown).to.deep.equal([
        "userId",
        "plain-user",
        "thread_id",
        42,
        "session_id",
        "s-1",
        "langgraph_node",
        "agent",
        "langgraph_step",
        3,
        "lc_agent_name",
        "helper",
        "tenant",
        "acme",
      ]);
    });
    it("takes a numeric session id only when no key holds a string, and survives hostile objects", () => {
      expect(readRunMetadata({ thread_id: 7 }).sessionId).to.equal("7");
      const throwing = Object.defineProperty({ userId: "u" }, "sessionId", {
        enumerable: true,
        get() {
          throw new Error("getter");
        },
      });
      expect(readRunMetadata(throwing)).to.deep.include({ userId: "u", sessionId: undefined });
      const unlistable = new Proxy(
        {},
        {
          ownKeys() {
            throw new Error("keys");
          },
        },
      );
      expect(readRunMetadata(unlistable)).to.deep.equal(NO_METADATA);
      expect(readRunMetadata("not an object")).to.deep.equal(NO_METADATA);
    });
  });

  describe("readRequestParams", () => {
    const outputTypes: [string, Record<string, unknown>, string | undefined][] = [
      ["OpenAI JSON mode", { response_format: { type: "json_object" } }, "json"],
      ["OpenAI JSON schema", { response_format: { type: "json_schema", json_schema: {} } }, "json"],
      ["OpenAI text", { response_format: { type: "text" } }, "text"],
      ["Google's MIME type", { responseMimeType: "application/json" }, "json"],
      ["Ollama's format", { format: "json" }, "json"],
      ["Ollama's schema", { format: { type: "object" } }, "json"],
      ["no format asked", { temperature: 0 }, undefined],
    ];
    for (const [what, sent, expected] of outputTypes) {
      it(`output type: ${what} → ${expected}`, () =>
        expect(readParams(undefined, { invocation_params: sent }, NO_METADATA).outputType).to.equal(
          expected,
        ));
    }

    it("reads OpenAI invocation params", () => {
      const params = readParams(
        undefined,
        {
          invocation_params: {
            model: "gpt-4o-mini",
            temperature: 0.3,
            top_p: 0.8,
            max_tokens: 100,
            stop: ["\n\n"],
            frequency_penalty: 0.1,
            presence_penalty: 0.2,
            seed: 42,
            n: 2,
            stream: true,
          },
        },
        NO_METADATA,
      );
      expect(params).to.deep.include({
        model: "gpt-4o-mini",
        temperature: 0.3,
        topP: 0.8,
        maxTokens: 100,
        stopSequences: ["\n\n"],
        frequencyPenalty: 0.1,
        presencePenalty: 0.2,
        seed: 42,
        choiceCount: 2,
        stream: true,
      });
    });
    it("reads Anthropic and Google spellings", () => {
      expect(
        readParams(
          undefined,
          {
            invocation_params: {
              model: "claude-sonnet-4",
              top_k: 40,
              stop_sequences: ["END"],
              max_tokens: 1024,
            },
          },
          NO_METADATA,
        ),
      ).to.deep.include({ model: "claude-sonnet-4", topK: 40, stopSequences: ["END"], maxTokens: 1024 });
      expect(
        readParams(
          undefined,
          {
            invocation_params: {
              model: "gemini-2.5-flash",
              topP: 0.5,
              topK: 3,
              maxOutputTokens: 64,
              candidateCount: 1,
            },
          },
          NO_METADATA,
        ),
      ).to.deep.include({ model: "gemini-2.5-flash", topP: 0.5, topK: 3, maxTokens: 64, choiceCount: 1 });
    });
    it("falls back to ls_* metadata and ignores maxTokens -1", () => {
      const params = readParams(
        undefined,
        { invocation_params: { max_tokens: -1 } },
        readRunMetadata({ ls_model_name: "m", ls_temperature: 0, ls_stop: "STOP" }),
      );
      expect(params).to.deep.include({
        model: "m",
        temperature: 0,
        stopSequences: ["STOP"],
        maxTokens: undefined,
      });
    });
  });

  describe("messages", () => {
    it("turns an AI message with tool calls into text and tool_call parts", () => {
      const message = new AIMessage({
        content: "Let me check.",
        tool_calls: [{ id: "call_1", name: "weather", args: { city: "Paris" }, type: "tool_call" }],
        name: "planner",
      });
      expect(toGenAIMessage(message)).to.deep.equal({
        role: "assistant",
        name: "planner",
        parts: [
          { type: "text", content: "Let me check." },
          { type: "tool_call", id: "call_1", name: "weather", arguments: { city: "Paris" } },
        ],
      });
    });
    it("turns a tool message into a tool_call_response part", () => {
      expect(toGenAIMessage(new ToolMessage({ content: "rainy", tool_call_id: "call_1" }))).to.deep.equal({
        role: "tool",
        parts: [{ type: "tool_call_response", id: "call_1", response: "rainy" }],
      });
    });
    it("replaces inline images by a placeholder and keeps URLs", () => {
      const base64 = Buffer.alloc(3000, 1).toString("base64");
      const message = new HumanMessage({
        content: [
          { type: "text", text: "What is this?" },
          { type: "image_url", image_url: { url: `data:image/png;base64,${base64}` } },
          { type: "image_url", image_url: "https://example.com/cat.jpg" },
        ],
      });
      expect(toGenAIMessage(message).parts).to.deep.equal([
        { type: "text", content: "What is this?" },
        {
          type: "blob",
          modality: "image",
          mime_type: "image/png",
          content: "[image/png base64, 3000 bytes]",
        },
        { type: "uri", modality: "image", uri: "https://example.com/cat.jpg" },
      ]);
    });
    it("splits leading system messages into system instructions", () => {
      const { system, input } = splitChatInput([
        new SystemMessage("Be brief."),
        new HumanMessage("Hi"),
        new ChatMessage({ role: "critic", content: "Too long" }),
      ]);
      expect(system).to.deep.equal([{ type: "text", content: "Be brief." }]);
      expect(input.map((message) => message.role)).to.deep.equal(["user", "critic"]);
    });
  });

  it("writes GenAI messages directly exactly as the generic writer does", () => {
    const base64 = Buffer.alloc(300, 1).toString("base64");
    const records = [
      new SystemMessage("Be brief."),
      new HumanMessage({
        content: [
          { type: "text", text: 'Line one\nline "two"' },
          { type: "image_url", image_url: { url: `data:image/png;base64,${base64}` } },
          { type: "reasoning", reasoning: "hmm" },
          { type: "custom_block", payload: 1 },
        ],
      }),
      new AIMessage({
        content: "Let me check.",
        name: "planner",
        tool_calls: [{ id: "call_1", name: "weather", args: { city: "Paris", n: 10n }, type: "tool_call" }],
      }),
      new ToolMessage({ content: [{ type: "text", text: "rainy" }], tool_call_id: "call_1" }),
      new ChatMessage({ role: "critic", content: "Too long" }),
    ].map(toGenAIMessage);
    records[2].finish_reason = "tool_call";
    const direct = toBoundedJsonWith((writer) => messagesJson(writer, records));
    expect(direct.json).to.equal(toBoundedJson(records).json);
    const parts = records[1].parts;
    expect(toBoundedJsonWith((writer) => partsJson(writer, parts)).json).to.equal(toBoundedJson(parts).json);
    // The budget still applies to every text, and the cut is marked.
    const tight = { maxChars: 12, maxDepth: 20, maxItems: 1000 };
    const cut = toBoundedJsonWith((writer) => messagesJson(writer, records), tight);
    expect(cut.truncated).to.equal(true);
    expect(JSON.parse(cut.json)).to.have.length(records.length);
  });

  describe("model responses", () => {
    it("reads a non-streamed OpenAI-style generation", () => {
      const message = new AIMessage({
        content: "Hi",
        id: "chatcmpl-1",
        response_metadata: { model_name: "gpt-4o-mini-2024-07-18", finish_reason: "stop" },
        usage_metadata: {
          input_tokens: 10,
          output_tokens: 2,
          total_tokens: 12,
          input_token_details: { cache_read: 4, cache_creation: 1 },
          output_token_details: { reasoning: 1 },
        },
      });
      const output = { generations: [[{ text: "Hi", message, generationInfo: { finish_reason: "stop" } }]] };
      expect(readModelResponse(output)).to.deep.equal({
        model: "gpt-4o-mini-2024-07-18",
        id: "chatcmpl-1",
        finishReasons: ["stop"],
        generationReasons: ["stop"],
        usage: {
          inputTokens: 10,
          outputTokens: 2,
          totalTokens: 12,
          cacheReadInputTokens: 4,
          cacheCreationInputTokens: 1,
          reasoningOutputTokens: 1,
        },
      });
    });
    it("reads a streamed generation chunk and ignores LangChain's run- ids", () => {
      const chunk = new ChatGenerationChunk({
        text: "Hi",
        message: new AIMessageChunk({
          content: "Hi",
          id: "run-123",
          response_metadata: { model_name: "m" },
          usage_metadata: { input_tokens: 3, output_tokens: 1, total_tokens: 4 },
        }),
        generationInfo: { finish_reason: "length" },
      });
      const response = readModelResponse({ generations: [[chunk]] });
      expect(response).to.deep.include({ model: "m", id: undefined, finishReasons: ["length"] });
      expect(response.usage).to.deep.include({ inputTokens: 3, outputTokens: 1 });
      expect(readOutputMessages({ generations: [[chunk]] })[0].finish_reason).to.equal("length");
    });
    it("reads Anthropic usage from llmOutput, counting cached input in the input", () => {
      const response = readModelResponse({
        generations: [
          [
            {
              text: "x",
              message: new AIMessage({ content: "x", response_metadata: { stop_reason: "end_turn" } }),
            },
          ],
        ],
        llmOutput: {
          id: "msg_1",
          model: "claude",
          usage: {
            input_tokens: 10,
            output_tokens: 5,
            cache_read_input_tokens: 100,
            cache_creation_input_tokens: 7,
          },
        },
      });
      expect(response).to.deep.equal({
        model: "claude",
        id: "msg_1",
        finishReasons: ["end_turn"],
        generationReasons: ["end_turn"],
        usage: { inputTokens: 117, outputTokens: 5, cacheReadInputTokens: 100, cacheCreationInputTokens: 7 },
      });
    });
    it("reads each finish reason once: the output messages take the response's", () => {
      let reads = 0;
      const generation = (reason: string | undefined) => ({
        text: "x",
        message: new AIMessage({ content: "x" }),
        get generationInfo() {
          reads++;
          return reason === undefined ? {} : { finish_reason: reason };
        },
      });
      const output = {
        generations: [[generation("tool_calls"), generation(undefined), generation("length")]],
      };
      const response = readModelResponse(output);
      expect(response.finishReasons).to.deep.equal(["tool_calls", "length"]);
      expect(response.generationReasons).to.deep.equal(["tool_calls", undefined, "length"]);
      reads = 0;
      const messages = readOutputMessages(output, response.generationReasons);
      expect(reads).to.equal(0);
      expect(messages.map((m) => m.finish_reason)).to.deep.equal(["tool_call", undefined, "length"]);
      // Generations the response did not get to (a getter threw there) are read here.
      expect(readOutputMessages(output, ["stop"]).map((m) => m.finish_reason)).to.deep.equal([
        "stop",
        undefined,
        "length",
      ]);
      expect(reads).to.equal(2);
    });
    it("a generation whose message is null or not an object is its text, from the assistant", () => {
      for (const message of [null, "str", 42]) {
        expect(readOutputMessages({ generations: [[{ text: "the answer", message }]] })).to.deep.equal([
          { role: "assistant", parts: [{ type: "text", content: "the answer" }] },
        ]);
      }
    });
    it("reads a reported cost (OpenRouter's usage.cost), and none when absent", () => {
      const message = new AIMessage({ content: "x", response_metadata: { usage: { cost: 0.00042 } } });
      expect(readModelResponse({ generations: [[{ text: "x", message }]] }).cost).to.equal(0.00042);
      expect(
        readModelResponse({ generations: [[{ text: "x", message: new AIMessage("x") }]] }),
      ).not.to.have.property("cost");
    });
    it("reads tokenUsage of LLM runs and n>1 choices", () => {
      const response = readModelResponse({
        generations: [
          [
            { text: "a", generationInfo: { finish_reason: "stop" } },
            { text: "b", generationInfo: { finish_reason: "length" } },
          ],
        ],
        llmOutput: { tokenUsage: { promptTokens: 5, completionTokens: 6, totalTokens: 11 } },
      });
      expect(response.finishReasons).to.deep.equal(["stop", "length"]);
      expect(response.usage).to.deep.equal({ inputTokens: 5, outputTokens: 6, totalTokens: 11 });
    });
    const reasons: [string, string][] = [
      ["stop", "stop"],
      ["end_turn", "stop"],
      ["tool_calls", "tool_call"],
      ["tool_use", "tool_call"],
      ["max_tokens", "length"],
      ["SAFETY", "content_filter"],
      ["content_filter", "content_filter"],
      ["refusal", "content_filter"],
      ["MALFORMED_FUNCTION_CALL", "error"],
      ["insufficient_system_resource", "error"],
      ["custom_reason", "custom_reason"],
    ];
    for (const [raw, normalised] of reasons) {
      it(`finish reason ${raw} → ${normalised}`, () =>
        expect(normaliseFinishReason(raw)).to.equal(normalised));
    }
  });

  it("reads documents: id, score from metadata, content", () => {
    expect(
      readDocuments([
        new Document({ id: "a", pageContent: "alpha", metadata: { score: 0.9 } }),
        new Document({ pageContent: "beta", metadata: { source: "b.md", relevance_score: 0.5 } }),
        new Document({ pageContent: "gamma" }),
      ]),
    ).to.deep.equal([
      { id: "a", score: 0.9, content: "alpha" },
      { id: "b.md", score: 0.5, content: "beta" },
      { content: "gamma" },
    ]);
  });

  it("reads tool definitions in OpenAI and flat shapes", () => {
    expect(
      readTools({
        invocation_params: {
          tools: [
            { type: "function", function: { name: "a", description: "A", parameters: {} } },
            { name: "b", description: "B", input_schema: {} },
            { nonsense: true },
          ],
        },
      }),
    ).to.deep.equal([
      { type: "function", name: "a", description: "A" },
      { type: "function", name: "b", description: "B" },
    ]);
    expect(readTools({ invocation_params: {} })).to.equal(undefined);
    const throwing = Object.defineProperty({}, "invocation_params", {
      get() {
        throw new Error("getter");
      },
    });
    expect(readTools(throwing)).to.equal(undefined);
    expect(readParams({ kwargs: { model: "m", streaming: true } }, throwing, NO_METADATA)).to.deep.include({
      model: "m",
      stream: true,
    });
  });

  it("tells LangChain 0.3's stream placeholder input from real inputs", () => {
    const throwing = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("no keys");
        },
      },
    );
    const cases: [string, unknown, boolean][] = [
      ["the placeholder", { input: "" }, true],
      ["a real input", { input: "hello" }, false],
      ["an empty input beside others", { input: "", question: "q" }, false],
      ["no keys", {}, false],
      ["an empty string", "", false],
      ["an array", [""], false],
      ["null", null, false],
      ["a proxy that cannot list its keys", throwing, false],
    ];
    for (const [what, inputs, expected] of cases)
      expect(isStreamInputPlaceholder(inputs), what).to.equal(expected);
  });

  it("reads tool results: raw values and ToolMessages with their call id, failed ones marked", () => {
    expect(readToolResult("plain")).to.deep.equal({ content: "plain", failed: false });
    expect(readToolResult(new ToolMessage({ content: "ok", tool_call_id: "c" }))).to.deep.equal({
      content: "ok",
      failed: false,
      callId: "c",
    });
    expect(
      readToolResult(new ToolMessage({ content: "boom", tool_call_id: "c", status: "error" })),
    ).to.deep.equal({
      content: "boom",
      failed: true,
      callId: "c",
    });
    expect(readToolResult(new ToolMessage({ content: "ok", tool_call_id: "" })).callId).to.equal(undefined);
  });

  describe("toBoundedJson", () => {
    it("survives hostile values and returns valid JSON", () => {
      const cyclic: Record<string, unknown> = { name: "loop" };
      cyclic.self = cyclic;
      const throwingGetter = Object.defineProperty({}, "boom", {
        enumerable: true,
        get() {
          throw new Error("getter");
        },
      });
      const throwingToJSON = {
        toJSON: () => {
          throw new Error("toJSON");
        },
        keep: 1,
      };
      const value = {
        cyclic,
        big: 10n,
        symbol: Symbol("s"),
        fn: function named() {},
        throwingGetter,
        throwingToJSON,
        buffer: Buffer.from("abc"),
        typed: new Float32Array(4),
        nan: Number.NaN,
        inf: Number.POSITIVE_INFINITY,
        date: new Date(0),
        error: new RangeError("bad"),
        map: new Map([["k", 1]]),
        set: new Set([1, 2]),
        undef: undefined,
        lone: "\ud800",
      };
      const { json } = toBoundedJson(value);
      expect(JSON.parse(json)).to.deep.equal({
        cyclic: { name: "loop", self: "[circular]" },
        big: "10",
        symbol: "Symbol(s)",
        throwingGetter: { boom: "[unreadable]" },
        throwingToJSON: { keep: 1 },
        buffer: "[Buffer 3 bytes]",
        typed: "[Float32Array 16 bytes]",
        nan: "NaN",
        inf: "Infinity",
        date: "1970-01-01T00:00:00.000Z",
        error: { name: "RangeError", message: "bad" },
        map: { k: 1 },
        set: [1, 2],
        lone: "\ud800",
      });
    });
    it("bounds depth, items and characters", () => {
      let deep: unknown = "bottom";
      for (let i = 0; i < 1000; i++) deep = { next: deep };
      const result = toBoundedJson({
        deep,
        list: Array.from({ length: 5000 }, (_, i) => i),
        text: "y".repeat(10_000_000),
      });
      expect(result.truncated).to.equal(true);
      expect(result.json.length).to.be.lessThan(100_000);
      expect(JSON.parse(toBoundedJson([() => 1]).json)).to.deep.equal(["[function anonymous]"]);
      const parsed = JSON.parse(result.json);
      expect(parsed.list).to.have.length(1001);
      expect(parsed.list[1000]).to.equal("…[4000 more items]");
    });
    it("writes plain values as they are, and a key named __proto__ as data", () => {
      const plain = { question: "q", k: 3, tags: ["a", "b"], nested: { ok: true, none: null } };
      expect(JSON.parse(toBoundedJson(plain).json)).to.deep.equal(plain);
      // A key named __proto__ is data, not a prototype, also beside a value that is redacted.
      const tricky = JSON.parse('{"__proto__": {"x": 1}, "api_key": "sk-not-really-a-key"}');
      expect(JSON.parse(toBoundedJson(tricky).json)).to.deep.equal(
        JSON.parse('{"__proto__": {"x": 1}, "api_key": "[redacted]"}'),
      );
    });
    it("writes any plain JSON value exactly as JSON.stringify does (property)", () => {
      fc.assert(
        fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
          const native = JSON.stringify(value);
          // Keys and strings that look like credentials are redacted on purpose: not plain here.
          fc.pre(!/key|secret|pass|auth|cred|token|bearer|header|cookie|sk-|basic |data:/i.test(native));
          expect(toBoundedJson(value).json).to.equal(native);
          // A BigInt beside it is written as text: the rest of the container must be unaffected.
          expect(toBoundedJson([value, { first: value, big: 10n, last: value }]).json).to.equal(
            JSON.stringify([value, { first: value, big: "10", last: value }]),
          );
        }),
        { numRuns: 500 },
      );
    });
    it("writes any string exactly as JSON.stringify does: quotes, controls, newlines, lone surrogates (property)", () => {
      const unit = fc.oneof(
        fc.constantFrom("a", " ", "\n", "\r", "\t", '"', "\\", "\u0000", "\u001f", "\u007f", "\u2028"),
        fc.constantFrom("é", "😀", "\ud800", "\udfff", "…"),
      );
      fc.assert(
        fc.property(fc.string({ unit, maxLength: 40 }), (text) => {
          fc.pre(!/sk-|bearer |basic |^data:/i.test(text));
          expect(toBoundedJson(text).json).to.equal(JSON.stringify(text));
          expect(toBoundedJson({ [text]: [text] }).json).to.equal(JSON.stringify({ [text]: [text] }));
        }),
        { numRuns: 1000 },
      );
    });
    it("stays valid when a getter answers once and throws the second time", () => {
      let reads = 0;
      const flaky = Object.defineProperty({ keep: "yes" }, "once", {
        enumerable: true,
        get() {
          reads++;
          if (reads > 1) throw new Error("read twice");
          return "first";
        },
      });
      const parsed = JSON.parse(toBoundedJson({ flaky }).json);
      expect(parsed.flaky.keep).to.equal("yes");
      expect(["first", "[unreadable]"]).to.include(parsed.flaky.once);
    });
    it("keeps no reference to the original of a string it cut", () => {
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      gc();
      const before = process.memoryUsage().heapUsed;
      const kept: string[] = [];
      // 20 strings of 10 MB, each cut to 32K characters: a slice would keep all 200 MB alive.
      for (let i = 0; i < 20; i++) kept.push(toBoundedText(`${i}`.repeat(10_000_000), 32_768).text);
      gc();
      const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
      expect(kept.every((text) => text.endsWith("chars]"))).to.equal(true);
      expect(grownMb).to.be.lessThan(60);
    });
    it("replaces data URLs by a placeholder", () => {
      const url = `data:image/jpeg;base64,${"A".repeat(4000)}`;
      expect(JSON.parse(toBoundedJson({ url }).json)).to.deep.equal({
        url: "[image/jpeg base64, 3000 bytes]",
      });
    });
  });
});
