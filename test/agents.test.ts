import { tool } from "@langchain/core/tools";
import {
  Annotation,
  Command,
  END,
  interrupt,
  MemorySaver,
  Send,
  START,
  StateGraph,
} from "@langchain/langgraph";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { createAgent } from "langchain";
import { z } from "zod";
import { ScriptedChatModel } from "./support/models.js";
import {
  type NameTree,
  nameTree,
  parentId,
  setupTestTracing,
  spanId,
  type TestTracing,
  traceId,
} from "./support/tracing.js";

const weather = tool(async ({ city }: { city: string }) => `sunny in ${city}`, {
  name: "get_weather",
  description: "Weather for a city",
  schema: z.object({ city: z.string() }),
});
const time = tool(async ({ city }: { city: string }) => `noon in ${city}`, {
  name: "get_time",
  description: "Local time in a city",
  schema: z.object({ city: z.string() }),
});
const flaky = tool(
  async () => {
    throw new Error("weather service down");
  },
  { name: "get_weather", description: "Weather for a city", schema: z.object({ city: z.string() }) },
);

const twoToolTurns = () =>
  new ScriptedChatModel([
    { toolCalls: [{ id: "call_w", name: "get_weather", args: { city: "Paris" } }] },
    { toolCalls: [{ id: "call_t", name: "get_time", args: { city: "Paris" } }] },
    { text: "Sunny, and it is noon." },
  ]);

const rootOf = (spans: ReadableSpan[]) => {
  const roots = spans.filter((span) => parentId(span) === undefined);
  expect(roots, "one root").to.have.length(1);
  return roots[0];
};

describe("agents and LangGraph", () => {
  let tracing: TestTracing;
  afterEach(async () => tracing?.shutdown());

  describe("createAgent", () => {
    const expectedTree: NameTree = [
      "invoke_agent weather_agent",
      [
        ["model_request", [["chat gpt-test", []]]],
        ["tools", [["execute_tool get_weather", []]]],
        ["model_request", [["chat gpt-test", []]]],
        ["tools", [["execute_tool get_time", []]]],
        ["model_request", [["chat gpt-test", []]]],
      ],
    ];

    it("one invocation is one invoke_agent trace with every model call and tool, in order", async () => {
      tracing = setupTestTracing();
      const agent = createAgent({ model: twoToolTurns(), tools: [weather, time], name: "weather_agent" });
      await agent.invoke(
        { messages: [{ role: "user", content: "weather and time in Paris?" }] },
        { callbacks: [tracing.handler] },
      );
      const spans = tracing.spans();
      const root = rootOf(spans);
      expect(new Set(spans.map(traceId)).size).to.equal(1);
      expect(nameTree(spans, root)).to.deep.equal(expectedTree);
      expect(root.kind).to.equal(SpanKind.INTERNAL);
      expect(root.attributes).to.include({
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "weather_agent",
        "langfuse.observation.type": "agent",
      });
      const node = spans.find((span) => span.name === "tools");
      expect(node?.attributes).to.include({ "langgraph.node": "tools", "langgraph.step": 2 });
      // The tool execution joins the model's request by the tool call id.
      const [firstModel] = spans.filter((span) => span.name === "chat gpt-test");
      const requested = JSON.parse(String(firstModel.attributes["gen_ai.output.messages"]))[0].parts[0].id;
      expect(
        spans.find((span) => span.name === "execute_tool get_weather")?.attributes["gen_ai.tool.call.id"],
      ).to.equal(requested);
    });

    it("streaming modes give the same tree as invoke", async () => {
      for (const mode of ["stream", "messages", "streamEvents"] as const) {
        tracing = setupTestTracing();
        const agent = createAgent({ model: twoToolTurns(), tools: [weather, time], name: "weather_agent" });
        const input = { messages: [{ role: "user", content: "weather and time in Paris?" }] };
        if (mode === "streamEvents") {
          for await (const _ of agent.streamEvents(input, { version: "v2", callbacks: [tracing.handler] })) {
            // drain
          }
        } else {
          const streamMode = mode === "messages" ? "messages" : "updates";
          for await (const _ of await agent.stream(input, { streamMode, callbacks: [tracing.handler] })) {
            // drain
          }
        }
        expect(nameTree(tracing.spans(), rootOf(tracing.spans())), mode).to.deep.equal(expectedTree);
        await tracing.shutdown();
      }
    });

    it("a tool error the agent recovers from is marked on the tool span, not on the agent", async () => {
      tracing = setupTestTracing();
      const model = new ScriptedChatModel([
        { toolCalls: [{ id: "call_x", name: "get_weather", args: { city: "Paris" } }] },
        { text: "The weather service is down, sorry." },
      ]);
      const agent = createAgent({ model, tools: [flaky], name: "weather_agent" });
      const result = await agent.invoke(
        { messages: [{ role: "user", content: "weather?" }] },
        { callbacks: [tracing.handler] },
      );
      expect(String(result.messages.at(-1)?.content)).to.include("down");
      const toolSpan = tracing.span("execute_tool get_weather");
      expect(toolSpan.status.code).to.equal(SpanStatusCode.ERROR);
      expect(toolSpan.attributes["gen_ai.tool.call.id"]).to.equal("call_x");
      expect(rootOf(tracing.spans()).status.code).to.equal(SpanStatusCode.UNSET);
    });

    it("showInternalRuns: true shows LangGraph's plumbing", async () => {
      tracing = setupTestTracing({ showInternalRuns: true });
      const agent = createAgent({ model: twoToolTurns(), tools: [weather, time], name: "weather_agent" });
      await agent.invoke(
        { messages: [{ role: "user", content: "weather?" }] },
        { callbacks: [tracing.handler] },
      );
      const names = tracing.spans().map((span) => span.name);
      expect(names).to.include("__start__");
      const hidden = setupTestTracing();
      await createAgent({ model: twoToolTurns(), tools: [weather, time], name: "weather_agent" }).invoke(
        { messages: [{ role: "user", content: "weather?" }] },
        { callbacks: [hidden.handler] },
      );
      expect(hidden.spans().length).to.be.lessThan(names.length);
      expect(hidden.spans().map((span) => span.name)).not.to.include("__start__");
      expect(hidden.handler.openRuns).to.equal(0);
      await hidden.shutdown();
    });
  });

  it("an agent called as a tool by another agent nests as its own invoke_agent span", async () => {
    tracing = setupTestTracing();
    const inner = createAgent({
      model: new ScriptedChatModel([
        { toolCalls: [{ id: "call_in", name: "get_weather", args: { city: "Oslo" } }] },
        { text: "Snowy." },
      ]),
      tools: [weather],
      name: "weather_expert",
    });
    const askExpert = tool(
      async ({ question }: { question: string }, config) => {
        const result = await inner.invoke({ messages: [{ role: "user", content: question }] }, config);
        return String(result.messages.at(-1)?.content);
      },
      {
        name: "ask_expert",
        description: "Ask the weather expert",
        schema: z.object({ question: z.string() }),
      },
    );
    const outer = createAgent({
      model: new ScriptedChatModel([
        { toolCalls: [{ id: "call_out", name: "ask_expert", args: { question: "Oslo?" } }] },
        { text: "Snowy in Oslo." },
      ]),
      tools: [askExpert],
      name: "concierge",
    });
    await outer.invoke(
      { messages: [{ role: "user", content: "Oslo weather?" }] },
      { callbacks: [tracing.handler] },
    );
    const root = rootOf(tracing.spans());
    expect(root.name).to.equal("invoke_agent concierge");
    const innerAgent = tracing.span("invoke_agent weather_expert");
    expect(parentId(innerAgent)).to.equal(spanId(tracing.span("execute_tool ask_expert")));
    expect(innerAgent.attributes["gen_ai.agent.name"]).to.equal("weather_expert");
    expect(parentId(tracing.span("execute_tool get_weather"))).to.not.equal(undefined);
    expect(new Set(tracing.spans().map(traceId)).size).to.equal(1);
  });

  it("the prebuilt ReAct agent is an invoke_agent span too", async () => {
    tracing = setupTestTracing();
    const agent = createReactAgent({ llm: twoToolTurns(), tools: [weather, time], name: "react_agent" });
    await agent.invoke(
      { messages: [{ role: "user", content: "weather?" }] },
      { callbacks: [tracing.handler] },
    );
    const root = rootOf(tracing.spans());
    expect(root.name).to.equal("invoke_agent react_agent");
    expect(root.attributes).to.include({
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": "react_agent",
      "langfuse.observation.type": "agent",
    });
    const tree = nameTree(tracing.spans(), root);
    expect(tree[1].map((child) => child[0])).to.deep.equal(["agent", "tools", "agent", "tools", "agent"]);
    expect(tracing.spans().filter((span) => span.name === "chat gpt-test")).to.have.length(3);
  });

  describe("StateGraph", () => {
    const State = Annotation.Root({
      text: Annotation<string>,
      approved: Annotation<boolean>,
      parts: Annotation<string[]>({ reducer: (a, b) => [...(a ?? []), ...b], default: () => [] }),
    });

    function approvalGraph() {
      return new StateGraph(State)
        .addNode("draft", async (state) => ({ text: `${state.text} drafted` }))
        .addNode("review", async (state) => ({
          approved: interrupt({ question: "approve?", text: state.text }) as boolean,
        }))
        .addNode("publish", async (state) => ({ text: `${state.text} published` }))
        .addEdge(START, "draft")
        .addConditionalEdges("draft", (state) => (state.text.includes("urgent") ? "publish" : "review"))
        .addEdge("review", "publish")
        .addEdge("publish", END)
        .compile({ checkpointer: new MemorySaver(), name: "approval_flow" });
    }

    it("a graph run is invoke_workflow with a span per node; plumbing is hidden", async () => {
      tracing = setupTestTracing();
      await approvalGraph().invoke(
        { text: "urgent note" },
        { configurable: { thread_id: "t-plain" }, callbacks: [tracing.handler] },
      );
      const root = rootOf(tracing.spans());
      expect(root.name).to.equal("invoke_workflow approval_flow");
      expect(root.attributes).to.include({
        "gen_ai.operation.name": "invoke_workflow",
        "gen_ai.workflow.name": "approval_flow",
      });
      expect(nameTree(tracing.spans(), root)).to.deep.equal([
        "invoke_workflow approval_flow",
        [
          ["draft", []],
          ["publish", []],
        ],
      ]);
      expect(tracing.span("draft").attributes).to.include({ "langgraph.node": "draft", "langgraph.step": 1 });
      expect(tracing.handler.openRuns).to.equal(0);
    });

    it("an interrupt pauses without an error; resuming links to the paused trace in the same session", async () => {
      tracing = setupTestTracing();
      const graph = approvalGraph();
      const config = { configurable: { thread_id: "thread-7" }, callbacks: [tracing.handler] };
      const paused = await graph.invoke({ text: "note" }, config);
      expect((paused as { __interrupt__?: unknown[] }).__interrupt__).to.have.length(1);
      const firstRoot = rootOf(tracing.spans());
      for (const span of tracing.spans())
        expect(span.status.code, span.name).not.to.equal(SpanStatusCode.ERROR);
      const review = tracing.span("review");
      const event = review.events.find((e) => e.name === "langgraph.interrupt");
      expect(event?.attributes?.["langgraph.interrupt.reason"]).to.equal("GraphInterrupt");
      expect(String(event?.attributes?.["langgraph.interrupt.value"])).to.include("approve?");
      expect(firstRoot.events.map((e) => e.name)).to.include("langgraph.interrupt");
      expect(firstRoot.attributes["session.id"]).to.equal("thread-7");

      tracing.exporter.reset();
      const done = await graph.invoke(new Command({ resume: true }), config);
      expect(done.text).to.equal("note drafted published");
      const resumed = rootOf(tracing.spans());
      expect(resumed.name).to.equal("invoke_workflow approval_flow");
      expect(traceId(resumed)).not.to.equal(traceId(firstRoot));
      expect(resumed.links.map((link) => link.context.spanId)).to.deep.equal([spanId(firstRoot)]);
      expect(resumed.attributes).to.include({ "session.id": "thread-7", "langgraph.resumed": true });
    });

    it("an interrupt in a subgraph: the node and the outer graph get the event once each; the resume links to the outer graph", async () => {
      tracing = setupTestTracing();
      const inner = new StateGraph(State)
        .addNode("ask", async () => ({ approved: interrupt({ question: "approve?" }) as boolean }))
        .addEdge(START, "ask")
        .compile({ name: "inner_review" });
      const outer = new StateGraph(State)
        .addNode("review", inner)
        .addNode("publish", async (state) => ({ text: `${state.text} published` }))
        .addEdge(START, "review")
        .addEdge("review", "publish")
        .compile({ checkpointer: new MemorySaver(), name: "outer_flow" });
      const config = { configurable: { thread_id: "thread-nested" }, callbacks: [tracing.handler] };
      await outer.invoke({ text: "note" }, config);
      const interrupts = (name: string) =>
        tracing.span(name).events.filter((event) => event.name === "langgraph.interrupt").length;
      const pausedRoot = rootOf(tracing.spans());
      expect(pausedRoot.name).to.equal("invoke_workflow outer_flow");
      expect(interrupts("ask")).to.equal(1);
      expect(interrupts("invoke_workflow outer_flow")).to.equal(1);
      expect(interrupts("invoke_workflow inner_review")).to.equal(0);
      expect(interrupts("review")).to.equal(0);

      tracing.exporter.reset();
      await outer.invoke(new Command({ resume: true }), config);
      const resumed = rootOf(tracing.spans());
      expect(resumed.links.map((link) => link.context.spanId)).to.deep.equal([spanId(pausedRoot)]);
      expect(tracing.handler.openRuns).to.equal(0);
    });

    it("a graph whose signal fires ends as cancelled, not as an error", async () => {
      tracing = setupTestTracing();
      const slow = new StateGraph(State)
        .addNode("wait", async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return {};
        })
        .addEdge(START, "wait")
        .compile({ name: "slow_flow" });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 20);
      await slow
        .invoke({ text: "x" }, { signal: controller.signal, callbacks: [tracing.handler] })
        .catch(() => {});
      await new Promise((resolve) => setTimeout(resolve, 250));
      const graph = tracing.span("invoke_workflow slow_flow");
      expect(graph.attributes["error.type"]).to.equal("cancelled");
      expect(graph.events.filter((event) => event.name === "exception")).to.deep.equal([]);
    });

    it("parallel branches (Send) stay under their graph, subgraphs nest", async () => {
      tracing = setupTestTracing();
      const inner = new StateGraph(State)
        .addNode("polish", async (state) => ({ parts: [`${state.text}!`] }))
        .addEdge(START, "polish")
        .compile({ name: "polisher" });
      const graph = new StateGraph(State)
        .addNode("split", async () => ({}))
        .addNode("work", async (state) => ({ parts: [state.text] }))
        .addNode("finish", inner)
        .addEdge(START, "split")
        .addConditionalEdges("split", () => ["a", "b", "c"].map((text) => new Send("work", { text })))
        .addEdge("work", "finish")
        .compile({ name: "fan_out" });
      const result = await graph.invoke({ text: "x" }, { callbacks: [tracing.handler] });
      expect(result.parts).to.include.members(["a", "b", "c"]);
      const root = rootOf(tracing.spans());
      const tree = nameTree(tracing.spans(), root);
      expect(tree[0]).to.equal("invoke_workflow fan_out");
      expect(tree[1].map((child) => child[0])).to.deep.equal(["split", "work", "work", "work", "finish"]);
      const finish = tree[1][4];
      expect(finish[1].map((child) => child[0])).to.deep.equal(["invoke_workflow polisher"]);
      expect(finish[1][0][1].map((child) => child[0])).to.deep.equal(["polish"]);
    });
  });
});
