import { AckBatcher } from './ack-batcher.js';
import { AttemptTracker } from './attempts.js';
import { type BackoffPolicy, backoffDelay, retry, sleep } from './backoff.js';
import { type Capabilities, requireCapability } from './capabilities.js';
import { CopyNacks } from './copy-nack.js';
import { deadLetterCopy } from './dead-letter.js';
import { Deque } from './deque.js';
import type { DriverConsumer } from './driver.js';
import { ClosedError, InvalidArgumentError, type SwitchyardError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import { Message, type Settler } from './message.js';
import type { Delivery } from './message-types.js';
import type { Producer } from './producer.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';
import { Waiters } from './waiters.js';

export type Handler = (message: Message) => unknown;

export interface ConsumerSettings {
  readonly source: string;
  readonly group: string;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly maxDeliveries: number | undefined;
  readonly deadLetter: string | undefined;
  readonly pollWaitMs: number;
  /** Backoff between redeliveries of a message whose run() handler threw. */
  readonly handlerRetry: {
    readonly initialDelayMs: number;
    readonly maxDelayMs: number;
    readonly multiplier: number;
  };
  /** Retry of retryable transport errors on receive and ack. */
  readonly transportRetry: BackoffPolicy;
}

export interface ConsumerHooks {
  /** Opens (once, lazily) a producer on the same broker for emulated dead-lettering. */
  openProducer(destination: string): Promise<Producer>;
  onClose(): void;
}

const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
/**
 * Acks per driver call, and how long the oldest may wait for company: a lease stays open (and the
 * message's body in memory) until its ack reaches the broker.
 */
const ACK_LIMITS = { maxBatch: 1_000, maxDelayMs: 10 } as const;
/** How long a message being dead-lettered stays invisible, for the copy and the ack. */
const DEAD_LETTER_LEASE_MS = 60_000;

/**
 * Receives from one source for one group. A pump pulls from the driver into a buffer that never
 * holds more than `prefetch` messages counting those being handled, so memory is O(prefetch)
 * whatever the backlog. Three ways to consume share that buffer: run(handler), receive() and
 * `for await`. Closing drains: no message is lost by closing.
 */
export class Consumer implements AsyncIterable<Message>, Settler {
  readonly source: string;
  readonly group: string;
  readonly #driver: DriverConsumer;
  readonly #driverName: string;
  readonly #capabilities: Capabilities;
  readonly #settings: ConsumerSettings;
  readonly #logger: Logger;
  readonly #hooks: ConsumerHooks;
  readonly #buffer = new Deque<Message>();
  /** Handed to the user (run, receive, iterator) and not yet settled. */
  readonly #outstanding = new Set<Message>();
  /** The subset a run() handler is working on: close() waits for these. */
  readonly #handling = new Set<Message>();
  /** Nacks with a delay the broker cannot do itself, waiting to be sent. */
  readonly #delayedNacks = new Map<Message, NodeJS.Timeout>();
  readonly #acks: AckBatcher;
  /** Nacks by copy, where the driver copies (requeueCopy): its broker cannot nack, or not with a delay. */
  readonly #copies: CopyNacks | undefined;
  readonly #attempts = new AttemptTracker();
  readonly #abort = new AbortController();
  readonly #pumpDone: Promise<void>;
  readonly #waiters = new Waiters();
  #roomWaiter: (() => void) | undefined;
  #drainedWaiter: (() => void) | undefined;
  /** Buffered + outstanding + waiting for a delayed nack. */
  #held = 0;
  #fatal: SwitchyardError | undefined;
  #stopping = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #running = false;
  #stopRun: (() => void) | undefined;
  #deadLetterProducer: Promise<Producer> | undefined;
  readonly #telemetry: ConsumerTelemetry | undefined;

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
    this.#acks = new AckBatcher(driver, ACK_LIMITS, settings.transportRetry, logger);
    this.#copies =
      driver.requeueCopy === undefined
        ? undefined
        : new CopyNacks(driver, {
            transport: (operation) => this.#transport(operation),
            ack: (delivery) => this.#acks.add(delivery),
            ...(capabilities.nack === 'native'
              ? { nack: (delivery) => this.#transport(() => driver.nack([delivery])) }
              : {}),
            fellBack: (_, error) =>
              logger.warn(
                { source: this.source, error: (error as Error).message },
                'nack by copy failed; the message was nacked without its delay',
              ),
          });
    this.#pumpDone = this.#pump();
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
    if (this.#closing !== undefined) return Promise.reject(this.#closedError());
    if (this.#running)
      return Promise.reject(new InvalidArgumentError('run() is already active on this consumer'));
    const concurrency = options.concurrency ?? this.#settings.concurrency;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      return Promise.reject(
        new InvalidArgumentError(`concurrency must be a whole number ≥ 1, got ${concurrency}`),
      );
    }
    this.#running = true;
    const ordered = this.#settings.ordered;
    return new Promise<void>((resolve, reject) => {
      let active = 0;
      let stopped = false;
      let dispatching = false;
      let waiting = false;
      let failure: SwitchyardError | undefined;
      // Messages whose ordering key is busy wait in their lane; a finished lane's next message
      // goes to `ready` so the dispatch loop (not recursion) starts it.
      const lanes = new Map<string, Message[]>();
      const ready: Array<[Message, string]> = [];

      const finish = () => {
        if (!stopped || active > 0) return;
        this.#running = false;
        this.#stopRun = undefined;
        options.signal?.removeEventListener('abort', stop);
        if (failure !== undefined) reject(failure);
        else resolve();
      };
      const stop = () => {
        if (stopped) return;
        stopped = true;
        // Lane-queued messages were taken but never started: give them back.
        for (const [, queued] of lanes) for (const message of queued) void this.#giveBack(message);
        for (const [message] of ready) void this.#giveBack(message);
        lanes.clear();
        ready.length = 0;
        finish();
      };
      const start = (message: Message, key: string | undefined) => {
        active++;
        this.#handling.add(message);
        let result: unknown;
        try {
          result = this.#telemetry === undefined ? handler(message) : this.#telemetry.run(message, handler);
        } catch (error) {
          done(message, key, error, true);
          return;
        }
        if (
          result !== null &&
          typeof result === 'object' &&
          typeof (result as PromiseLike<unknown>).then === 'function'
        ) {
          (result as PromiseLike<unknown>).then(
            () => done(message, key, undefined, false),
            (error: unknown) => done(message, key, error, true),
          );
        } else {
          done(message, key, undefined, false);
        }
      };
      const done = (message: Message, key: string | undefined, error: unknown, failed: boolean) => {
        this.#handling.delete(message);
        if (this.#handling.size === 0) this.#drainedWaiter?.();
        if (failed) this.#handlerFailed(message, error);
        else if (message.state === 'pending')
          void message.ack().catch((e: unknown) => this.#logSettleError('ack', e));
        active--;
        if (key !== undefined) {
          const lane = lanes.get(key);
          const next = lane?.shift();
          if (next !== undefined) ready.push([next, key]);
          else lanes.delete(key);
        }
        if (stopped) finish();
        else dispatch();
      };
      const dispatch = () => {
        if (dispatching || stopped) return;
        dispatching = true;
        try {
          while (!stopped && active < concurrency) {
            const laneNext = ready.shift();
            if (laneNext !== undefined) {
              start(laneNext[0], laneNext[1]);
              continue;
            }
            const message = this.#take();
            if (message === undefined) {
              if (this.#fatal !== undefined) {
                failure = this.#fatal;
                stop();
              } else if (this.#stopping) {
                stop();
              } else if (!waiting) {
                waiting = true;
                this.#waiters.add(() => {
                  waiting = false;
                  dispatch();
                });
              }
              return;
            }
            const key = ordered ? message.orderingKey : undefined;
            if (key !== undefined) {
              const lane = lanes.get(key);
              if (lane !== undefined) {
                lane.push(message);
                continue;
              }
              lanes.set(key, []);
            }
            start(message, key);
          }
        } finally {
          dispatching = false;
        }
      };
      if (options.signal?.aborted) {
        stopped = true;
        finish();
        return;
      }
      options.signal?.addEventListener('abort', stop, { once: true });
      this.#stopRun = stop;
      dispatch();
    });
  }

  /**
   * Returns up to `max` messages (default 1), waiting up to `waitMs` (default the poll wait) for
   * the first; an empty array when none came. The caller settles each message.
   */
  async receive(options: { max?: number; waitMs?: number } = {}): Promise<Message[]> {
    const max = options.max ?? 1;
    const waitMs = options.waitMs ?? this.#settings.pollWaitMs;
    if (!Number.isInteger(max) || max < 1)
      throw new InvalidArgumentError(`max must be a whole number ≥ 1, got ${max}`);
    if (!Number.isInteger(waitMs) || waitMs < 0)
      throw new InvalidArgumentError(`waitMs must be a whole number ≥ 0, got ${waitMs}`);
    if (this.#closing !== undefined) throw this.#closedError();
    const startedAt = this.#telemetry === undefined ? 0 : Date.now();
    if (this.#buffer.length === 0 && this.#fatal === undefined && waitMs > 0) {
      await this.#waiters.wait(waitMs);
    }
    if (this.#fatal !== undefined && this.#buffer.length === 0) throw this.#fatal;
    const out: Message[] = [];
    while (out.length < max) {
      const message = this.#take();
      if (message === undefined) break;
      out.push(message);
    }
    this.#telemetry?.received(out, startedAt);
    return out;
  }

  /** `for await (const message of consumer)`: one message at a time until the consumer closes. */
  [Symbol.asyncIterator](): AsyncIterator<Message> {
    return {
      next: async (): Promise<IteratorResult<Message>> => {
        const startedAt = this.#telemetry === undefined ? 0 : Date.now();
        for (;;) {
          const message = this.#take();
          if (message !== undefined) {
            this.#telemetry?.received([message], startedAt);
            return { value: message, done: false };
          }
          if (this.#fatal !== undefined) throw this.#fatal;
          if (this.#stopping) return { value: undefined, done: true };
          await new Promise<void>((resolve) => this.#waiters.add(resolve));
        }
      },
      // Breaking out of the loop leaves the consumer open: close it to stop receiving.
      return: async (): Promise<IteratorResult<Message>> => ({ value: undefined, done: true }),
    };
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

  // ---- Settler (called by Message; synchronous throws leave the message pending) ----

  ack(message: Message): Promise<void> {
    this.#assertUsable();
    this.#release(message);
    this.#telemetry?.settled(message, 'acked');
    const key = message.delivery.attemptKey;
    if (key !== undefined && message.delivery.deliveryAttempt === undefined) this.#attempts.forget(key);
    return this.#acks.add(message.delivery);
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
        return this.#delayedNack(message, delayMs);
      }
    }
    this.#release(message);
    this.#telemetry?.settled(message, 'nacked');
    return this.#redeliver(message.delivery, message.deliveryAttempt, delayMs);
  }

  /**
   * @internal A driver-kept lease ran out (DriverConsumerOptions.leaseExpired): the message goes
   * back as a nack would send it, joining a nack of it already under way.
   */
  leaseExpired(delivery: Delivery): void {
    if (this.#closed) return;
    void this.#redeliver(delivery, delivery.deliveryAttempt ?? 1).catch((e: unknown) =>
      this.#logSettleError('visibility timeout', e),
    );
  }

  extend(message: Message, ms: number): Promise<void> {
    this.#assertUsable();
    requireCapability(this.#capabilities, 'extend', this.#driverName);
    return this.#transport(() => this.#driver.extend!(message.delivery, ms));
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
    const settle = async () => {
      try {
        // Moving a message is two broker calls (copy, then ack). If its lease ran out in between,
        // the ack would come too late, the message would return and be dead-lettered again: keep
        // it invisible for the move first, where the broker can.
        if (this.#capabilities.extend && this.#driver.extend !== undefined) {
          await this.#driver.extend(message.delivery, DEAD_LETTER_LEASE_MS).catch(() => {});
        }
        if (this.#driver.deadLetter !== undefined) {
          await this.#transport(() => this.#driver.deadLetter!([message.delivery], reason, destination));
        } else {
          this.#deadLetterProducer ??= this.#hooks.openProducer(destination);
          const producer = await this.#deadLetterProducer;
          const copy = deadLetterCopy(message, reason, this.source, this.group, this.#capabilities);
          // Traced: the copy's send span continues the message's trace.
          await (this.#telemetry === undefined
            ? producer.send(copy)
            : this.#telemetry.inContext(message, () => producer.send(copy)));
          await this.#acks.add(message.delivery);
        }
        this.#telemetry?.settled(message, 'dead-lettered');
        this.#logger.warn(
          { source: this.source, id: message.id, destination, reason },
          'message dead-lettered',
        );
      } catch (error) {
        this.#telemetry?.settled(message, 'released');
        this.#telemetry?.error('dead-letter', error);
        // Not moved: give it back so it is not lost, and report why.
        await this.#redeliver(message.delivery, message.deliveryAttempt).catch(() => {});
        throw toSwitchyardError(error, this.#driverName);
      } finally {
        this.#release(message);
      }
    };
    return settle();
  }

  // ---- internals ----

  async #pump(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      const room = this.#settings.prefetch - this.#held;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.#roomWaiter = resolve));
        this.#roomWaiter = undefined;
        continue;
      }
      let deliveries: Delivery[];
      try {
        deliveries = await this.#driver.receiveBatch(room, this.#settings.pollWaitMs, this.#abort.signal);
        failures = 0;
      } catch (error) {
        if (this.#stopping) break;
        const e = toSwitchyardError(error, this.#driverName);
        if (!e.retryable) {
          this.#logger.error({ source: this.source, code: e.code, error: e.message }, 'consumer stopped');
          this.#telemetry?.error('receive', e);
          this.#fatal = e;
          this.#wake();
          break;
        }
        failures++;
        this.#telemetry?.error('receive', e);
        const delay = backoffDelay(this.#settings.transportRetry, failures);
        this.#logger.warn(
          { source: this.source, code: e.code, attempt: failures, delayMs: delay },
          'receive failed; retrying',
        );
        await sleep(delay, this.#abort.signal).catch(() => {});
        continue;
      }
      for (const delivery of deliveries) this.#accept(delivery);
      if (deliveries.length > 0) this.#wake();
    }
  }

  #accept(delivery: Delivery): void {
    this.#telemetry?.accepted(delivery);
    // Never counted per `delivery.id`: ids chosen by senders repeat (plain clients, bridged
    // copies), and a shared count would dead-letter messages no handler ever saw.
    const attempt =
      delivery.deliveryAttempt ??
      (delivery.attemptKey === undefined ? 1 : this.#attempts.next(delivery.attemptKey));
    const message = new Message(delivery, attempt, this);
    this.#held++;
    const max = this.#settings.maxDeliveries;
    if (max !== undefined && attempt > max && this.#capabilities.deadLetter === 'emulated') {
      // Delivered too often without an ack (handler crashes, visibility timeouts): the broker
      // cannot dead-letter it, so the portable layer does, before any handler sees it again.
      this.#outstanding.add(message);
      void message
        .deadLetter(`delivered ${attempt - 1} times without an ack (maxDeliveries ${max})`)
        .catch((e: unknown) => this.#logSettleError('dead-letter', e));
      return;
    }
    this.#buffer.push(message);
  }

  #take(): Message | undefined {
    const message = this.#buffer.shift();
    if (message !== undefined) {
      this.#outstanding.add(message);
      this.#telemetry?.handOut(message);
    }
    return message;
  }

  #wake(): void {
    this.#waiters.wakeAll();
  }

  #release(message: Message): void {
    if (!this.#outstanding.delete(message)) return;
    this.#held--;
    this.#roomWaiter?.();
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

  #delayedNack(message: Message, delayMs: number): Promise<void> {
    // Held here (still counted against prefetch) until the delay is over; keep it invisible to
    // other consumers meanwhile where the broker can, so it is not redelivered early.
    this.#outstanding.delete(message);
    const extended =
      this.#capabilities.extend && this.#driver.extend !== undefined
        ? this.#driver.extend(message.delivery, delayMs + 30_000).catch(() => {})
        : Promise.resolve();
    const timer = setTimeout(() => void this.#sendDelayedNack(message), delayMs);
    this.#delayedNacks.set(message, timer);
    return extended;
  }

  async #sendDelayedNack(message: Message): Promise<void> {
    const timer = this.#delayedNacks.get(message);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#delayedNacks.delete(message);
    try {
      await this.#redeliver(message.delivery, message.deliveryAttempt);
    } catch (error) {
      this.#logSettleError('nack', error);
    } finally {
      this.#held--;
      this.#roomWaiter?.();
    }
  }

  /**
   * Gives a message back to the broker: one no handler saw (`unseen`) through the driver's release
   * where it has one, so it is not counted as a delivery attempt; others by nack.
   */
  async #giveBack(message: Message, unseen = true): Promise<void> {
    this.#release(message);
    this.#telemetry?.settled(message, 'released');
    const { nack } = this.#capabilities;
    if (nack === false) return;
    const driver = this.#driver;
    const { delivery } = message;
    let back: Promise<void>;
    if (nack === 'emulated' && this.#copies !== undefined) {
      // A copy of a message no handler saw carries one attempt less: this delivery does not count.
      back = this.#copies.give(delivery, unseen ? message.deliveryAttempt - 1 : message.deliveryAttempt);
    } else if (unseen && driver.release !== undefined) back = driver.release([delivery]);
    else back = driver.nack([delivery]);
    await back.catch((e: unknown) => this.#logSettleError('nack', e));
  }

  /**
   * Gives a delivery back for redelivery (after `delayMs`): by the driver's nack, or by copy where
   * that nack cannot do it (nack 'emulated', or a delay on a driver that copies delayed nacks).
   * Without nack the broker redelivers once the visibility timeout expires (capability "nack").
   */
  #redeliver(delivery: Delivery, attempts: number, delayMs?: number): Promise<void> {
    const { nack } = this.#capabilities;
    const delayed = delayMs !== undefined && delayMs > 0;
    if (this.#copies !== undefined && (nack === 'emulated' || delayed))
      return this.#copies.give(delivery, attempts, delayMs);
    if (nack === false) return Promise.resolve();
    return this.#transport(() => this.#driver.nack([delivery], delayMs));
  }

  #transport<T>(operation: () => Promise<T>): Promise<T> {
    return retry(operation, this.#settings.transportRetry).catch((error: unknown) => {
      throw toSwitchyardError(error, this.#driverName);
    });
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
    this.#stopping = true;
    this.#abort.abort(this.#closedError());
    this.#roomWaiter?.();
    this.#stopRun?.();
    this.#wake();
    await this.#pumpDone;
    const givenBack = this.#buffer.drain().map((message) => {
      this.#outstanding.add(message);
      return this.#giveBack(message);
    });
    // Handlers that are running get what is left of `timeoutMs` to finish and settle their message.
    if (this.#handling.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left());
        this.#drainedWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#drainedWaiter = undefined;
    }
    // Still unsettled: messages a receive() or iterator caller holds, and handlers past the
    // timeout. Give them back: the broker redelivers them (a duplicate at worst, never a loss).
    // Every step from here waits only for what is left of the deadline: a stalled broker must not
    // hold close() past it (what is not given back or acked by then, the broker redelivers).
    const late = [...this.#outstanding].map((message) => this.#giveBack(message, false));
    const delayed = [...this.#delayedNacks.keys()].map((message) => this.#sendDelayedNack(message));
    await withinDeadline(Promise.all([...givenBack, ...late, ...delayed]), left());
    // A nack by copy acks its original only once the copy is confirmed: let those acks in before
    // the last flush, or the original would come back too (bounded: the broker may be down).
    await this.#copies?.idle(left());
    await withinDeadline(this.#acks.drain(), left());
    this.#closed = true;
    try {
      await this.#driver.close({ deadline });
    } finally {
      if (this.#deadLetterProducer !== undefined)
        await (await this.#deadLetterProducer.catch(() => undefined))?.close({ timeoutMs: left() });
      this.#telemetry?.close();
      this.#hooks.onClose();
    }
  }
}

/** Resolves when `work` settles or after `ms`, whichever is first; never rejects. */
async function withinDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
