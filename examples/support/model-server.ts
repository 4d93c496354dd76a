import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A small OpenAI-compatible server on 127.0.0.1: scripted chat completions (tool calls, streaming
 * with usage, several choices), legacy completions and embeddings (a toy bag-of-words model, float
 * or base64, with usage; scripted failures). The demo and the tests point the real `ChatOpenAI`
 * and `OpenAIEmbeddings` clients at it, so everything runs offline and without keys.
 */

export interface ScriptedToolCall {
  id?: string;
  name: string;
  arguments: Record<string, unknown> | string;
}

export interface ScriptedReply {
  /** Assistant text. */
  content?: string;
  /** Tool calls (finish reason "tool_calls"). */
  toolCalls?: ScriptedToolCall[];
  /** Default: "tool_calls" with tool calls, else "stop". */
  finishReason?: string;
  /** Response model. Default: the request's model + "-2024-07-18". */
  model?: string;
  /** Token usage. Default: an estimate of 1 token per 4 characters. */
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    cached_tokens?: number;
    reasoning_tokens?: number;
  };
  /** Wait this long before answering. */
  delayMs?: number;
  /** Answer with this HTTP status and an OpenAI error body instead. */
  status?: number;
}

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  tools?: {
    type: string;
    function: {
      name: string;
      description?: string;
      parameters?: { properties?: Record<string, { type?: string }>; required?: string[] };
    };
  }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  n?: number;
  [key: string]: unknown;
}

export interface RecordedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export type ReplyScript = (request: ChatRequest, index: number) => ScriptedReply;

export interface EmbeddingsRequest {
  model: string;
  /** The texts to embed (the API also takes a single string). */
  input: string[];
  dimensions?: number;
  encoding_format?: string;
  [key: string]: unknown;
}

export interface ScriptedEmbeddings {
  /** Answer with this HTTP status and an OpenAI error body instead. */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Input tokens reported in `usage`. Default: an estimate of 1 token per 4 characters. */
  promptTokens?: number;
}

/** Decides each embeddings reply (index: the embeddings request's number, from 0). */
export type EmbeddingsScript = (request: EmbeddingsRequest, index: number) => ScriptedEmbeddings;

export interface ModelServerOptions {
  /** Decides each chat reply. Default: `defaultReply`. */
  reply?: ReplyScript;
  /** Decides each embeddings reply. Default: vectors from `toyEmbedding`, usage estimated. */
  embeddings?: EmbeddingsScript;
  /** Delay between streamed chunks (ms). Default 2. */
  chunkDelayMs?: number;
}

export interface ModelServer {
  /** Base URL for OpenAI clients, e.g. `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const textOf = (content: unknown): string =>
  typeof content === "string"
    ? content
    : Array.isArray(content)
      ? content
          .map((part) => (typeof part === "object" && part && "text" in part ? String(part.text) : ""))
          .join("")
      : "";

const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/**
 * The demo's script: when tools are offered and none answered since the last user message, call the
 * first tool with arguments from its schema; otherwise answer from the last tool result.
 */
export const defaultReply: ReplyScript = (request) => {
  const messages = request.messages;
  let lastUser = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role === "user") {
      lastUser = i;
      break;
    }
  }
  const question = lastUser >= 0 ? textOf(messages[lastUser].content) : "";
  const toolResults = messages.slice(lastUser + 1).filter((message) => message.role === "tool");
  const tool = request.tools?.[0]?.function;
  if (tool !== undefined && toolResults.length === 0) {
    const args: Record<string, unknown> = {};
    for (const [name, schema] of Object.entries(tool.parameters?.properties ?? {})) {
      if (!(tool.parameters?.required ?? []).includes(name)) continue;
      args[name] =
        schema.type === "number" || schema.type === "integer"
          ? 1
          : schema.type === "boolean"
            ? true
            : question;
    }
    return { toolCalls: [{ name: tool.name, arguments: args }] };
  }
  const context = messages
    .filter((message) => message.role === "system")
    .map((message) => textOf(message.content))
    .join("");
  const evidence =
    toolResults.length > 0 ? textOf(toolResults[toolResults.length - 1].content) : question.slice(0, 60);
  return { content: `Based on ${context.length} characters of context: ${evidence}` };
};

/** `text-embedding-3-small`'s length. */
const DEFAULT_DIMENSIONS = 1536;

const STOP_WORDS = new Set(
  "a an and are as at be been but by can cannot for from has have i in is it its my of on once or so the their they this to was we were with within after".split(
    " ",
  ),
);

/** A few words that mean the same thing in a shop's help center share a dimension, as in a real model. */
const SYNONYMS: Record<string, string> = { refund: "return", arriv: "deliver", purchas: "order" };

/** A crude stemmer: "returns", "returned" → "return"; "delivery", "delivered" → "deliver". */
function stem(word: string): string {
  for (const suffix of ["ing", "ed", "es", "s", "y", "e"]) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 4) {
      word = word.slice(0, -suffix.length);
      break;
    }
  }
  return SYNONYMS[word] ?? word;
}

/** FNV-1a hash of a word stem: its bucket and its sign. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * A toy embedding model: the text's word stems (stop words left out) hashed into `dimensions`
 * buckets, counted, and scaled to unit length. Texts that share words (or synonyms) get a high
 * cosine similarity, which is enough for the demo's vector search to find the right articles.
 */
export function toyEmbedding(text: string, dimensions = DEFAULT_DIMENSIONS): Float32Array {
  const vector = new Float32Array(dimensions);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    if (STOP_WORDS.has(word)) continue;
    const term = stem(word);
    // A sign per word as well as a bucket, so collisions cancel out rather than add up.
    const h = hash(term);
    vector[h % dimensions] += h & 0x80000000 ? -1 : 1;
  }
  let norm = 0;
  for (const value of vector) norm += value * value;
  if (norm === 0) vector[0] = 1;
  else for (let i = 0; i < dimensions; i++) vector[i] /= Math.sqrt(norm);
  return vector;
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits the scripted delay; answers a scripted failure status, as OpenAI's error body (true when it did). */
async function answeredAsScripted(
  scripted: { delayMs?: number; status?: number },
  response: ServerResponse,
): Promise<boolean> {
  if (scripted.delayMs) await sleep(scripted.delayMs);
  if (scripted.status === undefined) return false;
  sendJson(response, scripted.status, {
    error: { message: `scripted failure ${scripted.status}`, type: "server_error", code: scripted.status },
  });
  return true;
}

export async function startModelServer(options: ModelServerOptions = {}): Promise<ModelServer> {
  const reply = options.reply ?? defaultReply;
  const embeddingsScript: EmbeddingsScript = options.embeddings ?? (() => ({}));
  let embeddingsIndex = 0;
  const chunkDelayMs = options.chunkDelayMs ?? 2;
  const requests: RecordedRequest[] = [];
  let counter = 0;
  let chatIndex = 0;

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let body: Record<string, unknown> = {};
      try {
        body =
          chunks.length > 0
            ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>)
            : {};
      } catch {
        sendJson(response, 400, { error: { message: "invalid JSON body", type: "invalid_request_error" } });
        return;
      }
      const path = (request.url ?? "").split("?")[0];
      requests.push({ path, headers: request.headers, body });
      const id = ++counter;
      const route =
        path === "/v1/chat/completions"
          ? chat(body as ChatRequest, id, chatIndex++, response)
          : path === "/v1/completions"
            ? completion(body, id, response)
            : path === "/v1/embeddings"
              ? embeddings(body, embeddingsIndex++, response)
              : Promise.resolve(
                  sendJson(response, 404, { error: { message: `no route ${path}`, type: "not_found" } }),
                );
      route.catch((error: unknown) => {
        if (!response.headersSent)
          sendJson(response, 500, { error: { message: String(error), type: "server_error" } });
        else response.end();
      });
    });
  });

  async function chat(body: ChatRequest, id: number, index: number, response: ServerResponse): Promise<void> {
    const scripted = reply(body, index);
    if (await answeredAsScripted(scripted, response)) return;
    const model = scripted.model ?? `${body.model}-2024-07-18`;
    const toolCalls = (scripted.toolCalls ?? []).map((call, i) => ({
      id: call.id ?? `call_${id}_${i}`,
      type: "function",
      function: {
        name: call.name,
        arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
      },
    }));
    const finishReason = scripted.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
    const content = scripted.content ?? (toolCalls.length > 0 ? null : "");
    const promptText = body.messages.map((message) => textOf(message.content)).join(" ");
    const u = scripted.usage ?? {
      prompt_tokens: estimateTokens(promptText),
      completion_tokens: estimateTokens(content ?? JSON.stringify(toolCalls)),
    };
    const usage = {
      prompt_tokens: u.prompt_tokens,
      completion_tokens: u.completion_tokens,
      total_tokens: u.prompt_tokens + u.completion_tokens,
      prompt_tokens_details: { cached_tokens: u.cached_tokens ?? 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: u.reasoning_tokens ?? 0, audio_tokens: 0 },
    };
    const base = { id: `chatcmpl-${id}`, created: 1_700_000_000 + id, model, system_fingerprint: "fp_local" };
    const choices = Math.max(1, Number(body.n ?? 1));
    if (!body.stream) {
      sendJson(response, 200, {
        ...base,
        object: "chat.completion",
        choices: Array.from({ length: choices }, (_, index) => ({
          index,
          message: {
            role: "assistant",
            content,
            ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
            refusal: null,
          },
          logprobs: null,
          finish_reason: finishReason,
        })),
        usage,
      });
      return;
    }
    response.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const send = async (chunk: unknown) => {
      response.write(
        `data: ${JSON.stringify({ ...base, object: "chat.completion.chunk", ...(chunk as object) })}\n\n`,
      );
      if (chunkDelayMs > 0) await sleep(chunkDelayMs);
    };
    for (let index = 0; index < choices; index++) {
      await send({ choices: [{ index, delta: { role: "assistant", content: "" }, finish_reason: null }] });
      for (const piece of (content ?? "").match(/\S+\s*/g) ?? []) {
        await send({ choices: [{ index, delta: { content: piece }, finish_reason: null }] });
      }
      for (const [i, call] of toolCalls.entries()) {
        await send({
          choices: [
            {
              index,
              delta: {
                tool_calls: [
                  {
                    index: i,
                    id: call.id,
                    type: "function",
                    function: { name: call.function.name, arguments: "" },
                  },
                ],
              },
              finish_reason: null,
            },
          ],
        });
        const args = call.function.arguments;
        const half = Math.ceil(args.length / 2);
        for (const part of [args.slice(0, half), args.slice(half)]) {
          if (part)
            await send({
              choices: [
                {
                  index,
                  delta: { tool_calls: [{ index: i, function: { arguments: part } }] },
                  finish_reason: null,
                },
              ],
            });
        }
      }
      await send({ choices: [{ index, delta: {}, finish_reason: finishReason }] });
    }
    if (body.stream_options?.include_usage) await send({ choices: [], usage });
    response.end("data: [DONE]\n\n");
  }

  async function completion(
    body: Record<string, unknown>,
    id: number,
    response: ServerResponse,
  ): Promise<void> {
    const prompt = Array.isArray(body.prompt) ? String(body.prompt[0]) : String(body.prompt ?? "");
    const text = ` completion of: ${prompt.slice(0, 40)}`;
    const usage = {
      prompt_tokens: estimateTokens(prompt),
      completion_tokens: estimateTokens(text),
      total_tokens: estimateTokens(prompt) + estimateTokens(text),
    };
    const base = {
      id: `cmpl-${id}`,
      created: 1_700_000_000 + id,
      model: `${String(body.model)}-0914`,
      system_fingerprint: "fp_local",
    };
    if (!body.stream) {
      sendJson(response, 200, {
        ...base,
        object: "text_completion",
        choices: [{ index: 0, text, logprobs: null, finish_reason: "stop" }],
        usage,
      });
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream" });
    for (const piece of text.match(/\S+\s*|\s+/g) ?? []) {
      response.write(
        `data: ${JSON.stringify({ ...base, object: "text_completion", choices: [{ index: 0, text: piece, logprobs: null, finish_reason: null }] })}\n\n`,
      );
    }
    response.write(
      `data: ${JSON.stringify({ ...base, object: "text_completion", choices: [{ index: 0, text: "", logprobs: null, finish_reason: "stop" }] })}\n\n`,
    );
    response.end("data: [DONE]\n\n");
  }

  async function embeddings(
    body: Record<string, unknown>,
    index: number,
    response: ServerResponse,
  ): Promise<void> {
    const input = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
    const request: EmbeddingsRequest = {
      ...body,
      model: String(body.model ?? "text-embedding-3-small"),
      input,
    };
    const scripted = embeddingsScript(request, index);
    if (await answeredAsScripted(scripted, response)) return;
    const dimensions =
      typeof body.dimensions === "number" && body.dimensions > 0 ? body.dimensions : DEFAULT_DIMENSIONS;
    // The OpenAI SDK asks for base64 (little-endian float32) unless the caller chose a format.
    const base64 = body.encoding_format === "base64";
    const tokens = scripted.promptTokens ?? input.reduce((sum, text) => sum + estimateTokens(text), 0);
    sendJson(response, 200, {
      object: "list",
      model: request.model,
      data: input.map((text, i) => {
        const vector = toyEmbedding(text, dimensions);
        return {
          object: "embedding",
          index: i,
          embedding: base64 ? Buffer.from(vector.buffer).toString("base64") : Array.from(vector),
        };
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
