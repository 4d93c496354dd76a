import type { RunMetadata } from "./metadata.js";
import { field } from "./values.js";

/**
 * Reading LangGraph runs from LangChain callbacks. A graph run is a chain run whose serialized class
 * is a compiled graph; its nodes are chain runs tagged `graph:step:N` whose name is their
 * `langgraph_node` metadata; `createAgent` marks its graph (and, by inheritance, everything under
 * it) with `lc_agent_name`.
 */

const GRAPH_CLASSES = new Set(["CompiledStateGraph", "CompiledGraph", "CompiledMessageGraph", "Pregel"]);
/** Classes LangGraph wraps nodes, edges and writes in; an unnamed one inside a node is plumbing. */
const GENERIC_RUNNABLES = new Set([
  "RunnableLambda",
  "RunnableCallable",
  "RunnableSequence",
  "RunnableBranch",
  "ChannelWrite",
  "ChannelRead",
]);

/** A compiled LangGraph graph, by its serialized class name. */
export function isGraphClass(className: string | undefined): boolean {
  return className !== undefined && GRAPH_CLASSES.has(className);
}

export interface GraphNode {
  node: string;
  step?: number;
}

/** The LangGraph node this run is, when it is one (not merely a run inside a node). */
export function readGraphNode(runName: string, metadata: RunMetadata, tags: unknown): GraphNode | undefined {
  const node = metadata.graphNode;
  if (node === undefined || node !== runName) return undefined;
  if (!Array.isArray(tags) || !tags.some((tag) => typeof tag === "string" && tag.startsWith("graph:step:")))
    return undefined;
  return { node, step: metadata.graphStep };
}

/**
 * LangGraph's plumbing: the `__start__`/`__end__` pseudo-nodes, channel writes, branch and route
 * runnables, and unnamed wrapper runnables directly inside a node. Hidden by default; their children
 * attach to the nearest visible ancestor.
 */
export function isGraphPlumbing(
  className: string | undefined,
  runName: string,
  metadata: RunMetadata,
  tags: unknown,
  parentIsNode: boolean,
): boolean {
  if (metadata.graphNode === undefined) return false;
  if (runName === "__start__" || runName === "__end__") return true;
  if (runName.startsWith("ChannelWrite") || runName.startsWith("Branch<") || runName.startsWith("branch:"))
    return true;
  if (Array.isArray(tags) && tags.includes("langsmith:hidden")) return true;
  return parentIsNode && className !== undefined && runName === className && GENERIC_RUNNABLES.has(className);
}

/** LangGraph's control-flow errors (interrupts, parent commands) that bubble up through runs: not failures. */
export function isGraphBubbleUp(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  try {
    if ((error as { is_bubble_up?: unknown }).is_bubble_up === true) return true;
    const name = (error as { name?: unknown }).name;
    return (
      name === "GraphInterrupt" ||
      name === "NodeInterrupt" ||
      name === "ParentCommand" ||
      name === "GraphBubbleUp"
    );
  } catch {
    return false;
  }
}

/** What an interrupt carries: `interrupts: [{id, value}]` on GraphInterrupt. */
export function interruptValues(error: unknown): unknown {
  return field(error, "interrupts");
}

/** A `Command` input (`new Command({ resume })`) resumes a paused thread. */
export function isResumeCommand(inputs: unknown): boolean {
  if (typeof inputs !== "object" || inputs === null) return false;
  const lgName = field(inputs, "lg_name");
  const isCommand = lgName === "Command" || inputs.constructor?.name === "Command";
  return isCommand && field(inputs, "resume") !== undefined;
}
