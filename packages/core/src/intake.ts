// What comes into a consumer: a pump pulls from the driver into a buffer that never holds more than
// `prefetch` messages, counting those handed out and not settled and those waiting for a delayed
// nack, so memory is O(prefetch) whatever the backlog. Retryable receive failures back off and
// retry; any other stops the pump for good (`fatal`). A push driver (DriverConsumer.onReady and
// takeReady) is not pumped: it says when deliveries are ready and they are taken in a microtask,
// with no receive cycle per socket read (docs/bench-profiles.md §24.1).

import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { DriverConsumer } from './driver.js';
import { type SwitchyardError, toSwitchyardError } from './errors.js';
import { Held } from './handed-out.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Delivery } from './message-types.js';
import { openPromise, takeReject, takeResolve } from './open-promise.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';
import { Waiters } from './waiters.js';

export interface IntakeOptions {
  readonly driver: DriverConsumer;
  readonly driverName: string;
  readonly source: string;
  readonly prefetch: number;
  readonly pollWaitMs: number;
  readonly transportRetry: BackoffPolicy;
  readonly logger: Logger;
  readonly telemetry: ConsumerTelemetry | undefined;
  /** What `accept` is called with: the consumer. */
  readonly host: unknown;
  /**
   * Turns a delivery into a message: returns it to be buffered, or undefined when it was handed
   * out at once (`handOut()`). `attempt`: its count from the attempt store, when one counted it.
   * One function for every
   * consumer, given its `host`, not an arrow per consumer: the take inlines it per delivery, and
   * each new consumer's arrow threw that code away ("wrong call target"; docs/bench-profiles.md
   * §28, remoting).
   */
  readonly accept: (host: unknown, delivery: Delivery, attempt?: number) => Message | undefined;
  /**
   * With an attempt store: counts a receive's deliveries before any is accepted (an attempt per
   * delivery, undefined for one without a key). A rejection fails the receive like a broker error;
   * the deliveries were given back by then.
   */
  readonly count?: ((deliveries: Delivery[]) => Promise<readonly (number | undefined)[]>) | undefined;
}

/** What push mode's takes are queued on (#queueTake). */
const SETTLED = Promise.resolve();

export class Intake {
  readonly #o: IntakeOptions;
  /** Buffered, and handed to the user (run, receive, iterator) and not yet settled. */
  readonly #messages = new Held();
  /** Woken when messages arrive or consuming stops. */
  readonly waiters = new Waiters();
  readonly #abort = new AbortController();
  #pumpDone: Promise<void> = Promise.resolve();
  /** Pull mode: settle #pumpDone. */
  #pumpEnded: (() => void) | undefined;
  #pumpCrashed: ((error: unknown) => void) | undefined;
  /** Pull mode: the pump waits for room (or for pausing to end). */
  #waitingRoom = false;
  /** Pull mode: receive failures in a row (the backoff's attempt). */
  #failures = 0;
  /**
   * Pull mode: the receive cycle's steps, bound once (a promise reaction or a timer calls them, so
   * nothing would inline an arrow either, and an arrow per cycle is what the rewrite removed).
   */
  readonly #nextCycle = this.#cycle.bind(this);
  readonly #onDeliveries = this.#received.bind(this);
  readonly #onReceiveFailed = this.#receiveFailed.bind(this);
  /** Push mode: a take is queued as a microtask. */
  #takeQueued = false;
  /**
   * Push mode: the last take stopped short of what the driver may hold (no room, paused, or as
   * many as there was room for), so room coming back queues a take without a `ready` call.
   */
  #starved = false;
  /** Push mode: ends stopped() (the stop, or the driver's fatal error). */
  #pushEnded: (() => void) | undefined;
  /**
   * The queued take. Bound, not an arrow: an arrow per intake was compiled again for every new
   * consumer (V8 keeps a closure's optimized code only while it lives); a promise reaction calls
   * it, so nothing inlines it either way.
   */
  readonly #takeReady = this.#takeFromDriver.bind(this);
  readonly #ready = (): void => this.#queueTake();
  /** Buffered + outstanding + waiting for a delayed nack. */
  #held = 0;
  #fatal: SwitchyardError | undefined;
  #stopping = false;
  #paused = false;

  constructor(options: IntakeOptions) {
    this.#o = options;
  }

  /**
   * Starts the pump (once, after the consumer is fully built), or with a push driver, listens to
   * it. Push mode needs no attempt store (`count`): its counts are asynchronous, which the pull
   * pump's receive cycle serialises.
   */
  start(): void {
    const { driver } = this.#o;
    if (driver.onReady !== undefined && driver.takeReady !== undefined && this.#o.count === undefined) {
      this.#pumpDone = new Promise<void>((resolve) => (this.#pushEnded = resolve));
      driver.onReady(this.#ready);
      // Deliveries that landed before this (between the subscription and the start) are taken too.
      this.#queueTake();
      return;
    }
    this.#startPump();
  }

  /** Why receiving stopped for good, if it did. */
  get fatal(): SwitchyardError | undefined {
    return this.#fatal;
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  get buffered(): number {
    return this.#messages.buffered;
  }

  /** An accepted message goes straight out (to be dead-lettered or given back), never buffered. */
  handOut(message: Message): void {
    this.#held++;
    this.#messages.handOut(message);
  }

  /** The next buffered message, now outstanding; undefined when none is buffered. */
  take(): Message | undefined {
    const message = this.#messages.take();
    if (message !== undefined) this.#o.telemetry?.handOut(message);
    return message;
  }

  /** An outstanding message is settled: its room goes back to the pump. */
  release(message: Message): void {
    if (!this.#messages.remove(message)) return;
    this.#held--;
    this.#roomBack();
  }

  /** An outstanding message waits for a delayed nack: no longer outstanding, still held. */
  defer(message: Message): void {
    this.#messages.remove(message);
  }

  /** A deferred message has gone back: its room goes back to the pump. */
  deferredDone(): void {
    this.#held--;
    this.#roomBack();
  }

  /** Room came back (or pausing ended): the pump goes on, or a push take is queued if one waits. */
  #roomBack(): void {
    if (this.#starved) this.#queueTake();
    else this.#roomWaiterWake();
  }

  /** The pull pump waiting for room goes on, from a microtask (never inside release()). */
  #roomWaiterWake(): void {
    if (!this.#waitingRoom) return;
    this.#waitingRoom = false;
    void SETTLED.then(this.#nextCycle);
  }

  wake(): void {
    this.waiters.wakeAll();
  }

  /**
   * Stops fetching until resume(). A receive already under way still ends (its deliveries come
   * through accept(), which gives them back while paused); nothing more is asked of the driver.
   */
  pause(): void {
    this.#paused = true;
  }

  /** Fetches again, and wakes everyone waiting for messages. */
  resume(): void {
    this.#paused = false;
    this.#roomBack();
    this.wake();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Stops fetching (the receive under way is aborted with `reason`); wakes nobody yet. */
  stop(reason: Error): void {
    this.#stopping = true;
    this.#abort.abort(reason);
    this.#roomWaiterWake();
    this.#pushEnded?.();
  }

  /** Resolves once the pump has stopped. */
  stopped(): Promise<void> {
    return this.#pumpDone;
  }

  /** Empties the buffer, the messages becoming outstanding (to be given back). */
  drainBuffer(): Message[] {
    return this.#messages.drain();
  }

  outstanding(): Message[] {
    return this.#messages.outstanding();
  }

  /**
   * Accepts a receive's deliveries (`attempts`: the store's counts, when it counted them) and
   * buffers those not handed out at once, as one arrival.
   */
  #arrive(deliveries: Delivery[], attempts?: readonly (number | undefined)[]): void {
    const { accept, host } = this.#o;
    const messages = this.#messages;
    const arrival = messages.open(deliveries.length);
    // Indexed, not for...of: in the pump the array iterator was not optimised away (the builtin
    // `next`, ≈ 45 B per delivery in the RabbitMQ consume drain's heap samples, bench-profiles 19.2).
    for (let i = 0; i < deliveries.length; i++) {
      const message = accept(host, deliveries[i]!, attempts?.[i]);
      if (message !== undefined) messages.put(arrival, message);
    }
    this.#held += arrival.held;
    messages.end(arrival);
  }

  /**
   * Push mode: a take in a microtask, once however many deliveries called `ready` meanwhile. A
   * reaction on a settled promise rather than queueMicrotask, which makes an AsyncResource, a bound
   * function and a closure per call and runs the async-hook scope around it (≈ 360 B and several
   * hundred instructions per take: per message where a socket read brings one; as the producer's
   * #gather, docs/bench-profiles.md §19.1). Same microtask queue.
   */
  #queueTake(): void {
    if (this.#takeQueued || this.#stopping || this.#fatal !== undefined) return;
    this.#takeQueued = true;
    this.#starved = false;
    void SETTLED.then(this.#takeReady);
  }

  /** Push mode: takes what there is room for from the driver's buffer and accepts it. */
  #takeFromDriver(): void {
    this.#takeQueued = false;
    if (this.#stopping || this.#fatal !== undefined) return;
    const room = this.#o.prefetch - this.#held;
    if (room <= 0 || this.#paused) {
      this.#starved = true;
      return;
    }
    let deliveries: Delivery[];
    try {
      deliveries = this.#o.driver.takeReady!(room);
    } catch (error) {
      const e = toSwitchyardError(error, this.#o.driverName);
      this.#o.logger.error({ source: this.#o.source, code: e.code, error: e.message }, 'consumer stopped');
      this.#o.telemetry?.error('receive', e);
      this.#fatal = e;
      this.wake();
      this.#pushEnded?.();
      return;
    }
    // As many as there was room for: the driver may hold more, taken when room comes back.
    if (deliveries.length === room) this.#starved = true;
    if (deliveries.length === 0) return;
    this.#arrive(deliveries);
    this.wake();
  }

  // The pull pump: one receive cycle is #cycle (ask the driver) and #received (take its answer),
  // chained through the driver's promise with bound methods, as an async loop did with awaits.
  // Not an async function: each `await` of receiveBatch made a reaction, two resolving closures and
  // their context (≈ 105 B per cycle on Node 20) that live through the wait — over 1,000
  // destinations a round long, so promoted (docs/bench-profiles.md §28). A `then` with the same two
  // bound functions every cycle makes the reaction and its derived promise only.

  /** Starts the pull pump; #pumpDone settles when it ends. */
  #startPump(): void {
    this.#pumpDone = openPromise<void>();
    this.#pumpEnded = takeResolve<void>();
    this.#pumpCrashed = takeReject();
    this.#cycle();
  }

  /** One receive cycle: waits for room, or asks the driver for what there is room for. */
  #cycle(): void {
    try {
      if (this.#stopping) {
        this.#pumpEnded!();
        return;
      }
      const room = this.#o.prefetch - this.#held;
      if (room <= 0 || this.#paused) {
        // #roomBack (or stop) goes on, from a microtask as the awaited room promise did.
        this.#waitingRoom = true;
        return;
      }
      let answer: Promise<Delivery[]>;
      try {
        answer = Promise.resolve(this.#o.driver.receiveBatch(room, this.#o.pollWaitMs, this.#abort.signal));
      } catch (error) {
        this.#receiveFailed(error);
        return;
      }
      void answer.then(this.#onDeliveries, this.#onReceiveFailed);
    } catch (error) {
      this.#pumpCrashed!(error);
    }
  }

  /** The driver's answer: counted (with an attempt store), then buffered. */
  #received(deliveries: Delivery[]): void {
    try {
      const count = this.#o.count;
      if (count === undefined || deliveries.length === 0) {
        this.#arrived(deliveries, undefined);
        return;
      }
      let counted: Promise<readonly (number | undefined)[]>;
      try {
        counted = Promise.resolve(count(deliveries));
      } catch (error) {
        this.#receiveFailed(error);
        return;
      }
      // Only with an attempt store: a closure per counted receive, as the await's.
      void counted.then((attempts) => this.#arrived(deliveries, attempts), this.#onReceiveFailed);
    } catch (error) {
      this.#pumpCrashed!(error);
    }
  }

  #arrived(deliveries: Delivery[], attempts: readonly (number | undefined)[] | undefined): void {
    try {
      this.#failures = 0;
      if (deliveries.length > 0) {
        this.#arrive(deliveries, attempts);
        this.wake();
        this.#cycle();
        return;
      }
      // An empty answer can come back without any I/O (pollWaitMs 0 on an in-process source): the
      // next poll would then run as a microtask forever, and no timer or socket would ever fire.
      setImmediate(this.#nextCycle);
    } catch (error) {
      this.#pumpCrashed!(error);
    }
  }

  /** receiveBatch (or the count) failed: retry after a backoff, or stop for good. */
  #receiveFailed(error: unknown): void {
    try {
      if (this.#stopping) {
        this.#pumpEnded!();
        return;
      }
      const { driverName, source, logger, telemetry } = this.#o;
      const e = toSwitchyardError(error, driverName);
      if (!e.retryable) {
        logger.error({ source, code: e.code, error: e.message }, 'consumer stopped');
        telemetry?.error('receive', e);
        this.#fatal = e;
        this.wake();
        this.#pumpEnded!();
        return;
      }
      const failures = ++this.#failures;
      telemetry?.error('receive', e);
      const delay = backoffDelay(this.#o.transportRetry, failures);
      logger.warn({ source, code: e.code, attempt: failures, delayMs: delay }, 'receive failed; retrying');
      // Aborted by stop(): the next cycle sees #stopping and ends the pump.
      void sleep(delay, this.#abort.signal).then(this.#nextCycle, this.#nextCycle);
    } catch (error) {
      this.#pumpCrashed!(error);
    }
  }
}
