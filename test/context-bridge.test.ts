import { awaitAllCallbacks } from "@langchain/core/callbacks/promises";
import { Document } from "@langchain/core/documents";
import type { AIMessageChunk } from "@langchain/core/messages";
import { HumanMessage } from "@langchain/core/messages";
import { BaseRetriever } from "@langchain/core/retrievers";
import { RunnableLambda, RunnableParallel, RunnableSequence } from "@langchain/core/runnables";
import { tool } from "@langchain/core/tools";
import { Annotation, StateGraph } from "@langchain/langgraph";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { z } from "zod";
import { type ModelServer, startModelServer } from "../examples/support/model-server.js";
import { traceEmbeddings } from "../src/embeddings.js";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import {
  type Downstream,
  httpSpans,
  parentOf,
  startDownstream,
  traceparent,
  useContextBridge,
  withoutAttach,
} from "./support/bridge.js";
import {
  nameTree,
  parentId,
  setupTestTracing,
  spanId,
  type TestTracing,
  traceId,
} from "./support/tracing.js";

describe("context bridge: the app's own telemetry nests under the LangChain run that made it", () => {
  const bridge = useContextBridge();
  let server: ModelServer;
  let downstream: Downstream;
  let tracing: TestTracing;

  before(async () => {
    server = await startModelServer({ chunkDelayMs: 1 });
    downstream = await startDownstream();
  });
  after(async () => {
    await server.close();
    await downstream.close();
  });
  afterEach(async () => tracing?.shutdown());

  function traced(options: Parameters<typeof setupTestTracing>[0] = {}): TestTracing {
    tracing = setupTestTracing(options);
    bridge.instrumentUndici(tracing.provider);
    server.requests.length = 0;
    downstream.requests.length = 0;
    return tracing;
  }

  const chat = (model = "gpt-4o-mini") =>
    new ChatOpenAI({
      model,
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
      streamUsage: true,
    });
  const get = (path: string) => fetch(`${downstream.url}${path}`).then((response) => response.text());
  const app = () => tracing.provider.getTracer("app");
  const single = (spans: ReadableSpan[], fragment: string) => {
    const found = httpSpans(spans, fragment);
    expect(found, `HTTP spans for ${fragment}`).to.have.length(1);
    return found[0];
  };

  it("puts a chat model's HTTP request under its chat span, invoked and streamed to the end", async () => {
    const { handler } = traced();
    const model = chat();
    await app().startActiveSpan("request", async (request) => {
      await model.invoke("Hello", { callbacks: [handler] });
      let text = "";
      for await (const chunk of await model.stream("Hello again", { callbacks: [handler] })) {
        text += String(chunk.content);
      }
      expect(text).to.not.equal("");
      request.end();
    });
    const spans = tracing.spans();
    const chats = spans.filter((span) => span.name === "chat gpt-4o-mini");
    const posts = httpSpans(spans, "/v1/chat/completions");
    expect(chats).to.have.length(2);
    expect(posts).to.have.length(2);
    for (const [index, post] of posts.entries()) {
      const chatSpan = parentOf(spans, post);
      expect(chatSpan?.name).to.equal("chat gpt-4o-mini");
      expect(chatSpan).to.equal(chats[index]);
      // The chat span covers its HTTP call, the streamed one read to its end included.
      const end = (span: ReadableSpan) => span.endTime[0] * 1e9 + span.endTime[1];
      expect(end(chatSpan as ReadableSpan)).to.be.at.least(end(post));
    }
    // The model server received a traceparent naming the HTTP client span.
    expect(server.requests).to.have.length(2);
    for (const [index, recorded] of server.requests.entries()) {
      const header = traceparent(recorded.headers);
      expect(header.traceId).to.equal(traceId(posts[index]));
      expect(header.parentId).to.equal(spanId(posts[index]));
    }
  });

  it("puts a tool body's fetch under execute_tool, and the downstream service continues the trace under the HTTP span", async () => {
    const { handler } = traced();
    const lookup = tool(async ({ id }: { id: string }) => get(`/orders/${id}`), {
      name: "lookup_order",
      description: "Look up an order",
      schema: z.object({ id: z.string() }),
    });
    await lookup.invoke({ id: "A-1" }, { callbacks: [handler] });
    const spans = tracing.spans();
    const http = single(spans, "/orders/A-1");
    expect(parentOf(spans, http)?.name).to.equal("execute_tool lookup_order");
    const header = traceparent(downstream.requests[0].headers);
    expect(header).to.deep.equal({ traceId: traceId(http), parentId: spanId(http) });
  });

  it("puts a retriever body's I/O under its retrieval span", async () => {
    const { handler } = traced();
    class RemoteRetriever extends BaseRetriever {
      lc_namespace = ["test"];
      override async _getRelevantDocuments(query: string): Promise<Document[]> {
        return [new Document({ pageContent: await get(`/search?q=${query}`) })];
      }
    }
    await new RemoteRetriever().invoke("refunds", { callbacks: [handler] });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/search?q=refunds"))?.name).to.equal("retrieval RemoteRetriever");
  });

  it("puts a lambda's own spans and calls under it; an app span started there keeps what starts under it", async () => {
    const { handler } = traced();
    const step = RunnableLambda.from(async () => {
      await get("/in-lambda");
      await app().startActiveSpan("app work", async (work) => {
        await get("/in-app-span");
        work.end();
      });
      return "done";
    }).withConfig({ runName: "step" });
    await step.invoke("x", { callbacks: [handler] });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/in-lambda"))?.name).to.equal("step");
    const work = spans.find((span) => span.name === "app work") as ReadableSpan;
    expect(parentOf(spans, work)?.name).to.equal("step");
    expect(parentOf(spans, single(spans, "/in-app-span"))).to.equal(work);
  });

  it("keeps a context the run's code enters on purpose: a remote parent, ROOT_CONTEXT, another request's bound listener", async () => {
    const { handler } = traced();
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      traceFlags: 1,
      isRemote: true,
    });
    // A listener another request subscribed, bound to that request's context, runs in this tool.
    let listener: (() => Promise<void>) | undefined;
    await app().startActiveSpan("request A", async (requestA) => {
      listener = context.bind(context.active(), async () => {
        await app().startActiveSpan("A's listener", async (span) => span.end());
      });
      requestA.end();
    });
    const consume = tool(
      async () => {
        // A message's trace context, extracted and entered: its work continues that trace.
        await context.with(remote, () => app().startActiveSpan("handle message", async (span) => span.end()));
        // A background job detached from the request.
        await context.with(ROOT_CONTEXT, () =>
          app().startActiveSpan("background job", async (span) => span.end()),
        );
        await listener?.();
        await get("/after");
        return "done";
      },
      { name: "consume", description: "Consume", schema: z.object({}) },
    );
    await app().startActiveSpan("request B", async (requestB) => {
      await consume.invoke({}, { callbacks: [handler] });
      requestB.end();
    });
    const spans = tracing.spans();
    const named = (name: string) => spans.find((span) => span.name === name) as ReadableSpan;
    expect(named("handle message").parentSpanContext?.spanId).to.equal("b7ad6b7169203331");
    expect(traceId(named("handle message"))).to.equal("0af7651916cd43dd8448eb211c80319c");
    expect(parentId(named("background job"))).to.equal(undefined);
    expect(parentOf(spans, named("A's listener"))?.name).to.equal("request A");
    // The tool's own calls are still under it.
    expect(parentOf(spans, single(spans, "/after"))?.name).to.equal("execute_tool consume");
  });

  it("concurrent requests through OpenAIEmbeddings' request queue (2 at a time): each HTTP call under its own embeddings span", async () => {
    const { handler } = traced();
    // Slow enough that the queue fills: 2 requests run, the others wait.
    const slow = await startModelServer({ embeddings: () => ({ delayMs: 20 }) });
    const embeddings = traceEmbeddings(
      new OpenAIEmbeddings({
        model: "text-embedding-3-small",
        apiKey: "sk-test",
        configuration: { baseURL: slow.baseURL },
        maxRetries: 0,
      }),
      { tracerProvider: tracing.provider },
    );
    class Search extends BaseRetriever {
      lc_namespace = ["test"];
      override async _getRelevantDocuments(query: string): Promise<Document[]> {
        await embeddings.embedQuery(query);
        return [new Document({ pageContent: query })];
      }
    }
    const queries = Array.from({ length: 8 }, (_, i) => `question-${i}`);
    try {
      await Promise.all(
        queries.map((query) =>
          app().startActiveSpan(`request ${query}`, async (request) => {
            await new Search().invoke(query, { callbacks: [handler] });
            request.end();
          }),
        ),
      );
    } finally {
      await slow.close();
    }
    const spans = tracing.spans();
    const calls = httpSpans(spans, "/embeddings");
    expect(calls).to.have.length(queries.length);
    // Each request's embeddings span has its own HTTP call under it, in that request's trace.
    const embeddingsSpans = spans.filter((span) => span.name === "embeddings text-embedding-3-small");
    expect(embeddingsSpans).to.have.length(queries.length);
    for (const span of embeddingsSpans) {
      const under = calls.filter((call) => parentOf(spans, call) === span);
      expect(under, String(span.attributes["langfuse.observation.input"])).to.have.length(1);
    }
  });

  it("one model call traced by two handlers (at construction and at invoke): its HTTP call under a chat span", async () => {
    const { handler } = traced();
    const other = new OpenTelemetryCallbackHandler({ tracerProvider: tracing.provider });
    const model = chat();
    model.callbacks = [other];
    await app().startActiveSpan("request", async (request) => {
      await model.invoke("Hello", { callbacks: [handler] });
      request.end();
    });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/chat/completions"))?.name).to.equal("chat gpt-4o-mini");
  });

  it("puts a LangGraph node's calls under the node span", async () => {
    const { handler } = traced();
    const State = Annotation.Root({ value: Annotation<string> });
    const graph = new StateGraph(State)
      .addNode("fetch_value", async () => ({ value: await get("/node") }))
      .addEdge("__start__", "fetch_value")
      .addEdge("fetch_value", "__end__")
      .compile();
    await graph.invoke({ value: "" }, { callbacks: [handler] });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/node"))?.name).to.equal("fetch_value");
  });

  it("keeps a lambda's fetch under the lambda while a model it started is still streaming", async () => {
    const { handler } = traced();
    const step = RunnableLambda.from(async (_: string, config) => {
      let chunks = 0;
      for await (const _chunk of await chat().stream("tell me more", config)) {
        if (++chunks === 2) await get("/mid-stream");
      }
      return chunks;
    }).withConfig({ runName: "consumer" });
    await step.invoke("x", { callbacks: [handler] });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/mid-stream"))?.name).to.equal("consumer");
    expect(parentOf(spans, single(spans, "/v1/chat/completions"))?.name).to.equal("chat gpt-4o-mini");
  });

  it("keeps two sibling tools running at once apart", async () => {
    const { handler } = traced();
    const make = (name: string) =>
      tool(
        async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return get(`/${name}`);
        },
        { name, description: name, schema: z.object({}) },
      );
    const [first, second] = [make("first"), make("second")];
    const both = RunnableLambda.from(async (_: string, config) =>
      Promise.all([first.invoke({}, config), second.invoke({}, config)]),
    ).withConfig({ runName: "both" });
    await both.invoke("x", { callbacks: [handler] });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/first"))?.name).to.equal("execute_tool first");
    expect(parentOf(spans, single(spans, "/second"))?.name).to.equal("execute_tool second");
  });

  it("RunnableParallel with two different models: each HTTP call under its own model's span", async () => {
    const { handler } = traced();
    const parallel = RunnableParallel.from({ mini: chat("gpt-4o-mini"), big: chat("gpt-4o") });
    await parallel.invoke("Compare", { callbacks: [handler] });
    const spans = tracing.spans();
    const posts = httpSpans(spans, "/v1/chat/completions");
    expect(posts).to.have.length(2);
    const requested = server.requests.map((request) => String(request.body.model));
    for (const post of posts) {
      const header = server.requests.find(
        (request) => traceparent(request.headers).parentId === spanId(post),
      );
      expect(parentOf(spans, post)?.name).to.equal(`chat ${String(header?.body.model)}`);
    }
    expect(requested.sort()).to.deep.equal(["gpt-4o", "gpt-4o-mini"]);
  });

  it("model.batch: each HTTP call under its own chat span", async () => {
    const { handler } = traced();
    await chat().batch(["one", "two", "three"], { callbacks: [handler] });
    const spans = tracing.spans();
    const posts = httpSpans(spans, "/v1/chat/completions");
    const parents = posts.map((post) => parentOf(spans, post));
    expect(parents.map((parent) => parent?.name)).to.deep.equal(Array(3).fill("chat gpt-4o-mini"));
    expect(new Set(parents).size).to.equal(3);
  });

  it("one generate() call with several prompts: it cannot tell them apart, so it falls back to the caller, never a sibling", async () => {
    const { handler } = traced();
    const step = RunnableLambda.from(async (_: string, config) =>
      chat().generate([[new HumanMessage("one")], [new HumanMessage("two")]], config),
    ).withConfig({ runName: "caller" });
    await step.invoke("x", { callbacks: [handler] });
    const spans = tracing.spans();
    const posts = httpSpans(spans, "/v1/chat/completions");
    expect(posts).to.have.length(2);
    for (const post of posts) expect(parentOf(spans, post)?.name).to.equal("caller");
  });

  for (const awaitHandlers of [true, false]) {
    it(`200 concurrent requests: every foreign span under its own request's run (awaitHandlers: ${awaitHandlers})`, async function () {
      this.timeout(60_000);
      const { handler } = traced({ awaitHandlers });
      const model = chat();
      const lookup = tool(async ({ id }: { id: string }) => get(`/tool/${id}`), {
        name: "lookup",
        description: "Look up",
        schema: z.object({ id: z.string() }),
      });
      class RemoteRetriever extends BaseRetriever {
        lc_namespace = ["test"];
        override async _getRelevantDocuments(query: string): Promise<Document[]> {
          return [new Document({ pageContent: await get(`/search/${query}`) })];
        }
      }
      const retriever = new RemoteRetriever();
      const pipeline = RunnableSequence.from([
        RunnableLambda.from(async (id: string, config) => {
          await retriever.invoke(id, config);
          await model.invoke(`question ${id}`, config);
          let streamed: AIMessageChunk | undefined;
          for await (const chunk of await model.stream(`more ${id}`, config)) {
            streamed = streamed === undefined ? chunk : streamed.concat(chunk);
          }
          await lookup.invoke({ id }, config);
          return id;
        }).withConfig({ runName: "work" }),
        RunnableLambda.from((id: string) => id).withConfig({ runName: "done" }),
      ]).withConfig({ runName: "pipeline" });
      const count = 200;
      await Promise.all(
        Array.from({ length: count }, (_, index) =>
          app().startActiveSpan(`request ${index}`, async (request) => {
            if (index % 3 === 0) await new Promise((resolve) => setTimeout(resolve, index % 5));
            await pipeline.invoke(String(index), { callbacks: [handler] });
            request.end();
          }),
        ),
      );
      await awaitAllCallbacks();
      const spans = tracing.spans();
      const requests = spans.filter((span) => span.name.startsWith("request "));
      expect(requests).to.have.length(count);
      for (const request of requests) {
        const id = request.name.slice("request ".length);
        const inTrace = spans.filter((span) => traceId(span) === traceId(request));
        // Each request's own HTTP calls, each under the right run of that request.
        const search = single(inTrace, `/search/${id}`);
        expect(parentOf(inTrace, search)?.name).to.equal("retrieval RemoteRetriever");
        const toolCall = single(inTrace, `/tool/${id}`);
        expect(parentOf(inTrace, toolCall)?.name).to.equal("execute_tool lookup");
        const posts = httpSpans(inTrace, "/v1/chat/completions");
        expect(posts).to.have.length(2);
        for (const post of posts) expect(parentOf(inTrace, post)?.name).to.equal("chat gpt-4o-mini");
        // Nothing of another request's calls is in this trace.
        expect(httpSpans(inTrace, "/")).to.have.length(4);
      }
      // Each model request on the wire names the HTTP span of its own trace.
      for (const recorded of server.requests) {
        const header = traceparent(recorded.headers);
        const post = spans.find((span) => spanId(span) === header.parentId) as ReadableSpan;
        expect(traceId(post)).to.equal(header.traceId);
        const question = String((recorded.body.messages as { content: string }[])[0].content);
        const request = spans.find((span) => span.name === `request ${question.split(" ")[1]}`);
        expect(traceId(post)).to.equal(traceId(request as ReadableSpan));
      }
      expect(handler.openRuns).to.equal(0);
    });
  }

  it("can be turned off: with contextBridge false, calls stay under the caller's span", async () => {
    const { handler } = traced({ contextBridge: false });
    const lookup = tool(async () => get("/off"), { name: "t", description: "t", schema: z.object({}) });
    await app().startActiveSpan("request", async (request) => {
      await lookup.invoke({}, { callbacks: [handler] });
      request.end();
    });
    const spans = tracing.spans();
    expect(parentOf(spans, single(spans, "/off"))?.name).to.equal("request");
  });

  it("changes nothing in the handler's own spans", async () => {
    const run = async (contextBridge: boolean) => {
      const { handler } = traced({ contextBridge });
      const pipeline = RunnableSequence.from([
        RunnableLambda.from((input: string) => input).withConfig({ runName: "prepare" }),
        chat(),
      ]).withConfig({ runName: "pipeline" });
      await app().startActiveSpan("request", async (request) => {
        await pipeline.invoke("hi", { callbacks: [handler] });
        request.end();
      });
      const spans = tracing.spans().filter((span) => !span.attributes["url.full"]);
      const root = spans.find((span) => span.name === "request") as ReadableSpan;
      await tracing.shutdown();
      return nameTree(spans, root);
    };
    expect(await run(true)).to.deep.equal(await run(false));
  });

  it("keeps no run after it ends, and a stale mark does not make an ended span active", async () => {
    const { handler } = traced();
    let later: Promise<string | undefined> | undefined;
    class LingeringRetriever extends BaseRetriever {
      lc_namespace = ["test"];
      override async _getRelevantDocuments(): Promise<Document[]> {
        // Work that outlives the run, started inside its body (a timer, a pooled socket).
        later = new Promise((resolve) =>
          setTimeout(() => resolve(trace.getActiveSpan()?.spanContext().spanId), 20),
        );
        return [];
      }
    }
    await app().startActiveSpan("request", async (request) => {
      await new LingeringRetriever().invoke("q", { callbacks: [handler] });
      request.end();
    });
    const activeLater = await later;
    const spans = tracing.spans();
    const retrieval = spans.find((span) => span.name === "retrieval LingeringRetriever") as ReadableSpan;
    expect(activeLater).to.not.equal(spanId(retrieval));
    expect(activeLater).to.equal(spanId(spans.find((span) => span.name === "request") as ReadableSpan));
    expect(handler.openRuns).to.equal(0);
    expect(trace.getSpan(context.active())).to.equal(undefined);
  });

  it("a failure inside the bridge never reaches the app", async () => {
    const { handler } = traced();
    const storage = (globalThis as Record<symbol, { run: <T>(store: unknown, fn: () => T) => T }>)[
      Symbol.for("ls:tracing_async_local_storage")
    ];
    const hostile = {
      extra: {
        [Symbol.for("lc:child_config")]: {
          callbacks: {
            getParentRunId() {
              throw new Error("hostile store");
            },
          },
        },
      },
    };
    const step = RunnableLambda.from(() =>
      storage.run(hostile, () => {
        const active = context.active();
        return trace.getSpan(active)?.spanContext().spanId;
      }),
    ).withConfig({ runName: "step" });
    const seen = await step.invoke("x", { callbacks: [handler] });
    expect(seen).to.equal(undefined);
    expect(tracing.spans().map((span) => span.name)).to.deep.equal(["step"]);
    expect(context.active()).to.equal(ROOT_CONTEXT);
  });
});

describe("context bridge around a context manager that cannot attach: marks in a storage of its own", () => {
  const bridge = useContextBridge(() => withoutAttach(new AsyncLocalStorageContextManager()));
  let server: ModelServer;
  let tracing: TestTracing;
  before(async () => {
    server = await startModelServer({ chunkDelayMs: 1 });
  });
  after(async () => server.close());
  afterEach(async () => tracing?.shutdown());

  it("still puts each model call's HTTP request under its own chat span, and a multi-prompt call under the caller", async () => {
    tracing = setupTestTracing();
    bridge.instrumentUndici(tracing.provider);
    const model = new ChatOpenAI({
      model: "gpt-4o-mini",
      apiKey: "sk-test-0123456789abcdefghij",
      configuration: { baseURL: server.baseURL },
      maxRetries: 0,
    });
    const step = RunnableLambda.from(async (_: string, config) => {
      await model.batch(["one", "two"], config);
      await model.generate([[new HumanMessage("three")], [new HumanMessage("four")]], config);
    }).withConfig({ runName: "caller" });
    await step.invoke("x", { callbacks: [tracing.handler] });
    const spans = tracing.spans();
    const parents = httpSpans(spans, "/v1/chat/completions").map((post) => parentOf(spans, post));
    expect(parents.map((parent) => parent?.name)).to.deep.equal([
      "chat gpt-4o-mini",
      "chat gpt-4o-mini",
      "caller",
      "caller",
    ]);
    expect(new Set(parents.slice(0, 2)).size).to.equal(2);
  });
});

describe("the run-execution hook proposed upstream (wrapRunExecution)", () => {
  let tracing: TestTracing;
  afterEach(async () => tracing?.shutdown());

  it("runs a body with its run's span active, under the plain async-hooks context manager", async () => {
    tracing = setupTestTracing();
    const { handler } = tracing;
    const tracer = tracing.provider.getTracer("app");
    // What a @langchain/core with the hook does around a run's body.
    const step = RunnableLambda.from((_: string, config) => {
      const runId = (config.callbacks as unknown as { getParentRunId(): string }).getParentRunId();
      const outside = tracer.startSpan("outside the hook");
      outside.end();
      return handler.wrapRunExecution(runId, () => {
        tracer.startSpan("inside the hook").end();
        return "done";
      });
    }).withConfig({ runName: "step" });
    expect(await step.invoke("x", { callbacks: [handler] })).to.equal("done");
    expect(handler.wrapRunExecution("not-a-run", () => 42)).to.equal(42);
    const spans = tracing.spans();
    const stepSpan = spans.find((span) => span.name === "step") as ReadableSpan;
    expect(parentId(spans.find((span) => span.name === "inside the hook") as ReadableSpan)).to.equal(
      spanId(stepSpan),
    );
    expect(parentId(spans.find((span) => span.name === "outside the hook") as ReadableSpan)).to.equal(
      undefined,
    );
  });
});
