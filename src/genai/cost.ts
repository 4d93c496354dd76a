import { diag } from "@opentelemetry/api";
import type * as GenAIPrices from "@pydantic/genai-prices";
import { requireOptional } from "../optional.js";
import { soon } from "../runtime.js";
import type { TokenUsage } from "./records.js";

/**
 * The cost of a model call in USD, from the `@pydantic/genai-prices` table (docs/metrics.md, "Cost").
 *
 * The table is slow to load (50–110 ms) and `calcPrice` slow to call (20–60 µs: it scans a
 * provider's models and compiles their regexes on every call), so this module asks it once per
 * (provider, model), keeps the model's prices, and does the per-call arithmetic itself: two map
 * lookups and a few multiplications (0.1–0.4 µs, bench/cost.mjs). Tiered prices (a higher rate past N input tokens) and
 * conditional prices (a rate from a date on, or within a daily time window) are evaluated here, with
 * the table's semantics. The first call of each model also prices the call with `calcPrice` and
 * compares: if the two ever disagree (a table update with semantics we do not know), that model is
 * priced by `calcPrice` from then on.
 */

/** Prices of one model, in USD per million tokens. */
export interface ModelPrices {
  /** Input tokens not read from or written to a prompt cache. */
  input: number;
  /** Output tokens, reasoning tokens included. */
  output: number;
  /** Input tokens read from a prompt cache. Default: the `input` price. */
  cacheRead?: number;
  /** Input tokens written to a prompt cache. Default: the `input` price. */
  cacheWrite?: number;
}

export interface PriceTableOptions {
  /** `false`: `costOf` always returns undefined and the table is never loaded. */
  enabled: boolean;
  /** Prices per model name, matched exactly (case-sensitive) before the table; they win over it. */
  prices?: Record<string, ModelPrices>;
}

/** What a model call needs to be priced. */
export interface PricedCall {
  /** `gen_ai.provider.name`. Without one, only the user's prices can match: the table is not asked. */
  provider?: string;
  responseModel?: string;
  requestModel?: string;
  /** In the semconv's terms: input includes cached tokens, output includes reasoning tokens. */
  usage?: TokenUsage;
  /** An embeddings call: it has input tokens only. Otherwise a call without both counts has no cost. */
  inputOnly?: boolean;
}

/** Most (provider, model) pairs whose resolved prices are kept; past it the oldest is dropped. */
export const MAX_CACHED_MODELS = 1000;

/**
 * `gen_ai.provider.name` values (semconv v1.41, genai-semconv §6) → the table's provider ids, where
 * they differ. Other names go to the table as they are; it matches them against its provider ids,
 * then its own `provider_match` patterns, and an unknown provider prices nothing.
 */
const TABLE_PROVIDERS = new Map<string, string>([
  ["azure.ai.openai", "azure"],
  ["azure.ai.inference", "azure"],
  ["aws.bedrock", "aws"],
  ["gcp.gemini", "google"],
  ["gcp.vertex_ai", "google"],
  ["gcp.gen_ai", "google"],
  ["mistral_ai", "mistral"],
  ["x_ai", "x-ai"],
  ["moonshot_ai", "moonshotai"],
]);

type GenAIPricesModule = typeof GenAIPrices;

/**
 * A price per million units, flat or tiered. Tiered: the rate of the last tier whose `start` the
 * call's total input tokens exceed applies to all of that unit's tokens (the table's semantics).
 */
type Rate = number | { base: number; tiers: { start: number; price: number }[] };

/** One price entry of a model, in USD per million units. Absent cache rates leave those tokens at `input`. */
interface Rates {
  input: Rate;
  output: Rate;
  cacheRead?: Rate;
  cacheWrite?: Rate;
  reasoning?: Rate;
  /** A fixed fee per call (the table's `requests_kcount`), per million calls. */
  perCall: number;
}

/** A model's prices: one entry, or entries that apply from a date on or within a daily UTC window. */
interface PricedModel {
  kind: "priced";
  entries: { constraint?: Constraint; rates: Rates | undefined }[];
}
type Constraint = { from: number } | { startS: number; endS: number };
/** The model's prices use something this module does not understand: ask `calcPrice` each call. */
interface DelegatedModel {
  kind: "delegated";
  providerId: string;
  model: string;
}
type Resolved = PricedModel | DelegatedModel | null;

/** Token counts, validated: subsets never exceed their totals. */
interface Counts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  reasoning: number;
}

export class PriceTable {
  readonly enabled: boolean;
  private readonly userPrices: Map<string, PricedModel>;
  /** Provider id → model name → what the table resolved. Nested: no key string built per call. */
  private readonly resolved = new Map<string, Map<string, Resolved>>();
  private resolvedCount = 0;
  private module: GenAIPricesModule | undefined;
  private loadFailed = false;
  private preloading = false;

  constructor(options: PriceTableOptions) {
    this.enabled = options.enabled;
    this.userPrices = compileUserPrices(options.prices);
  }

  /**
   * The call's cost in USD, or undefined: cost off, no usage, usage that contradicts itself, or no
   * price for the model (user prices, then the table; response model first, then request model).
   */
  costOf(call: PricedCall): number | undefined {
    if (!this.enabled) return undefined;
    const counts = countsOf(call.usage, call.inputOnly === true);
    if (counts === undefined) return undefined;
    const { responseModel, requestModel } = call;
    const user =
      (responseModel === undefined ? undefined : this.userPrices.get(responseModel)) ??
      (requestModel === undefined ? undefined : this.userPrices.get(requestModel));
    if (user !== undefined) return costWith(user, counts, undefined);
    const provider = call.provider;
    if (provider === undefined || provider === "") return undefined;
    const providerId = TABLE_PROVIDERS.get(provider) ?? provider;
    if (responseModel !== undefined && responseModel !== "") {
      const cost = this.tableCost(providerId, responseModel, counts);
      if (cost !== undefined) return cost;
    }
    if (requestModel !== undefined && requestModel !== "" && requestModel !== responseModel) {
      return this.tableCost(providerId, requestModel, counts);
    }
    return undefined;
  }

  /**
   * Loads the table soon, off the caller's path (`soon`: it never keeps the
   * process alive), so that the first priced call does not pay for the load.
   */
  preload(): void {
    if (!this.enabled || this.module !== undefined || this.loadFailed || this.preloading) return;
    // Without a timer, the first priced call loads the table.
    this.preloading = soon(() => {
      this.preloading = false;
      this.load();
    });
  }

  /** Whether the price table is loaded. */
  get loaded(): boolean {
    return this.module !== undefined;
  }

  /** How many (provider, model) pairs are cached. For tests. */
  get cachedModels(): number {
    return this.resolvedCount;
  }

  private tableCost(providerId: string, model: string, counts: Counts): number | undefined {
    const resolved = this.resolved.get(providerId)?.get(model);
    if (resolved === undefined) {
      const table = this.load();
      if (table === undefined) return undefined;
      const first = resolveModel(table, providerId, model, counts, Date.now());
      this.remember(providerId, model, first.resolved);
      return first.cost;
    }
    if (resolved === null) return undefined;
    if (resolved.kind === "priced") return costWith(resolved, counts, undefined);
    const table = this.module;
    return table === undefined
      ? undefined
      : tablePrice(table, resolved.providerId, resolved.model, counts, Date.now());
  }

  private remember(providerId: string, model: string, resolved: Resolved): void {
    if (this.resolvedCount >= MAX_CACHED_MODELS) {
      // Drop the oldest model of the oldest provider.
      const oldest = this.resolved.entries().next().value;
      if (oldest !== undefined) {
        const [oldestProvider, models] = oldest;
        const oldestModel = models.keys().next().value;
        if (oldestModel !== undefined && models.delete(oldestModel)) this.resolvedCount--;
        if (models.size === 0) this.resolved.delete(oldestProvider);
      }
    }
    let models = this.resolved.get(providerId);
    if (models === undefined) {
      models = new Map();
      this.resolved.set(providerId, models);
    }
    if (!models.has(model)) this.resolvedCount++;
    models.set(model, resolved);
  }

  private load(): GenAIPricesModule | undefined {
    if (this.module !== undefined || this.loadFailed) return this.module;
    try {
      // Never `updatePrices`/`enableAutoUpdate`: the bundled table only, no network.
      this.module = requireOptional<GenAIPricesModule>("@pydantic/genai-prices", "Pricing model calls");
    } catch (error) {
      this.loadFailed = true;
      diag.warn("langchain-otel: the price table could not be loaded; model calls get no cost", error);
    }
    return this.module;
  }
}

function countsOf(usage: TokenUsage | undefined, inputOnly: boolean): Counts | undefined {
  if (usage === undefined || usage.inputTokens === undefined) return undefined;
  // A count the provider did not report is not zero: pricing without it would understate the cost.
  if (!inputOnly && usage.outputTokens === undefined) return undefined;
  const counts: Counts = {
    input: usage.inputTokens ?? 0,
    output: usage.outputTokens ?? 0,
    cacheRead: usage.cacheReadInputTokens ?? 0,
    cacheWrite: usage.cacheCreationInputTokens ?? 0,
    reasoning: usage.reasoningOutputTokens ?? 0,
  };
  // Cached tokens are part of the input and reasoning tokens part of the output; counts that say
  // otherwise cannot be priced without guessing which number is wrong.
  if (counts.cacheRead + counts.cacheWrite > counts.input || counts.reasoning > counts.output)
    return undefined;
  return counts;
}

/** The cost of a call at the model's price entry in force at `now` (default: the current time). */
function costWith(model: PricedModel, counts: Counts, now: number | undefined): number | undefined {
  const entries = model.entries;
  // Date.now() only for a model whose prices depend on the time.
  const rates = entries.length === 1 ? entries[0].rates : ratesAt(entries, now ?? Date.now());
  if (rates === undefined) return undefined;
  const total = counts.input;
  let micro = rates.perCall;
  let uncached = counts.input;
  if (rates.cacheRead !== undefined) {
    uncached -= counts.cacheRead;
    micro += priceOf(rates.cacheRead, counts.cacheRead, total);
  }
  if (rates.cacheWrite !== undefined) {
    uncached -= counts.cacheWrite;
    micro += priceOf(rates.cacheWrite, counts.cacheWrite, total);
  }
  micro += priceOf(rates.input, uncached, total);
  let output = counts.output;
  if (rates.reasoning !== undefined) {
    output -= counts.reasoning;
    micro += priceOf(rates.reasoning, counts.reasoning, total);
  }
  micro += priceOf(rates.output, output, total);
  const usd = micro / 1e6;
  // Absurd prices or counts must not put Infinity on a span or into a metric.
  return Number.isFinite(usd) ? usd : undefined;
}

function priceOf(rate: Rate, tokens: number, inputTotal: number): number {
  if (tokens <= 0) return 0;
  if (typeof rate === "number") return rate * tokens;
  let price = rate.base;
  for (const tier of rate.tiers) if (inputTotal > tier.start) price = tier.price;
  return price * tokens;
}

/** The entry in force at `now`: the last one whose constraint holds, else the first (the table's rule). */
function ratesAt(entries: PricedModel["entries"], now: number): Rates | undefined {
  for (let i = entries.length - 1; i > 0; i--) {
    const { constraint, rates } = entries[i];
    if (constraint === undefined) return rates;
    if ("from" in constraint) {
      if (now >= constraint.from) return rates;
    } else {
      const second = (((now % 86_400_000) + 86_400_000) % 86_400_000) / 1000;
      const { startS, endS } = constraint;
      const inside = endS < startS ? second >= startS || second < endS : second >= startS && second < endS;
      if (inside) return rates;
    }
  }
  return entries[0]?.rates;
}

/** The first lookup of a (provider, model): ask the table, keep what it resolved, check our arithmetic. */
function resolveModel(
  table: GenAIPricesModule,
  providerId: string,
  model: string,
  counts: Counts,
  now: number,
): { resolved: Resolved; cost: number | undefined } {
  let result: GenAIPrices.PriceCalculationResult;
  try {
    result = table.calcPrice(tableUsage(counts), model, { providerId, timestamp: new Date(now) });
  } catch (error) {
    diag.debug(`langchain-otel: the price table failed on ${providerId} ${model}`, error);
    return { resolved: null, cost: undefined };
  }
  if (result === null) return { resolved: null, cost: undefined };
  const priced = compileTableModel(result.model);
  if (priced === undefined) {
    // Prices this module does not read (e.g. only per audio hour or per page): nothing to price
    // from tokens, unless the table itself found a token price.
    return tokenPriced(result.model_price)
      ? { resolved: { kind: "delegated", providerId, model }, cost: result.total_price }
      : { resolved: null, cost: undefined };
  }
  const ours = costWith(priced, counts, now);
  if (ours === undefined) return { resolved: priced, cost: undefined };
  if (!sameCost(ours, result.total_price)) {
    diag.debug(
      `langchain-otel: ${providerId} ${model}: price arithmetic differs from the table (${ours} vs ${result.total_price}); using the table for this model`,
    );
    return { resolved: { kind: "delegated", providerId, model }, cost: result.total_price };
  }
  return { resolved: priced, cost: ours };
}

/** A model whose arithmetic we do not do: the table prices every call (slow, but right). */
function tablePrice(
  table: GenAIPricesModule,
  providerId: string,
  model: string,
  counts: Counts,
  now: number,
): number | undefined {
  try {
    const result = table.calcPrice(tableUsage(counts), model, { providerId, timestamp: new Date(now) });
    return result === null || !Number.isFinite(result.total_price) ? undefined : result.total_price;
  } catch {
    return undefined;
  }
}

function tableUsage(counts: Counts): GenAIPrices.Usage {
  return {
    input_tokens: counts.input,
    output_tokens: counts.output,
    cache_read_tokens: counts.cacheRead,
    cache_write_tokens: counts.cacheWrite,
    output_reasoning_tokens: counts.reasoning,
  };
}

function sameCost(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/**
 * A table model's cost by this module's arithmetic: null when the module would leave the model to
 * `calcPrice`. For tests, which compare it with `calcPrice` over the whole table.
 * @internal
 */
export function tableModelCost(
  model: GenAIPrices.ModelInfo,
  usage: TokenUsage,
  now: number,
): number | undefined | null {
  const priced = compileTableModel(model);
  if (priced === undefined) return null;
  const counts = countsOf(usage, usage.outputTokens === undefined);
  return counts === undefined ? undefined : costWith(priced, counts, now);
}

/**
 * A table model's prices in our form, or undefined when they use something we do not read: a price
 * value of another shape, or a constraint we cannot parse.
 */
function compileTableModel(model: GenAIPrices.ModelInfo): PricedModel | undefined {
  const prices = model.prices;
  if (!Array.isArray(prices)) {
    const rates = compileModelPrice(prices);
    return rates === null ? undefined : { kind: "priced", entries: [{ rates }] };
  }
  const entries: PricedModel["entries"] = [];
  for (const { constraint, prices: entry } of prices) {
    const rates = compileModelPrice(entry);
    if (rates === null) return undefined;
    if (constraint === undefined) {
      entries.push({ rates });
      continue;
    }
    const compiled = compileConstraint(constraint);
    if (compiled === undefined) return undefined;
    entries.push({ constraint: compiled, rates });
  }
  return entries.length === 0 ? undefined : { kind: "priced", entries };
}

/**
 * Rates of one price entry: undefined when it has no token price, null when a value we read has an
 * unknown shape. Keys other than these price usage we never report (audio, images, web searches…),
 * which is then 0, as it is when `calcPrice` is given our usage.
 */
function compileModelPrice(price: GenAIPrices.ModelPrice): Rates | undefined | null {
  const input = rateOf(price.input_mtok);
  const output = rateOf(price.output_mtok);
  const cacheRead = rateOf(price.cache_read_mtok);
  const cacheWrite = rateOf(price.cache_write_mtok);
  const reasoning = rateOf(price.output_reasoning_mtok);
  if (input === null || output === null || cacheRead === null || cacheWrite === null || reasoning === null)
    return null;
  if (input === undefined && output === undefined) return undefined;
  const rates: Rates = { input: input ?? 0, output: output ?? 0, perCall: 0 };
  if (cacheRead !== undefined) rates.cacheRead = cacheRead;
  if (cacheWrite !== undefined) rates.cacheWrite = cacheWrite;
  if (reasoning !== undefined) rates.reasoning = reasoning;
  const perThousandCalls = price.requests_kcount;
  if (perThousandCalls !== undefined) {
    if (!validPrice(perThousandCalls)) return null;
    rates.perCall = perThousandCalls * 1000;
  }
  return rates;
}

function tokenPriced(price: GenAIPrices.ModelPrice): boolean {
  return price.input_mtok !== undefined || price.output_mtok !== undefined;
}

/** A table price value: a number, or `{ base, tiers: [{ start, price }] }`. null: another shape. */
function rateOf(value: GenAIPrices.ModelPrice[string]): Rate | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === "number") return validPrice(value) ? value : null;
  if (typeof value !== "object" || value === null || !validPrice(value.base) || !Array.isArray(value.tiers))
    return null;
  const tiers: { start: number; price: number }[] = [];
  for (const tier of value.tiers as unknown[]) {
    const { start, price } = (tier ?? {}) as { start?: unknown; price?: unknown };
    if (typeof start !== "number" || !Number.isFinite(start) || !validPrice(price)) return null;
    tiers.push({ start, price });
  }
  tiers.sort((a, b) => a.start - b.start);
  return { base: value.base, tiers };
}

function validPrice(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}

function compileConstraint(
  constraint: GenAIPrices.StartDateConstraint | GenAIPrices.TimeOfDateConstraint,
): Constraint | undefined {
  if (constraint.type === "start_date") {
    // "YYYY-MM-DD": midnight UTC, as the table reads it.
    const from = Date.parse(constraint.start_date);
    return Number.isFinite(from) ? { from } : undefined;
  }
  if (constraint.type === "time_of_date") {
    const startS = secondOfDay(constraint.start_time);
    const endS = secondOfDay(constraint.end_time);
    return startS === undefined || endS === undefined ? undefined : { startS, endS };
  }
  return undefined;
}

/** "HH:MM:SS[.fff](Z|±HH:MM)" → the second of the UTC day. */
function secondOfDay(time: string): number | undefined {
  const match = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(time);
  if (match === null) return undefined;
  const [, hours, minutes, seconds, fraction, zone] = match;
  const h = Number(hours);
  const m = Number(minutes);
  const s = Number(seconds);
  if (h > 23 || m > 59 || s > 59) return undefined;
  let offset = 0;
  if (zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offset = (zone[0] === "-" ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const local = h * 3600 + m * 60 + s + (fraction === undefined ? 0 : Number(`0${fraction}`));
  return (((local - offset) % 86_400) + 86_400) % 86_400;
}

const PRICE_FIELDS = ["input", "output", "cacheRead", "cacheWrite"] as const;

function compileUserPrices(prices: Record<string, ModelPrices> | undefined): Map<string, PricedModel> {
  const compiled = new Map<string, PricedModel>();
  if (prices === undefined) return compiled;
  if (typeof prices !== "object" || prices === null || Array.isArray(prices)) {
    throw new TypeError(
      'langchain-otel: cost.prices must be an object of model name → prices, e.g. { "my-model": { input: 3, output: 12 } }',
    );
  }
  for (const [model, price] of Object.entries(prices)) {
    const where = `cost.prices[${JSON.stringify(model)}]`;
    if (typeof price !== "object" || price === null || Array.isArray(price)) {
      throw new TypeError(`langchain-otel: ${where} must be { input, output, cacheRead?, cacheWrite? }`);
    }
    // A misspelt field (cache_read, cachedInput) would otherwise price those tokens at `input`.
    const unknown = Object.keys(price).find((key) => !PRICE_FIELDS.includes(key as keyof ModelPrices));
    if (unknown !== undefined) {
      throw new TypeError(
        `langchain-otel: ${where} has an unknown field ${JSON.stringify(unknown)}; the fields are ${PRICE_FIELDS.join(", ")}`,
      );
    }
    for (const field of PRICE_FIELDS) {
      const value = price[field];
      const required = field === "input" || field === "output";
      if ((value !== undefined || required) && !validPrice(value)) {
        throw new TypeError(
          `langchain-otel: ${where}.${field} must be a non-negative number (USD per million tokens)`,
        );
      }
    }
    const rates: Rates = { input: price.input, output: price.output, perCall: 0 };
    if (price.cacheRead !== undefined) rates.cacheRead = price.cacheRead;
    if (price.cacheWrite !== undefined) rates.cacheWrite = price.cacheWrite;
    compiled.set(model, { kind: "priced", entries: [{ rates }] });
  }
  return compiled;
}
