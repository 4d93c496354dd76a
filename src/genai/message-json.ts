import type { JsonWriter } from "./json.js";
import type { GenAIMessage, MessagePart } from "./records.js";

/**
 * The GenAI message JSON (genai-semconv §3) of `gen_ai.input.messages`, `gen_ai.output.messages`
 * and `gen_ai.system_instructions`, written straight from the records: their shape is ours, so
 * only the values that came from the application (texts, message names, tool arguments and
 * results) go through the writer's content rules; roles, finish reasons and tool call names and ids
 * are labels, written whole. Without a mask or a cut, the output is what the generic writer makes
 * of the same records; a structure too large for this path (see MAX_DIRECT) is left to the generic
 * writer, which bounds items as well as characters.
 */

/** Messages and parts per message written directly; beyond, the generic writer's item limits apply. */
const MAX_DIRECT = 100;

export function messagesJson(writer: JsonWriter, messages: readonly GenAIMessage[]): string {
  if (messages.length > MAX_DIRECT) return writer.nested(messages);
  let out = "[";
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as GenAIMessage;
    if (message.parts.length > MAX_DIRECT) return writer.nested(messages);
    out += `${i === 0 ? "" : ","}{"role":${writer.label(message.role)},"parts":${partsJson(writer, message.parts)}`;
    if (message.name !== undefined) out += `,"name":${writer.string(message.name)}`;
    if (message.finish_reason !== undefined) out += `,"finish_reason":${writer.label(message.finish_reason)}`;
    out += "}";
  }
  return `${out}]`;
}

export function partsJson(writer: JsonWriter, parts: readonly MessagePart[]): string {
  if (parts.length > MAX_DIRECT) return writer.nested(parts);
  let out = "[";
  for (let i = 0; i < parts.length; i++)
    out += (i === 0 ? "" : ",") + partJson(writer, parts[i] as MessagePart);
  return `${out}]`;
}

function partJson(writer: JsonWriter, part: MessagePart): string {
  switch (part.type) {
    case "text":
    case "reasoning":
      if (typeof part.content === "string")
        return `{"type":"${part.type}","content":${writer.string(part.content)}}`;
      break;
    case "tool_call": {
      let out = '{"type":"tool_call"';
      if (typeof part.id === "string") out += `,"id":${writer.label(part.id)}`;
      if (typeof part.name === "string") out += `,"name":${writer.label(part.name)}`;
      if (part.arguments !== undefined) out += `,"arguments":${writer.nested(part.arguments)}`;
      return `${out}}`;
    }
    case "tool_call_response": {
      let out = '{"type":"tool_call_response"';
      if (typeof part.id === "string") out += `,"id":${writer.label(part.id)}`;
      if (part.response !== undefined) out += `,"response":${writer.nested(part.response)}`;
      return `${out}}`;
    }
  }
  return writer.nested(part);
}
