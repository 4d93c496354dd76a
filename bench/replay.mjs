// Handler-only cost: records the callbacks LangChain makes during one invocation of a workload,
// then replays them, awaited in order as LangChain's awaited mode does, straight into one
// contender's handler, so LangChain's own plumbing (and most of the machine's noise) is out.
// With `-unsampled` contenders no span is exported: compare them per invocation.
// Usage: node --expose-gc replay.mjs <contender> <workload> <iterations>
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { CountingExporter, setUpContender } from "./contenders.mjs";
import { WORKLOADS } from "./workloads.mjs";

const [contenderName, workloadName, iterationsArg] = process.argv.slice(2);
const iterations = Number(iterationsArg ?? 20_000);

const CALLBACKS = [
  "handleChainStart",
  "handleChainEnd",
  "handleChainError",
  "handleChatModelStart",
  "handleLLMStart",
  "handleLLMNewToken",
  "handleLLMEnd",
  "handleLLMError",
  "handleToolStart",
  "handleToolEnd",
  "handleToolError",
  "handleRetrieverStart",
  "handleRetrieverEnd",
  "handleRetrieverError",
];

/** Records every callback with its arguments, and every run id started. */
class Recorder extends BaseCallbackHandler {
  name = "Recorder";
  events = [];
  runIds = [];
  constructor() {
    super({ _awaitHandler: true });
    for (const method of CALLBACKS)
      this[method] = (...args) => {
        this.events.push({ method, args });
        if (method.endsWith("Start")) this.runIds.push(args[2]);
      };
  }
}

const exporter = new CountingExporter();
const recorder = new Recorder();
await WORKLOADS[workloadName]().invoke([recorder]);
const { handler, provider } = await setUpContender(contenderName, exporter);
if (handler === undefined) throw new Error(`${contenderName} has no handler to replay into`);

// The recorded arguments are reused; only the run ids are fresh per iteration.
const plans = recorder.events.map(({ method, args }) => ({
  method,
  args,
  slots: args.flatMap((arg, i) => (recorder.runIds.includes(arg) ? [[i, recorder.runIds.indexOf(arg)]] : [])),
}));
async function once(iteration) {
  const fresh = recorder.runIds.map((id) => `${id}-${iteration}`);
  for (const plan of plans) {
    const args = plan.args.slice();
    for (const [i, which] of plan.slots) args[i] = fresh[which];
    // A BaseTracer (OpenInference) needs LangChain's synchronous hook before the callback.
    if (plan.method.endsWith("Start") && typeof handler._addRunToRunMap === "function") {
      const hook = `_createRunFor${plan.method.slice("handle".length, -"Start".length)}Start`;
      handler[hook]?.(...args);
    }
    await handler[plan.method]?.(...args);
  }
}

for (let i = 0; i < Math.min(2000, iterations); i++) await once(i);
await provider?.forceFlush();
globalThis.gc?.();
const spansBefore = exporter.spans;
const cpu = process.cpuUsage();
const start = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) await once(i + 1_000_000);
await provider?.forceFlush();
const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
const used = process.cpuUsage(cpu);
const spans = exporter.spans - spansBefore;
console.log(
  JSON.stringify({
    contender: contenderName,
    workload: workloadName,
    iterations,
    spansPerInvocation: spans / iterations,
    // Per span for contenders that export; per invocation for all (the unsampled export none).
    usPerSpan: spans > 0 ? elapsedUs / spans : undefined,
    cpuUsPerSpan: spans > 0 ? (used.user + used.system) / spans : undefined,
    usPerInvocation: elapsedUs / iterations,
    cpuUsPerInvocation: (used.user + used.system) / iterations,
  }),
);
await provider?.shutdown();
process.exit(0);
