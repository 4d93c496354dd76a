import type { ModelRequestParams } from "../genai/records.js";
import type { RunMetadata } from "./metadata.js";
import { serializedKwargs } from "./serialized.js";

type NumberParam =
  | "temperature"
  | "topP"
  | "topK"
  | "maxTokens"
  | "frequencyPenalty"
  | "presencePenalty"
  | "seed"
  | "choiceCount";
type Param = "model" | "stopSequences" | NumberParam;

// Providers spell the same parameter differently: OpenAI snake_case, Google camelCase. Within
// each list, an earlier spelling wins over a later one.
const SPELLINGS: Record<Param, readonly string[]> = {
  model: [
    "model",
    "model_name",
    "modelName",
    "model_id",
    "modelId",
    "deployment_name",
    "azureOpenAIApiDeploymentName",
  ],
  temperature: ["temperature"],
  topP: ["top_p", "topP"],
  topK: ["top_k", "topK"],
  maxTokens: [
    "max_tokens",
    "max_completion_tokens",
    "maxTokens",
    "max_output_tokens",
    "maxOutputTokens",
    "num_predict",
    "max_new_tokens",
  ],
  frequencyPenalty: ["frequency_penalty", "frequencyPenalty"],
  presencePenalty: ["presence_penalty", "presencePenalty"],
  seed: ["seed", "random_seed"],
  choiceCount: ["n", "candidate_count", "candidateCount"],
  stopSequences: ["stop", "stop_sequences", "stopSequences"],
};

/** Every spelling → its parameter and its rank among that parameter's spellings. */
const PARAM_BY_KEY = new Map<string, { param: Param; rank: number }>();
for (const [param, keys] of Object.entries(SPELLINGS) as [Param, readonly string[]][]) {
  for (const [rank, key] of keys.entries()) PARAM_BY_KEY.set(key, { param, rank });
}

/** The parameters one source holds, by the best-ranked spelling present. */
type Found = Partial<Record<Param, { rank: number; value: unknown }>>;

function stopList(value: unknown): string[] | undefined {
  if (typeof value === "string") return value.length > 0 ? [value] : undefined;
  if (!Array.isArray(value)) return undefined;
  const strings = value.filter((item): item is string => typeof item === "string");
  return strings.length > 0 ? strings : undefined;
}

function validFor(param: Param, value: unknown): unknown {
  if (param === "model") return typeof value === "string" && value.length > 0 ? value : undefined;
  if (param === "stopSequences") return stopList(value);
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** One pass over a source's own keys (providers send a dozen or so), instead of a lookup per spelling. */
function scan(source: unknown): Found {
  const found: Found = {};
  if (typeof source !== "object" || source === null) return found;
  const record = source as Record<string, unknown>;
  try {
    for (const key in record) {
      const spelling = PARAM_BY_KEY.get(key);
      if (spelling === undefined || !Object.hasOwn(record, key)) continue;
      const known = found[spelling.param];
      if (known !== undefined && known.rank < spelling.rank) continue;
      const value = validFor(spelling.param, record[key]);
      if (value !== undefined) found[spelling.param] = { rank: spelling.rank, value };
    }
  } catch {
    // A proxy or getter that throws: keep what was read.
  }
  return found;
}

/**
 * What a model run's provider is sent: `extraParams.invocation_params`. Read once per model run,
 * for its request parameters and its bound tools.
 */
export function invocationParams(extraParams: unknown): object | undefined {
  if (typeof extraParams !== "object" || extraParams === null) return undefined;
  try {
    const sent = (extraParams as { invocation_params?: unknown }).invocation_params;
    return typeof sent === "object" && sent !== null ? sent : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the request parameters of a chat model or LLM run from its invocation params (what the
 * provider is sent, see `invocationParams`), falling back to the serialized kwargs and
 * LangChain's `ls_*` metadata.
 */
export function readRequestParams(
  serialized: unknown,
  sentParams: object | undefined,
  metadata: RunMetadata,
): ModelRequestParams {
  const invocation = sentParams as { stream?: unknown } | undefined;
  const kwargs = serializedKwargs(serialized) as { streaming?: unknown } | undefined;
  const sent = scan(invocation);
  const constructed = scan(kwargs);
  const number = (param: NumberParam): number | undefined =>
    (sent[param]?.value ?? constructed[param]?.value) as number | undefined;
  const params: ModelRequestParams = {};
  params.model =
    (sent.model?.value as string | undefined) ??
    metadata.lsModelName ??
    (constructed.model?.value as string | undefined);
  params.temperature = number("temperature") ?? metadata.lsTemperature;
  params.topP = number("topP");
  params.topK = number("topK");
  params.maxTokens = number("maxTokens") ?? metadata.lsMaxTokens;
  // -1 is LangChain's "no limit" marker for maxTokens, not a request parameter.
  if (params.maxTokens !== undefined && params.maxTokens < 0) params.maxTokens = undefined;
  params.frequencyPenalty = number("frequencyPenalty");
  params.presencePenalty = number("presencePenalty");
  params.seed = number("seed");
  params.choiceCount = number("choiceCount");
  params.stopSequences = (sent.stopSequences?.value as string[] | undefined) ?? stopList(metadata.lsStop);
  try {
    if (invocation?.stream === true || kwargs?.streaming === true) params.stream = true;
  } catch {
    // A getter that throws: not known to stream.
  }
  const outputType = requestedOutputType(invocation);
  if (outputType !== undefined) params.outputType = outputType;
  return params;
}

/**
 * The output format a request names, in the conventions' terms: OpenAI's `response_format`
 * (`json_object`, `json_schema`, `text`), Google's `responseMimeType`, Ollama's `format` (`"json"`
 * or a JSON schema). Nothing when the request names none (a plain call, or structured output
 * through tool calling).
 */
function requestedOutputType(sent: object | undefined): "json" | "text" | undefined {
  if (sent === undefined) return undefined;
  try {
    const record = sent as Record<string, unknown>;
    const format = record.response_format ?? record.responseFormat;
    const type = typeof format === "object" && format !== null ? (format as { type?: unknown }).type : format;
    if (type === "json_object" || type === "json_schema" || type === "json") return "json";
    if (type === "text") return "text";
    const mime = record.responseMimeType ?? record.response_mime_type;
    if (mime === "application/json") return "json";
    if (mime === "text/plain") return "text";
    const ollama = record.format;
    if (ollama === "json" || (typeof ollama === "object" && ollama !== null)) return "json";
  } catch {
    // A getter that throws: no format known.
  }
  return undefined;
}

/** Only the requested model (`gen_ai.request.model`): for runs whose span is not recording, whose metrics need it. */
export function readRequestModel(
  serialized: unknown,
  sentParams: object | undefined,
  metadata: RunMetadata,
): string | undefined {
  return (
    (scan(sentParams).model?.value as string | undefined) ??
    metadata.lsModelName ??
    (scan(serializedKwargs(serialized)).model?.value as string | undefined)
  );
}
