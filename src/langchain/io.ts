import { messageRole, messageType } from "./messages.js";
import { arrayField, field, stringField } from "./values.js";

/**
 * How LangChain values read in captured inputs and outputs: messages as `{role, content}` (not
 * LangChain's serialized constructor form), prompt values as their messages or text, documents as
 * `{id, pageContent, metadata}`. Used as a JSON replacer; other values pass through.
 */
export function renderLangChainValue(value: object): unknown {
  if (typeof field(value, "pageContent") === "string" && value.constructor?.name === "Document") {
    const document: Record<string, unknown> = {
      pageContent: field(value, "pageContent"),
      metadata: field(value, "metadata"),
    };
    const id = stringField(value, "id");
    if (id !== undefined) document.id = id;
    return document;
  }
  // Only LangChain's own classes (Serializable: they have lc_namespace) are rewritten.
  if (arrayField(value, "lc_namespace") === undefined) return undefined;
  if (typeof (value as { toChatMessages?: unknown }).toChatMessages === "function") {
    // ChatPromptValue holds messages, StringPromptValue a string.
    return field(value, "messages") ?? field(value, "value");
  }
  if (messageType(value) === undefined || field(value, "content") === undefined) return undefined;
  const message: Record<string, unknown> = { role: messageRole(value), content: field(value, "content") };
  const toolCalls = arrayField(value, "tool_calls");
  if (toolCalls !== undefined && toolCalls.length > 0) message.tool_calls = toolCalls;
  const toolCallId = stringField(value, "tool_call_id");
  if (toolCallId !== undefined) message.tool_call_id = toolCallId;
  const name = stringField(value, "name");
  if (name !== undefined) message.name = name;
  return message;
}
