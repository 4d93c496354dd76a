/**
 * Every attribute and metric name this package writes, in one place.
 *
 * The GenAI names are incubating (Development) semantic conventions. As the OTel JS guidance asks of
 * instrumentation libraries, they are copied here rather than imported from
 * `@opentelemetry/semantic-conventions/incubating`: that entry may break in a minor release and costs
 * ~25–40 ms at start-up. Values are those of semconv v1.41 (npm 1.41.1, unchanged through npm 1.45,
 * which marks them "Moved to semantic-conventions-genai"); test/semconv.test.ts compares each copy
 * with the npm package (a dev dependency), so an upstream rename fails a test.
 * The few stable names we write are copied too: even the package root costs ~15 ms to import.
 * Names npm does not export are declared with the spec version they come from.
 */

// ── Stable (semconv v1.41 root entry) ────────────────────────────────────────────────────────
export const ATTR_ERROR_TYPE = "error.type";
export const ATTR_SERVER_ADDRESS = "server.address";
export const ATTR_SERVER_PORT = "server.port";
export const ATTR_SERVICE_NAME = "service.name";
export const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = "deployment.environment.name";

// ── Incubating, semconv v1.41: GenAI attributes ──────────────────────────────────────────────
export const ATTR_GEN_AI_AGENT_NAME = "gen_ai.agent.name";
export const ATTR_GEN_AI_CONVERSATION_ID = "gen_ai.conversation.id";
export const ATTR_GEN_AI_DATA_SOURCE_ID = "gen_ai.data_source.id";
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = "gen_ai.embeddings.dimension.count";
export const ATTR_GEN_AI_INPUT_MESSAGES = "gen_ai.input.messages";
export const ATTR_GEN_AI_OPERATION_NAME = "gen_ai.operation.name";
export const ATTR_GEN_AI_OUTPUT_MESSAGES = "gen_ai.output.messages";
export const ATTR_GEN_AI_PROVIDER_NAME = "gen_ai.provider.name";
export const ATTR_GEN_AI_REQUEST_CHOICE_COUNT = "gen_ai.request.choice.count";
export const ATTR_GEN_AI_REQUEST_ENCODING_FORMATS = "gen_ai.request.encoding_formats";
export const ATTR_GEN_AI_REQUEST_FREQUENCY_PENALTY = "gen_ai.request.frequency_penalty";
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens";
export const ATTR_GEN_AI_REQUEST_MODEL = "gen_ai.request.model";
export const ATTR_GEN_AI_REQUEST_PRESENCE_PENALTY = "gen_ai.request.presence_penalty";
export const ATTR_GEN_AI_REQUEST_SEED = "gen_ai.request.seed";
export const ATTR_GEN_AI_REQUEST_STOP_SEQUENCES = "gen_ai.request.stop_sequences";
export const ATTR_GEN_AI_REQUEST_STREAM = "gen_ai.request.stream";
export const ATTR_GEN_AI_OUTPUT_TYPE = "gen_ai.output.type";
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = "gen_ai.request.temperature";
export const ATTR_GEN_AI_REQUEST_TOP_K = "gen_ai.request.top_k";
export const ATTR_GEN_AI_REQUEST_TOP_P = "gen_ai.request.top_p";
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons";
export const ATTR_GEN_AI_RESPONSE_ID = "gen_ai.response.id";
export const ATTR_GEN_AI_RESPONSE_MODEL = "gen_ai.response.model";
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = "gen_ai.response.time_to_first_chunk";
export const ATTR_GEN_AI_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents";
export const ATTR_GEN_AI_RETRIEVAL_QUERY_TEXT = "gen_ai.retrieval.query.text";
export const ATTR_GEN_AI_SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions";
export const ATTR_GEN_AI_TOKEN_TYPE = "gen_ai.token.type";
export const ATTR_GEN_AI_TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments";
export const ATTR_GEN_AI_TOOL_CALL_ID = "gen_ai.tool.call.id";
export const ATTR_GEN_AI_TOOL_CALL_RESULT = "gen_ai.tool.call.result";
export const ATTR_GEN_AI_TOOL_DEFINITIONS = "gen_ai.tool.definitions";
export const ATTR_GEN_AI_TOOL_DESCRIPTION = "gen_ai.tool.description";
export const ATTR_GEN_AI_TOOL_NAME = "gen_ai.tool.name";
export const ATTR_GEN_AI_TOOL_TYPE = "gen_ai.tool.type";
export const ATTR_GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS = "gen_ai.usage.cache_creation.input_tokens";
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = "gen_ai.usage.cache_read.input_tokens";
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens";
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens";
export const ATTR_GEN_AI_USAGE_REASONING_OUTPUT_TOKENS = "gen_ai.usage.reasoning.output_tokens";
export const ATTR_GEN_AI_WORKFLOW_NAME = "gen_ai.workflow.name";

// ── Incubating, semconv v1.41: enum values ───────────────────────────────────────────────────
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = "chat";
export const GEN_AI_OPERATION_NAME_VALUE_EMBEDDINGS = "embeddings";
export const GEN_AI_OPERATION_NAME_VALUE_EXECUTE_TOOL = "execute_tool";
export const GEN_AI_OPERATION_NAME_VALUE_INVOKE_AGENT = "invoke_agent";
export const GEN_AI_OPERATION_NAME_VALUE_INVOKE_WORKFLOW = "invoke_workflow";
export const GEN_AI_OPERATION_NAME_VALUE_RETRIEVAL = "retrieval";
export const GEN_AI_OPERATION_NAME_VALUE_TEXT_COMPLETION = "text_completion";
export const GEN_AI_TOKEN_TYPE_VALUE_INPUT = "input";
export const GEN_AI_TOKEN_TYPE_VALUE_OUTPUT = "output";

// ── Incubating, semconv v1.41: user and session (not GenAI, same entry) ──────────────────────
export const ATTR_SESSION_ID = "session.id";
export const ATTR_USER_ID = "user.id";

// ── Incubating, semconv v1.41: GenAI client metrics (genai-semconv §5) ───────────────────────
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = "gen_ai.client.token.usage";
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = "gen_ai.client.operation.duration";
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK =
  "gen_ai.client.operation.time_to_first_chunk";
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK =
  "gen_ai.client.operation.time_per_output_chunk";

// ── Not in npm: GenAI development conventions (semantic-conventions-genai main, schema
//    gen-ai-dev/1.42.0-dev, read 2026-11-24; genai-semconv §5, §7) ─────────────────────────────
/** Duration of a tool execution, in seconds; `gen_ai.tool.name` required. */
export const METRIC_GEN_AI_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration";
/** Duration of an in-process agent invocation, in seconds. */
export const METRIC_GEN_AI_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration";

/** `gen_ai.usage.cost`: not a semconv name; Langfuse reads it as the total cost (reference §3). */
export const ATTR_GEN_AI_USAGE_COST = "gen_ai.usage.cost";

/** LangChain's own identifiers, for joining a span with LangSmith or application logs. */
export const ATTR_LANGCHAIN_RUN_ID = "langchain.run.id";
export const ATTR_LANGCHAIN_RUN_TYPE = "langchain.run.type";

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
