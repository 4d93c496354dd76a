import type { ModelRequestParams } from "../genai/records.js";
import { serializedKwargs } from "./serialized.js";
import { arrayField, field, firstNumber, firstString } from "./values.js";

// Providers spell the same parameter differently: OpenAI snake_case, Google camelCase, and
// LangChain's `ls_*` metadata. Each list is checked in order.
const MODEL_KEYS = [
  "model",
  "model_name",
  "modelName",
  "model_id",
  "modelId",
  "deployment_name",
  "azureOpenAIApiDeploymentName",
];
const TEMPERATURE_KEYS = ["temperature"];
const TOP_P_KEYS = ["top_p", "topP"];
const TOP_K_KEYS = ["top_k", "topK"];
const MAX_TOKENS_KEYS = [
  "max_tokens",
  "max_completion_tokens",
  "maxTokens",
  "max_output_tokens",
  "maxOutputTokens",
  "num_predict",
  "max_new_tokens",
];
const FREQUENCY_PENALTY_KEYS = ["frequency_penalty", "frequencyPenalty"];
const PRESENCE_PENALTY_KEYS = ["presence_penalty", "presencePenalty"];
const SEED_KEYS = ["seed", "random_seed"];
const CHOICE_COUNT_KEYS = ["n", "candidate_count", "candidateCount"];
const STOP_KEYS = ["stop", "stop_sequences", "stopSequences"];

function readStop(source: unknown): string[] | undefined {
  for (const key of STOP_KEYS) {
    const value = field(source, key);
    if (typeof value === "string" && value.length > 0) return [value];
    const list = arrayField(source, key);
    if (list !== undefined) {
      const strings = list.filter((item): item is string => typeof item === "string");
      if (strings.length > 0) return strings;
    }
  }
  return undefined;
}

/**
 * Reads the request parameters of a chat model or LLM run from `extraParams.invocation_params`
 * (what the provider is sent), falling back to the `ls_*` metadata and the serialized kwargs.
 */
export function readRequestParams(
  serialized: unknown,
  extraParams: unknown,
  metadata: unknown,
): ModelRequestParams {
  const invocation = field(extraParams, "invocation_params");
  const kwargs = serializedKwargs(serialized);
  const sources = [invocation, kwargs];
  const pick = (keys: readonly string[]): number | undefined => {
    for (const source of sources) {
      const value = firstNumber(source, keys);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const params: ModelRequestParams = {};
  params.model =
    firstString(invocation, MODEL_KEYS) ??
    firstString(metadata, ["ls_model_name"]) ??
    firstString(kwargs, MODEL_KEYS);
  params.temperature = pick(TEMPERATURE_KEYS) ?? firstNumber(metadata, ["ls_temperature"]);
  params.topP = pick(TOP_P_KEYS);
  params.topK = pick(TOP_K_KEYS);
  params.maxTokens = pick(MAX_TOKENS_KEYS) ?? firstNumber(metadata, ["ls_max_tokens"]);
  // -1 is LangChain's "no limit" marker for maxTokens, not a request parameter.
  if (params.maxTokens !== undefined && params.maxTokens < 0) params.maxTokens = undefined;
  params.frequencyPenalty = pick(FREQUENCY_PENALTY_KEYS);
  params.presencePenalty = pick(PRESENCE_PENALTY_KEYS);
  params.seed = pick(SEED_KEYS);
  params.choiceCount = pick(CHOICE_COUNT_KEYS);
  params.stopSequences = readStop(invocation) ?? readStop({ stop: field(metadata, "ls_stop") });
  params.stream =
    field(invocation, "stream") === true || field(kwargs, "streaming") === true ? true : undefined;
  return params;
}
