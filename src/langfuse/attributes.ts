/**
 * The Langfuse dialect: attribute names Langfuse reads from OTel spans (langfuse-otel §2–§6).
 * Set beside the GenAI attributes, so the same trace is right in Langfuse and any other backend.
 */
export const LANGFUSE_OBSERVATION_TYPE = "langfuse.observation.type";
export const LANGFUSE_OBSERVATION_LEVEL = "langfuse.observation.level";
export const LANGFUSE_OBSERVATION_STATUS_MESSAGE = "langfuse.observation.status_message";
export const LANGFUSE_OBSERVATION_INPUT = "langfuse.observation.input";
export const LANGFUSE_OBSERVATION_OUTPUT = "langfuse.observation.output";
export const LANGFUSE_OBSERVATION_METADATA_PREFIX = "langfuse.observation.metadata.";
export const LANGFUSE_OBSERVATION_USAGE_DETAILS = "langfuse.observation.usage_details";
/** Provided cost: Langfuse uses it instead of pricing the call itself (langfuse-otel §3). */
export const LANGFUSE_OBSERVATION_COST_DETAILS = "langfuse.observation.cost_details";
export const LANGFUSE_OBSERVATION_COMPLETION_START_TIME = "langfuse.observation.completion_start_time";
export const LANGFUSE_OBSERVATION_PROMPT_NAME = "langfuse.observation.prompt.name";
export const LANGFUSE_OBSERVATION_PROMPT_VERSION = "langfuse.observation.prompt.version";
export const LANGFUSE_TRACE_NAME = "langfuse.trace.name";
export const LANGFUSE_TRACE_TAGS = "langfuse.trace.tags";
export const LANGFUSE_TRACE_METADATA_PREFIX = "langfuse.trace.metadata.";
export const LANGFUSE_RELEASE = "langfuse.release";

/** Observation types Langfuse accepts; lowercase only ("CHAIN" silently becomes a plain span). */
export type ObservationType = "span" | "generation" | "agent" | "tool" | "chain" | "retriever" | "embedding";

/** Langfuse levels (it reads them case-insensitively; we write its canonical spelling). */
export type ObservationLevel = "DEBUG" | "DEFAULT" | "WARNING" | "ERROR";
