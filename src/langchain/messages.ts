import { mediaPlaceholder } from "../genai/json.js";
import type { GenAIMessage, MessagePart } from "../genai/records.js";
import { asDict, lookupTable, nonEmptyString } from "./values.js";

/**
 * LangChain messages → the GenAI message JSON shape (genai-semconv §3):
 * `{role, parts: [{type: "text"|"tool_call"|"tool_call_response"|"reasoning"|"blob"|"uri"|…}], name?}`.
 * Pure functions over duck-typed messages, so they also accept plain serialized messages.
 */

const ROLE_BY_TYPE = lookupTable<string>({
  human: "user",
  user: "user",
  ai: "assistant",
  assistant: "assistant",
  system: "system",
  developer: "system",
  tool: "tool",
  function: "tool",
});

// Direct property reads, as in result.ts: each site sees the few message classes there are.

/** The message's LangChain type ("human", "ai", …), from `getType()`, `type` or `_getType()`. */
export function messageType(message: unknown): string | undefined {
  const candidate = asDict(message);
  if (candidate === undefined) return undefined;
  try {
    const getType = candidate.getType;
    if (typeof getType === "function") {
      const type = getType.call(message);
      if (typeof type === "string") return type;
    }
    if (typeof candidate.type === "string") return candidate.type;
    const legacyGetType = candidate._getType;
    if (typeof legacyGetType === "function") {
      const type = legacyGetType.call(message);
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
  if (type === "generic" || type === "chat") {
    try {
      return nonEmptyString(asDict(message)?.role) ?? "user";
    } catch {
      return "user";
    }
  }
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
  const fields = asDict(block);
  if (fields === undefined || Array.isArray(fields)) return undefined;
  const type = typeof fields.type === "string" ? fields.type : "unknown";
  switch (type) {
    case "text":
    case "input_text":
    case "output_text":
      return { type: "text", content: nonEmptyString(fields.text) ?? "" };
    case "reasoning":
    case "thinking":
      return {
        type: "reasoning",
        content: nonEmptyString(fields.reasoning) ?? nonEmptyString(fields.thinking) ?? "",
      };
    case "tool_use":
    case "tool_call":
    case "function_call":
      // Tool calls are read from `tool_calls`, which every provider fills; skip the raw block.
      return undefined;
  }
  const mimeType = nonEmptyString(fields.mime_type) ?? nonEmptyString(fields.mimeType);
  const modality = modalityOf(type, mimeType);
  const imageUrl = fields.image_url;
  const url =
    typeof imageUrl === "string"
      ? imageUrl
      : (nonEmptyString(asDict(imageUrl)?.url) ?? nonEmptyString(fields.url));
  if (url !== undefined)
    return url.startsWith("data:") ? dataUrlPart(url, modality) : { type: "uri", modality, uri: url };
  const data = nonEmptyString(fields.data) ?? nonEmptyString(asDict(fields.source)?.data);
  if (data !== undefined)
    return { type: "blob", modality, mime_type: mimeType, content: mediaPlaceholder(mimeType, data.length) };
  const fileId = nonEmptyString(fields.file_id) ?? nonEmptyString(fields.fileId) ?? nonEmptyString(fields.id);
  if (fileId !== undefined && (type === "file" || modality !== "document"))
    return { type: "file", modality, file_id: fileId };
  return { type };
}

function contentParts(content: unknown): MessagePart[] {
  if (typeof content === "string") return content.length > 0 ? [{ type: "text", content }] : [];
  if (!Array.isArray(content)) return [];
  const parts: MessagePart[] = [];
  for (const block of content) {
    try {
      const part = contentBlockPart(block);
      if (part !== undefined) parts.push(part);
    } catch {
      // A block with throwing accessors is left out.
    }
  }
  return parts;
}

function toolCallParts(calls: unknown): MessagePart[] {
  if (!Array.isArray(calls)) return [];
  const parts: MessagePart[] = [];
  for (const item of calls) {
    const call = asDict(item);
    if (call === undefined || Array.isArray(call)) continue;
    parts.push({
      type: "tool_call",
      id: nonEmptyString(call.id),
      name: nonEmptyString(call.name) ?? "",
      arguments: call.args,
    });
  }
  return parts;
}

/** One LangChain message → one GenAI message. */
export function toGenAIMessage(message: unknown): GenAIMessage {
  const role = messageRole(message);
  const fields = asDict(message);
  let parts: MessagePart[] = [];
  let name: string | undefined;
  try {
    const content = fields?.content;
    if (role === "tool") {
      parts = [{ type: "tool_call_response", id: nonEmptyString(fields?.tool_call_id), response: content }];
    } else {
      parts = contentParts(content);
      if (role === "assistant") parts.push(...toolCallParts(fields?.tool_calls));
    }
    name = nonEmptyString(fields?.name);
  } catch {
    // A message with throwing accessors: the parts read so far.
  }
  const genAIMessage: GenAIMessage = { role, parts };
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
    try {
      system.push(...contentParts(asDict(messages[first])?.content));
    } catch {
      // Unreadable content: no parts from this message.
    }
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
