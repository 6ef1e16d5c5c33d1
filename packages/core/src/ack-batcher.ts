import { type BackoffPolicy, retry } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';

/**
 * Coalesces acks into driver batches: every ack made in the same tick shares one broker request
 * and one promise. Retryable failures are retried with backoff; a final failure is reported to the
 * acks' callers (the messages will be redelivered, never lost).
 */
export class AckBatcher {
  readonly #driver: DriverConsumer;
  readonly #maxBatch: number;
  readonly #policy: BackoffPolicy;
  readonly #logger: Logger;
  #pending: Delivery[] = [];
  #flush: Promise<void> | undefined;
  #inFlight = new Set<Promise<void>>();

  constructor(driver: DriverConsumer, maxBatch: number, policy: BackoffPolicy, logger: Logger) {
    this.#driver = driver;
    this.#maxBatch = maxBatch;
    this.#policy = policy;
    this.#logger = logger;
  }

  add(delivery: Delivery): Promise<void> {
    this.#pending.push(delivery);
    this.#flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#send());
    return this.#flush;
  }

  /** Resolves when every ack made so far has been sent (or has failed for good). */
  async drain(): Promise<void> {
    while (this.#flush !== undefined || this.#inFlight.size > 0) {
      await Promise.allSettled([this.#flush, ...this.#inFlight]);
    }
  }

  async #send(): Promise<void> {
    const all = this.#pending;
    this.#pending = [];
    this.#flush = undefined;
    const chunks: Delivery[][] = [];
    for (let i = 0; i < all.length; i += this.#maxBatch) chunks.push(all.slice(i, i + this.#maxBatch));
    const sends = chunks.map((chunk) => {
      const p = retry(() => this.#driver.ack(chunk), this.#policy, {
        onRetry: (error, attempt, delayMs) =>
          this.#logger.warn(
            { attempt, delayMs, count: chunk.length, error: (error as Error).message },
            'ack failed; retrying',
          ),
      });
      this.#inFlight.add(p);
      void p.catch(() => {}).finally(() => this.#inFlight.delete(p));
      return p;
    });
    await Promise.all(sends);
  }
}
