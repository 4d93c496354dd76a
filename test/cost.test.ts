import { createRequire } from "node:module";
import type * as GenAIPrices from "@pydantic/genai-prices";
import { expect } from "chai";
import { MAX_CACHED_MODELS, type PricedCall, PriceTable, tableModelCost } from "../src/genai/cost.js";
import type { TokenUsage } from "../src/genai/records.js";

const prices = createRequire(import.meta.url)("@pydantic/genai-prices") as typeof GenAIPrices;

/** USD from per-million prices: [tokens, USD per million tokens] pairs. */
const usd = (...parts: [number, number][]): number => parts.reduce((sum, [n, p]) => sum + n * p, 0) / 1e6;

/** Runs `body` with `Date.now()` fixed: conditional prices depend on the time of the call. */
function at<T>(iso: string, body: () => T): T {
  const realNow = Date.now;
  const fixed = Date.parse(iso);
  Date.now = () => fixed;
  try {
    return body();
  } finally {
    Date.now = realNow;
  }
}

describe("PriceTable (cost of a model call)", () => {
  const table = new PriceTable({ enabled: true });
  const cost = (call: PricedCall) => table.costOf(call);

  describe("against the published prices", () => {
    it("gpt-4o-mini via openai: $0.15 input, $0.075 cached input, $0.60 output per million", () => {
      const usage: TokenUsage = { inputTokens: 1000, outputTokens: 100, cacheReadInputTokens: 200 };
      expect(cost({ provider: "openai", responseModel: "gpt-4o-mini", usage })).to.be.closeTo(
        usd([800, 0.15], [200, 0.075], [100, 0.6]),
        1e-12,
      );
    });

    it("a dated snapshot resolves to its model: gpt-4o-mini-2024-07-18", () => {
      const usage: TokenUsage = { inputTokens: 1000, outputTokens: 100, cacheReadInputTokens: 200 };
      expect(cost({ provider: "openai", responseModel: "gpt-4o-mini-2024-07-18", usage })).to.be.closeTo(
        0.000195,
        1e-12,
      );
    });

    it("Claude Haiku 4.5 via anthropic: $1 input, $0.10 cache read, $1.25 cache write, $5 output", () => {
      const usage: TokenUsage = {
        inputTokens: 10_000,
        cacheReadInputTokens: 4000,
        cacheCreationInputTokens: 2000,
        outputTokens: 500,
        reasoningOutputTokens: 200,
      };
      expect(
        cost({ provider: "anthropic", responseModel: "claude-haiku-4-5-20251001", usage }),
      ).to.be.closeTo(usd([4000, 1], [4000, 0.1], [2000, 1.25], [500, 5]), 1e-12);
    });

    it("reasoning tokens are output tokens unless the table prices them apart", () => {
      const usage: TokenUsage = { inputTokens: 100, outputTokens: 1000, reasoningOutputTokens: 900 };
      expect(cost({ provider: "openai", responseModel: "gpt-4o-mini", usage })).to.be.closeTo(
        usd([100, 0.15], [1000, 0.6]),
        1e-12,
      );
    });

    it("a per-request fee counts once per call (perplexity sonar: $12 per thousand requests)", () => {
      const usage: TokenUsage = { inputTokens: 1000, outputTokens: 100 };
      expect(cost({ provider: "perplexity", responseModel: "sonar", usage })).to.be.closeTo(
        usd([1000, 1], [100, 1]) + 12 / 1000,
        1e-12,
      );
    });
  });

  describe("tiered and conditional prices", () => {
    it("a tiered model prices all tokens at the tier its input reaches (claude-sonnet-4-5, past 200K)", () => {
      const small: TokenUsage = { inputTokens: 100_000, outputTokens: 1000 };
      const large: TokenUsage = { inputTokens: 250_000, outputTokens: 1000, cacheReadInputTokens: 50_000 };
      const call = { provider: "anthropic", responseModel: "claude-sonnet-4-5-20250929" };
      expect(cost({ ...call, usage: small })).to.be.closeTo(usd([100_000, 3], [1000, 15]), 1e-12);
      expect(cost({ ...call, usage: large })).to.be.closeTo(
        usd([200_000, 6], [50_000, 0.6], [1000, 22.5]),
        1e-12,
      );
    });

    it("a price that changed on a date follows the call's date (claude-sonnet-4-6 lost its tier on 2026-03-13)", () => {
      const pricing = new PriceTable({ enabled: true });
      const call: PricedCall = {
        provider: "anthropic",
        responseModel: "claude-sonnet-4-6",
        usage: { inputTokens: 250_000, outputTokens: 1000 },
      };
      expect(at("2026-01-01T12:00:00Z", () => pricing.costOf(call))).to.be.closeTo(
        usd([250_000, 6], [1000, 22.5]),
        1e-12,
      );
      // The same cached model, later: the dated entry applies.
      expect(at("2026-06-01T12:00:00Z", () => pricing.costOf(call))).to.be.closeTo(
        usd([250_000, 3], [1000, 15]),
        1e-12,
      );
    });

    it("a price within a daily UTC window follows the call's time (deepseek-chat peak 00:30–16:30)", () => {
      const pricing = new PriceTable({ enabled: true });
      const call: PricedCall = {
        provider: "deepseek",
        responseModel: "deepseek-chat",
        usage: { inputTokens: 1000, outputTokens: 1000, cacheReadInputTokens: 400 },
      };
      const peak = usd([600, 0.27], [400, 0.07], [1000, 1.1]);
      const offPeak = usd([600, 0.135], [400, 0.035], [1000, 0.55]);
      expect(at("2026-12-02T03:00:00Z", () => pricing.costOf(call))).to.be.closeTo(peak, 1e-12);
      expect(at("2026-12-02T20:00:00Z", () => pricing.costOf(call))).to.be.closeTo(offPeak, 1e-12);
      expect(at("2026-12-02T00:30:00Z", () => pricing.costOf(call))).to.be.closeTo(peak, 1e-12);
      expect(at("2026-12-02T16:30:00Z", () => pricing.costOf(call))).to.be.closeTo(offPeak, 1e-12);
    });

    it("our arithmetic equals calcPrice for every model of the table, at several usages and times", function () {
      this.timeout(60_000);
      const usages: TokenUsage[] = [
        {
          inputTokens: 1000,
          outputTokens: 100,
          cacheReadInputTokens: 200,
          cacheCreationInputTokens: 50,
          reasoningOutputTokens: 30,
        },
        { inputTokens: 300_000, outputTokens: 5000, cacheReadInputTokens: 100_000 },
        { inputTokens: 200_000, outputTokens: 5000, cacheCreationInputTokens: 100_000 },
      ];
      const times = [
        "2025-01-01T03:00:00Z",
        "2026-12-02T12:00:00Z",
        "2026-12-02T20:00:00Z",
        "2027-06-01T07:00:00Z",
      ];
      let models = 0;
      for (const id of TABLE_PROVIDER_IDS) {
        const provider = prices.findProvider({ providerId: id });
        if (provider === undefined || provider.id !== id) continue;
        for (const model of provider.models) {
          models++;
          // The model alone, under a name only it matches: compares prices, not matching.
          const alone = {
            ...provider,
            fallback_model_providers: undefined,
            models: [{ ...model, match: { equals: "m" } }],
          };
          for (const usage of usages) {
            for (const iso of times) {
              const expected = prices.calcPrice(
                {
                  input_tokens: usage.inputTokens,
                  output_tokens: usage.outputTokens,
                  cache_read_tokens: usage.cacheReadInputTokens,
                  cache_write_tokens: usage.cacheCreationInputTokens,
                  output_reasoning_tokens: usage.reasoningOutputTokens,
                },
                "m",
                { provider: alone, timestamp: new Date(iso) },
              );
              const ours = tableModelCost(model, usage, Date.parse(iso));
              const where = `${id} ${model.id} ${iso} ${JSON.stringify(usage)}`;
              // null: the module would leave this model to calcPrice; none of the table's needs it.
              if (ours === null) expect.fail(`${where}: not priced by our arithmetic`);
              if (ours === undefined) {
                // No token price (audio hours, pages…): the table prices our usage at 0.
                expect(expected?.total_price ?? 0, where).to.equal(0);
              } else {
                expect(ours, where).to.be.closeTo(expected?.total_price ?? Number.NaN, 1e-12 + 1e-9 * ours);
              }
            }
          }
        }
      }
      expect(models).to.be.greaterThan(1000);
    });
  });

  describe("matching", () => {
    const usage: TokenUsage = { inputTokens: 1000, outputTokens: 100 };

    it("falls back from the response model to the request model", () => {
      expect(
        cost({
          provider: "openai",
          responseModel: "my-deployment-alias",
          requestModel: "gpt-4o-mini",
          usage,
        }),
      ).to.be.closeTo(usd([1000, 0.15], [100, 0.6]), 1e-12);
    });

    it("prefers the response model", () => {
      expect(
        cost({ provider: "openai", responseModel: "gpt-4o", requestModel: "gpt-4o-mini", usage }),
      ).to.be.closeTo(usd([1000, 2.5], [100, 10]), 1e-12);
    });

    it("maps semconv provider names to the table's (x_ai → x-ai, gcp.vertex_ai → google, azure.ai.openai → azure)", () => {
      const tableCost = (providerId: string, model: string) =>
        prices.calcPrice({ input_tokens: 1000, output_tokens: 100 }, model, { providerId })?.total_price;
      expect(cost({ provider: "x_ai", responseModel: "grok-3", usage })).to.be.closeTo(
        usd([1000, 3], [100, 15]),
        1e-12,
      );
      expect(cost({ provider: "gcp.vertex_ai", responseModel: "gemini-2.5-flash", usage })).to.be.closeTo(
        tableCost("google", "gemini-2.5-flash") ?? Number.NaN,
        1e-12,
      );
      expect(cost({ provider: "azure.ai.openai", responseModel: "gpt-4o-mini", usage })).to.be.closeTo(
        tableCost("azure", "gpt-4o-mini") ?? Number.NaN,
        1e-12,
      );
    });

    it("an unknown model, an unknown provider or no provider gets no cost", () => {
      expect(cost({ provider: "openai", responseModel: "no-such-model-xyz", usage })).to.equal(undefined);
      expect(cost({ provider: "ollama", responseModel: "gpt-4o-mini", usage })).to.equal(undefined);
      // No provider: the table would guess one from the model's name; we do not.
      expect(cost({ responseModel: "gpt-4o-mini", usage })).to.equal(undefined);
      expect(cost({ provider: "openai", usage })).to.equal(undefined);
    });

    it("no usage, or usage that contradicts itself, gets no cost", () => {
      expect(cost({ provider: "openai", responseModel: "gpt-4o-mini" })).to.equal(undefined);
      expect(cost({ provider: "openai", responseModel: "gpt-4o-mini", usage: {} })).to.equal(undefined);
      expect(
        cost({
          provider: "openai",
          responseModel: "gpt-4o-mini",
          usage: { inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 20 },
        }),
      ).to.equal(undefined);
      expect(
        cost({
          provider: "openai",
          responseModel: "gpt-4o-mini",
          usage: { inputTokens: 10, outputTokens: 5, reasoningOutputTokens: 6 },
        }),
      ).to.equal(undefined);
    });

    it("one count missing: no cost, since an unreported count is not zero; an embeddings call has input only", () => {
      const model = { provider: "openai", responseModel: "gpt-4o-mini" };
      expect(cost({ ...model, usage: { outputTokens: 100 } })).to.equal(undefined);
      expect(cost({ ...model, usage: { inputTokens: 100 } })).to.equal(undefined);
      expect(
        cost({
          provider: "openai",
          requestModel: "text-embedding-3-small",
          usage: { inputTokens: 5000 },
          inputOnly: true,
        }),
      ).to.be.closeTo(usd([5000, 0.02]), 1e-12);
      expect(cost({ ...model, usage: { outputTokens: 100 }, inputOnly: true })).to.equal(undefined);
    });

    it("absurd prices or counts give no cost rather than Infinity", () => {
      const pricing = new PriceTable({ enabled: true, prices: { huge: { input: 1e308, output: 1e308 } } });
      expect(
        pricing.costOf({ responseModel: "huge", usage: { inputTokens: 1e15, outputTokens: 1e15 } }),
      ).to.equal(undefined);
    });
  });

  describe("options", () => {
    const usage: TokenUsage = { inputTokens: 1000, outputTokens: 100, cacheReadInputTokens: 200 };

    it("user prices win over the table, matched on the exact model name", () => {
      const pricing = new PriceTable({
        enabled: true,
        prices: {
          "gpt-4o-mini": { input: 1, output: 2 },
          "my-finetune": { input: 3, output: 4, cacheRead: 0.5 },
        },
      });
      // No cacheRead price: cached tokens cost the input price.
      expect(pricing.costOf({ provider: "openai", responseModel: "gpt-4o-mini", usage })).to.be.closeTo(
        usd([1000, 1], [100, 2]),
        1e-12,
      );
      // A model the table does not know, and no provider needed.
      expect(pricing.costOf({ requestModel: "my-finetune", usage })).to.be.closeTo(
        usd([800, 3], [200, 0.5], [100, 4]),
        1e-12,
      );
      // The user's price for the request model wins over the table's for the response model.
      expect(
        pricing.costOf({
          provider: "openai",
          responseModel: "gpt-4o-mini-2024-07-18",
          requestModel: "gpt-4o-mini",
          usage,
        }),
      ).to.be.closeTo(usd([1000, 1], [100, 2]), 1e-12);
      // Exact names only: another case is another model, priced by the table.
      expect(pricing.costOf({ provider: "openai", responseModel: "GPT-4o-mini", usage })).to.be.closeTo(
        0.000195,
        1e-12,
      );
      // Object keys that are not models are not prices.
      expect(pricing.costOf({ responseModel: "constructor", usage })).to.equal(undefined);
    });

    it("user prices are checked when the table is made", () => {
      const bad = (prices: unknown) => () =>
        new PriceTable({
          enabled: true,
          prices: prices as Record<string, { input: number; output: number }>,
        });
      expect(bad({ m: { input: 1 } })).to.throw(TypeError, /cost\.prices\["m"\]\.output/);
      expect(bad({ m: { input: -1, output: 1 } })).to.throw(
        TypeError,
        /\.input must be a non-negative number/,
      );
      expect(bad({ m: { input: 1, output: 1, cacheRead: "0.1" } })).to.throw(TypeError, /\.cacheRead/);
      expect(bad({ m: null })).to.throw(TypeError, /cost\.prices\["m"\]/);
      // A misspelt field would price those tokens at the input rate without a word.
      expect(bad({ m: { input: 1, output: 1, cache_read: 0.1 } })).to.throw(
        TypeError,
        /cost\.prices\["m"\] has an unknown field "cache_read"; the fields are input, output, cacheRead, cacheWrite/,
      );
      expect(bad([{ input: 1, output: 1 }])).to.throw(
        TypeError,
        /cost\.prices must be an object of model name/,
      );
      expect(bad({ m: [1, 2] })).to.throw(TypeError, /cost\.prices\["m"\] must be/);
    });

    it("disabled: no cost, and preload loads nothing", async () => {
      const off = new PriceTable({ enabled: false, prices: { "gpt-4o-mini": { input: 1, output: 1 } } });
      expect(off.costOf({ provider: "openai", responseModel: "gpt-4o-mini", usage })).to.equal(undefined);
      off.preload();
      await new Promise((resolve) => setImmediate(resolve));
      expect(off.loaded).to.equal(false);
    });

    it("preload loads the table off the caller's path", async () => {
      const pricing = new PriceTable({ enabled: true });
      pricing.preload();
      expect(pricing.loaded).to.equal(false);
      await new Promise((resolve) => setImmediate(resolve));
      expect(pricing.loaded).to.equal(true);
    });

    it("user prices need no table", () => {
      const pricing = new PriceTable({ enabled: true, prices: { m: { input: 1, output: 1 } } });
      pricing.costOf({ responseModel: "m", usage });
      expect(pricing.loaded).to.equal(false);
    });
  });

  it(`the resolved-model cache stays within ${MAX_CACHED_MODELS} entries`, function () {
    this.timeout(60_000);
    const pricing = new PriceTable({ enabled: true });
    const usage: TokenUsage = { inputTokens: 10, outputTokens: 10 };
    for (let i = 0; i < MAX_CACHED_MODELS + 100; i++) {
      pricing.costOf({ provider: "openai", responseModel: `unknown-model-${i}`, usage });
    }
    expect(pricing.cachedModels).to.equal(MAX_CACHED_MODELS);
    // Still right after evictions.
    expect(pricing.costOf({ provider: "openai", responseModel: "gpt-4o-mini", usage })).to.be.closeTo(
      usd([10, 0.15], [10, 0.6]),
      1e-12,
    );
    expect(pricing.cachedModels).to.equal(MAX_CACHED_MODELS);
  });
});

/** The table's provider ids (0.1.8). A provider added later is simply not covered by the sweep. */
const TABLE_PROVIDER_IDS = [
  "anthropic",
  "arcee",
  "avian",
  "aws",
  "azure",
  "baseten",
  "cerebras",
  "cloudflare",
  "cohere",
  "cursor",
  "deepseek",
  "doubleword",
  "fireworks",
  "github-copilot",
  "google",
  "groq",
  "huggingface_cerebras",
  "huggingface_fireworks-ai",
  "huggingface_groq",
  "huggingface_hyperbolic",
  "huggingface_nebius",
  "huggingface_novita",
  "huggingface_nscale",
  "huggingface_ovhcloud",
  "huggingface_publicai",
  "huggingface_sambanova",
  "huggingface_together",
  "minimax",
  "mistral",
  "modal",
  "moonshotai",
  "novita",
  "openai",
  "openrouter",
  "ovhcloud",
  "perplexity",
  "quicksilverpro",
  "together",
  "typesafe",
  "voyageai",
  "x-ai",
  "zai",
  "zhipuai",
];
