import type { Attributes } from "@opentelemetry/api";
import { ATTR_GEN_AI_CONVERSATION_ID, ATTR_SESSION_ID, ATTR_USER_ID } from "./attributes.js";

/**
 * `user.id`, `session.id` and `gen_ai.conversation.id` for every span of a trace. The conversation
 * id is only ever the session the user gave: the spec forbids inventing one.
 */
export function identityAttributes(userId: string | undefined, sessionId: string | undefined): Attributes {
  const attributes: Attributes = {};
  if (userId !== undefined) attributes[ATTR_USER_ID] = userId;
  if (sessionId !== undefined) {
    attributes[ATTR_SESSION_ID] = sessionId;
    attributes[ATTR_GEN_AI_CONVERSATION_ID] = sessionId;
  }
  return attributes;
}
