import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { Document } from "@langchain/core/documents";
import { BaseChatModel, type BaseChatModelCallOptions } from "@langchain/core/language_models/chat_models";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { BaseRetriever } from "@langchain/core/retrievers";

export interface ScriptedTurn {
  text?: string;
  toolCalls?: { id: string; name: string; args: Record<string, unknown> }[];
  error?: Error;
  /** A cost the provider reports in USD, as OpenRouter does (`usage.cost`). */
  cost?: number;
}

/**
 * An in-process chat model that reports what real providers report: a model name, a response id,
 * a finish reason and usage with cache and reasoning details, streamed or not. Turns are
 * scripted in order.
 */
export class ScriptedChatModel extends BaseChatModel<BaseChatModelCallOptions & { tools?: unknown[] }> {
  private turn = 0;

  constructor(
    private readonly turns: ScriptedTurn[],
    private readonly modelName = "gpt-test",
  ) {
    super({});
  }

  _llmType(): string {
    return "scripted";
  }

  override getLsParams(options: this["ParsedCallOptions"]) {
    return {
      ls_provider: "openai",
      ls_model_name: this.modelName,
      ls_model_type: "chat" as const,
      ls_temperature: 0.2,
      ls_stop: options.stop,
    };
  }

  override invocationParams(options?: this["ParsedCallOptions"]) {
    return {
      model: this.modelName,
      temperature: 0.2,
      top_p: 0.9,
      max_tokens: 256,
      seed: 7,
      tools: options?.tools,
    };
  }

  override bindTools(tools: unknown[]) {
    return this.withConfig({ tools } as Partial<this["ParsedCallOptions"]>);
  }

  private next(): ScriptedTurn {
    const turn = this.turns[Math.min(this.turn, this.turns.length - 1)];
    this.turn++;
    if (turn.error) throw turn.error;
    return turn;
  }

  private message(turn: ScriptedTurn): AIMessage {
    return new AIMessage({
      content: turn.text ?? "",
      id: `resp-${this.turn}`,
      tool_calls: turn.toolCalls?.map((call) => ({ ...call, type: "tool_call" as const })),
      response_metadata: {
        model_name: `${this.modelName}-2025-01-01`,
        finish_reason: turn.toolCalls ? "tool_calls" : "stop",
        ...(turn.cost !== undefined ? { usage: { cost: turn.cost } } : {}),
      },
      usage_metadata: {
        input_tokens: 120,
        output_tokens: 30,
        total_tokens: 150,
        input_token_details: { cache_read: 20 },
        output_token_details: { reasoning: 5 },
      },
    });
  }

  async _generate(_messages: BaseMessage[]): Promise<ChatResult> {
    const message = this.message(this.next());
    return { generations: [{ text: String(message.content), message }] };
  }

  override async *_streamResponseChunks(
    _messages: BaseMessage[],
    _options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const full = this.message(this.next());
    const words = String(full.content).split(/(?<= )/);
    for (const word of words) {
      const chunk = new ChatGenerationChunk({
        text: word,
        message: new AIMessageChunk({ content: word, id: full.id }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(word, undefined, undefined, undefined, undefined, { chunk });
    }
    yield new ChatGenerationChunk({
      text: "",
      message: new AIMessageChunk({
        content: "",
        id: full.id,
        tool_call_chunks: full.tool_calls?.map((call, index) => ({
          id: call.id,
          name: call.name,
          args: JSON.stringify(call.args),
          index,
          type: "tool_call_chunk" as const,
        })),
        response_metadata: full.response_metadata,
        usage_metadata: full.usage_metadata,
      }),
      generationInfo: { finish_reason: full.response_metadata.finish_reason },
    });
  }
}

/** A retriever over a fixed corpus: documents whose text shares a word with the query, with a score. */
export class KeywordRetriever extends BaseRetriever {
  lc_namespace = ["test", "retrievers"];

  constructor(private readonly corpus: { id: string; text: string }[]) {
    super({});
  }

  override async _getRelevantDocuments(query: string): Promise<Document[]> {
    const words = new Set(query.toLowerCase().split(/\W+/).filter(Boolean));
    return this.corpus
      .map((entry) => {
        const hits = entry.text
          .toLowerCase()
          .split(/\W+/)
          .filter((word) => words.has(word)).length;
        return new Document({
          id: entry.id,
          pageContent: entry.text,
          metadata: { score: hits / words.size },
        });
      })
      .filter((document) => (document.metadata.score as number) > 0);
  }
}
