// What LangChain's docs tell Cloudflare Workers users (with nodejs_compat) to do before anything
// else: give LangChain an AsyncLocalStorage, so config propagates into nested runnables. Then the app.

import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncLocalStorageProviderSingleton } from "@langchain/core/singletons";

AsyncLocalStorageProviderSingleton.initializeGlobalInstance(new AsyncLocalStorage());

export { default } from "./app.mjs";
