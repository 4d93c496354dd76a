import type { RunMetadata } from "./metadata.js";
import { serializedClassName } from "./serialized.js";
import { lookupTable } from "./values.js";

/**
 * `gen_ai.provider.name` from LangChain's `ls_provider` metadata and the model's class,
 * normalised to the semconv v1.41 values (genai-semconv §6). The enum is open: an unknown
 * provider keeps LangChain's own name, lowercased.
 */
const PROVIDER_ALIASES = lookupTable<string>({
  openai: "openai",
  azure: "azure.ai.openai",
  azure_openai: "azure.ai.openai",
  azureopenai: "azure.ai.openai",
  azure_ai: "azure.ai.inference",
  azure_ai_inference: "azure.ai.inference",
  anthropic: "anthropic",
  bedrock: "aws.bedrock",
  amazon_bedrock: "aws.bedrock",
  aws_bedrock: "aws.bedrock",
  bedrock_converse: "aws.bedrock",
  google_vertexai: "gcp.vertex_ai",
  vertexai: "gcp.vertex_ai",
  vertex_ai: "gcp.vertex_ai",
  google_genai: "gcp.gemini",
  googlegenerativeai: "gcp.gemini",
  gemini: "gcp.gemini",
  google: "gcp.gen_ai",
  mistral: "mistral_ai",
  mistralai: "mistral_ai",
  mistral_ai: "mistral_ai",
  groq: "groq",
  cohere: "cohere",
  deepseek: "deepseek",
  xai: "x_ai",
  x_ai: "x_ai",
  perplexity: "perplexity",
  watsonx: "ibm.watsonx.ai",
  ibm: "ibm.watsonx.ai",
  moonshot: "moonshot_ai",
  moonshotai: "moonshot_ai",
});

/** Model classes whose `ls_provider` is missing or generic. */
const CLASS_PROVIDERS = lookupTable<string>({
  ChatOpenAI: "openai",
  OpenAI: "openai",
  OpenAIEmbeddings: "openai",
  AzureChatOpenAI: "azure.ai.openai",
  AzureOpenAI: "azure.ai.openai",
  AzureOpenAIEmbeddings: "azure.ai.openai",
  ChatAnthropic: "anthropic",
  ChatBedrock: "aws.bedrock",
  ChatBedrockConverse: "aws.bedrock",
  BedrockChat: "aws.bedrock",
  ChatVertexAI: "gcp.vertex_ai",
  ChatGoogleGenerativeAI: "gcp.gemini",
  ChatMistralAI: "mistral_ai",
  ChatGroq: "groq",
  ChatCohere: "cohere",
  ChatDeepSeek: "deepseek",
  ChatXAI: "x_ai",
  ChatPerplexity: "perplexity",
  ChatWatsonx: "ibm.watsonx.ai",
});

/** Provider names already normalised: a service sees a handful, so the cap is never the point. */
const normalised = new Map<string, string>();
const MAX_NORMALISED = 256;

export function normaliseProvider(raw: string): string {
  let name = normalised.get(raw);
  if (name === undefined) {
    name = normalise(raw);
    if (normalised.size >= MAX_NORMALISED) normalised.clear();
    normalised.set(raw, name);
  }
  return name;
}

function normalise(raw: string): string {
  const key = raw
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
  return PROVIDER_ALIASES[key] ?? PROVIDER_ALIASES[key.replace(/_/g, "")] ?? key;
}

/** The provider of a model run, or undefined when nothing names one. */
export function readProvider(serialized: unknown, metadata: RunMetadata): string | undefined {
  const className = serializedClassName(serialized);
  // The class is more specific than ls_provider for Azure, whose ls_provider is plain "azure".
  const byClass = className === undefined ? undefined : CLASS_PROVIDERS[className];
  if (byClass !== undefined) return byClass;
  const lsProvider = metadata.lsProvider;
  if (lsProvider !== undefined) return normaliseProvider(lsProvider);
  if (className === undefined) return undefined;
  // BaseChatModel's default ls_provider is the class name without "Chat"; do the same.
  return normaliseProvider(className.replace(/^Chat/, "") || className);
}
