import { type BackoffPolicy, retry } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import { isRetryable } from './errors.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';
import { openPromise, takeReject, takeResolve } from './open-promise.js';

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

/**
 * One batch of acks. A class, whose promise comes from openPromise() (no executor closure per
 * batch): over 1,000 destinations in batches of 10 every receive cycle opens a
 * batch for ≈ 10 acks, and what a batch allocates is per ≈ 10 messages there.
 */
class Batch {
  /** Sized for the previous batch (no regrowth in a steady stream); trimmed to `count` when sent. */
  readonly deliveries: Delivery[];
  count = 0;
  /** Acks of this batch whose failure the batcher reports (add(delivery, true)). */
  reported = 0;
  readonly openedAt: number;
  /** Who sends it (the send queue holds batches of every batcher). */
  readonly batcher: AckBatcher;
  /** Settles once the driver has acked the batch, or failed to for good. */
  readonly sent: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;

  constructor(batcher: AckBatcher, expected: number, openedAt: number) {
    this.batcher = batcher;
    this.deliveries = new Array<Delivery>(expected);
    this.openedAt = openedAt;
    this.sent = openPromise<void>();
    this.resolve = takeResolve<void>();
    this.reject = takeReject();
  }
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
class OpenBatches {
  head: AckBatcher | undefined = undefined;
  tail: AckBatcher | undefined = undefined;
  /**
   * One check-phase flush for the whole list, not one per batcher: a setImmediate is an Immediate
   * object (and a list node) per batch otherwise, and over 1,000 destinations each receive cycle
   * opens a batch. It sends every batch open at the check phase, as each batch's own did; it
   * holds no batch, so a batch sent early by count or age is not kept alive by it.
   */
  scheduled = false;
  /** Bound once per clock (a process has one: Date.now); the event loop calls it. */
  readonly flush = flushAll.bind(undefined, this);
}

/** One list per clock: tests step their own clocks, and ages are only compared on one clock. */
const openBatchesByClock = new WeakMap<() => number, OpenBatches>();

function openBatchesOf(now: () => number): OpenBatches {
  let open = openBatchesByClock.get(now);
  if (open === undefined) {
    open = new OpenBatches();
    openBatchesByClock.set(now, open);
  }
  return open;
}

/** The check-phase flush of one clock's list: every batch open now goes out. */
function flushAll(open: OpenBatches): void {
  open.scheduled = false;
  for (let oldest = open.head; oldest !== undefined; oldest = open.head) oldest.flush();
}

/**
 * Batches flushed and not handed to their driver yet, of every batcher, in the order they were
 * flushed: one microtask sends them all (sendQueued), instead of a queueMicrotask per batch —
 * Node's queueMicrotask makes an AsyncResource and a bound function per call, and a closure per
 * batch held the batch besides. Slots are cleared as they are sent.
 */
const toSend: (Batch | undefined)[] = [];
/** Batches in toSend (its slots are kept: emptying an array drops its backing store). */
let sendCount = 0;
let sendQueued = false;

function sendAll(): void {
  sendQueued = false;
  // A driver's ack may flush another batch synchronously: it joins this pass (the count is re-read).
  for (let i = 0; i < sendCount; i++) {
    const batch = toSend[i]!;
    toSend[i] = undefined;
    batch.batcher.send(batch);
  }
  sendCount = 0;
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
    // Within the expected size a store by index; past it a push. A store past an array's end is a
    // growing store, and TurboFan calls the generic KeyedStoreIC for it on every ack (≈ 120
    // instructions each, docs/bench-profiles.md §29.1).
    const { deliveries } = batch;
    if (batch.count < deliveries.length) deliveries[batch.count] = delivery;
    else deliveries.push(delivery);
    batch.count++;
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
    const batch = new Batch(this, this.#expected, openedAt);
    this.#current = batch;
    this.#link();
    const open = this.#openBatches;
    if (!open.scheduled) {
      open.scheduled = true;
      setImmediate(open.flush);
    }
    return batch;
  }

  /** @internal The check-phase flush (flushAll): this batcher's open batch goes out. */
  flush(): void {
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
    toSend[sendCount++] = batch;
    if (!sendQueued) {
      sendQueued = true;
      queueMicrotask(sendAll);
    }
  }

  /** @internal Hands a flushed batch to the driver (sendAll). */
  send(batch: Batch): void {
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
      // A caller may drop its ack's promise (`void message.ack()`): never an unhandled rejection.
      // Handled here, only when it fails (a catch per batch was a promise and a reaction more).
      batch.sent.catch(ignore);
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
