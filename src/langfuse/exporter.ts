import { FailureReportingExporter } from "../export/resilient.js";
import { otlpTraceExporter } from "../export/sdk.js";
import type { SpanExporter } from "../export/sdk-types.js";
import { base64, type Environment, environment, hostProcess } from "../runtime.js";

/** Options of `langfuseExporter()`. Each falls back to an environment variable. */
export interface LangfuseExporterOptions {
  /** Langfuse public key (`pk-lf-…`). Default: `LANGFUSE_PUBLIC_KEY`. */
  publicKey?: string;
  /** Langfuse secret key (`sk-lf-…`). Default: `LANGFUSE_SECRET_KEY`. */
  secretKey?: string;
  /**
   * Langfuse base URL, e.g. `https://us.cloud.langfuse.com` or your self-hosted URL.
   * Default: `LANGFUSE_BASE_URL`, then `LANGFUSE_BASEURL`, then `LANGFUSE_HOST`, then the region's URL.
   */
  baseUrl?: string;
  /** Langfuse Cloud region, used when no base URL is given. Default "eu" (`https://cloud.langfuse.com`). */
  region?: LangfuseRegion;
  /** Wire format. Default "protobuf" (smaller); "json" is also accepted by Langfuse. */
  encoding?: "protobuf" | "json";
  /** Compress request bodies. Default "gzip". */
  compression?: "gzip" | "none";
  /** Export request timeout in ms. Default 10000. */
  timeoutMillis?: number;
  /** Extra HTTP headers sent with every export request. */
  headers?: Record<string, string>;
}

export type LangfuseRegion = "eu" | "us" | "jp" | "hipaa";

const REGION_URLS: Record<LangfuseRegion, string> = {
  eu: "https://cloud.langfuse.com",
  us: "https://us.cloud.langfuse.com",
  jp: "https://jp.cloud.langfuse.com",
  hipaa: "https://hipaa.cloud.langfuse.com",
};

/** Langfuse's OTLP/HTTP traces path, under the base URL. */
export const LANGFUSE_TRACES_PATH = "/api/public/otel/v1/traces";
/** `4` asks Langfuse for its direct v4 write path instead of the lagging legacy one (langfuse-otel §1). */
export const LANGFUSE_INGESTION_VERSION = "4";

/** The resolved connection settings; the secret stays inside the Authorization header. */
export interface LangfuseEndpoint {
  url: string;
  headers: Record<string, string>;
}

function setupError(message: string): Error {
  return new Error(`langchain-otel: ${message}`);
}

/** Reads the options and environment into the endpoint URL and headers; throws a clear error when keys are missing. */
export function resolveLangfuseEndpoint(
  options: LangfuseExporterOptions = {},
  env: Environment = environment(),
): LangfuseEndpoint {
  const publicKey = (options.publicKey ?? env.LANGFUSE_PUBLIC_KEY)?.trim();
  const secretKey = (options.secretKey ?? env.LANGFUSE_SECRET_KEY)?.trim();
  const missing = [
    publicKey ? undefined : "LANGFUSE_PUBLIC_KEY (or the publicKey option)",
    secretKey ? undefined : "LANGFUSE_SECRET_KEY (or the secretKey option)",
  ].filter((name) => name !== undefined);
  if (missing.length > 0 || !publicKey || !secretKey) {
    throw setupError(
      `langfuseExporter() needs Langfuse API keys; missing: ${missing.join(", ")}. ` +
        "Find them in your Langfuse project settings under API Keys.",
    );
  }
  // Never echo a key: the message names the variable only.
  if (publicKey.startsWith("sk-lf-")) {
    throw setupError(
      "the Langfuse public key looks like a secret key (sk-lf-…): LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY seem swapped.",
    );
  }
  if (options.region !== undefined && !Object.hasOwn(REGION_URLS, options.region)) {
    throw setupError(
      `unknown Langfuse region "${String(options.region)}"; use one of ${Object.keys(REGION_URLS).join(", ")}, or pass baseUrl.`,
    );
  }
  // An empty variable is unset: LANGFUSE_BASE_URL="" must not hide LANGFUSE_HOST.
  const rawBase =
    options.baseUrl ??
    (env.LANGFUSE_BASE_URL?.trim() ||
      env.LANGFUSE_BASEURL?.trim() ||
      env.LANGFUSE_HOST?.trim() ||
      REGION_URLS[options.region ?? "eu"]);
  let base: URL;
  try {
    base = new URL(rawBase.trim());
  } catch {
    throw setupError(
      `the Langfuse base URL "${rawBase}" is not a URL; set LANGFUSE_BASE_URL to e.g. https://cloud.langfuse.com.`,
    );
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw setupError(
      `the Langfuse base URL must be http(s), got "${base.protocol}"; set LANGFUSE_BASE_URL accordingly.`,
    );
  }
  // A base URL given with the OTel path already on it is taken for the base it names.
  const prefix = base.pathname.replace(/\/+$/, "").replace(/\/api\/public\/otel(\/v1\/traces)?$/, "");
  const url = `${base.origin}${prefix}${LANGFUSE_TRACES_PATH}`;
  return {
    url,
    headers: {
      ...options.headers,
      Authorization: `Basic ${base64(`${publicKey}:${secretKey}`)}`,
      "x-langfuse-ingestion-version": LANGFUSE_INGESTION_VERSION,
    },
  };
}

const OTLP_HEADER_VARIABLES = ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"] as const;

/** Runs `make` with these environment variables unset (the exporter reads them when made), then restores them. */
function withoutEnvironment<T>(names: readonly string[], make: () => T): T {
  // No process environment (an edge runtime): the exporter has none to read either.
  const env = hostProcess()?.env;
  if (env === undefined) return make();
  const saved = new Map<string, string>();
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) {
      saved.set(name, value);
      delete env[name];
    }
  }
  try {
    return make();
  } finally {
    for (const [name, value] of saved) env[name] = value;
  }
}

/**
 * An OTLP/HTTP span exporter preset for Langfuse's OTel endpoint:
 * `{baseUrl}/api/public/otel/v1/traces`, Basic auth from the public and secret key, and
 * `x-langfuse-ingestion-version: 4`. Use it in any span processor of any tracer provider.
 *
 * Loads the application's OTLP exporter package on call (`@opentelemetry/exporter-trace-otlp-proto`,
 * or `-http` for JSON; SDK 2.x or 3.x) and throws the `npm install` line when it is missing.
 */
export function langfuseExporter(options: LangfuseExporterOptions = {}): SpanExporter {
  const endpoint = resolveLangfuseEndpoint(options);
  const timeoutMillis = options.timeoutMillis ?? 10_000;
  if (!Number.isInteger(timeoutMillis) || timeoutMillis <= 0) {
    throw setupError(
      `langfuseExporter() option "timeoutMillis" must be a positive integer, got ${String(timeoutMillis)}.`,
    );
  }
  if (options.compression !== undefined && options.compression !== "gzip" && options.compression !== "none") {
    throw setupError(
      `langfuseExporter() option "compression" must be "gzip" or "none", got "${String(options.compression)}".`,
    );
  }
  const encoding = options.encoding ?? "protobuf";
  if (encoding !== "protobuf" && encoding !== "json") {
    throw setupError(
      `langfuseExporter() option "encoding" must be "protobuf" or "json", got "${String(encoding)}".`,
    );
  }
  // The OTLP exporter adds the OTEL_EXPORTER_OTLP_(TRACES_)HEADERS of the environment to every
  // request: credentials meant for another backend (the one the metrics go to), not for Langfuse.
  const exporter = withoutEnvironment(OTLP_HEADER_VARIABLES, () =>
    otlpTraceExporter(encoding, "langfuseExporter()", {
      url: endpoint.url,
      headers: endpoint.headers,
      timeoutMillis,
      compression: options.compression === "none" ? "none" : "gzip",
    }),
  );
  return new FailureReportingExporter(exporter, `Langfuse at ${new URL(endpoint.url).origin}`);
}
