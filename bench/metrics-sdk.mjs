// The metrics SDK the benchmark records into: `@opentelemetry/sdk-metrics` as installed, or the same
// SDK with a cheaper hash of attribute sets, to measure what the metrics budget of issue 18 would be
// with an SDK that hashed faster. Four fifths of a `Histogram.record` is the SDK hashing the
// attribute set (`hashAttributes`: sort the keys, `JSON.stringify` the pairs) and looking the string
// up (docs/performance.md, "Metrics and cost"). A what-if for the docs, never what users run.
//
//   sdk      the SDK as installed (the default)
//   concat   the hash built by string concatenation, without arrays of pairs or JSON of primitives:
//            the approach of the pending upstream rewrite (open-telemetry/opentelemetry-js#6515)
//   cached   `concat`, remembered per frozen attribute object: instrumentations that pass the same
//            frozen object for every measurement (as langchain-otel does) pay for the hash once
//
// The variants replace the `hashAttributes` export of the SDK's CommonJS build (the one Node loads:
// the package has no `exports` map), which its attribute maps read each time one is made.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export const SDK_HASH_VARIANTS = ["sdk", "concat", "cached"];

const require = createRequire(import.meta.url);

/** Type tags keep `1` and `"1"` (and `true` and `"true"`) apart. */
function concatHash(attributes) {
  const keys = Object.keys(attributes);
  if (keys.length === 0) return "";
  if (keys.length > 1) keys.sort();
  let hash = "";
  for (const key of keys) {
    const value = attributes[key];
    switch (typeof value) {
      case "string":
        hash += `${key}\u0001${value}\u0000`;
        break;
      case "number":
        hash += `${key}\u0002${value}\u0000`;
        break;
      case "boolean":
        hash += `${key}\u0003${value}\u0000`;
        break;
      default:
        hash += `${key}\u0004${JSON.stringify(value)}\u0000`;
    }
  }
  return hash;
}

const remembered = new WeakMap();
function cachedHash(attributes) {
  let hash = remembered.get(attributes);
  if (hash === undefined) {
    hash = concatHash(attributes);
    // Only a frozen object is sure to hash the same next time.
    if (Object.isFrozen(attributes)) remembered.set(attributes, hash);
  }
  return hash;
}

const build = dirname(require.resolve("@opentelemetry/sdk-metrics"));
const utils = require(join(build, "utils.js"));
const installed = utils.hashAttributes;
const hashes = { sdk: installed, concat: concatHash, cached: cachedHash };

/**
 * The `@opentelemetry/sdk-metrics` module to build providers from, with `variant`'s hash in effect
 * for every attribute map made from now on. Default: `BENCH_SDK_HASH`, else the SDK as installed.
 */
export function metricsSdk(variant = process.env.BENCH_SDK_HASH || "sdk") {
  if (!SDK_HASH_VARIANTS.includes(variant)) {
    throw new Error(`unknown SDK hash variant "${variant}": use one of ${SDK_HASH_VARIANTS.join(", ")}`);
  }
  if (typeof installed !== "function") {
    throw new Error(`@opentelemetry/sdk-metrics has no hashAttributes in ${build}/utils.js to replace`);
  }
  utils.hashAttributes = hashes[variant];
  return require("@opentelemetry/sdk-metrics");
}
