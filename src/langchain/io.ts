import { messageRole, messageType } from "./messages.js";
import { arrayField, field, stringField } from "./values.js";

/**
 * How LangChain values read in captured inputs and outputs: messages as `{role, content}` (not
 * LangChain's serialized constructor form), prompt values as their messages or text, documents as
 * `{id, pageContent, metadata}`. Used as a JSON replacer; other values pass through.
 */
export function renderLangChainValue(value: object): unknown {
  // JSON.stringify hands LangChain objects over already serialized: {lc: 1, type, id, kwargs}.
  if ((value as { lc?: unknown }).lc === 1 && (value as { type?: unknown }).type === "constructor") {
    return renderSerialized(value);
  }
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

const ROLE_BY_CLASS: Record<string, string> = {
  HumanMessage: "user",
  HumanMessageChunk: "user",
  AIMessage: "assistant",
  AIMessageChunk: "assistant",
  SystemMessage: "system",
  SystemMessageChunk: "system",
  ToolMessage: "tool",
  ToolMessageChunk: "tool",
  FunctionMessage: "tool",
};

/** A LangChain object in its serialized form (`toJSON()`), rendered like the live object. */
function renderSerialized(value: object): unknown {
  const id = arrayField(value, "id");
  const className = id?.[id.length - 1];
  const kwargs = field(value, "kwargs");
  if (typeof className !== "string" || typeof kwargs !== "object" || kwargs === null) return undefined;
  if (className === "ChatPromptValue") return field(kwargs, "messages");
  if (className === "StringPromptValue") return field(kwargs, "value");
  const role =
    ROLE_BY_CLASS[className] ??
    (className.endsWith("Message") || className.endsWith("MessageChunk")
      ? stringField(kwargs, "role")
      : undefined);
  if (role === undefined) return undefined;
  const message: Record<string, unknown> = { role, content: field(kwargs, "content") };
  const toolCalls = arrayField(kwargs, "tool_calls");
  if (toolCalls !== undefined && toolCalls.length > 0) message.tool_calls = toolCalls;
  const toolCallId = stringField(kwargs, "tool_call_id");
  if (toolCallId !== undefined) message.tool_call_id = toolCallId;
  const name = stringField(kwargs, "name");
  if (name !== undefined) message.name = name;
  return message;
}
