import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";

/**
 * Mocha root hooks: the async-hooks context manager every Node app with OTel has, so the span
 * active in a test's caller is visible to the handler, as in production.
 */
export const mochaHooks = {
  beforeAll(): void {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  },
  afterAll(): void {
    context.disable();
  },
};
