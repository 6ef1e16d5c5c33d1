import { type BackoffPolicy, retry } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';

export interface AckBatcherLimits {
  /** Acks per driver call; a batch this full goes out at once. */
  readonly maxBatch: number;
  /**
   * The oldest pending ack waits at most this long once CLOCK_EVERY more acks come in (the clock is
   * read on every CLOCK_EVERY-th ack of a batch, not on each one).
   */
  readonly maxDelayMs: number;
  /** The clock the age is read from (tests step it). */
  readonly now?: () => number;
}

const MIN_EXPECTED = 16;
/**
 * A batch's age is looked at on every CLOCK_EVERY-th ack that joins it (a power of two). A clock
 * read is 40–250 ns on the machines measured (Date.now and performance.now alike, more under load),
 * which per ack was a visible share of a consumer's per-delivery CPU; the setImmediate flush covers
 * every batch whose acks leave the event loop free, so the age only matters inside a long burst of
 * microtasks, where CLOCK_EVERY - 1 more acks add microseconds to the bound.
 */
export const CLOCK_EVERY = 8;

interface Batch {
  /** Sized for the previous batch (no regrowth in a steady stream); trimmed to `count` when sent. */
  readonly deliveries: Delivery[];
  count: number;
  readonly openedAt: number;
  readonly sent: Promise<void>;
  readonly start: () => void;
}

/**
 * Coalesces acks into driver batches: acks made close together share one broker request and one
 * promise. A batch goes out when it is full (count), when an ack finds it older than maxDelayMs
 * (time, looked at every CLOCK_EVERY acks), or at the event loop's next check phase (setImmediate),
 * whichever comes first. The
 * first two run inside add(), so a long burst of microtasks — which never lets setImmediate run —
 * still holds at most maxBatch pending acks (and their bodies and open leases), never more.
 * Retryable failures are retried with backoff; a final failure is reported to the acks' callers
 * (the messages will be redelivered, never lost).
 */
export class AckBatcher {
  readonly #driver: DriverConsumer;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  readonly #now: () => number;
  readonly #policy: BackoffPolicy;
  readonly #logger: Logger;
  #current: Batch | undefined;
  /**
   * One check-phase flush at a time, bound to the batcher rather than a batch: a batch sent early
   * by count or age is not kept alive (with its message bodies) by an immediate that cannot run
   * until the burst ends.
   */
  #scheduled = false;
  /** The size a new batch's array starts at: the last batch's. */
  #expected = MIN_EXPECTED;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(driver: DriverConsumer, limits: AckBatcherLimits, policy: BackoffPolicy, logger: Logger) {
    this.#driver = driver;
    this.#maxBatch = limits.maxBatch;
    this.#maxDelayMs = limits.maxDelayMs;
    this.#now = limits.now ?? Date.now;
    this.#policy = policy;
    this.#logger = logger;
  }

  /** Acks waiting to be handed to the driver; never more than maxBatch. */
  get pending(): number {
    return this.#current?.count ?? 0;
  }

  add(delivery: Delivery): Promise<void> {
    let batch = this.#current;
    if (
      batch !== undefined &&
      (batch.count & (CLOCK_EVERY - 1)) === 0 &&
      this.#now() - batch.openedAt >= this.#maxDelayMs
    ) {
      this.#flush();
      batch = undefined;
    }
    batch ??= this.#open();
    batch.deliveries[batch.count++] = delivery;
    if (batch.count >= this.#maxBatch) this.#flush();
    return batch.sent;
  }

  /** Resolves when every ack made so far has been sent (or has failed for good). */
  async drain(): Promise<void> {
    while (this.#current !== undefined || this.#inFlight.size > 0) {
      this.#flush();
      await Promise.allSettled(this.#inFlight);
    }
  }

  #open(): Batch {
    const deliveries = new Array<Delivery>(this.#expected);
    let start!: () => void;
    const started = new Promise<void>((resolve) => {
      start = resolve;
    });
    const batch: Batch = {
      deliveries,
      count: 0,
      openedAt: this.#now(),
      sent: started.then(() => this.#send(deliveries)),
      start,
    };
    this.#current = batch;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
    return batch;
  }

  readonly #onImmediate = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  #flush(): void {
    const batch = this.#current;
    if (batch === undefined) return;
    this.#current = undefined;
    batch.deliveries.length = batch.count;
    this.#expected = Math.min(this.#maxBatch, Math.max(MIN_EXPECTED, batch.count));
    this.#inFlight.add(batch.sent);
    void batch.sent.then(
      () => this.#inFlight.delete(batch.sent),
      () => this.#inFlight.delete(batch.sent),
    );
    batch.start();
  }

  #send(deliveries: Delivery[]): Promise<void> {
    const onRetry = retryWarning(this.#logger, deliveries);
    return retry(() => this.#driver.ack(deliveries), this.#policy, { onRetry });
  }
}

/**
 * The warning for a retried ack batch. Made by a function rather than written in place: run from
 * source (tsx, as the benches are), every named closure costs an Object.defineProperty of its
 * name and a properties store, once per batch here.
 */
function retryWarning(logger: Logger, deliveries: Delivery[]) {
  return (error: unknown, attempt: number, delayMs: number) =>
    logger.warn(
      { attempt, delayMs, count: deliveries.length, error: (error as Error).message },
      'ack failed; retrying',
    );
}
