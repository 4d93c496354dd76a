import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as stable from "@opentelemetry/semantic-conventions";
import * as incubating from "@opentelemetry/semantic-conventions/incubating";
import { expect } from "chai";
import * as local from "../src/genai/attributes.js";

/**
 * src/genai/attributes.ts copies the semantic-convention names it uses instead of importing them
 * (the OTel JS guidance for instrumentation libraries). This compares every copy with the npm
 * package, a dev dependency only, so that an upstream rename or a typo fails here.
 */

const npm: Record<string, unknown> = { ...incubating, ...stable };

/** Copies of names npm does not export, with where their value comes from. */
const NOT_IN_NPM: Record<string, string> = {
  METRIC_GEN_AI_EXECUTE_TOOL_DURATION: "GenAI development conventions, schema gen-ai-dev/1.42.0-dev",
  METRIC_GEN_AI_INVOKE_AGENT_DURATION: "GenAI development conventions, schema gen-ai-dev/1.42.0-dev",
  ATTR_GEN_AI_USAGE_COST: "not semconv: Langfuse reads it as the total cost (langfuse-otel §3)",
  EVENT_AGENT_ACTION: "not semconv: this package's event for a LangChain agent action",
  EVENT_AGENT_FINISH: "not semconv: this package's event for a LangChain agent finish",
};

const values = local as unknown as Record<string, unknown>;
// This package's own namespaces; every other name in the module is a semantic-convention copy.
const OWN = /^(langchain|langchain_otel|langgraph)\./;
const localNames = Object.keys(local).filter((name) => !OWN.test(String(values[name])));

describe("semantic convention copies", () => {
  const copied = localNames.filter((name) => name in npm);

  it("copies the names the handler needs, including the stable and metric names", () => {
    for (const name of [
      "ATTR_ERROR_TYPE",
      "ATTR_SERVER_ADDRESS",
      "ATTR_SERVER_PORT",
      "ATTR_SERVICE_NAME",
      "ATTR_GEN_AI_OPERATION_NAME",
      "ATTR_SESSION_ID",
      "ATTR_USER_ID",
      "METRIC_GEN_AI_CLIENT_TOKEN_USAGE",
      "METRIC_GEN_AI_CLIENT_OPERATION_DURATION",
      "METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK",
      "METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK",
      "ATTR_GEN_AI_TOKEN_TYPE",
      "GEN_AI_TOKEN_TYPE_VALUE_INPUT",
      "GEN_AI_TOKEN_TYPE_VALUE_OUTPUT",
    ]) {
      expect(copied, name).to.include(name);
    }
  });

  for (const name of copied) {
    it(`${name} equals npm's (${String(npm[name])})`, () => {
      expect(values[name]).to.equal(npm[name]);
    });
  }

  it("stable names equal the root entry's, not only the incubating one's", () => {
    for (const name of copied.filter((name) => name in stable)) {
      expect(values[name], name).to.equal((stable as Record<string, unknown>)[name]);
    }
  });

  it("every name npm lacks is listed with its source", () => {
    const missing = localNames.filter((name) => !(name in npm));
    expect(missing.sort()).to.deep.equal(Object.keys(NOT_IN_NPM).sort());
    expect(values.METRIC_GEN_AI_EXECUTE_TOOL_DURATION).to.equal("gen_ai.execute_tool.duration");
    expect(values.METRIC_GEN_AI_INVOKE_AGENT_DURATION).to.equal("gen_ai.invoke_agent.duration");
  });

  it("nothing in src/ imports @opentelemetry/semantic-conventions at run time", () => {
    const root = join(import.meta.dirname, "..", "src");
    const offenders = readdirSync(root, { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".ts"))
      .filter((file) =>
        /^\s*(import|export)(?!\s+type\b)[^;]*from\s+["']@opentelemetry\/semantic-conventions/m.test(
          readFileSync(join(root, file), "utf8"),
        ),
      );
    expect(offenders).to.deep.equal([]);
  });
});
