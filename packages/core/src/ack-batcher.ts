import { type BackoffPolicy, retry } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';

interface Batch {
  readonly deliveries: Delivery[];
  readonly sent: Promise<void>;
  send(): void;
}

/**
 * Coalesces acks into driver batches: every ack made in the same tick shares one broker request
 * and one promise, and a batch that reaches the driver's limit goes out at once. Retryable
 * failures are retried with backoff; a final failure is reported to the acks' callers (the
 * messages will be redelivered, never lost).
 */
export class AckBatcher {
  readonly #driver: DriverConsumer;
  readonly #maxBatch: number;
  readonly #policy: BackoffPolicy;
  readonly #logger: Logger;
  #current: Batch | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(driver: DriverConsumer, maxBatch: number, policy: BackoffPolicy, logger: Logger) {
    this.#driver = driver;
    this.#maxBatch = maxBatch;
    this.#policy = policy;
    this.#logger = logger;
  }

  add(delivery: Delivery): Promise<void> {
    this.#current ??= this.#open();
    const batch = this.#current;
    batch.deliveries.push(delivery);
    // A burst of acks made from microtasks never lets setImmediate run: without this, pending
    // acks (and the message bodies they hold) would grow with the burst.
    if (batch.deliveries.length >= this.#maxBatch) batch.send();
    return batch.sent;
  }

  /** Resolves when every ack made so far has been sent (or has failed for good). */
  async drain(): Promise<void> {
    while (this.#current !== undefined || this.#inFlight.size > 0) {
      await Promise.allSettled([this.#current?.sent, ...this.#inFlight]);
    }
  }

  #open(): Batch {
    const deliveries: Delivery[] = [];
    let start!: () => void;
    const started = new Promise<void>((resolve) => {
      start = resolve;
    });
    const sent = started.then(() => this.#send(deliveries));
    const batch: Batch = {
      deliveries,
      sent,
      send: () => {
        if (this.#current === batch) this.#current = undefined;
        start();
      },
    };
    setImmediate(batch.send);
    return batch;
  }

  async #send(deliveries: Delivery[]): Promise<void> {
    const p = retry(() => this.#driver.ack(deliveries), this.#policy, {
      onRetry: (error, attempt, delayMs) =>
        this.#logger.warn(
          { attempt, delayMs, count: deliveries.length, error: (error as Error).message },
          'ack failed; retrying',
        ),
    });
    this.#inFlight.add(p);
    void p.catch(() => {}).finally(() => this.#inFlight.delete(p));
    await p;
  }
}
