/**
 * Counts deliveries per broker-assigned message identity (`Delivery.attemptKey`) for brokers that
 * neither count deliveries nor let the count travel with the message. The count lives in this
 * process only: it resets when the process restarts, and another consumer process counts apart.
 * Bounded (oldest keys forgotten first) so memory stays flat on an endless stream.
 */
export class AttemptTracker {
  readonly #counts = new Map<string, number>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  next(id: string): number {
    const count = (this.#counts.get(id) ?? 0) + 1;
    this.#counts.delete(id);
    this.#counts.set(id, count);
    if (this.#counts.size > this.#limit) {
      const oldest = this.#counts.keys().next().value;
      if (oldest !== undefined) this.#counts.delete(oldest);
    }
    return count;
  }

  forget(id: string): void {
    this.#counts.delete(id);
  }
}
