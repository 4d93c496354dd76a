import type { ToolDefinition } from "../genai/records.js";
import { arrayField, field, isDict, stringField } from "./values.js";

/**
 * Tools bound to a model, from `invocation_params.tools` in the OpenAI shape
 * (`{type, function: {name, description}}`) or the Anthropic/Google flat shape (`{name, description}`).
 */
export function readToolDefinitions(extraParams: unknown): ToolDefinition[] | undefined {
  const tools = arrayField(field(extraParams, "invocation_params"), "tools");
  if (tools === undefined || tools.length === 0) return undefined;
  const definitions: ToolDefinition[] = [];
  for (const tool of tools) {
    if (!isDict(tool)) continue;
    const fn = isDict(tool.function) ? tool.function : tool;
    const name = stringField(fn, "name");
    if (name === undefined) continue;
    const definition: ToolDefinition = { type: stringField(tool, "type") ?? "function", name };
    const description = stringField(fn, "description");
    if (description !== undefined) definition.description = description;
    definitions.push(definition);
  }
  return definitions.length > 0 ? definitions : undefined;
}

/**
 * Tool descriptions, learned from the tools bound to model calls: LangChain's tool callbacks
 * carry the tool's name but not its description. Bounded: oldest entries go first.
 */
export class ToolCatalog {
  private readonly descriptions = new Map<string, string>();

  constructor(private readonly capacity = 512) {}

  remember(extraParams: unknown): void {
    const tools = arrayField(field(extraParams, "invocation_params"), "tools");
    if (tools === undefined) return;
    for (const definition of readToolDefinitions(extraParams) ?? []) {
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

/** A tool's output: a ToolMessage (when called with a tool call) or the raw value. */
export function readToolResult(output: unknown): { content: unknown; failed: boolean } {
  if (typeof output !== "object" || output === null) return { content: output, failed: false };
  try {
    const message = output as { type?: unknown; tool_call_id?: unknown; content?: unknown; status?: unknown };
    const content = message.content;
    const isToolMessage =
      message.type === "tool" || (typeof message.tool_call_id === "string" && content !== undefined);
    if (!isToolMessage) return { content: output, failed: false };
    return { content, failed: message.status === "error" };
  } catch {
    return { content: output, failed: false };
  }
}
