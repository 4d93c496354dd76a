/**
 * The trace ids of recently finished outermost runs, by run id: so that a caller can look up the
 * trace an answer came from after the run has ended (to attach feedback or a score to it).
 * Bounded: past `capacity` the oldest entry is forgotten first. Map order is insertion order.
 */
export class RecentTraceIds {
  private readonly ids = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.ids.size;
  }

  remember(runId: string, traceId: string): void {
    this.ids.delete(runId);
    this.ids.set(runId, traceId);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.keys().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }

  get(runId: string): string | undefined {
    return this.ids.get(runId);
  }
}
