import { ChatPromptTemplate } from "@langchain/core/prompts";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { expect } from "chai";
import { z } from "zod";
import { setupTracing, type TracingSetup } from "../src/export/setup.js";
import { KeywordRetriever, ScriptedChatModel } from "./support/models.js";
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from "./support/receiver.js";

/**
 * What Langfuse needs (langfuse-otel.md, "Implications for our handler"), checked on the spans as
 * Langfuse receives them: through langfuseExporter, over HTTP, decoded from protobuf.
 */
const OBSERVATION_TYPES = ["span", "generation", "agent", "tool", "chain", "retriever", "embedding"];
const MODEL_OR_USAGE =
  /^(gen_ai\.usage\.|gen_ai\.request\.model$|gen_ai\.response\.model$|langfuse\.observation\.(model|usage_details|cost_details|prompt\.))/;

function assertLangfuseRules(
  spans: ReceivedSpan[],
  identity: { userId: string; sessionId: string; tags: string[] },
): void {
  expect(spans).not.to.be.empty;
  for (const span of spans) {
    const a = span.attributes;
    const type = a["langfuse.observation.type"];
    expect(OBSERVATION_TYPES, `${span.name}: observation type ${String(type)}`).to.include(type);
    const isModel = type === "generation" || type === "embedding";
    if (!isModel) {
      expect(
        Object.keys(a).filter((key) => MODEL_OR_USAGE.test(key)),
        `${span.name} must not look like a generation`,
      ).to.deep.equal([]);
    } else {
      expect(a["gen_ai.request.model"], span.name).to.be.a("string");
      expect(a["gen_ai.response.model"], span.name).to.be.a("string");
      expect(a["gen_ai.usage.input_tokens"], span.name).to.be.a("number");
      expect(a["gen_ai.usage.output_tokens"], span.name).to.be.a("number");
      expect(JSON.parse(String(a["langfuse.observation.usage_details"]))).to.include.keys(
        "input",
        "output",
        "total",
      );
      if (a["langfuse.observation.prompt.name"] !== undefined)
        expect(Number.isInteger(a["langfuse.observation.prompt.version"])).to.equal(true);
    }
    expect(a["user.id"], span.name).to.equal(identity.userId);
    expect(a["session.id"], span.name).to.equal(identity.sessionId);
    expect(a["langfuse.trace.tags"], span.name).to.be.an("array").that.includes.members(identity.tags);
    expect(a["langfuse.trace.metadata.app"], span.name).to.equal("e2e");
    for (const key of [
      "langfuse.observation.input",
      "langfuse.observation.output",
      "gen_ai.input.messages",
      "gen_ai.output.messages",
    ]) {
      if (a[key] !== undefined)
        expect(() => JSON.parse(String(a[key])), `${span.name} ${key}`).not.to.throw();
    }
    if (span.status.code === "ERROR") {
      expect(span.status.message, span.name).to.be.a("string").and.not.empty;
      expect(a["langfuse.observation.level"], span.name).to.equal("ERROR");
      expect(a["langfuse.observation.status_message"], span.name).to.equal(span.status.message);
    }
    expect(span.scope.name).to.equal("langchain-otel");
    expect(span.resource).to.include({
      "deployment.environment.name": "staging",
      "langfuse.release": "v1.2.3",
      "service.name": "e2e-app",
    });
    expect(a).not.to.have.property("gen_ai.usage.cost");
  }
  const roots = spans.filter((span) => span.parentSpanId === undefined);
  expect(roots).to.have.length(1);
  for (const span of spans) expect(span.attributes["langfuse.trace.name"], span.name).to.equal(roots[0].name);
}

const weather = tool(async ({ city }: { city: string }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});
const broken = tool(
  async () => {
    throw new Error("weather service unavailable");
  },
  { name: "get_weather", description: "Weather for a city", schema: z.object({ city: z.string() }) },
);

describe("Langfuse end to end (langfuseExporter → decoding receiver)", () => {
  let receiver: OtlpReceiver;
  let setup: TracingSetup;
  const identity = { userId: "user-42", sessionId: "session-42", tags: ["e2e"] };
  const invokeConfig = () => ({
    callbacks: [setup.handler],
    metadata: {
      langfuseUserId: identity.userId,
      langfuseSessionId: identity.sessionId,
      langfuseTags: identity.tags,
    },
  });

  before(async () => {
    receiver = await startOtlpReceiver();
  });
  after(async () => receiver.close());
  beforeEach(() => {
    receiver.clear();
    setup = setupTracing({
      exporter: "langfuse",
      langfuse: { publicKey: "pk-lf-e2e", secretKey: "sk-lf-e2e-secret", baseUrl: receiver.url },
      register: false,
      serviceName: "e2e-app",
      release: "v1.2.3",
      environment: "staging",
      traceMetadata: { app: "e2e" },
      batch: { scheduledDelayMillis: 10 },
    });
  });

  async function received(): Promise<ReceivedSpan[]> {
    await setup.shutdown();
    expect(receiver.failures).to.deep.equal([]);
    for (const request of receiver.requests) {
      expect(request.path).to.equal("/api/public/otel/v1/traces");
      expect(request.headers.authorization).to.equal(
        `Basic ${Buffer.from("pk-lf-e2e:sk-lf-e2e-secret").toString("base64")}`,
      );
      expect(request.headers["x-langfuse-ingestion-version"]).to.equal("4");
    }
    return receiver.spans();
  }

  it("a RAG chain", async () => {
    const chain = RunnableSequence.from([
      RunnableLambda.from(async (question: string, config) => {
        const docs = await new KeywordRetriever([{ id: "kb-1", text: "paris is sunny in june" }]).invoke(
          question,
          config,
        );
        return { question, context: docs.map((doc) => doc.pageContent).join("\n") };
      }).withConfig({ runName: "retrieve" }),
      ChatPromptTemplate.fromMessages([
        ["system", "Context: {context}"],
        ["human", "{question}"],
      ]),
      new ScriptedChatModel([{ text: "It is sunny." }]),
    ]).withConfig({ runName: "rag" });
    await chain.invoke("is paris sunny?", invokeConfig());
    const spans = await received();
    assertLangfuseRules(spans, identity);
    const types = spans.map((span) => span.attributes["langfuse.observation.type"]);
    expect(types).to.include.members(["chain", "retriever", "generation"]);
    const retrieval = spans.find((span) => span.attributes["langfuse.observation.type"] === "retriever");
    expect(JSON.parse(String(retrieval?.attributes["langfuse.observation.output"]))[0]).to.include({
      id: "kb-1",
      content: "paris is sunny in june",
    });
  });

  it("a streaming chat call", async () => {
    for await (const _ of await new ScriptedChatModel([{ text: "one two three" }]).stream(
      "count",
      invokeConfig(),
    )) {
      // drain the stream
    }
    const spans = await received();
    assertLangfuseRules(spans, identity);
    const [generation] = spans;
    expect(generation.attributes["gen_ai.request.stream"]).to.equal(true);
    const start = Date.parse(String(generation.attributes["langfuse.observation.completion_start_time"]));
    const toMs = (nanos: bigint) => Number(nanos / 1_000_000n);
    expect(start).to.be.at.least(toMs(generation.startTimeUnixNano) - 1);
    expect(start).to.be.at.most(toMs(generation.endTimeUnixNano) + 1);
  });

  it("a tool-calling loop", async () => {
    const model = new ScriptedChatModel([
      { toolCalls: [{ id: "call_1", name: "get_weather", args: { city: "Paris" } }] },
      { text: "Sunny in Paris." },
    ]).bindTools([weather]);
    const loop = RunnableLambda.from(async (question: string, config) => {
      const first = await model.invoke(question, config);
      const results = await Promise.all((first.tool_calls ?? []).map((call) => weather.invoke(call, config)));
      return (await model.invoke([question, first, ...results], config)).content;
    }).withConfig({ runName: "agent-loop" });
    await loop.invoke("weather in paris?", invokeConfig());
    const spans = await received();
    assertLangfuseRules(spans, identity);
    const toolSpan = spans.find((span) => span.attributes["langfuse.observation.type"] === "tool");
    expect(toolSpan?.attributes).to.include({
      "gen_ai.tool.call.id": "call_1",
      "gen_ai.tool.name": "get_weather",
    });
    expect(JSON.parse(String(toolSpan?.attributes["langfuse.observation.input"]))).to.deep.equal({
      city: "Paris",
    });
    expect(
      spans.filter((span) => span.attributes["langfuse.observation.type"] === "generation"),
    ).to.have.length(2);
  });

  it("a failing tool", async () => {
    const chain = RunnableLambda.from(async (city: string, config) =>
      broken.invoke({ city }, config),
    ).withConfig({ runName: "lookup" });
    await chain.invoke("Paris", invokeConfig()).catch(() => undefined);
    const spans = await received();
    assertLangfuseRules(spans, identity);
    const toolSpan = spans.find((span) => span.attributes["langfuse.observation.type"] === "tool");
    expect(toolSpan?.status).to.deep.equal({ code: "ERROR", message: "weather service unavailable" });
    expect(toolSpan?.events.map((event) => event.name)).to.include("exception");
  });

  it("a prompt-linked generation", async () => {
    const langfusePrompt = {
      name: "support-answer",
      version: 7,
      isFallback: false,
      prompt: "Answer {{question}}",
    };
    const chain = RunnableSequence.from([
      ChatPromptTemplate.fromMessages([["human", "Answer {question}"]]).withConfig({
        metadata: { langfusePrompt },
      }),
      new ScriptedChatModel([{ text: "Answered." }]),
    ]).withConfig({ runName: "prompted" });
    await chain.invoke({ question: "why?" }, invokeConfig());
    const spans = await received();
    assertLangfuseRules(spans, identity);
    const generation = spans.find((span) => span.attributes["langfuse.observation.type"] === "generation");
    expect(generation?.attributes).to.include({
      "langfuse.observation.prompt.name": "support-answer",
      "langfuse.observation.prompt.version": 7,
    });
  });
});
