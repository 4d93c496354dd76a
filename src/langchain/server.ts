import { serializedKwargs } from "./serialized.js";

/** Where a model client sends its requests: `server.address` and `server.port`. */
export interface ServerAddress {
  address: string;
  port: number;
}

/**
 * The base URL a LangChain model was constructed with, as its serialized arguments carry it
 * (`ChatOpenAI`'s `configuration.baseURL`, the `baseUrl`/`baseURL`/`apiUrl` of other clients).
 * Undefined when none was given: the client's default endpoint is not guessed.
 */
export function readServerAddress(serialized: unknown): ServerAddress | undefined {
  const kwargs = serializedKwargs(serialized) as Record<string, unknown> | undefined;
  if (kwargs === undefined) return undefined;
  let url: unknown;
  try {
    const configuration = kwargs.configuration as Record<string, unknown> | undefined;
    url =
      configuration?.baseURL ??
      kwargs.baseURL ??
      kwargs.baseUrl ??
      kwargs.base_url ??
      kwargs.apiUrl ??
      kwargs.anthropicApiUrl ??
      kwargs.endpoint;
  } catch {
    return undefined;
  }
  return typeof url === "string" ? parseServerAddress(url) : undefined;
}

const MAX_CACHED = 256;
const parsed = new Map<string, ServerAddress | null>();

/** Host and port of a URL (the scheme's default port when none is written); cached, bounded. */
export function parseServerAddress(url: string): ServerAddress | undefined {
  const cached = parsed.get(url);
  if (cached !== undefined) return cached ?? undefined;
  let result: ServerAddress | null = null;
  try {
    const { hostname, port, protocol } = new URL(url);
    const number = port !== "" ? Number(port) : protocol === "https:" ? 443 : protocol === "http:" ? 80 : NaN;
    if (hostname !== "" && Number.isInteger(number)) result = { address: hostname, port: number };
  } catch {
    result = null;
  }
  if (parsed.size >= MAX_CACHED) parsed.clear();
  parsed.set(url, result);
  return result ?? undefined;
}
