import { ClosedError } from './errors.js';
import type { Producer } from './producer.js';

/** Reply addresses kept open at once; the least recently used is closed past this. */
const MAX_OPEN = 64;

/**
 * Producers for reply addresses, opened on first use and kept for the next reply to the same
 * requester. Bounded: every requester process has an address of its own (and on RabbitMQ every
 * requesting channel), so a long-lived responder would otherwise keep one per requester it ever
 * answered.
 */
export class ReplyProducers {
  readonly #open: (address: string) => Promise<Producer>;
  /** Most recently used last (a Map keeps insertion order). */
  readonly #producers = new Map<string, Promise<Producer>>();
  #closed = false;

  constructor(open: (address: string) => Promise<Producer>) {
    this.#open = open;
  }

  get(address: string): Promise<Producer> {
    if (this.#closed) return Promise.reject(new ClosedError('the broker is closed: no more replies'));
    let producer = this.#producers.get(address);
    if (producer !== undefined) {
      this.#producers.delete(address);
      this.#producers.set(address, producer);
      return producer;
    }
    producer = this.#open(address);
    // A failed open is not kept: the next reply tries again.
    producer.catch(() => this.#producers.delete(address));
    this.#producers.set(address, producer);
    if (this.#producers.size > MAX_OPEN) {
      const [oldest, evicted] = this.#producers.entries().next().value!;
      this.#producers.delete(oldest);
      // Closing drains: a reply still being sent on it is sent first.
      void evicted.then((p) => p.close()).catch(() => {});
    }
    return producer;
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const all = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.allSettled(all.map(async (p) => (await p).close({ timeoutMs })));
  }
}
