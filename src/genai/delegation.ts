import type { Attributes, Span } from "@opentelemetry/api";
import { LANGFUSE_OBSERVATION_TYPE } from "../langfuse/attributes.js";

/**
 * One model call, counted once. When the provider SDK is instrumented too (OpenLLMetry,
 * OpenInference, OTel's OpenAI instrumentation), its inference span nests under our model span;
 * both describing the same call would count it twice (two generations and twice the cost in
 * Langfuse). The conventions' guidance: a framework that hands the call to an instrumented client
 * does not emit a second inference span. So our span gives way and stays a plain LangChain span.
 */

/** On a model span that gave way: the instrumentation scope of the inference span under it. */
export const ATTR_MODEL_CALL_TRACED_BY = "langchain_otel.model_call.traced_by";

/** How a model run's span started, kept to settle it at the end once we know who traced the call. */
export interface InferenceStart {
  /** The inference span name (`chat {model}`). */
  name: string;
  /** Its sampling-relevant attributes (`gen_ai.operation.name`, provider, request model). */
  attributes: Attributes;
  /** The plain LangChain name (the run's name, e.g. `ChatOpenAI`). */
  plainName: string;
  /** The model class, the key of what was learned. */
  modelClass: string;
  /** Started plain, because this class's calls were traced by another instrumentation before. */
  plain: boolean;
}

const MAX_CLASSES = 256;

/** Model classes whose calls another instrumentation traced: their next calls start plain. Bounded. */
export class InstrumentedModelClasses {
  private readonly classes = new Set<string>();

  has(modelClass: string): boolean {
    return this.classes.size > 0 && this.classes.has(modelClass);
  }

  learn(modelClass: string): void {
    if (this.classes.size >= MAX_CLASSES && !this.classes.has(modelClass)) return;
    this.classes.add(modelClass);
  }

  forget(modelClass: string): void {
    this.classes.delete(modelClass);
  }
}

/** The span gives way to the inference span under it: a plain span named after the run. */
export function becomePlain(span: Span, start: InferenceStart, tracedBy: string, langfuse: boolean): void {
  if (!start.plain) span.updateName(start.plainName);
  span.setAttribute(ATTR_MODEL_CALL_TRACED_BY, tracedBy);
  // Langfuse reads the observation type first: a plain span, no second generation.
  if (langfuse) span.setAttribute(LANGFUSE_OBSERVATION_TYPE, "span");
}

/** A plain-started span whose call no other instrumentation traced after all: an inference span again. */
export function restoreInference(span: Span, start: InferenceStart, langfuse: boolean): void {
  span.updateName(start.name);
  span.setAttributes(start.attributes);
  if (langfuse) span.setAttribute(LANGFUSE_OBSERVATION_TYPE, "generation");
}

/**
 * A model span, at its end: plain if another instrumentation traced the call (and its class is
 * learned), else an inference span (a plain-started one restored, its class forgotten).
 */
export function settleInference(
  span: Span,
  start: InferenceStart,
  tracedBy: string | undefined,
  classes: InstrumentedModelClasses,
  langfuse: boolean,
): void {
  if (tracedBy !== undefined) {
    classes.learn(start.modelClass);
    becomePlain(span, start, tracedBy, langfuse);
  } else if (start.plain) {
    classes.forget(start.modelClass);
    restoreInference(span, start, langfuse);
  }
}

/** The deferred attributes of a span that gave way: none of the inference ones. */
export function withoutInference(attributes: Attributes): Attributes {
  const kept: Attributes = {};
  for (const key in attributes) {
    if (!key.startsWith("gen_ai.") && !key.startsWith("langfuse.observation.prompt."))
      kept[key] = attributes[key];
  }
  return kept;
}
