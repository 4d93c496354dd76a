import type { Attributes } from "@opentelemetry/api";
import { ATTR_SERVICE_NAME } from "../genai/attributes.js";
import { bundlingHint, installedApiVersion, isInstalled, requireOptional } from "../optional.js";
import type { BufferConfig, SdkTracerProvider, SpanExporter } from "./sdk-types.js";

/**
 * The OpenTelemetry SDK, loaded when `setupTracing()` or `langfuseExporter()` runs, never at import:
 * every SDK package is an optional peer, so the application's own copy is the one used.
 *
 * Two SDK lines are in use (otel-js-sdk-3): 2.x (`sdk-trace-node` + `sdk-trace-base`, exporters
 * 0.2xx, API 1.9) and 3.x (`sdk-trace`, exporters 0.3xx, API 1.10). They differ, for us, only in
 * the tracer provider's class and the processors' constructors, so both are supported: the line is
 * the one whose trace package is installed.
 */

export type SdkLine = "2.x" | "3.x";

type Modules = {
  "sdk-trace-node": typeof import("@opentelemetry/sdk-trace-node");
  "sdk-trace-base": typeof import("@opentelemetry/sdk-trace-base");
  "sdk-trace": typeof import("@opentelemetry/sdk-trace");
  core: typeof import("@opentelemetry/core");
  resources: typeof import("@opentelemetry/resources");
  "context-async-hooks": typeof import("@opentelemetry/context-async-hooks");
  "exporter-trace-otlp-proto": typeof import("@opentelemetry/exporter-trace-otlp-proto");
  "exporter-trace-otlp-http": typeof import("@opentelemetry/exporter-trace-otlp-http");
  "sdk-metrics": typeof import("@opentelemetry/sdk-metrics");
  "exporter-metrics-otlp-proto": typeof import("@opentelemetry/exporter-metrics-otlp-proto");
  "exporter-metrics-otlp-http": typeof import("@opentelemetry/exporter-metrics-otlp-http");
};
/** An SDK package, without its `@opentelemetry/` scope. */
export type SdkPackage = keyof Modules;

// The version of each package that goes with each line, for install lines (the tested ones).
const SDK = { "2.x": "^2", "3.x": "^3" } as const;
const EXPORTERS = { "2.x": "^0.223", "3.x": "^0.301" } as const;
const RANGES: Record<SdkPackage, Partial<Record<SdkLine, string>>> = {
  "sdk-trace-node": { "2.x": SDK["2.x"] },
  "sdk-trace-base": { "2.x": SDK["2.x"] },
  "sdk-trace": { "3.x": SDK["3.x"] },
  core: SDK,
  resources: SDK,
  "context-async-hooks": SDK,
  "exporter-trace-otlp-proto": EXPORTERS,
  "exporter-trace-otlp-http": EXPORTERS,
  "sdk-metrics": SDK,
  "exporter-metrics-otlp-proto": EXPORTERS,
  "exporter-metrics-otlp-http": EXPORTERS,
};

/** The trace packages of each line. */
export const TRACE_PACKAGES: Record<SdkLine, SdkPackage[]> = {
  "2.x": ["sdk-trace-node", "sdk-trace-base"],
  "3.x": ["sdk-trace"],
};

const scoped = (name: SdkPackage) => `@opentelemetry/${name}` as const;

/**
 * The SDK line in use. The API decides first: the 3.x SDK needs API 1.10, the 2.x SDK declares
 * API < 1.10, so with API 1.10 and `sdk-trace` installed it is 3.x. Otherwise the line whose
 * trace package is installed, 2.x first: `sdk-trace-node` and `sdk-trace-base` exist only in 2.x,
 * and a 2.12 application also has `sdk-trace`, which `sdk-trace-base` is built on (`@vercel/otel`
 * brings `sdk-trace-base` without `sdk-trace-node`). With neither, the line of the installed API.
 */
export function sdkLine(): SdkLine {
  const [major = 0, minor = 0] = (installedApiVersion() ?? "1.9.0").split(".").map(Number);
  const api3 = major > 1 || minor >= 10;
  const trace3 = isInstalled(scoped("sdk-trace"));
  if (api3 && trace3) return "3.x";
  if (isInstalled(scoped("sdk-trace-node")) || isInstalled(scoped("sdk-trace-base"))) return "2.x";
  if (trace3) return "3.x";
  return api3 ? "3.x" : "2.x";
}

/** `npm install …` for these packages, with the versions of the line. */
export function installCommand(packages: readonly SdkPackage[], line: SdkLine): string {
  return `npm install ${installSpecs(packages, line)}`;
}

/** The packages with the versions of the line, as `npm install` takes them. */
export function installSpecs(packages: readonly SdkPackage[], line: SdkLine): string {
  return packages
    .map((name) => {
      const range = RANGES[name][line];
      return range === undefined ? scoped(name) : `${scoped(name)}@${range}`;
    })
    .join(" ");
}

/**
 * Throws, when any of these SDK packages is missing, one error naming all the missing ones and the
 * `npm install` line that adds them, before anything is built.
 */
export function checkInstalled(packages: readonly SdkPackage[], neededFor: string, line: SdkLine): void {
  const missing = [...new Set(packages)].filter((name) => !isInstalled(scoped(name)));
  if (missing.length === 0) return;
  const names = missing.map((name) => `"${scoped(name)}"`).join(", ");
  throw new Error(
    `langchain-otel: ${neededFor} needs the OpenTelemetry SDK ${missing.length === 1 ? "package" : "packages"} ${names} (SDK ${line} line), which ${missing.length === 1 ? "is" : "are"} not installed. Install: ${installCommand(missing, line)}${bundlingHint()}`,
  );
}

/** Loads these SDK packages, after `checkInstalled`. */
export function loadSdk<const P extends readonly SdkPackage[]>(
  packages: P,
  neededFor: string,
  line: SdkLine = sdkLine(),
): { [K in P[number]]: Modules[K] } {
  checkInstalled(packages, neededFor, line);
  const modules: Partial<Record<SdkPackage, unknown>> = {};
  for (const name of packages) {
    modules[name] = requireOptional(scoped(name), neededFor, installSpecs([name], line));
  }
  return modules as { [K in P[number]]: Modules[K] };
}

/** `service.name` when neither the options nor the environment name the service. */
export const DEFAULT_SERVICE_NAME = "langchain-app";

/**
 * The resource of the providers `setupTracing` builds, as the SDK's own setup would make it: the
 * SDK's defaults (`telemetry.sdk.*`), then `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`,
 * then the attributes the options give, which win. `service.name` falls back to
 * `DEFAULT_SERVICE_NAME` only when none of them names the service.
 */
export function sdkResource(resources: Modules["resources"], attributes: Attributes) {
  const fromEnv = resources.detectResources({ detectors: [resources.envDetector] });
  const own: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) own[key] = value;
  if (own[ATTR_SERVICE_NAME] === undefined && fromEnv.attributes[ATTR_SERVICE_NAME] === undefined)
    own[ATTR_SERVICE_NAME] = DEFAULT_SERVICE_NAME;
  return resources.defaultResource().merge(fromEnv).merge(resources.resourceFromAttributes(own));
}

/** A span processor of either line; only the provider that receives it looks inside. */
export type SpanProcessor = object;

/** The tracer provider and processors of the installed line, behind one set of constructors. */
export interface TraceSdk {
  line: SdkLine;
  batchProcessor(exporter: SpanExporter, config?: BufferConfig): SpanProcessor;
  simpleProcessor(exporter: SpanExporter): SpanProcessor;
  tracerProvider(resource: Attributes, processors: SpanProcessor[]): SdkTracerProvider;
}

/** Loads the trace SDK of the installed line (with `resources` for the provider's resource). */
export function loadTraceSdk(neededFor: string, line: SdkLine = sdkLine()): TraceSdk {
  if (line === "2.x") {
    const sdk = loadSdk(["sdk-trace-node", "sdk-trace-base", "resources"], neededFor, line);
    type Exporter = ConstructorParameters<(typeof sdk)["sdk-trace-base"]["SimpleSpanProcessor"]>[0];
    type Processor = InstanceType<(typeof sdk)["sdk-trace-base"]["SimpleSpanProcessor"]>;
    return {
      line,
      // 2.x processors take the exporter first, then the settings.
      batchProcessor: (exporter, config) =>
        new sdk["sdk-trace-base"].BatchSpanProcessor(exporter as Exporter, config),
      simpleProcessor: (exporter) => new sdk["sdk-trace-base"].SimpleSpanProcessor(exporter as Exporter),
      tracerProvider: (resource, processors) =>
        new sdk["sdk-trace-node"].NodeTracerProvider({
          resource: sdkResource(sdk.resources, resource),
          spanProcessors: processors as Processor[],
        }),
    };
  }
  const sdk = loadSdk(["sdk-trace", "resources"], neededFor, line);
  type Options = ConstructorParameters<(typeof sdk)["sdk-trace"]["SimpleSpanProcessor"]>[0];
  type Processor = InstanceType<(typeof sdk)["sdk-trace"]["SimpleSpanProcessor"]>;
  return {
    line,
    // 3.x processors take one options object: `{ exporter, ...settings }`.
    batchProcessor: (exporter, config) =>
      new sdk["sdk-trace"].BatchSpanProcessor({ ...config, exporter: exporter as Options["exporter"] }),
    simpleProcessor: (exporter) =>
      new sdk["sdk-trace"].SimpleSpanProcessor({ exporter: exporter as Options["exporter"] }),
    tracerProvider: (resource, processors) =>
      new sdk["sdk-trace"].TracerProvider({
        resource: sdkResource(sdk.resources, resource),
        spanProcessors: processors as Processor[],
      }),
  };
}

/** OTLP/HTTP exporter settings; what is unset comes from the standard `OTEL_EXPORTER_OTLP_*` variables. */
export interface OtlpHttpConfig {
  url?: string;
  headers?: Record<string, string>;
  timeoutMillis?: number;
  compression?: "gzip" | "none";
}

/** The OTLP/HTTP span exporter of the installed line, protobuf or JSON. */
export function otlpTraceExporter(
  encoding: "protobuf" | "json",
  neededFor: string,
  config: OtlpHttpConfig = {},
): SpanExporter {
  // `compression` holds the values of otlp-exporter-base's CompressionAlgorithm enum ("gzip", "none").
  const settings = config as never;
  if (encoding === "json") {
    const { OTLPTraceExporter } = loadSdk(["exporter-trace-otlp-http"], neededFor)[
      "exporter-trace-otlp-http"
    ];
    return new OTLPTraceExporter(settings);
  }
  const { OTLPTraceExporter } = loadSdk(["exporter-trace-otlp-proto"], neededFor)[
    "exporter-trace-otlp-proto"
  ];
  return new OTLPTraceExporter(settings);
}
