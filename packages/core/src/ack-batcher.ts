import { type BackoffPolicy, retry } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import { isRetryable } from './errors.js';
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
  /** Acks of this batch whose failure the batcher reports (add(delivery, true)). */
  reported: number;
  readonly openedAt: number;
  /** Settles once the driver has acked the batch, or failed to for good. */
  readonly sent: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** Called once per reported ack of a batch that failed for good (the consumer logs each). */
export type AckFailed = (error: unknown, count: number) => void;

const ignore = (): void => {};

/**
 * The batchers of one clock that have a batch open, oldest batch first: a list threaded through
 * the batchers themselves (no allocation per batch), appended to when a batch opens and unlinked
 * when it goes out. Every clock read of any batcher on the clock (a batch opening, every
 * CLOCK_EVERY-th ack) also sends the other batchers' batches that are past maxDelayMs: inside a
 * microtask burst that acks on many consumers, a consumer that acked once and then not again
 * would otherwise hold that ack (and its body and open lease) until the burst ends. With one
 * maxDelayMs for every batcher (the consumer's ACK_LIMITS), stopping at the first young batch
 * finds every old one.
 */
interface OpenBatches {
  head: AckBatcher | undefined;
  tail: AckBatcher | undefined;
}

/** One list per clock: tests step their own clocks, and ages are only compared on one clock. */
const openBatchesByClock = new WeakMap<() => number, OpenBatches>();

function openBatchesOf(now: () => number): OpenBatches {
  let open = openBatchesByClock.get(now);
  if (open === undefined) {
    open = { head: undefined, tail: undefined };
    openBatchesByClock.set(now, open);
  }
  return open;
}

/**
 * Coalesces acks into driver batches: acks made close together share one broker request and one
 * promise. A batch goes out when it is full (count), when an ack finds it older than maxDelayMs
 * (time, looked at every CLOCK_EVERY acks), when any other consumer's batcher reads the clock and
 * finds it older than that (OpenBatches), or at the event loop's next check phase (setImmediate),
 * whichever comes first. The first three run inside add(), so a long burst of microtasks — which
 * never lets setImmediate run — still holds at most maxBatch pending acks per consumer (and their
 * bodies and open leases), and none for longer than maxDelayMs past the burst's next clock read.
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
  /** The size a new batch's array starts at: the recent batches' largest, decaying (see #flush). */
  #expected = MIN_EXPECTED;
  /** Batches handed to the driver and not settled yet; drain() waits until none is left. */
  #inFlight = 0;
  #idle: Array<() => void> = [];
  readonly #failed: AckFailed | undefined;
  /** This clock's batchers with a batch open, and this batcher's neighbours there while it has one. */
  readonly #openBatches: OpenBatches;
  #olderOpen: AckBatcher | undefined;
  #newerOpen: AckBatcher | undefined;

  constructor(
    driver: DriverConsumer,
    limits: AckBatcherLimits,
    policy: BackoffPolicy,
    logger: Logger,
    failed?: AckFailed,
  ) {
    this.#driver = driver;
    this.#maxBatch = limits.maxBatch;
    this.#maxDelayMs = limits.maxDelayMs;
    this.#now = limits.now ?? Date.now;
    this.#openBatches = openBatchesOf(this.#now);
    this.#policy = policy;
    this.#logger = logger;
    this.#failed = failed;
  }

  /** Acks waiting to be handed to the driver; never more than maxBatch. */
  get pending(): number {
    return this.#current?.count ?? 0;
  }

  /**
   * Queues the ack of `delivery`; the promise settles with its batch. `report`: a final failure is
   * also passed to the constructor's `failed` (counted per batch), for callers that keep no promise.
   */
  add(delivery: Delivery, report = false): Promise<void> {
    let batch = this.#current;
    if (batch !== undefined && (batch.count & (CLOCK_EVERY - 1)) === 0) {
      const now = this.#now();
      this.#sweep(now);
      // Its own batch, when the sweep stopped at a younger one of a batcher with a longer delay.
      if (this.#current !== undefined && now - batch.openedAt >= this.#maxDelayMs) this.#flush();
      batch = this.#current;
    }
    batch ??= this.#open();
    batch.deliveries[batch.count++] = delivery;
    if (report) batch.reported++;
    if (batch.count >= this.#maxBatch) this.#flush();
    return batch.sent;
  }

  /** Resolves when every ack made so far has been sent (or has failed for good). */
  async drain(): Promise<void> {
    while (this.#current !== undefined || this.#inFlight > 0) {
      this.#flush();
      await new Promise<void>((resolve) => this.#idle.push(resolve));
    }
  }

  // Per batch: one promise (its resolvers, a catch) and the driver's ack with one then. It used to
  // be a `started.then(send)` chain, a Set entry with two closures to leave it, retry()'s async
  // frame and a catch per batch in the consumer: ≈ 2 KB per batch, most of a consumer's
  // allocation per receive, which at one delivery per receive (64 KiB and up, MQTT) is per
  // message (≈ 1 KB and ≈ 0.3 µs less now). retry() runs only after a first attempt fails.
  /** Sends every batch on this clock that is past maxDelayMs at `now`, oldest first. */
  #sweep(now: number): void {
    const open = this.#openBatches;
    for (let oldest = open.head; oldest !== undefined; oldest = open.head) {
      const batch = oldest.#current!;
      if (now - batch.openedAt < oldest.#maxDelayMs) return;
      oldest.#flush();
    }
  }

  #link(): void {
    const open = this.#openBatches;
    this.#olderOpen = open.tail;
    this.#newerOpen = undefined;
    if (open.tail === undefined) open.head = this;
    else open.tail.#newerOpen = this;
    open.tail = this;
  }

  #unlink(): void {
    const open = this.#openBatches;
    const older = this.#olderOpen;
    const newer = this.#newerOpen;
    if (older === undefined) open.head = newer;
    else older.#newerOpen = newer;
    if (newer === undefined) open.tail = older;
    else newer.#olderOpen = older;
    this.#olderOpen = undefined;
    this.#newerOpen = undefined;
  }

  #open(): Batch {
    const openedAt = this.#now();
    this.#sweep(openedAt);
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const sent = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // A caller may drop its ack's promise (`void message.ack()`): never an unhandled rejection.
    sent.catch(ignore);
    const batch: Batch = {
      deliveries: new Array<Delivery>(this.#expected),
      count: 0,
      reported: 0,
      openedAt,
      sent,
      resolve,
      reject,
    };
    this.#current = batch;
    this.#link();
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#onImmediate);
    }
    return batch;
  }

  /**
   * The check-phase flush. Bound, not an arrow: an arrow per batcher was compiled again for every
   * new consumer (V8 keeps a closure's optimized code only while it lives); the event loop calls
   * it, so nothing inlines it either way.
   */
  readonly #onImmediate = this.#flushScheduled.bind(this);

  #flushScheduled(): void {
    this.#scheduled = false;
    this.#flush();
  }

  #flush(): void {
    const batch = this.#current;
    if (batch === undefined) return;
    this.#current = undefined;
    this.#unlink();
    batch.deliveries.length = batch.count;
    // The recent high-water mark, decaying by a quarter per batch: batch sizes swing with what each
    // loop turn brings, and a batch that outgrows its array copies it into a new one half again as
    // large (≈ 14 B per message in RabbitMQ's consume drain, docs/bench-profiles.md 21.4), while
    // slots a batch leaves unused cost nothing more than their first allocation.
    const recent = this.#expected - (this.#expected >> 2);
    this.#expected = Math.min(this.#maxBatch, Math.max(MIN_EXPECTED, batch.count, recent));
    this.#inFlight++;
    // The driver is called from a microtask, never inside the add() that filled the batch (a
    // handler's ack returns first), as when the send was a `then` of the batch.
    queueMicrotask(() => this.#send(batch));
  }

  #send(batch: Batch): void {
    let first: Promise<void>;
    try {
      first = Promise.resolve(this.#driver.ack(batch.deliveries));
    } catch (error) {
      first = Promise.reject(error);
    }
    first.then(
      () => this.#settled(batch, undefined, false),
      (error: unknown) => {
        if (!isRetryable(error) || this.#policy.maxAttempts <= 1) this.#settled(batch, error, true);
        else this.#retry(batch, error);
      },
    );
  }

  /**
   * The first attempt failed and may be retried: retry() takes over as attempt 1 (the error is that
   * attempt's), so attempts, backoff and warnings are as when retry() made the first call. Its
   * deadline is what is left of the policy's since the batch opened (at or before the first call).
   */
  #retry(batch: Batch, error: unknown): void {
    const { deliveries } = batch;
    const elapsed = Math.max(0, this.#now() - batch.openedAt);
    const policy = { ...this.#policy, deadlineMs: this.#policy.deadlineMs - elapsed };
    const onRetry = retryWarning(this.#logger, deliveries);
    retry((attempt) => (attempt === 1 ? Promise.reject(error) : this.#driver.ack(deliveries)), policy, {
      onRetry,
    }).then(
      () => this.#settled(batch, undefined, false),
      (e: unknown) => this.#settled(batch, e, true),
    );
  }

  #settled(batch: Batch, error: unknown, failed: boolean): void {
    if (failed) {
      batch.reject(error);
      if (batch.reported > 0) this.#failed?.(error, batch.reported);
    } else batch.resolve();
    if (--this.#inFlight === 0 && this.#idle.length > 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const wake of idle) wake();
    }
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
