import type { Serialized } from "@langchain/core/load/serializable";
import type { ChainValues } from "@langchain/core/utils/types";
import { type Attributes, type SpanContext, SpanKind } from "@opentelemetry/api";
import { agentAttributes, agentSpanName, workflowAttributes, workflowSpanName } from "../genai/agent.js";
import {
  ATTR_LANGCHAIN_RUN_TYPE,
  ATTR_LANGGRAPH_INTERRUPT_REASON,
  ATTR_LANGGRAPH_INTERRUPT_VALUE,
  ATTR_LANGGRAPH_NODE,
  ATTR_LANGGRAPH_RESUMED,
  ATTR_LANGGRAPH_STEP,
  ATTR_LANGGRAPH_THREAD_ID,
  EVENT_LANGGRAPH_INTERRUPT,
} from "../genai/attributes.js";
import { errorType } from "../genai/errors.js";
import {
  interruptValues,
  isGraphClass,
  isGraphPlumbing,
  isResumeCommand,
  readGraphNode,
} from "../langchain/graph.js";
import { readPromptLink } from "../langchain/identity.js";
import { isStreamInputPlaceholder, renderLangChainValue } from "../langchain/io.js";
import { type RunMetadata, readRunMetadata } from "../langchain/metadata.js";
import { isSequenceClass, runDisplayName, serializedClassName } from "../langchain/serialized.js";
import { field, nonEmptyString } from "../langchain/values.js";
import {
  LANGFUSE_OBSERVATION_INPUT,
  LANGFUSE_OBSERVATION_OUTPUT,
  LANGFUSE_OBSERVATION_TYPE,
} from "../langfuse/attributes.js";
import {
  OBSERVATION_TYPES,
  type RunLifecycle,
  reportFailure,
  type SpanStart,
  spanStart,
} from "../lifecycle.js";
import type { RunKind, RunState } from "../runs.js";

/** The model node of createAgent ("model_request") and of the prebuilt ReAct agent ("agent"). */
const AGENT_NODES = new Set(["model_request", "agent"]);

/** Most paused LangGraph threads remembered, to link their resumption to the paused trace. */
const MAX_PAUSED_THREADS = 1000;

/**
 * Chains and other runnables, LangGraph graphs, nodes and agents: a chain span, an
 * `invoke_workflow {graph}` or `invoke_agent {name}` span, or nothing for hidden plumbing; the
 * Langfuse input and output; LangGraph interrupts and their resumption.
 */
export class ChainRuns {
  /** LangGraph threads paused by an interrupt → the paused graph's span, for the resumption's link. */
  private readonly pausedThreads = new Map<string, SpanContext>();

  constructor(private readonly core: RunLifecycle) {}

  start(
    chain: Serialized,
    inputs: ChainValues,
    runId: string,
    parentRunId: string | undefined,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runType: string | undefined,
    runName: string | undefined,
    extra: Record<string, unknown> | undefined,
  ): void {
    const core = this.core;
    try {
      const unrecordedParent = core.unrecordedParent(parentRunId);
      if (unrecordedParent !== undefined) {
        this.startUnrecorded(chain, runId, unrecordedParent, tags, metadata, runName);
        return;
      }
      const parentRun = parentRunId === undefined ? undefined : core.runs.get(parentRunId);
      const name = runDisplayName(chain, nonEmptyString(runName), "chain");
      const className = serializedClassName(chain);
      const meta = readRunMetadata(metadata);
      if (
        parentRun !== undefined &&
        !core.config.showInternalRuns &&
        isGraphPlumbing(className, name, meta, tags, parentRun.graphNode === true)
      ) {
        core.runs.openHidden(runId, parentRun);
        return;
      }
      const start = this.chainStart(className, inputs, name, tags, meta);
      if (typeof runType === "string" && runType.length > 0)
        start.extra = { [ATTR_LANGCHAIN_RUN_TYPE]: runType };
      const run = core.startRun(runId, nonEmptyString(parentRunId), start);
      if (run === undefined || !run.recording) return;
      if (run.graphNode && AGENT_NODES.has(run.name) && parentRun?.kind === "workflow")
        this.promoteToAgent(parentRun);
      // A streamed run starts with a placeholder input; LangChain reports the real one at its end.
      if (extra?.lc_defers_inputs === true || isStreamInputPlaceholder(inputs)) run.inputDeferred = true;
      else if (core.config.langfuse && core.capture.enabled) {
        // A sequence hands its input to its first step, and each step's output to the next.
        const captured = core.capture.setReusableJson(
          run.span,
          LANGFUSE_OBSERVATION_INPUT,
          unwrapChainValues(inputs, "input"),
          renderLangChainValue,
          parentRun?.passesValues === true ? parentRun.handoff : undefined,
        );
        if (run.passesValues) run.handoff = captured;
      }
      this.linkPrompt(run, meta.prompt);
    } catch (error) {
      reportFailure("handleChainStart", error);
    }
  }

  end(outputs: ChainValues, runId: string, kwargs: { inputs?: Record<string, unknown> } | undefined): void {
    const core = this.core;
    try {
      const run = core.closeVisible(runId);
      if (run === undefined) return;
      this.captureDeferredInput(run, kwargs);
      if (core.config.langfuse && core.capture.enabled) {
        // A sequence's output is its last step's.
        const captured = core.capture.setReusableJson(
          run.span,
          LANGFUSE_OBSERVATION_OUTPUT,
          unwrapChainValues(outputs, "output"),
          renderLangChainValue,
          run.passesValues ? run.handoff : undefined,
        );
        const parent = run.parent;
        if (parent?.passesValues === true) parent.handoff = captured;
      }
      core.accountRun(run, undefined);
      core.endSpan(run);
    } catch (error) {
      reportFailure("handleChainEnd", error);
    }
  }

  /** A streamed chain's input, which LangChain reports only once the stream has been read. */
  captureDeferredInput(run: RunState, kwargs: { inputs?: unknown } | undefined): void {
    const core = this.core;
    if (!run.inputDeferred || !core.config.langfuse || !core.capture.enabled) return;
    core.capture.setReusableJson(
      run.span,
      LANGFUSE_OBSERVATION_INPUT,
      unwrapChainValues(field(kwargs, "inputs"), "input"),
      renderLangChainValue,
      undefined,
    );
  }

  /**
   * A LangGraph interrupt is the graph pausing for input, not a failure: the span ends without
   * ERROR, with an event saying why, on the node and (once) on its graph, and the thread is
   * remembered so that resuming it links back to this trace.
   */
  markInterrupted(run: RunState, error: unknown): void {
    const core = this.core;
    const attributes: Attributes = { [ATTR_LANGGRAPH_INTERRUPT_REASON]: errorType(error) };
    const value = core.capture.json(
      ATTR_LANGGRAPH_INTERRUPT_VALUE,
      interruptValues(error),
      renderLangChainValue,
    );
    if (value !== undefined) attributes[ATTR_LANGGRAPH_INTERRUPT_VALUE] = value;
    // The same interrupt ends every run between the one that paused and the outermost graph (a
    // subgraph, an agent called from another's tool): only the first of them gets the event.
    if (typeof error === "object" && error !== null) {
      if (core.recordedErrors.has(error)) return;
      core.recordedErrors.add(error);
    }
    run.span.addEvent(EVENT_LANGGRAPH_INTERRUPT, attributes);
    // The outermost graph is the one the trace shows paused, and the one a resume addresses.
    let outer: RunState | undefined;
    let threadId: string | undefined;
    for (let graph: RunState | undefined = run; graph !== undefined; graph = graph.parent) {
      if (graph.kind !== "workflow" && graph.kind !== "agent") continue;
      outer = graph;
      threadId = graph.threadId ?? threadId;
    }
    if (outer === undefined) return;
    if (outer !== run) outer.span.addEvent(EVENT_LANGGRAPH_INTERRUPT, attributes);
    // A ParentCommand hands control to the parent graph: it pauses nothing.
    if (threadId !== undefined && attributes[ATTR_LANGGRAPH_INTERRUPT_REASON] !== "ParentCommand")
      this.rememberPausedThread(threadId, outer.span.spanContext());
  }

  /** What a chain run becomes: an agent, a workflow (a LangGraph graph), a graph node, or a plain chain. */
  private chainStart(
    className: string | undefined,
    inputs: unknown,
    name: string,
    tags: string[] | undefined,
    metadata: RunMetadata,
  ): SpanStart {
    const start = spanStart(name, SpanKind.INTERNAL, "chain", {}, undefined, metadata, tags);
    start.runName = name;
    start.passesValues = isSequenceClass(className);
    const agentName = metadata.agentName;
    if (isGraphClass(className)) {
      const threadId = metadata.threadId;
      // createAgent names its graph and marks it (and, by inheritance, everything under it) with
      // lc_agent_name. A nested agent inherits its caller's mark, so it is recognized by its model
      // node instead (promoteToAgent).
      const isAgent = agentName !== undefined && agentName === name;
      start.runKind = isAgent ? "agent" : "workflow";
      start.name = isAgent ? agentSpanName(agentName) : workflowSpanName(name);
      start.attributes = isAgent ? agentAttributes(agentName) : workflowAttributes(name);
      start.graph = { graphNode: false, agentName, threadId };
      const paused = threadId === undefined ? undefined : this.pausedThreads.get(threadId);
      if (threadId !== undefined && isResumeCommand(inputs)) {
        start.attributes[ATTR_LANGGRAPH_THREAD_ID] = threadId;
        start.attributes[ATTR_LANGGRAPH_RESUMED] = true;
        if (paused !== undefined) {
          start.links = [{ context: paused, attributes: { [ATTR_LANGGRAPH_RESUMED]: true } }];
          this.pausedThreads.delete(threadId);
        }
      }
      return start;
    }
    const node = readGraphNode(name, metadata, tags);
    if (agentName !== undefined || node !== undefined)
      start.graph = { graphNode: node !== undefined, agentName, threadId: undefined };
    if (node !== undefined) {
      start.attributes[ATTR_LANGGRAPH_NODE] = node.node;
      if (node.step !== undefined) start.attributes[ATTR_LANGGRAPH_STEP] = node.step;
    }
    return start;
  }

  /**
   * A chain under an unrecorded run: registered for parent links. With agent durations measured,
   * it is read just enough to tell an agent (the metric does not depend on sampling): a graph
   * createAgent named after itself, or a graph whose agent model node starts (promoted then).
   */
  private startUnrecorded(
    chain: Serialized,
    runId: string,
    parent: RunState,
    tags: string[] | undefined,
    metadata: Record<string, unknown> | undefined,
    runName: string | undefined,
  ): void {
    const core = this.core;
    if (!core.accounting.timesAgents) {
      core.startedUnrecorded(runId, parent.runId, "chain", "");
      return;
    }
    const name = runDisplayName(chain, nonEmptyString(runName), "chain");
    let kind: RunKind = "chain";
    if (isGraphClass(serializedClassName(chain))) {
      kind = readRunMetadata(metadata).agentName === name ? "agent" : "workflow";
    } else if (AGENT_NODES.has(name) && parent.kind === "workflow") {
      if (readGraphNode(name, readRunMetadata(metadata), tags) !== undefined) parent.kind = "agent";
    }
    core.startedUnrecorded(runId, parent.runId, kind, name);
  }

  /** A graph running an agent's model node (createAgent's or the prebuilt ReAct agent's) is an agent. */
  private promoteToAgent(run: RunState): void {
    run.kind = "agent";
    run.span.updateName(agentSpanName(run.name));
    run.span.setAttributes(agentAttributes(run.name));
    if (this.core.config.langfuse) run.span.setAttribute(LANGFUSE_OBSERVATION_TYPE, OBSERVATION_TYPES.agent);
  }

  /**
   * A prompt passed as `metadata.langfusePrompt` on a chain links the generations under it and,
   * when the chain is a step (typically the prompt template), those of the next step, the one its
   * output feeds, as `@langfuse/langchain` links the next generation; never the steps after that.
   */
  private linkPrompt(run: RunState, langfusePrompt: unknown): void {
    if (!this.core.config.langfuse || langfusePrompt === undefined) return;
    const prompt = readPromptLink(langfusePrompt);
    if (prompt === undefined) return;
    run.promptLink = prompt;
    if (run.parent !== undefined) run.parent.pendingPromptLink = prompt;
  }

  private rememberPausedThread(threadId: string, span: SpanContext): void {
    this.pausedThreads.delete(threadId);
    this.pausedThreads.set(threadId, span);
    if (this.pausedThreads.size > MAX_PAUSED_THREADS) {
      const oldest = this.pausedThreads.keys().next().value;
      if (oldest !== undefined) this.pausedThreads.delete(oldest);
    }
  }
}

/** LangChain wraps a runnable's non-object input or output as `{input: x}` / `{output: x}`: show `x`. */
function unwrapChainValues(values: unknown, key: "input" | "output"): unknown {
  if (typeof values !== "object" || values === null || Array.isArray(values)) return values;
  const record = values as Record<string, unknown>;
  let wrapped: unknown = values;
  let keys = 0;
  try {
    for (const own in record) {
      if (!Object.hasOwn(record, own)) continue;
      // Another key, or a second one: not a wrapper.
      if (own !== key || ++keys > 1) return values;
      wrapped = record[own];
    }
  } catch {
    return values;
  }
  return wrapped;
}
