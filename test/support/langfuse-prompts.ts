import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A prompt as Langfuse's prompt API returns it. */
export interface PromptRecord {
  name: string;
  version: number;
  type: "text" | "chat";
  prompt: unknown;
}

/**
 * Serves `GET /api/public/v2/prompts/{name}` on 127.0.0.1 so the real `langfuse` and
 * `@langfuse/client` clients build their real prompt objects without a network.
 */
export async function startPromptServer(
  prompts: PromptRecord[],
): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const match = /^\/api\/public\/v2\/prompts\/([^/?]+)/.exec(request.url ?? "");
    const prompt = match ? prompts.find((entry) => entry.name === decodeURIComponent(match[1])) : undefined;
    response.setHeader("content-type", "application/json");
    if (prompt === undefined) {
      response.statusCode = 404;
      response.end(JSON.stringify({ message: "not found" }));
      return;
    }
    response.end(
      JSON.stringify({ ...prompt, config: {}, labels: ["production"], tags: [], commitMessage: null }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
