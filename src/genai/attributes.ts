/**
 * Every attribute name this package writes, in one place.
 *
 * GenAI names come from `@opentelemetry/semantic-conventions/incubating` (semconv v1.41, npm 1.41.1+).
 * npm 1.42+ marks them `@deprecated Moved to semantic-conventions-genai`; the names and values are
 * unchanged and no newer npm package exists, so we keep importing them.
 * Names npm does not export are declared here with the spec version they come from.
 */
export { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from "@opentelemetry/semantic-conventions";
export {
  ATTR_GEN_AI_AGENT_NAME,
  ATTR_GEN_AI_CONVERSATION_ID,
  ATTR_GEN_AI_DATA_SOURCE_ID,
  ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_OUTPUT_MESSAGES,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_CHOICE_COUNT,
  ATTR_GEN_AI_REQUEST_ENCODING_FORMATS,
  ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY,
  ATTR_GEN_AI_REQUEST_SEED,
  ATTR_GEN_AI_REQUEST_STOP_SEQUENCES,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_K,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_RETRIEVAL_DOCUMENTS,
  ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT,
  ATTR_GEN_AI_SYSTEM_INSTRUCTIONS,
  ATTR_GEN_AI_TOOL_CALL_ARGUMENTS,
  ATTR_GEN_AI_TOOL_CALL_ID,
  ATTR_GEN_AI_TOOL_CALL_RESULT,
  ATTR_GEN_AI_TOOL_DEFINITIONS,
  ATTR_GEN_AI_TOOL_DESCRIPTION,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_GEN_AI_TOOL_TYPE,
  ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
  ATTR_GEN_AI_WORKFLOW_NAME,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
  GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS,
  GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT,
  GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW,
  GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL,
  GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION,
} from "@opentelemetry/semantic-conventions/incubating";

/** `gen_ai.usage.cost`: not a semconv name; Langfuse reads it as the total cost (reference §3). */
export const ATTR_GEN_AI_USAGE_COST = "gen_ai.usage.cost";

/** LangChain's own identifiers, for joining a span with LangSmith or application logs. */
export const ATTR_LANGCHAIN_RUN_ID = "langchain.run.id";
export const ATTR_LANGCHAIN_RUN_TYPE = "langchain.run.type";
export const ATTR_LANGCHAIN_RUN_TAGS = "langchain.run.tags";

/** Set when a value was cut to the capture size limit: the names of the cut attributes. */
export const ATTR_TRUNCATED = "langchain_otel.truncated";
/** Set on a span that the registry ended because its run never reported an end. */
export const ATTR_ORPHANED = "langchain_otel.orphaned";

/** Span event names for LangChain events that are not runs. */
export const EVENT_AGENT_ACTION = "gen_ai.agent.action";
export const EVENT_AGENT_FINISH = "gen_ai.agent.finish";
export const EVENT_CUSTOM = "langchain.custom_event";
export const ATTR_EVENT_NAME = "langchain.event.name";
export const ATTR_EVENT_DATA = "langchain.event.data";
export const ATTR_AGENT_LOG = "langchain.agent.log";
export const ATTR_AGENT_OUTPUT = "langchain.agent.output";

/** LangGraph node spans: the node's name and the super-step it ran in. */
export const ATTR_LANGGRAPH_NODE = "langgraph.node";
export const ATTR_LANGGRAPH_STEP = "langgraph.step";
/** The event on a node and its graph when LangGraph pauses for input (an interrupt), and what it asked. */
export const EVENT_LANGGRAPH_INTERRUPT = "langgraph.interrupt";
export const ATTR_LANGGRAPH_INTERRUPT_REASON = "langgraph.interrupt.reason";
export const ATTR_LANGGRAPH_INTERRUPT_VALUE = "langgraph.interrupt.value";
/** On a resumed graph run: the thread it resumes; the span also links to the paused run. */
export const ATTR_LANGGRAPH_THREAD_ID = "langgraph.thread_id";
export const ATTR_LANGGRAPH_RESUMED = "langgraph.resumed";
