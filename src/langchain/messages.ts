import { mediaPlaceholder } from "../genai/json.js";
import type { GenAIMessage, MessagePart } from "../genai/records.js";
import { arrayField, field, isDict, stringField } from "./values.js";

/**
 * LangChain messages → the GenAI message JSON shape (genai-semconv §3):
 * `{role, parts: [{type: "text"|"tool_call"|"tool_call_response"|"reasoning"|"blob"|"uri"|…}], name?}`.
 * Pure functions over duck-typed messages, so they also accept plain serialized messages.
 */

const ROLE_BY_TYPE: Record<string, string> = {
  human: "user",
  user: "user",
  ai: "assistant",
  assistant: "assistant",
  system: "system",
  developer: "system",
  tool: "tool",
  function: "tool",
};

/** The message's LangChain type ("human", "ai", …), from `getType()`, `type` or `_getType()`. */
export function messageType(message: unknown): string | undefined {
  try {
    const candidate = message as {
      getType?: () => unknown;
      _getType?: () => unknown;
      type?: unknown;
      role?: unknown;
    };
    if (typeof candidate.getType === "function") {
      const type = candidate.getType();
      if (typeof type === "string") return type;
    }
    if (typeof candidate.type === "string") return candidate.type;
    if (typeof candidate._getType === "function") {
      const type = candidate._getType();
      if (typeof type === "string") return type;
    }
    if (typeof candidate.role === "string") return candidate.role;
  } catch {
    // A message with throwing accessors has no readable type.
  }
  return undefined;
}

export function messageRole(message: unknown): string {
  const type = messageType(message);
  if (type === undefined) return "user";
  // ChatMessage ("generic") carries its own role.
  if (type === "generic" || type === "chat") return stringField(message, "role") ?? "user";
  return ROLE_BY_TYPE[type] ?? type;
}

function dataUrlPart(url: string, modality: string): MessagePart {
  const comma = url.indexOf(",");
  const header = url.slice(5, comma > 0 ? comma : undefined);
  const mimeType = header.split(";")[0] || undefined;
  // Inline media is replaced by a placeholder: the bytes would dwarf every other attribute.
  return {
    type: "blob",
    modality,
    mime_type: mimeType,
    content: mediaPlaceholder(mimeType, url.length - comma - 1),
  };
}

function modalityOf(type: string, mimeType: string | undefined): string {
  if (type.includes("image") || mimeType?.startsWith("image/")) return "image";
  if (type.includes("audio") || mimeType?.startsWith("audio/")) return "audio";
  if (type.includes("video") || mimeType?.startsWith("video/")) return "video";
  return "document";
}

/** One content block (OpenAI, Anthropic or LangChain v1 standard shape) → one part. */
function contentBlockPart(block: unknown): MessagePart | undefined {
  if (typeof block === "string") return { type: "text", content: block };
  if (!isDict(block)) return undefined;
  const type = typeof block.type === "string" ? block.type : "unknown";
  switch (type) {
    case "text":
    case "input_text":
    case "output_text":
      return { type: "text", content: stringField(block, "text") ?? "" };
    case "reasoning":
    case "thinking":
      return {
        type: "reasoning",
        content: stringField(block, "reasoning") ?? stringField(block, "thinking") ?? "",
      };
    case "tool_use":
    case "tool_call":
    case "function_call":
      // Tool calls are read from `tool_calls`, which every provider fills; skip the raw block.
      return undefined;
  }
  const mimeType = stringField(block, "mime_type") ?? stringField(block, "mimeType");
  const modality = modalityOf(type, mimeType);
  const imageUrl = field(block, "image_url");
  const url =
    typeof imageUrl === "string" ? imageUrl : (stringField(imageUrl, "url") ?? stringField(block, "url"));
  if (url !== undefined)
    return url.startsWith("data:") ? dataUrlPart(url, modality) : { type: "uri", modality, uri: url };
  const data = stringField(block, "data") ?? stringField(field(block, "source"), "data");
  if (data !== undefined)
    return { type: "blob", modality, mime_type: mimeType, content: mediaPlaceholder(mimeType, data.length) };
  const fileId = stringField(block, "file_id") ?? stringField(block, "fileId") ?? stringField(block, "id");
  if (fileId !== undefined && (type === "file" || modality !== "document"))
    return { type: "file", modality, file_id: fileId };
  return { type };
}

function contentParts(content: unknown): MessagePart[] {
  if (typeof content === "string") return content.length > 0 ? [{ type: "text", content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: MessagePart[] = [];
  for (const block of content) {
    const part = contentBlockPart(block);
    if (part !== undefined) parts.push(part);
  }
  return parts;
}

function toolCallParts(message: unknown): MessagePart[] {
  const calls = arrayField(message, "tool_calls");
  if (calls === undefined) return [];
  const parts: MessagePart[] = [];
  for (const call of calls) {
    if (!isDict(call)) continue;
    parts.push({
      type: "tool_call",
      id: stringField(call, "id"),
      name: stringField(call, "name") ?? "",
      arguments: call.args,
    });
  }
  return parts;
}

/** One LangChain message → one GenAI message. */
export function toGenAIMessage(message: unknown): GenAIMessage {
  const role = messageRole(message);
  const content = field(message, "content");
  let parts: MessagePart[];
  if (role === "tool") {
    parts = [{ type: "tool_call_response", id: stringField(message, "tool_call_id"), response: content }];
  } else {
    parts = contentParts(content);
    if (role === "assistant") parts.push(...toolCallParts(message));
  }
  const genAIMessage: GenAIMessage = { role, parts };
  const name = stringField(message, "name");
  if (name !== undefined) genAIMessage.name = name;
  return genAIMessage;
}

/**
 * A chat model's input split as the spec wants it: leading system messages become
 * `gen_ai.system_instructions` (parts), the rest `gen_ai.input.messages`.
 */
export function splitChatInput(messages: readonly unknown[]): {
  system: MessagePart[];
  input: GenAIMessage[];
} {
  const system: MessagePart[] = [];
  let first = 0;
  while (first < messages.length && messageRole(messages[first]) === "system") {
    system.push(...contentParts(field(messages[first], "content")));
    first++;
  }
  const input: GenAIMessage[] = [];
  for (let i = first; i < messages.length; i++) input.push(toGenAIMessage(messages[i]));
  return { system, input };
}

/** A plain prompt (LLM runs) as one user message. */
export function promptMessage(prompt: string): GenAIMessage {
  return { role: "user", parts: [{ type: "text", content: prompt }] };
}
