import { StringOutputParser } from "@langchain/core/output_parsers";
import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { LangfuseClient } from "@langfuse/client";
import { LangfuseSpanProcessor } from "@langfuse/otel";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { expect } from "chai";
import { Langfuse } from "langfuse";
import { z } from "zod";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { startPromptServer } from "./support/langfuse-prompts.js";
import { KeywordRetriever, ScriptedChatModel } from "./support/models.js";
import { jsonAttribute, parentId, setupTestTracing, type TestTracing } from "./support/tracing.js";

const weather = tool(async ({ city }: { city: string }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});

function pipeline(model: ScriptedChatModel, promptMetadata?: Record<string, unknown>) {
  const prompt = ChatPromptTemplate.fromMessages([["human", "{question}"]]);
  return RunnableSequence.from([
    RunnableLambda.from(async (input: { question: string }, config) => {
      const docs = await new KeywordRetriever([{ id: "d1", text: "paris weather facts" }]).invoke(
        input.question,
        config,
      );
      return { question: `${input.question} (${docs.length} docs)` };
    }).withConfig({ runName: "retrieve" }),
    promptMetadata ? prompt.withConfig({ metadata: promptMetadata }) : prompt,
    RunnableLambda.from(async (value: { toChatMessages(): unknown[] }, config) => {
      const bound = model.bindTools([weather]);
      const first = await bound.invoke(value.toChatMessages() as never, config);
      for (const call of first.tool_calls ?? []) await weather.invoke(call, config);
      return bound.invoke(value.toChatMessages() as never, config);
    }).withConfig({ runName: "answer" }),
    new StringOutputParser(),
  ]).withConfig({ runName: "weather-bot" });
}

const model = () =>
  new ScriptedChatModel([
    { toolCalls: [{ id: "call_w", name: "get_weather", args: { city: "Paris" } }] },
    { text: "It is sunny in Paris." },
  ]);

describe("Langfuse dialect", () => {
  let tracing: TestTracing;
  afterEach(async () => tracing?.shutdown());

  describe("a traced pipeline", () => {
    beforeEach(async () => {
      tracing = setupTestTracing({ traceMetadata: { team: "support" }, tags: ["handler-tag"] });
      await pipeline(model()).invoke(
        { question: "weather in paris?" },
        {
          callbacks: [tracing.handler],
          tags: ["beta"],
          metadata: {
            langfuseUserId: "user-7",
            langfuseSessionId: "session-9",
            langfuseTags: ["rag"],
            tenant: "acme",
            notes: "n".repeat(100_000),
          },
        },
      );
    });

    it("gives every span a lowercase observation type", () => {
      const types = Object.fromEntries(
        tracing.spans().map((span) => [span.name, span.attributes["langfuse.observation.type"]]),
      );
      expect(types).to.deep.equal({
        "weather-bot": "chain",
        retrieve: "chain",
        "retrieval KeywordRetriever": "retriever",
        ChatPromptTemplate: "chain",
        answer: "chain",
        "chat gpt-test": "generation",
        "execute_tool get_weather": "tool",
        StrOutputParser: "chain",
      });
    });

    it("puts model names and usage only on generations", () => {
      for (const span of tracing.spans()) {
        const keys = Object.keys(span.attributes);
        const modelKeys = keys.filter(
          (key) =>
            key.startsWith("gen_ai.usage.") ||
            key.includes(".model") ||
            key.startsWith("langfuse.observation.usage"),
        );
        if (span.attributes["langfuse.observation.type"] === "generation") expect(modelKeys).not.to.be.empty;
        else expect(modelKeys, span.name).to.be.empty;
      }
    });

    it("puts user, session, tags, trace name and trace metadata on every span", () => {
      for (const span of tracing.spans()) {
        expect(span.attributes, span.name).to.include({
          "user.id": "user-7",
          "session.id": "session-9",
          "gen_ai.conversation.id": "session-9",
          "langfuse.trace.name": "weather-bot",
          "langfuse.trace.metadata.team": "support",
        });
        expect(span.attributes["langfuse.trace.tags"], span.name).to.have.members([
          "handler-tag",
          "rag",
          "beta",
        ]);
      }
    });

    it("records run metadata without the langfuse control keys or ls_* hints", () => {
      const generation = tracing.spans().find((span) => span.name === "chat gpt-test");
      const metadataKeys = Object.keys(generation?.attributes ?? {}).filter((key) =>
        key.startsWith("langfuse.observation.metadata."),
      );
      expect(metadataKeys).to.include("langfuse.observation.metadata.tenant");
      // A long metadata string is cut like captured content.
      const notes = String(generation?.attributes["langfuse.observation.metadata.notes"]);
      expect(notes.length).to.be.within(32_768, 32_768 + 40);
      expect(notes).to.match(/…\[truncated 67232 chars\]$/);
      expect(
        metadataKeys.filter((key) => /langfuse(User|Session|Tags)|ls_|versions/.test(key)),
      ).to.deep.equal([]);
    });

    it("records chain, tool and retriever input and output as JSON, messages as role/content", () => {
      const root = tracing.span("weather-bot");
      expect(jsonAttribute(root, "langfuse.observation.input")).to.deep.equal({
        question: "weather in paris?",
      });
      expect(jsonAttribute(root, "langfuse.observation.output")).to.equal("It is sunny in Paris.");
      const prompt = tracing.span("ChatPromptTemplate");
      expect(jsonAttribute(prompt, "langfuse.observation.output")).to.deep.equal([
        { role: "user", content: "weather in paris? (1 docs)" },
      ]);
      const toolSpan = tracing.span("execute_tool get_weather");
      expect(jsonAttribute(toolSpan, "langfuse.observation.input")).to.deep.equal({ city: "Paris" });
      expect(jsonAttribute(toolSpan, "langfuse.observation.output")).to.equal("sunny in Paris");
      const retrieval = tracing.span("retrieval KeywordRetriever");
      expect(jsonAttribute(retrieval, "langfuse.observation.input")).to.equal("weather in paris?");
      expect(jsonAttribute(retrieval, "langfuse.observation.output")).to.deep.equal([
        { id: "d1", score: 2 / 3, content: "paris weather facts" },
      ]);
    });

    it("gives generations usage details in Langfuse's keys", () => {
      const generation = tracing.spans().find((span) => span.name === "chat gpt-test");
      expect(jsonAttribute(generation!, "langfuse.observation.usage_details")).to.deep.equal({
        input: 100,
        output: 25,
        input_cached_tokens: 20,
        output_reasoning_tokens: 5,
        total: 150,
      });
      expect(generation?.attributes).not.to.have.property("gen_ai.usage.cost");
    });
  });

  it("names the trace only when the outermost run is the trace's root", async () => {
    tracing = setupTestTracing();
    await tracing.provider.getTracer("app").startActiveSpan("POST /api/chat", async (request) => {
      await pipeline(model()).invoke({ question: "q" }, { callbacks: [tracing.handler] });
      request.end();
    });
    for (const span of tracing.spans())
      expect(span.attributes, span.name).not.to.have.property("langfuse.trace.name");
  });

  it("accepts the plain user/session keys and LangGraph's thread_id", async () => {
    tracing = setupTestTracing();
    await pipeline(model()).invoke(
      { question: "q" },
      { callbacks: [tracing.handler], metadata: { user_id: "u1", thread_id: "t1" } },
    );
    for (const span of tracing.spans())
      expect(span.attributes).to.include({ "user.id": "u1", "session.id": "t1" });
  });

  it("never invents a conversation id", async () => {
    tracing = setupTestTracing();
    await pipeline(model()).invoke({ question: "q" }, { callbacks: [tracing.handler] });
    for (const span of tracing.spans()) {
      expect(span.attributes).not.to.have.property("gen_ai.conversation.id");
      expect(span.attributes).not.to.have.property("session.id");
    }
  });

  it("records completion start time when the model streams", async () => {
    tracing = setupTestTracing();
    const before = Date.now();
    for await (const _ of await new ScriptedChatModel([{ text: "a b c" }]).stream("x", {
      callbacks: [tracing.handler],
    })) {
      // drain
    }
    const span = tracing.span("chat gpt-test");
    const iso = span.attributes["langfuse.observation.completion_start_time"] as string;
    expect(iso).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(iso))
      .to.be.at.least(before - 1)
      .and.at.most(Date.now());
  });

  describe("chain input and output", () => {
    const io = (name: string) => ({
      input: jsonAttribute(tracing.span(name), "langfuse.observation.input"),
      output: jsonAttribute(tracing.span(name), "langfuse.observation.output"),
    });

    it("records each step's value as it was when the step received or returned it, even when changed in place later", async () => {
      tracing = setupTestTracing();
      const inner = RunnableLambda.from(
        (x: Record<string, unknown>): Record<string, unknown> => ({ ...x, inner: true }),
      ).withConfig({
        runName: "inner",
      });
      const chain = RunnableSequence.from([
        // Changes its input in place and hands the same object on.
        RunnableLambda.from((x: Record<string, unknown>) => {
          x.marked = true;
          return x;
        }).withConfig({ runName: "mark" }),
        // Not a sequence: changes its child's output in place before returning it.
        RunnableLambda.from(async (x: Record<string, unknown>, config) => {
          const result = await inner.invoke(x, config);
          result.after = true;
          return result;
        }).withConfig({ runName: "wrap" }),
        RunnableLambda.from((x: Record<string, unknown>) => Object.keys(x).join(",")).withConfig({
          runName: "keys",
        }),
      ]).withConfig({ runName: "steps" });
      await chain.invoke({ a: 1 }, { callbacks: [tracing.handler] });
      expect(io("steps")).to.deep.equal({ input: { a: 1 }, output: "a,marked,inner,after" });
      expect(io("mark")).to.deep.equal({ input: { a: 1 }, output: { a: 1, marked: true } });
      expect(io("wrap")).to.deep.equal({
        input: { a: 1, marked: true },
        output: { a: 1, marked: true, inner: true, after: true },
      });
      expect(io("inner")).to.deep.equal({
        input: { a: 1, marked: true },
        output: { a: 1, marked: true, inner: true },
      });
      expect(io("keys")).to.deep.equal({
        input: { a: 1, marked: true, inner: true, after: true },
        output: "a,marked,inner,after",
      });
    });

    it("records a streamed chain's real input, not LangChain's empty placeholder", async () => {
      tracing = setupTestTracing();
      const chain = RunnableSequence.from([
        RunnableLambda.from((x: { question: string }) => x.question.toUpperCase()).withConfig({
          runName: "shout",
        }),
        new StringOutputParser(),
      ]).withConfig({ runName: "streamed" });
      let out = "";
      for await (const chunk of await chain.stream({ question: "why?" }, { callbacks: [tracing.handler] }))
        out += chunk;
      expect(out).to.equal("WHY?");
      expect(io("streamed")).to.deep.equal({ input: { question: "why?" }, output: "WHY?" });
      expect(io("StrOutputParser")).to.deep.equal({ input: "WHY?", output: "WHY?" });
    });

    it("masks each attribute on its own, also where steps hand a value on", async () => {
      tracing = setupTestTracing({
        mask: (text, attribute) => (attribute === "langfuse.observation.output" ? text.toUpperCase() : text),
      });
      const chain = RunnableSequence.from([
        RunnableLambda.from((x: string) => `${x}!`).withConfig({ runName: "first" }),
        RunnableLambda.from((x: string) => `${x}?`).withConfig({ runName: "second" }),
      ]).withConfig({ runName: "masked" });
      await chain.invoke("hi", { callbacks: [tracing.handler] });
      expect(io("first")).to.deep.equal({ input: "hi", output: "HI!" });
      expect(io("second")).to.deep.equal({ input: "hi!", output: "HI!?" });
      expect(io("masked")).to.deep.equal({ input: "hi", output: "HI!?" });
    });
  });

  describe("prompt linking", () => {
    // Real prompt objects, fetched by the real clients from a local stand-in for Langfuse's prompt API.
    let prompts: { text: unknown; chat: unknown; fallback: unknown; close(): Promise<void> };
    before(async () => {
      const server = await startPromptServer([
        { name: "weather-answer", version: 3, type: "text", prompt: "Answer: {{question}}" },
        {
          name: "weather-chat",
          version: 5,
          type: "chat",
          prompt: [{ role: "user", content: "{{question}}" }],
        },
      ]);
      const keys = { publicKey: "pk-lf-test", secretKey: "sk-lf-test", baseUrl: server.baseUrl };
      const legacy = new Langfuse({ ...keys, enabled: true });
      const client = new LangfuseClient(keys);
      prompts = {
        text: await legacy.getPrompt("weather-answer"),
        chat: await client.prompt.get("weather-chat", { type: "chat" }),
        fallback: await legacy.getPrompt("missing", undefined, {
          fallback: "Answer",
          maxRetries: 0,
          fetchTimeoutMs: 1000,
        }),
        close: async () => {
          await legacy.shutdownAsync();
          await server.close();
        },
      };
    });
    after(async () => prompts.close());

    for (const [label, key, name, version] of [
      ["a prompt from the langfuse package", "text", "weather-answer", 3],
      ["a prompt from @langfuse/client", "chat", "weather-chat", 5],
    ] as const) {
      it(`links the generations that follow ${label} on the prompt template`, async () => {
        tracing = setupTestTracing();
        await pipeline(model(), { langfusePrompt: prompts[key] }).invoke(
          { question: "q" },
          { callbacks: [tracing.handler] },
        );
        const generations = tracing.spans().filter((span) => span.name === "chat gpt-test");
        expect(generations).to.have.length(2);
        for (const generation of generations) {
          expect(generation.attributes).to.include({
            "langfuse.observation.prompt.name": name,
            "langfuse.observation.prompt.version": version,
          });
        }
        for (const span of tracing
          .spans()
          .filter((s) => s.attributes["langfuse.observation.type"] !== "generation")) {
          expect(span.attributes, span.name).not.to.have.property("langfuse.observation.prompt.name");
        }
      });
    }

    it("links a generation whose own metadata carries the prompt, and never with a non-integer version", async () => {
      tracing = setupTestTracing();
      await model().invoke("q", { callbacks: [tracing.handler], metadata: { langfusePrompt: prompts.text } });
      expect(tracing.spans()[0].attributes["langfuse.observation.prompt.version"]).to.equal(3);
      await tracing.shutdown();
      tracing = setupTestTracing();
      await model().invoke("q", {
        callbacks: [tracing.handler],
        metadata: { langfusePrompt: { name: "p", version: "3" } },
      });
      expect(tracing.spans()[0].attributes).not.to.have.property("langfuse.observation.prompt.name");
      expect((prompts.fallback as { isFallback: boolean }).isFallback).to.equal(true);
      await model().invoke("q", {
        callbacks: [tracing.handler],
        metadata: { langfusePrompt: prompts.fallback },
      });
      expect(tracing.spans()[1].attributes).not.to.have.property("langfuse.observation.prompt.name");
    });
  });

  it("a prompt links the step its template feeds, never the steps after it", async () => {
    tracing = setupTestTracing();
    const langfusePrompt = { name: "answer-prompt", version: 2, isFallback: false, prompt: "{q}" };
    const answerer = new ScriptedChatModel([{ text: "answer" }], "answerer");
    const grader = new ScriptedChatModel([{ text: "5" }], "grader");
    await RunnableSequence.from([
      ChatPromptTemplate.fromMessages([["human", "{q}"]]).withConfig({ metadata: { langfusePrompt } }),
      answerer,
      new StringOutputParser(),
      RunnableLambda.from(
        async (answer: string, config) => (await grader.invoke(`grade ${answer}`, config)).content,
      ),
    ])
      .withConfig({ runName: "pipeline" })
      .invoke({ q: "hi" }, { callbacks: [tracing.handler] });
    expect(tracing.span("chat answerer").attributes).to.include({
      "langfuse.observation.prompt.name": "answer-prompt",
      "langfuse.observation.prompt.version": 2,
    });
    expect(tracing.span("chat grader").attributes).not.to.have.property("langfuse.observation.prompt.name");
  });

  describe("levels", () => {
    it("ERROR with the status message on failures, beside the OTel status", async () => {
      tracing = setupTestTracing();
      await new ScriptedChatModel([{ error: new Error("rate limited") }])
        .invoke("q", { callbacks: [tracing.handler] })
        .catch(() => {});
      expect(tracing.spans()[0].attributes).to.include({
        "langfuse.observation.level": "ERROR",
        "langfuse.observation.status_message": "rate limited",
      });
    });

    it("WARNING when the model stops for length", async () => {
      tracing = setupTestTracing();
      const chunks = new ScriptedChatModel([{ text: "cut" }]);
      const result = await chunks.invoke("q", { callbacks: [tracing.handler] });
      expect(result.content).to.equal("cut");
      // The scripted model reports "stop"; feed the handler a length stop directly.
      const handler = tracing.handler;
      handler.handleChatModelStart({ lc: 1, type: "not_implemented", id: ["ChatX"] }, [[]], "run-len");
      handler.handleLLMEnd(
        { generations: [[{ text: "x", generationInfo: { finish_reason: "length" } }]] },
        "run-len",
      );
      const span = tracing.spans()[1];
      expect(span.attributes).to.include({ "langfuse.observation.level": "WARNING" });
      expect(span.attributes["langfuse.observation.status_message"]).to.match(/length/);
    });

    it("a hidden generation that fails is ERROR, one cancelled WARNING: never the hidden DEBUG", async () => {
      tracing = setupTestTracing();
      await new ScriptedChatModel([{ error: new Error("rate limited") }])
        .withConfig({ tags: ["langsmith:hidden"] })
        .invoke("q", { callbacks: [tracing.handler] })
        .catch(() => {});
      expect(tracing.spans()[0].attributes).to.include({
        "langfuse.observation.level": "ERROR",
        "langfuse.observation.status_message": "rate limited",
      });
      const aborted = Object.assign(new Error("Aborted"), { name: "AbortError" });
      tracing.handler.handleChatModelStart(
        { lc: 1, type: "not_implemented", id: ["ChatX"] },
        [[]],
        "run-c",
        undefined,
        undefined,
        ["langsmith:hidden"],
      );
      tracing.handler.handleLLMError(aborted, "run-c");
      expect(tracing.spans()[1].attributes["langfuse.observation.level"]).to.equal("WARNING");
    });

    it("DEBUG for runs tagged langsmith:hidden", async () => {
      tracing = setupTestTracing();
      await RunnableLambda.from((x: string) => x)
        .withConfig({ runName: "hidden-step", tags: ["langsmith:hidden"] })
        .invoke("x", { callbacks: [tracing.handler] });
      expect(tracing.span("hidden-step").attributes["langfuse.observation.level"]).to.equal("DEBUG");
    });
  });

  it("langfuseAttributes: false writes no langfuse.* attribute", async () => {
    tracing = setupTestTracing({ langfuseAttributes: false });
    await pipeline(model()).invoke(
      { question: "q" },
      { callbacks: [tracing.handler], metadata: { langfuseUserId: "u" } },
    );
    for (const span of tracing.spans()) {
      expect(Object.keys(span.attributes).filter((key) => key.startsWith("langfuse."))).to.deep.equal([]);
      expect(span.attributes["user.id"]).to.equal("u");
    }
  });

  it("every span survives LangfuseSpanProcessor's default export filter", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new NodeTracerProvider({
      spanProcessors: [
        new LangfuseSpanProcessor({
          exporter,
          publicKey: "pk-lf-test",
          secretKey: "sk-lf-test",
          exportMode: "immediate",
        }),
      ],
    });
    const handler = new OpenTelemetryCallbackHandler({ tracerProvider: provider });
    await pipeline(model()).invoke({ question: "q" }, { callbacks: [handler] });
    await provider.forceFlush();
    const names = exporter.getFinishedSpans().map((span) => span.name);
    expect(names).to.have.members([
      "weather-bot",
      "retrieve",
      "retrieval KeywordRetriever",
      "ChatPromptTemplate",
      "answer",
      "chat gpt-test",
      "execute_tool get_weather",
      "chat gpt-test",
      "StrOutputParser",
    ]);
    expect(exporter.getFinishedSpans().filter((span) => parentId(span) === undefined)).to.have.length(1);
    await provider.shutdown();
  });
});
