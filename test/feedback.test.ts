import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import type { Serialized } from "@langchain/core/load/serializable";
import { StringOutputParser } from "@langchain/core/output_parsers";
import { RunnableLambda, RunnableSequence } from "@langchain/core/runnables";
import { LangfuseClient } from "@langfuse/client";
import { TraceFlags, trace } from "@opentelemetry/api";
import { AlwaysOffSampler, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { expect } from "chai";
import { OpenTelemetryCallbackHandler } from "../src/handler.js";
import { useContextBridge } from "./support/bridge.js";
import { ScriptedChatModel } from "./support/models.js";
import { parentId, setupTestTracing, spanId, type TestTracing, traceId } from "./support/tracing.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const TRACE_ID = /^[0-9a-f]{32}$/;
const RUN_ID = "langchain.run.id";

/** The outermost LangChain span of a run id (the span whose `langchain.run.id` it is). */
function spanOfRun(spans: ReadableSpan[], runId: string): ReadableSpan {
  const matches = spans.filter((span) => span.attributes[RUN_ID] === runId);
  expect(matches, `spans of run ${runId}`).to.have.length(1);
  return matches[0];
}

/** A one-step chain: enough for the tests that only need an outermost run. */
const echo = RunnableLambda.from((input: string) => `echo ${input}`).withConfig({ runName: "echo" });

/** Records the run id LangChain generates for each outermost run, as any callback sees it. */
class OutermostRunIds extends BaseCallbackHandler {
  name = "OutermostRunIds";
  // Awaited, so the id is recorded by the time invoke() returns.
  override awaitHandlers = true;
  ids: string[] = [];
  // LangChain's callback manager passes the parent run id fourth, whatever BaseCallbackHandler's
  // declared signature says (the handler under test reads it the same way).
  override handleChainStart(_chain: Serialized, _inputs: unknown, runId: string, parentRunId?: string): void {
    if (parentRunId === undefined) this.ids.push(runId);
  }
}

/** An event of a Langfuse ingestion batch (`score-create` for a score). */
interface IngestionEvent {
  id: string;
  type: string;
  body: Record<string, unknown>;
}
interface IngestionRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  batch: IngestionEvent[];
}

/** A local stand-in for Langfuse's public API: records every ingestion batch, answers as Langfuse does. */
async function startLangfuseIngestion(): Promise<{
  baseUrl: string;
  requests: IngestionRequest[];
  close(): Promise<void>;
}> {
  const requests: IngestionRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const { batch } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { batch: IngestionEvent[] };
      requests.push({
        method: request.method ?? "",
        path: request.url ?? "",
        headers: request.headers,
        batch,
      });
      // Langfuse answers an ingestion batch with 207 and a status per event.
      response.writeHead(207, { "content-type": "application/json" }).end(
        JSON.stringify({
          successes: batch.map((event) => ({ id: event.id, status: 201 })),
          errors: [],
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("trace ids for feedback: traceIdOf and lastTraceId", () => {
  let tracing: TestTracing;
  afterEach(async () => {
    await tracing?.shutdown();
  });

  it("50 concurrent invocations each get their own trace id, carried by every span of that invocation", async () => {
    tracing = setupTestTracing();
    const { handler } = tracing;
    const count = 50;
    const runIds = Array.from({ length: count }, () => randomUUID());
    const seenInside: (string | undefined)[] = [];
    const openInside: number[] = [];
    // Every invocation waits inside its lambda until all have started: they really are open at once.
    let started = 0;
    let allStarted: () => void = () => {};
    const everyoneIn = new Promise<void>((resolve) => {
      allStarted = resolve;
    });

    const chainFor = (index: number) =>
      RunnableSequence.from([
        RunnableLambda.from(async (question: string) => {
          seenInside[index] = handler.traceIdOf(runIds[index]);
          if (++started === count) allStarted();
          await everyoneIn;
          openInside[index] = handler.openRuns;
          return question;
        }).withConfig({ runName: "prepare" }),
        new ScriptedChatModel([{ text: `answer ${index}` }]),
        new StringOutputParser(),
      ]).withConfig({ runName: "answer-chain" });

    const answers = await Promise.all(
      runIds.map((runId, index) =>
        chainFor(index).invoke(`question ${index}`, {
          runId,
          callbacks: [handler],
          // Marks every span of the invocation (metadata reaches every child run), independently
          // of trace ids and parent links.
          metadata: { invocation: index },
        }),
      ),
    );
    expect(answers).to.deep.equal(runIds.map((_, index) => `answer ${index}`));
    expect(Math.min(...openInside)).to.be.at.least(count);

    const spans = tracing.spans();
    const traceIds = runIds.map((runId) => handler.traceIdOf(runId));
    expect(new Set(traceIds).size).to.equal(count);
    for (const [index, runId] of runIds.entries()) {
      const id = traceIds[index];
      expect(id).to.match(TRACE_ID);
      // The same answer while the run was open (asked from inside it) and after it ended.
      expect(seenInside[index]).to.equal(id);
      expect(traceId(spanOfRun(spans, runId))).to.equal(id);
      const ofInvocation = spans.filter(
        (span) => span.attributes["langfuse.observation.metadata.invocation"] === index,
      );
      expect(ofInvocation.map((span) => span.name).sort()).to.deep.equal([
        "StrOutputParser",
        "answer-chain",
        "chat gpt-test",
        "prepare",
      ]);
      expect(ofInvocation.map(traceId)).to.deep.equal(ofInvocation.map(() => id));
      expect(spans.filter((span) => traceId(span) === id)).to.have.length(ofInvocation.length);
    }
    expect(handler.openRuns).to.equal(0);
  });

  it("an invocation under an app span gets the app span's trace id", async () => {
    tracing = setupTestTracing();
    const runId = randomUUID();
    const tracer = tracing.provider.getTracer("app");
    const request = await tracer.startActiveSpan("POST /api/chat", async (span) => {
      await echo.invoke("hi", { runId, callbacks: [tracing.handler] });
      span.end();
      return span;
    });
    const appTraceId = request.spanContext().traceId;
    expect(tracing.handler.traceIdOf(runId)).to.equal(appTraceId);
    expect(tracing.handler.lastTraceId).to.equal(appTraceId);
    const outermost = spanOfRun(tracing.spans(), runId);
    expect(parentId(outermost)).to.equal(request.spanContext().spanId);
    expect(tracing.spans().map(traceId)).to.deep.equal(tracing.spans().map(() => appTraceId));
  });

  it("answers for a run id LangChain generated, found on the outermost span or by a callback", async () => {
    tracing = setupTestTracing();
    const recorder = new OutermostRunIds();
    await echo.invoke("hi", { callbacks: [tracing.handler, recorder] });
    const outermost = tracing.span("echo");
    const generated = outermost.attributes[RUN_ID];
    expect(generated).to.be.a("string");
    expect(recorder.ids).to.deep.equal([generated]);
    expect(tracing.handler.traceIdOf(generated as string)).to.equal(traceId(outermost));
  });

  it("answers for a streamed invocation and for one that failed, after they end", async () => {
    tracing = setupTestTracing();
    const { handler } = tracing;
    const streamed = randomUUID();
    const chunks: string[] = [];
    const stream = await RunnableSequence.from([
      RunnableLambda.from((question: string) => question).withConfig({ runName: "prepare" }),
      new ScriptedChatModel([{ text: "streamed answer" }]),
      new StringOutputParser(),
    ])
      .withConfig({ runName: "streamed-chain" })
      .stream("q", { runId: streamed, callbacks: [handler] });
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.join("")).to.equal("streamed answer");
    const failed = randomUUID();
    const failing = RunnableLambda.from((_: string): string => {
      throw new Error("boom");
    }).withConfig({ runName: "failing" });
    let failure: unknown;
    await failing.invoke("q", { runId: failed, callbacks: [handler] }).catch((error: unknown) => {
      failure = error;
    });
    expect(failure).to.be.an("error");
    expect(handler.openRuns).to.equal(0);
    expect(handler.traceIdOf(streamed)).to.equal(traceId(spanOfRun(tracing.spans(), streamed)));
    expect(handler.traceIdOf(failed)).to.equal(traceId(spanOfRun(tracing.spans(), failed)));
  });

  it("spanContextOf gives the outermost span's context after the run ended, with its sampled flag", async () => {
    tracing = setupTestTracing();
    const runId = randomUUID();
    await echo.invoke("hi", { runId, callbacks: [tracing.handler] });
    const span = spanOfRun(tracing.spans(), runId);
    expect(tracing.handler.spanContextOf(runId)).to.deep.include({
      traceId: traceId(span),
      spanId: spanId(span),
      traceFlags: TraceFlags.SAMPLED,
    });
    await tracing.shutdown();
    // Dropped by the sampler: the ids exist but the trace never reaches a backend; the flag says so.
    tracing = setupTestTracing({}, { sampler: new AlwaysOffSampler() });
    const dropped = randomUUID();
    await echo.invoke("hi", { runId: dropped, callbacks: [tracing.handler] });
    expect(tracing.handler.traceIdOf(dropped)).to.match(TRACE_ID);
    expect(tracing.handler.spanContextOf(dropped)?.traceFlags).to.equal(TraceFlags.NONE);
    expect(tracing.handler.spanContextOf("not-a-run")).to.equal(undefined);
  });

  it("answers undefined for an unknown run id, and for a non-string without throwing", async () => {
    tracing = setupTestTracing();
    await echo.invoke("hi", { runId: randomUUID(), callbacks: [tracing.handler] });
    const { handler } = tracing;
    expect(handler.traceIdOf(randomUUID())).to.equal(undefined);
    expect(handler.traceIdOf("")).to.equal(undefined);
    for (const value of [undefined, null, 42, {}, ["x"], Symbol("run"), () => "x"]) {
      expect(handler.traceIdOf(value as unknown as string), String(value?.toString?.())).to.equal(undefined);
    }
  });

  it("answers for a nested run while it is open; after the end, only the outermost run is remembered", async () => {
    tracing = setupTestTracing();
    const { handler } = tracing;
    const runId = randomUUID();
    let nestedRunId: string | undefined;
    let nestedWhileOpen: string | undefined;
    const chain = RunnableSequence.from([
      RunnableLambda.from((input: string) => input).withConfig({ runName: "first" }),
      RunnableLambda.from((input: string, config) => {
        // Inside a lambda, the config's callback manager names the lambda's own run.
        nestedRunId = (
          config?.callbacks as { getParentRunId(): string | undefined } | undefined
        )?.getParentRunId();
        nestedWhileOpen = nestedRunId === undefined ? undefined : handler.traceIdOf(nestedRunId);
        return input;
      }).withConfig({ runName: "second" }),
    ]).withConfig({ runName: "outer" });
    await chain.invoke("hi", { runId, callbacks: [handler] });
    const id = traceId(tracing.span("outer"));
    expect(nestedRunId).to.equal(tracing.span("second").attributes[RUN_ID]);
    expect(nestedWhileOpen).to.equal(id);
    expect(handler.traceIdOf(nestedRunId as string)).to.equal(undefined);
    expect(handler.traceIdOf(runId)).to.equal(id);
  });

  it("remembers the maxRecentTraces newest outermost runs and forgets the oldest first", async () => {
    tracing = setupTestTracing({ maxRecentTraces: 3 });
    const runIds = Array.from({ length: 5 }, () => randomUUID());
    for (const runId of runIds) await echo.invoke(runId, { runId, callbacks: [tracing.handler] });
    const spans = tracing.spans();
    expect(runIds.map((runId) => tracing.handler.traceIdOf(runId))).to.deep.equal([
      undefined,
      undefined,
      ...runIds.slice(2).map((runId) => traceId(spanOfRun(spans, runId))),
    ]);
  });

  it("rejects a maxRecentTraces that is not a positive integer, naming the option", () => {
    for (const maxRecentTraces of [0, -1, 1.5, Number.NaN]) {
      expect(() => new OpenTelemetryCallbackHandler({ maxRecentTraces })).to.throw(
        TypeError,
        /maxRecentTraces/,
      );
    }
  });

  it("lastTraceId is the trace of the invocation that started last: right in a script, not under concurrency", async () => {
    tracing = setupTestTracing();
    const { handler } = tracing;
    expect(handler.lastTraceId).to.equal(undefined);
    const first = randomUUID();
    await echo.invoke("one", { runId: first, callbacks: [handler] });
    expect(handler.lastTraceId).to.equal(traceId(spanOfRun(tracing.spans(), first)));
    const second = randomUUID();
    await echo.invoke("two", { runId: second, callbacks: [handler] });
    expect(handler.lastTraceId).to.equal(traceId(spanOfRun(tracing.spans(), second)));

    // Two requests at once: when the slow one finishes, lastTraceId names the other one's trace.
    let releaseSlow: () => void = () => {};
    const slowMayFinish = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    const slowRunId = randomUUID();
    const fastRunId = randomUUID();
    const slow = RunnableLambda.from(async (input: string) => {
      await slowMayFinish;
      return input;
    }).withConfig({ runName: "slow" });
    const slowDone = slow.invoke("slow", { runId: slowRunId, callbacks: [handler] });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await echo.invoke("fast", { runId: fastRunId, callbacks: [handler] });
    releaseSlow();
    await slowDone;
    expect(handler.lastTraceId).to.equal(handler.traceIdOf(fastRunId));
    expect(handler.lastTraceId).not.to.equal(handler.traceIdOf(slowRunId));
  });

  describe("with the context bridge (LangChainContextManager registered)", () => {
    useContextBridge();

    it("trace.getActiveSpan() inside a lambda is the run's span, in the trace traceIdOf names", async () => {
      tracing = setupTestTracing();
      const runId = randomUUID();
      let active: { traceId: string; spanId: string } | undefined;
      const chain = RunnableLambda.from((input: string) => {
        active = trace.getActiveSpan()?.spanContext();
        return input;
      }).withConfig({ runName: "answer" });
      await chain.invoke("hi", { runId, callbacks: [tracing.handler] });
      const outermost = spanOfRun(tracing.spans(), runId);
      expect(active?.spanId).to.equal(spanId(outermost));
      expect(active?.traceId).to.equal(tracing.handler.traceIdOf(runId));
    });
  });

  describe("bounded memory", () => {
    it("20,000 invocations with a small maxRecentTraces leave the heap flat", async function () {
      this.timeout(60_000);
      setFlagsFromString("--expose-gc");
      const gc = runInNewContext("gc") as () => void;
      tracing = setupTestTracing({ maxRecentTraces: 100 });
      const { handler, exporter } = tracing;
      // The in-memory exporter keeps every span, and the simple processor holds each export until
      // the exporter answers on a timer: let it answer, then drop the spans, so that only the
      // handler's own memory is measured.
      const drainExports = async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        exporter.reset();
      };
      // Keeps the first run id and the last 101 (keeping all 20,000 ids would itself take ~10 MB).
      const invoke = async (times: number): Promise<{ first: string; last: string[] }> => {
        let first = "";
        const last: string[] = [];
        for (let i = 0; i < times; i++) {
          const runId = randomUUID();
          if (i === 0) first = runId;
          last.push(runId);
          if (last.length > 101) last.shift();
          await echo.invoke("hi", { runId, callbacks: [handler] });
          if (i % 500 === 0) await drainExports();
        }
        await drainExports();
        return { first, last };
      };
      await invoke(2_000); // warm up: JIT, LangChain's lazy state, the map at its bound
      gc();
      gc();
      const before = process.memoryUsage().heapUsed;
      const { first, last } = await invoke(20_000);
      gc();
      gc();
      const grownMb = (process.memoryUsage().heapUsed - before) / 2 ** 20;
      expect(handler.openRuns).to.equal(0);
      expect(handler.traceIdOf(first)).to.equal(undefined);
      expect(handler.traceIdOf(last[0])).to.equal(undefined);
      expect(last.slice(1).every((runId) => TRACE_ID.test(handler.traceIdOf(runId) ?? ""))).to.equal(true);
      // Remembering all 20,000 would take about 11 MB (measured with maxRecentTraces: 1_000_000).
      expect(grownMb).to.be.lessThan(3);
    });
  });
});

describe("a Langfuse score for the trace of a LangChain call", () => {
  it("the score request @langfuse/client sends carries the trace id the spans carry", async () => {
    const tracing = setupTestTracing();
    const langfuse = await startLangfuseIngestion();
    try {
      const runId = randomUUID();
      const answer = await RunnableSequence.from([
        RunnableLambda.from((question: string) => question).withConfig({ runName: "prepare" }),
        new ScriptedChatModel([{ text: "Refunds are accepted within 30 days." }]),
        new StringOutputParser(),
      ])
        .withConfig({ runName: "answer-chain" })
        .invoke("Can I get a refund?", { runId, callbacks: [tracing.handler] });
      expect(answer).to.include("30 days");
      const traceIdOfAnswer = tracing.handler.traceIdOf(runId);

      // What the feedback endpoint does a minute later, with the trace id the response carried.
      const client = new LangfuseClient({
        publicKey: "pk-lf-test",
        secretKey: "sk-lf-test",
        baseUrl: langfuse.baseUrl,
      });
      client.score.create({
        traceId: traceIdOfAnswer,
        name: "user-feedback",
        value: 1,
        comment: "thumbs up",
      });
      await client.flush();

      const spanTraceIds = new Set(tracing.spans().map(traceId));
      expect(spanTraceIds.size).to.equal(1);
      const [spansTraceId] = spanTraceIds;
      expect(langfuse.requests).to.have.length(1);
      const [request] = langfuse.requests;
      expect(request.method).to.equal("POST");
      expect(request.path).to.equal("/api/public/ingestion");
      expect(request.headers.authorization).to.equal(
        `Basic ${Buffer.from("pk-lf-test:sk-lf-test").toString("base64")}`,
      );
      expect(request.batch).to.have.length(1);
      expect(request.batch[0].type).to.equal("score-create");
      expect(request.batch[0].body).to.include({
        traceId: spansTraceId,
        name: "user-feedback",
        value: 1,
        comment: "thumbs up",
      });
    } finally {
      await langfuse.close();
      await tracing.shutdown();
    }
  });
});

describe("examples/feedback.ts", () => {
  it("runs offline and the score lands on the trace id the spans carry", async function () {
    this.timeout(60_000);
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    for (const key of [
      "OPENAI_API_KEY",
      "LANGFUSE_PUBLIC_KEY",
      "LANGFUSE_SECRET_KEY",
      "LANGFUSE_BASE_URL",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
    ])
      delete env[key];
    const { stdout } = await run(process.execPath, ["--import", "tsx", join(root, "examples/feedback.ts")], {
      cwd: root,
      env,
    });
    const find = (pattern: RegExp): string => {
      const match = pattern.exec(stdout);
      expect(match, `${pattern} in\n${stdout}`).to.not.equal(null);
      return (match as RegExpExecArray)[1];
    };
    // The id the chat endpoint returned, the one Langfuse received, the one the spans carry.
    const returned = find(/^POST \/api\/chat .* → 200 .*"traceId":"([0-9a-f]{32})"/m);
    const scored = find(
      /^langfuse ← POST \/api\/public\/ingestion score-create .*"traceId":"([0-9a-f]{32})"/m,
    );
    const printed = find(/^trace ([0-9a-f]{32}) · POST \/api\/chat/m);
    const checked = find(/^its spans: .*support-answer.*, all in trace ([0-9a-f]{32})$/m);
    expect([scored, printed, checked]).to.deep.equal([returned, returned, returned]);
    expect(stdout).to.include(`✓ the score landed on trace ${returned}, the trace the spans carry`);
  });
});
