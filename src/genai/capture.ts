import type { Span } from "@opentelemetry/api";
import { ATTR_TRUNCATED } from "./attributes.js";
import {
  type JsonBudget,
  type JsonReplacer,
  type JsonWriter,
  toBoundedJson,
  toBoundedJsonWith,
  toBoundedText,
} from "./json.js";

/** A user function applied to every captured string before it is set on a span. */
export type ContentMask = (value: string, attribute: string) => string;

/** A value as it was captured: reusable for the same value elsewhere in the trace. */
export interface CapturedValue {
  readonly value: unknown;
  readonly json: string;
  readonly truncated: boolean;
}

/**
 * The content capture policy: the one place that decides whether prompts, completions, tool
 * arguments and documents are recorded, and how. Callers pass a thunk, or look at `enabled`
 * before reading a value, so when capture is off no content is read or serialized at all.
 */
export class ContentCapture {
  private readonly truncatedBySpan = new WeakMap<Span, string[]>();

  constructor(
    readonly enabled: boolean,
    private readonly mask: ContentMask | undefined,
    private readonly budget: JsonBudget,
  ) {}

  /**
   * Sets `attribute` (and each of `also`, with the same text) to the bounded JSON of `produce()`,
   * when capture is on. Returns the JSON set, if any.
   */
  setJson(
    span: Span,
    attribute: string,
    produce: () => unknown,
    replace?: JsonReplacer,
    also?: string,
  ): string | undefined {
    if (!this.enabled) return undefined;
    const value = produce();
    if (value === undefined) return undefined;
    const { json, truncated } = toBoundedJson(value, this.budget, this.maskFor(attribute), replace);
    span.setAttribute(attribute, json);
    if (also !== undefined) span.setAttribute(also, json);
    if (truncated) this.markTruncated(span, attribute);
    return json;
  }

  /**
   * Sets `attribute` to the bounded JSON of `value`, when capture is on, and returns it for reuse.
   * When `previous` captured this very value (the same object, or an equal string) its JSON is set
   * again rather than written anew; the caller vouches that nothing can have changed the value
   * since. With a mask, which may treat attributes differently, nothing is reused.
   */
  setReusableJson(
    span: Span,
    attribute: string,
    value: unknown,
    replace: JsonReplacer | undefined,
    previous: CapturedValue | undefined,
  ): CapturedValue | undefined {
    if (!this.enabled || value === undefined) return undefined;
    let captured: CapturedValue;
    if (previous !== undefined && previous.value === value && this.mask === undefined) {
      captured = previous;
    } else {
      const { json, truncated } = toBoundedJson(value, this.budget, this.maskFor(attribute), replace);
      captured = { value, json, truncated };
    }
    this.put(span, attribute, captured.json, captured.truncated);
    return captured;
  }

  /**
   * Sets `attribute` to JSON of a known shape that `write` composes (see toBoundedJsonWith), when
   * capture is on.
   */
  setWrittenJson(span: Span, attribute: string, write: (writer: JsonWriter) => string): void {
    if (!this.enabled) return;
    const { json, truncated } = toBoundedJsonWith(write, this.budget, this.maskFor(attribute));
    this.put(span, attribute, json, truncated);
  }

  /** Sets `attribute` to the bounded text, when capture is on. Returns the text set, if any. */
  setText(span: Span, attribute: string, value: string | undefined): string | undefined {
    if (!this.enabled || value === undefined) return undefined;
    const { text, truncated } = toBoundedText(value, this.budget.maxChars, this.maskFor(attribute));
    this.put(span, attribute, text, truncated);
    return text;
  }

  /** The bounded JSON of a value for a place other than an attribute (an event), or undefined when off. */
  json(attribute: string, value: unknown, replace?: JsonReplacer): string | undefined {
    if (!this.enabled || value === undefined) return undefined;
    return toBoundedJson(value, this.budget, this.maskFor(attribute), replace).json;
  }

  /** Sets a captured value, and marks the attribute when the value was cut. */
  private put(span: Span, attribute: string, value: string, truncated: boolean): void {
    span.setAttribute(attribute, value);
    if (truncated) this.markTruncated(span, attribute);
  }

  private maskFor(attribute: string): ((text: string) => string) | undefined {
    const mask = this.mask;
    return mask === undefined ? undefined : (text) => mask(text, attribute);
  }

  private markTruncated(span: Span, attribute: string): void {
    const names = this.truncatedBySpan.get(span) ?? [];
    if (names.length === 0) this.truncatedBySpan.set(span, names);
    if (!names.includes(attribute)) names.push(attribute);
    span.setAttribute(ATTR_TRUNCATED, names);
  }
}
