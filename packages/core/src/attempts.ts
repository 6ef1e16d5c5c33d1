import type { AttemptStore } from './attempt-store.js';

/**
 * Counts deliveries per broker-assigned message identity (`Delivery.attemptKey`) for brokers that
 * neither count deliveries nor let the count travel with the message: the in-process AttemptStore,
 * a consumer's default. The count lives in this process only: it resets when the process restarts,
 * and another consumer process counts apart (a durable, shared store bounds crash loops).
 * Bounded (oldest keys forgotten first) so memory stays flat on an endless stream.
 */
export class AttemptTracker implements AttemptStore {
  readonly #counts = new Map<string, number>();
  readonly #limit: number;

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  /** One more delivery of `id`; its count so far. Synchronous: a consumer's path without a store. */
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

  /** Forgets `id`'s count (its message was acked). Synchronous, like next(). */
  drop(id: string): void {
    this.#counts.delete(id);
  }

  async increment(keys: readonly string[]): Promise<number[]> {
    return keys.map((key) => this.next(key));
  }

  async forget(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.drop(key);
  }
}
