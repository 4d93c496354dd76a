import type { SpanContext } from "@opentelemetry/api";

/**
 * The span contexts of recently finished outermost runs, by run id: so that a caller can look up
 * the trace (and span) an answer came from after the run has ended, to attach feedback or a score
 * to it. Bounded: past `capacity` the oldest entry is forgotten first. Map order is insertion order.
 */
export class RecentRuns {
  private readonly spans = new Map<string, SpanContext>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.spans.size;
  }

  remember(runId: string, span: SpanContext): void {
    this.spans.delete(runId);
    this.spans.set(runId, span);
    if (this.spans.size > this.capacity) {
      const oldest = this.spans.keys().next().value;
      if (oldest !== undefined) this.spans.delete(oldest);
    }
  }

  get(runId: string): SpanContext | undefined {
    return this.spans.get(runId);
  }
}
