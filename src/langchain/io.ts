import { messageRole, messageType } from "./messages.js";
import { type Dict, lookupTable, nonEmptyString } from "./values.js";

/**
 * How LangChain values read in captured inputs and outputs: messages as `{role, content}` (not
 * LangChain's serialized constructor form), prompt values as their messages or text, documents as
 * `{id, pageContent, metadata}`. Used as a JSON replacer; other values pass through (undefined).
 * Properties are read directly, so each read site learns the few LangChain classes it meets.
 */
export function renderLangChainValue(value: object): unknown {
  const fields = value as Dict;
  try {
    // JSON.stringify hands LangChain objects over already serialized: {lc: 1, type, id, kwargs}.
    if (fields.lc === 1 && fields.type === "constructor") return renderSerialized(fields);
    // Only LangChain's own classes (Serializable: they have lc_namespace) are rewritten.
    if (!Array.isArray(fields.lc_namespace)) return renderDocument(value);
    if (typeof fields.toChatMessages === "function") {
      // ChatPromptValue holds messages, StringPromptValue a string.
      return fields.messages ?? fields.value;
    }
    if (fields.content === undefined || messageType(value) === undefined)
      return typeof fields.pageContent === "string" ? renderDocument(value) : undefined;
    return renderedMessage(messageRole(value), fields);
  } catch {
    // A LangChain-looking object with throwing accessors: written as a plain object instead.
    return undefined;
  }
}

/** A Document (its class, or a duck of it) as `{pageContent, metadata, id?}`. */
function renderDocument(value: object): unknown {
  const fields = value as Dict;
  if (typeof fields.pageContent !== "string" || value.constructor?.name !== "Document") return undefined;
  const document: Dict = { pageContent: fields.pageContent, metadata: fields.metadata };
  const id = nonEmptyString(fields.id);
  if (id !== undefined) document.id = id;
  return document;
}

const ROLE_BY_CLASS = lookupTable<string>({
  HumanMessage: "user",
  HumanMessageChunk: "user",
  AIMessage: "assistant",
  AIMessageChunk: "assistant",
  SystemMessage: "system",
  SystemMessageChunk: "system",
  ToolMessage: "tool",
  ToolMessageChunk: "tool",
  FunctionMessage: "tool",
});

/** A LangChain object in its serialized form (`toJSON()`), rendered like the live object. */
function renderSerialized(value: Dict): unknown {
  const id = value.id;
  const className = Array.isArray(id) ? id[id.length - 1] : undefined;
  const kwargs = value.kwargs;
  if (typeof className !== "string" || typeof kwargs !== "object" || kwargs === null) return undefined;
  const args = kwargs as Dict;
  if (className === "ChatPromptValue") return args.messages;
  if (className === "StringPromptValue") return args.value;
  const role =
    ROLE_BY_CLASS[className] ??
    (className.endsWith("Message") || className.endsWith("MessageChunk")
      ? nonEmptyString(args.role)
      : undefined);
  if (role === undefined) return undefined;
  return renderedMessage(role, args);
}

/** A message as `{role, content}`, with its tool calls, tool call id and name when it has them. */
function renderedMessage(role: string, fields: Dict): Dict {
  const message: Dict = { role, content: fields.content };
  const toolCalls = fields.tool_calls;
  if (Array.isArray(toolCalls) && toolCalls.length > 0) message.tool_calls = toolCalls;
  const toolCallId = nonEmptyString(fields.tool_call_id);
  if (toolCallId !== undefined) message.tool_call_id = toolCallId;
  const name = nonEmptyString(fields.name);
  if (name !== undefined) message.name = name;
  return message;
}

/**
 * The input `@langchain/core` 0.3 starts a streamed run with, `{ input: "" }`, where 1.x sets
 * `lc_defers_inputs`: the real input comes with the run's end.
 */
export function isStreamInputPlaceholder(inputs: unknown): boolean {
  if (typeof inputs !== "object" || inputs === null || Array.isArray(inputs)) return false;
  try {
    let keys = 0;
    for (const key in inputs) {
      if (key !== "input" || ++keys > 1) return false;
    }
    return keys === 1 && (inputs as { input?: unknown }).input === "";
  } catch {
    // A proxy or a getter that throws: not LangChain's placeholder.
    return false;
  }
}
