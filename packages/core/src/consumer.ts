import { AckBatcher } from './ack-batcher.js';
import { AttemptTracker } from './attempts.js';
import { backoffDelay } from './backoff.js';
import type { BatchHandler, BatchRunOptions } from './batch-outcomes.js';
import type { ReceiveOptions } from './call-options.js';
import { type Capabilities, requireCapability } from './capabilities.js';
import { iterate, type PullHost, receiveFrom } from './consumer-pull.js';
import { ConsumerRuns, intakeLimit, type RunsHost } from './consumer-runs.js';
import {
  ACK_LIMITS,
  type ConsumerHooks,
  type ConsumerSettings,
  DEFAULT_CLOSE_TIMEOUT_MS,
} from './consumer-settings.js';
import { DeadLetterMove } from './dead-letter-move.js';
import type { DriverConsumer } from './driver.js';
import { ClosedError, InvalidArgumentError } from './errors.js';
import type { Handler } from './handler-run.js';
import { Intake } from './intake.js';
import type { Logger } from './logger.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';
import { Redelivery } from './redelivery.js';
import { StoredAttempts } from './stored-attempts.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';
import { withinDeadline } from './within-deadline.js';

export type { BatchHandler, BatchOutcome, BatchRunOptions } from './batch-outcomes.js';
export type { ReceiveOptions } from './call-options.js';
export type { ConsumerHooks, ConsumerSettings } from './consumer-settings.js';
export type { Handler } from './handler-run.js';

/**
 * Receives from one source for one group. A pump pulls from the driver into a buffer that never
 * holds more than `prefetch` messages counting those being handled, so memory is O(prefetch)
 * whatever the backlog. Three ways to consume share that buffer: run(handler), receive() and
 * `for await`. Closing drains: no message is lost by closing.
 */
export class Consumer implements AsyncIterable<Message>, AsyncDisposable, Settler {
  readonly source: string;
  readonly group: string;
  readonly #driver: DriverConsumer;
  readonly #driverName: string;
  readonly #capabilities: Capabilities;
  readonly #settings: ConsumerSettings;
  readonly #logger: Logger;
  readonly #hooks: ConsumerHooks;
  /** The pump, the prefetch-bounded buffer and the messages handed out. */
  readonly #intake: Intake;
  readonly #acks: AckBatcher;
  /** Nacks, releases, copies and delayed nacks: how messages go back to the broker. */
  readonly #redelivery: Redelivery;
  readonly #deadLetters: DeadLetterMove;
  readonly #attempts = new AttemptTracker();
  /** Durable counts (ConsumerOptions.attemptStore); undefined: #attempts counts in this process. */
  readonly #stored: StoredAttempts | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** run(), runBatch(), pause() and the handlers running. */
  readonly #runs: ConsumerRuns;
  readonly #telemetry: ConsumerTelemetry | undefined;
  #pullHost: PullHost | undefined;
  /**
   * Set by #ackHandled around its message.ack(): ack() then asks the batcher to report a failure
   * of this ack (logged once per message) instead of a catch per ack or per batch here.
   */
  #reportAck = false;

  /** @internal Created by Broker.consumer(). */
  constructor(
    driver: DriverConsumer,
    driverName: string,
    capabilities: Capabilities,
    settings: ConsumerSettings,
    logger: Logger,
    hooks: ConsumerHooks,
    telemetry?: ConsumerTelemetry,
  ) {
    this.#telemetry = telemetry;
    this.#driver = driver;
    this.#driverName = driverName;
    this.#capabilities = capabilities;
    this.#settings = settings;
    this.#logger = logger;
    this.#hooks = hooks;
    this.source = settings.source;
    this.group = settings.group;
    this.#stored = StoredAttempts.of(settings, driverName, logger);
    this.#intake = new Intake({
      driver,
      driverName,
      source: this.source,
      prefetch: intakeLimit(settings),
      pollWaitMs: settings.pollWaitMs,
      transportRetry: settings.transportRetry,
      logger,
      telemetry,
      host: this,
      accept: Consumer.#acceptFor,
      count: this.#stored?.counter((deliveries) => this.#uncounted(deliveries)),
    });
    this.#acks = new AckBatcher(driver, ACK_LIMITS, settings.transportRetry, logger, (error, count) => {
      for (let i = 0; i < count; i++) this.#logSettleError('ack', error);
    });
    this.#redelivery = new Redelivery({
      driver,
      driverName,
      capabilities,
      source: this.source,
      transportRetry: settings.transportRetry,
      acks: this.#acks,
      logger,
      delayedSent: () => this.#intake.deferredDone(),
      settleFailed: (what, error) => this.#logSettleError(what, error),
    });
    this.#deadLetters = new DeadLetterMove({
      driver,
      driverName,
      capabilities,
      source: this.source,
      group: this.group,
      acks: this.#acks,
      redelivery: this.#redelivery,
      logger,
      telemetry,
      openProducer: (destination) => hooks.openProducer(destination),
    });
    this.#runs = new ConsumerRuns(new Consumer.#RunsHostOf(this, this.#intake, settings, telemetry));
    this.#intake.start();
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** The native consumer (amqplib channel, SDK client, ...). */
  unwrap<T = unknown>(): T {
    return this.#driver.native as T;
  }

  /**
   * Calls `handler` for each message: ack when it returns (or its promise resolves), nack with
   * backoff when it throws, dead-letter when it has thrown on the last of `maxDeliveries`.
   * Resolves when `signal` aborts or the consumer closes, after in-flight handlers finish; rejects
   * if the consumer fails for good (e.g. the source was deleted).
   */
  run(handler: Handler, options: { signal?: AbortSignal; concurrency?: number } = {}): Promise<void> {
    return this.#runs.run(handler, options);
  }

  /**
   * Calls `handler` with batches of up to `maxMessages` messages, waiting up to `maxWaitMs` after
   * the first for a batch to fill. Each message is settled as run() settles one: the handler's
   * outcomes ack some and fail others (nack with backoff, dead-letter on the last of
   * maxDeliveries); a throw fails the whole batch (see BatchHandler). With `ordered`, a batch holds
   * at most one message per ordering key, the key's next waiting until that one is settled.
   * Resolves and rejects as run() does, and close() drains it the same way.
   */
  runBatch(handler: BatchHandler, options: BatchRunOptions): Promise<void> {
    return this.#runs.runBatch(handler, options);
  }

  /**
   * Stops starting handlers until resume(): run() and runBatch() start nothing, the consumer asks
   * the broker for nothing more, and every message it holds that no handler has started goes back
   * to the broker at once (not counted as a delivery attempt where the broker can tell), so none
   * outlives its lease here and other consumers of the group can take them. Handlers already
   * running finish and settle as usual; receive() and the iterator get nothing meanwhile. A push
   * flavour's client-side window (RabbitMQ prefetch) may still hold up to `prefetch` messages,
   * unleased, until resume() or close (docs/batch-and-flow.md). Idempotent.
   */
  pause(): void {
    if (this.#closing === undefined) this.#runs.pause();
  }

  /** Undoes pause(): fetching and handler starts go on. Idempotent. */
  resume(): void {
    this.#runs.resume();
  }

  get paused(): boolean {
    return this.#runs.paused;
  }

  /**
   * Returns up to `max` messages (default 1), waiting up to `waitMs` (default the poll wait) for
   * the first; an empty array when none came. The caller settles each message. Aborting `signal`
   * rejects CLOSED (the signal's reason as the cause, or the reason itself when it is a
   * SwitchyardError); no message is taken then, so none is lost: they stay for the next receive.
   */
  receive(options: ReceiveOptions = {}): Promise<Message[]> {
    return receiveFrom(this.#pull(), options);
  }

  /** `for await (const message of consumer)`: one message at a time until the consumer closes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return iterate(this.#pull());
  }

  #pull(): PullHost {
    this.#pullHost ??= {
      intake: this.#intake,
      telemetry: this.#telemetry,
      source: this.source,
      driverName: this.#driverName,
      pollWaitMs: this.#settings.pollWaitMs,
      closed: () => (this.#closing === undefined ? undefined : this.#closedError()),
    };
    return this.#pullHost;
  }

  /**
   * Stops fetching, gives back buffered messages, waits up to `timeoutMs` for running run()
   * handlers, sends pending nacks, flushes acks, closes the driver. Messages still unsettled
   * then (held by receive() or iterator callers, or handlers past the timeout) are given back to
   * the broker for redelivery; settling one later fails with CLOSED. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  /** `await using consumer = await broker.consumer(...)`: close() (draining) on scope exit. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- Settler (called by Message; synchronous throws leave the message pending) ----

  ack(message: Message): Promise<void> {
    this.#assertUsable();
    this.#intake.release(message);
    this.#telemetry?.settled(message, 'acked');
    const delivery = message.delivery;
    if (this.#stored !== undefined) this.#stored.forget(delivery);
    // attemptKey only when the broker gives no count: a driver may build it when asked (Remoting
    // makes it from the message's queue and offset, ≈ 280 instructions and a string per ack
    // otherwise; docs/bench-profiles.md §26.4).
    else if (delivery.deliveryAttempt === undefined) {
      const attemptKey = delivery.attemptKey;
      if (attemptKey !== undefined) this.#attempts.drop(attemptKey);
    }
    const report = this.#reportAck;
    this.#reportAck = false;
    return this.#acks.add(delivery, report);
  }

  nack(message: Message, delayMs: number | undefined): Promise<void> {
    this.#assertUsable();
    const caps = this.#capabilities;
    if (delayMs !== undefined && delayMs > 0) {
      requireCapability(caps, 'nackDelay', this.#driverName);
      if (delayMs > caps.maxDelayMs) {
        throw new InvalidArgumentError(
          `nack delayMs is ${delayMs}; the ${this.#driverName} driver delays at most ${caps.maxDelayMs} ms`,
        );
      }
      if (caps.nackDelay === 'emulated') {
        this.#telemetry?.settled(message, 'nacked');
        // Held here (still counted against prefetch) until the delay is over.
        this.#intake.defer(message);
        return this.#redelivery.delay(message, delayMs);
      }
    }
    this.#intake.release(message);
    this.#telemetry?.settled(message, 'nacked');
    return this.#redelivery.redeliver(message.delivery, message.deliveryAttempt, delayMs);
  }

  /**
   * @internal A driver-kept lease ran out (DriverConsumerOptions.leaseExpired): the message goes
   * back as a nack would send it, joining a nack of it already under way.
   */
  leaseExpired(delivery: Delivery): void {
    if (this.#closed) return;
    void this.#redelivery
      .redeliver(delivery, delivery.deliveryAttempt ?? 1)
      .catch((e: unknown) => this.#logSettleError('visibility timeout', e));
  }

  extend(message: Message, ms: number): Promise<void> {
    this.#assertUsable();
    requireCapability(this.#capabilities, 'extend', this.#driverName);
    return this.#redelivery.transport(() => this.#driver.extend!(message.delivery, ms));
  }

  deadLetter(message: Message, reason: string): Promise<void> {
    this.#assertUsable();
    const destination = this.#settings.deadLetter;
    if (destination === undefined) {
      throw new InvalidArgumentError(
        `no dead-letter destination for consumer of "${this.source}": pass { deadLetter: "name" } to broker.consumer()`,
      );
    }
    if (typeof reason !== 'string') throw new InvalidArgumentError('deadLetter reason must be a string');
    const moved = this.#deadLetters.move(message, reason, destination);
    this.#stored?.forgetOnceDone(moved, message.delivery);
    return moved.finally(() => this.#intake.release(message));
  }

  // ---- internals ----

  /**
   * run()'s host: one class for every consumer, so the loop's calls into it (an ack per message)
   * have one target. With arrows made per consumer, each new consumer's threw away the code that
   * had the last one's inlined ("wrong call target"; docs/bench-profiles.md §28, remoting).
   */
  static readonly #RunsHostOf = class implements RunsHost {
    readonly #consumer: Consumer;
    readonly intake: Intake;
    readonly settings: ConsumerSettings;
    readonly telemetry: ConsumerTelemetry | undefined;

    constructor(
      consumer: Consumer,
      intake: Intake,
      settings: ConsumerSettings,
      telemetry: ConsumerTelemetry | undefined,
    ) {
      this.#consumer = consumer;
      this.intake = intake;
      this.settings = settings;
      this.telemetry = telemetry;
    }

    closed(): Error | undefined {
      const c = this.#consumer;
      return c.#closing === undefined ? undefined : c.#closedError();
    }

    ack(message: Message): void {
      this.#consumer.#ackHandled(message);
    }

    fail(message: Message, error: unknown): void {
      this.#consumer.#handlerFailed(message, error);
    }

    giveBack(message: Message): void {
      void this.#consumer.#giveBack(message);
    }
  };

  /** IntakeOptions.accept: the same function for every consumer. */
  static #acceptFor(consumer: unknown, delivery: Delivery, stored?: number): Message | undefined {
    return (consumer as Consumer).#accept(delivery, stored);
  }

  /** The message made of `delivery`, to be buffered; undefined when it is handed out at once. */
  #accept(delivery: Delivery, stored?: number): Message | undefined {
    this.#telemetry?.accepted(delivery);
    // Never counted per `delivery.id`: ids chosen by senders repeat (plain clients, bridged
    // copies), and a shared count would dead-letter messages no handler ever saw.
    const attempt =
      stored ??
      delivery.deliveryAttempt ??
      (delivery.attemptKey === undefined ? 1 : this.#attempts.next(delivery.attemptKey));
    const message = new Message(delivery, attempt, this);
    const max = this.#settings.maxDeliveries;
    // Delivered too often without an ack (handler crashes, visibility timeouts): the broker cannot
    // dead-letter it (or saw none of the crashes a store counted), so the portable layer does,
    // before any handler sees it again.
    if (
      max !== undefined &&
      attempt > max &&
      (stored !== undefined || this.#capabilities.deadLetter === 'emulated')
    ) {
      this.#intake.handOut(message);
      void message
        .deadLetter(`delivered ${attempt - 1} times without an ack (maxDeliveries ${max})`)
        .catch((e: unknown) => this.#logSettleError('dead-letter', e));
      return undefined;
    }
    if (this.#runs.paused) {
      // Came in from a receive under way when pause() was called: straight back to the broker.
      this.#intake.handOut(message);
      void this.#giveBack(message);
      return undefined;
    }
    return message;
  }

  /**
   * Acks a message its handler finished; a failure is logged once per message, as before. The
   * batcher reports the failure of the batch the ack joined (counting the acks made here), so no
   * derived promise or closure is made per ack, nor per batch.
   */
  #ackHandled(message: Message): void {
    this.#reportAck = true;
    const sent = message.ack();
    if (!this.#reportAck) return;
    // ack() did not reach the batcher (the consumer is closed, or the message was settled already):
    // its promise is the one to watch.
    this.#reportAck = false;
    sent.catch((e: unknown) => this.#logSettleError('ack', e));
  }

  /** A receive the attempt store could not count: every delivery goes back unhandled. */
  #uncounted(deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      this.#telemetry?.accepted(delivery);
      const message = new Message(delivery, delivery.deliveryAttempt ?? 1, this);
      this.#intake.handOut(message);
      void this.#giveBack(message);
    }
  }

  #handlerFailed(message: Message, error: unknown): void {
    this.#telemetry?.handlerFailed(message, error);
    const reason = error instanceof Error ? error.message : String(error);
    this.#logger.warn(
      { source: this.source, id: message.id, attempt: message.deliveryAttempt, error: reason },
      'handler failed',
    );
    if (message.state !== 'pending') return;
    const max = this.#settings.maxDeliveries;
    if (max !== undefined && message.deliveryAttempt >= max) {
      void message.deadLetter(reason).catch((e: unknown) => this.#logSettleError('dead-letter', e));
      return;
    }
    const caps = this.#capabilities;
    const delay = Math.min(
      backoffDelay(this.#settings.handlerRetry, message.deliveryAttempt),
      caps.maxDelayMs,
    );
    const options = caps.nackDelay !== false && delay > 0 ? { delayMs: delay } : {};
    void message.nack(options).catch((e: unknown) => this.#logSettleError('nack', e));
  }

  /**
   * Gives a message back to the broker: one no handler saw (`unseen`) through the driver's release
   * where it has one, so it is not counted as a delivery attempt; others by nack.
   */
  async #giveBack(message: Message, unseen = true): Promise<void> {
    this.#intake.release(message);
    this.#telemetry?.settled(message, 'released');
    await this.#redelivery.giveBack(message, unseen);
  }

  #assertUsable(): void {
    if (this.#closed) throw this.#closedError();
  }

  #closedError(): ClosedError {
    return new ClosedError(`consumer of "${this.source}" (group "${this.group}") is closed`, {
      driver: this.#driverName,
    });
  }

  #logSettleError(what: string, error: unknown): void {
    this.#telemetry?.error(what, error);
    this.#logger.warn(
      { source: this.source, error: (error as Error).message },
      `${what} failed; the message will be redelivered`,
    );
  }

  async #close(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    this.#intake.stop(this.#closedError());
    this.#runs.stop();
    this.#intake.wake();
    await this.#intake.stopped();
    const givenBack = this.#intake.drainBuffer().map((message) => this.#giveBack(message));
    // Handlers that are running get what is left of `timeoutMs` to finish and settle their message.
    await this.#runs.drained(left());
    // Still unsettled: messages a receive() or iterator caller holds, and handlers past the
    // timeout. Give them back: the broker redelivers them (a duplicate at worst, never a loss).
    // Every step from here waits only for what is left of the deadline: a stalled broker must not
    // hold close() past it (what is not given back or acked by then, the broker redelivers).
    const late = this.#intake.outstanding().map((message) => this.#giveBack(message, false));
    const delayed = this.#redelivery.sendAllDelayed();
    await withinDeadline(Promise.all([...givenBack, ...late, ...delayed]), left());
    // A nack by copy acks its original only once the copy is confirmed: let those acks in before
    // the last flush, or the original would come back too (bounded: the broker may be down).
    await this.#redelivery.idle(left());
    await withinDeadline(this.#acks.drain(), left());
    if (this.#stored !== undefined) await withinDeadline(this.#stored.flush(), left());
    this.#closed = true;
    try {
      await this.#driver.close({ deadline });
    } finally {
      await this.#deadLetters.close(left);
      this.#telemetry?.close();
      this.#hooks.onClose();
    }
  }
}
