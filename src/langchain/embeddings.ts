import type { EmbeddingsRequest, EmbeddingsResult, ServerAddress } from "../genai/embeddings.js";
import { normaliseProvider } from "./provider.js";
import { field, nonEmptyString } from "./values.js";

/**
 * Reading LangChain `Embeddings` instances. They have no callbacks and no `invocationParams()`,
 * so everything comes from the instance's own fields, which each integration names its own way:
 * every read here is guarded and returns undefined when a field is missing or odd.
 */

/** The LangChain method that returns the whole OpenAI response, usage included (`OpenAIEmbeddings`, Azure). */
export const OPENAI_RESPONSE_METHOD = "embeddingWithRetry";

/** Provider values of the spec (genai-semconv §6): a class name that normalises to one of them names it. */
const SPEC_PROVIDERS = new Set([
  "openai",
  "anthropic",
  "azure.ai.openai",
  "azure.ai.inference",
  "aws.bedrock",
  "gcp.vertex_ai",
  "gcp.gemini",
  "gcp.gen_ai",
  "cohere",
  "deepseek",
  "groq",
  "mistral_ai",
  "perplexity",
  "x_ai",
  "ibm.watsonx.ai",
  "moonshot_ai",
]);

/** The names of an object's classes, most derived first, up to (not including) LangChain's `Embeddings`. */
function classNames(instance: object): string[] {
  const names: string[] = [];
  try {
    for (
      let prototype = Object.getPrototypeOf(instance);
      prototype !== null && prototype !== Object.prototype;
      prototype = Object.getPrototypeOf(prototype)
    ) {
      const name = nonEmptyString((prototype.constructor as { name?: unknown } | undefined)?.name);
      if (name === undefined || name === "Embeddings") break;
      names.push(name);
    }
  } catch {
    // A proxy whose prototype cannot be read: no class to go by.
  }
  return names;
}

/** `OpenAIEmbeddings` → "openai", `AzureOpenAIEmbeddings` → "azureopenai" → "azure.ai.openai". */
function providerOfClass(name: string): string {
  return normaliseProvider(name.replace(/Embeddings$/, "") || name);
}

/**
 * `gen_ai.provider.name` of an Embeddings instance, from its class: the nearest class in its
 * chain that names a provider of the spec (so `class MyEmbeddings extends OpenAIEmbeddings` is
 * "openai", and `AzureOpenAIEmbeddings`, a subclass of `OpenAIEmbeddings`, is "azure.ai.openai");
 * else the most derived class's name without "Embeddings", lowercased (`OllamaEmbeddings` →
 * "ollama"); undefined for an object of no class.
 */
export function readEmbeddingsProvider(instance: object): string | undefined {
  const names = classNames(instance);
  for (const name of names) {
    const provider = providerOfClass(name);
    if (SPEC_PROVIDERS.has(provider)) return provider;
  }
  return names.length > 0 ? providerOfClass(names[0]) : undefined;
}

const MODEL_FIELDS = ["model", "modelName", "modelId", "azureOpenAIApiDeploymentName", "deploymentName"];

export function readEmbeddingsModel(instance: object): string | undefined {
  for (const key of MODEL_FIELDS) {
    const model = nonEmptyString(field(instance, key));
    if (model !== undefined) return model;
  }
  return undefined;
}

const DEFAULT_PORTS: Record<string, number> = { "https:": 443, "http:": 80 };

/** Host and port of an http(s) URL; undefined for anything else. */
export function serverOf(url: unknown): ServerAddress | undefined {
  if (typeof url !== "string" || url.length === 0) return undefined;
  try {
    const parsed = new URL(url);
    const defaultPort = DEFAULT_PORTS[parsed.protocol];
    if (defaultPort === undefined || parsed.hostname === "") return undefined;
    // IPv6 hosts come bracketed ("[::1]"); server.address is the bare address.
    const address = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    return { address, port: parsed.port === "" ? defaultPort : Number(parsed.port) };
  } catch {
    return undefined;
  }
}

/**
 * Where the instance sends its requests: the OpenAI SDK client's `baseURL` once LangChain has
 * created it (on the first call: it resolves `OPENAI_BASE_URL` and the default host itself), else
 * the configured `configuration.baseURL`, else Azure's base path or instance name, else a
 * `baseUrl`/`baseURL`/`endpoint` field (Ollama and other HTTP integrations).
 */
export function readEmbeddingsServer(instance: object): ServerAddress | undefined {
  const server =
    serverOf(field(field(instance, "client"), "baseURL")) ??
    serverOf(field(field(instance, "clientConfig"), "baseURL")) ??
    serverOf(field(instance, "azureOpenAIBasePath"));
  if (server !== undefined) return server;
  const azureInstance = nonEmptyString(field(instance, "azureOpenAIApiInstanceName"));
  if (azureInstance !== undefined) return { address: `${azureInstance}.openai.azure.com`, port: 443 };
  return (
    serverOf(field(instance, "baseURL")) ??
    serverOf(field(instance, "baseUrl")) ??
    serverOf(field(instance, "endpoint"))
  );
}

function positiveInteger(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The request an instance makes, read when a call starts (its fields may change between calls). */
export function readEmbeddingsRequest(instance: object, provider: string | undefined): EmbeddingsRequest {
  const request: EmbeddingsRequest = { provider, model: readEmbeddingsModel(instance) };
  // OpenAI's `encodingFormat`; left out when unset (the OpenAI SDK then asks for base64 and decodes it).
  const format = nonEmptyString(field(instance, "encodingFormat"));
  if (format !== undefined) request.encodingFormats = [format];
  request.dimensions = positiveInteger(field(instance, "dimensions"));
  request.server = readEmbeddingsServer(instance);
  return request;
}

/** A vector's length: an array or typed array of numbers; undefined for anything else (a base64 string). */
function vectorLength(vector: unknown): number | undefined {
  if (Array.isArray(vector))
    return vector.length === 0 || typeof vector[0] === "number" ? vector.length : undefined;
  return ArrayBuffer.isView(vector) && !(vector instanceof DataView)
    ? (vector as unknown as ArrayLike<number>).length
    : undefined;
}

/**
 * The shape of what `embedQuery` (one vector) or `embedDocuments` (a list of vectors) returned.
 * The dimension is given only when every vector has the same length.
 */
export function readEmbeddingsResult(output: unknown, single: boolean): EmbeddingsResult | undefined {
  if (single) {
    const dimensions = vectorLength(output);
    return dimensions === undefined ? { count: 1 } : { count: 1, dimensions };
  }
  if (!Array.isArray(output)) return undefined;
  let dimensions: number | undefined;
  for (let i = 0; i < output.length; i++) {
    const length = vectorLength(output[i]);
    if (length === undefined || (i > 0 && length !== dimensions)) return { count: output.length };
    dimensions = length;
  }
  return dimensions === undefined ? { count: output.length } : { count: output.length, dimensions };
}

/**
 * Input tokens of one OpenAI embeddings response (`usage.prompt_tokens`). `embedQuery` and
 * `embedDocuments` drop the response; `embeddingWithRetry` returns it whole.
 */
export function readEmbeddingsUsage(response: unknown): number | undefined {
  const usage = field(response, "usage");
  const tokens = field(usage, "prompt_tokens") ?? field(usage, "input_tokens");
  return typeof tokens === "number" && Number.isSafeInteger(tokens) && tokens >= 0 ? tokens : undefined;
}
