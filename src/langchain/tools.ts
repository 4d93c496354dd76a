import type { ToolDefinition } from "../genai/records.js";
import { isDict, nonEmptyString } from "./values.js";

/**
 * Tools bound to a model, from the `tools` of its invocation params (`invocationParams`) in the
 * OpenAI shape (`{type, function: {name, description}}`) or the Anthropic/Google flat shape
 * (`{name, description}`). Read once per model call: the tool catalog and the captured input share
 * the result.
 */
export function readToolDefinitions(sentParams: object | undefined): ToolDefinition[] | undefined {
  if (sentParams === undefined) return undefined;
  try {
    const tools = (sentParams as { tools?: unknown }).tools;
    if (!Array.isArray(tools) || tools.length === 0) return undefined;
    const definitions: ToolDefinition[] = [];
    for (const tool of tools as { type?: unknown; function?: unknown }[]) {
      if (!isDict(tool)) continue;
      const fn = (isDict(tool.function) ? tool.function : tool) as { name?: unknown; description?: unknown };
      const name = nonEmptyString(fn.name);
      if (name === undefined) continue;
      const definition: ToolDefinition = { type: nonEmptyString(tool.type) ?? "function", name };
      const description = nonEmptyString(fn.description);
      if (description !== undefined) definition.description = description;
      definitions.push(definition);
    }
    return definitions.length > 0 ? definitions : undefined;
  } catch {
    // A getter that throws: no definitions rather than some.
    return undefined;
  }
}

/**
 * Tool descriptions, learned from the tools bound to model calls: LangChain's tool callbacks
 * carry the tool's name but not its description. Bounded: oldest entries go first.
 */
export class ToolCatalog {
  private readonly descriptions = new Map<string, string>();

  constructor(private readonly capacity = 512) {}

  /** Learns the descriptions of the tools bound to a model call (`readToolDefinitions`). */
  remember(definitions: readonly ToolDefinition[] | undefined): void {
    if (definitions === undefined) return;
    for (const definition of definitions) {
      if (
        definition.description === undefined ||
        this.descriptions.get(definition.name) === definition.description
      ) {
        continue;
      }
      this.descriptions.delete(definition.name);
      this.descriptions.set(definition.name, definition.description);
      if (this.descriptions.size > this.capacity) {
        const oldest = this.descriptions.keys().next().value;
        if (oldest !== undefined) this.descriptions.delete(oldest);
      }
    }
  }

  description(name: string): string | undefined {
    return this.descriptions.get(name);
  }
}

/**
 * A tool's output: a ToolMessage (when called with a tool call) or the raw value. `callId`: the
 * ToolMessage's `tool_call_id`, which LangChain 0.3 gives only here (1.x also at the tool's start).
 */
export function readToolResult(output: unknown): { content: unknown; failed: boolean; callId?: string } {
  if (typeof output !== "object" || output === null) return { content: output, failed: false };
  try {
    const message = output as { type?: unknown; tool_call_id?: unknown; content?: unknown; status?: unknown };
    const content = message.content;
    const isToolMessage =
      message.type === "tool" || (typeof message.tool_call_id === "string" && content !== undefined);
    if (!isToolMessage) return { content: output, failed: false };
    return { content, failed: message.status === "error", callId: nonEmptyString(message.tool_call_id) };
  } catch {
    return { content: output, failed: false };
  }
}
