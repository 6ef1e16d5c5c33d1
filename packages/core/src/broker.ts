import type { BackoffPolicy } from './backoff.js';
import type { Capabilities } from './capabilities.js';
import { requireCapability } from './capabilities.js';
import {
  type ConsumerOptions,
  consumerOptionsSchema,
  type ProducerOptions,
  parseWithSchema,
  producerOptionsSchema,
  validateName,
} from './config.js';
import { Consumer } from './consumer.js';
import { SharedDeadlines } from './deadline-signal.js';
import type { Driver, DriverProducer } from './driver.js';
import { ClosedError, InvalidArgumentError, toSwitchyardError } from './errors.js';
import { type Health, type HealthOptions, probeHealth } from './health.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Delivery, Receipt } from './message-types.js';
import { Producer, type SendInput } from './producer.js';
import { RateLimiter, rateLimitedBatchSize } from './rate-limit.js';
import { CORRELATION_ID_HEADER, REPLY_TO_HEADER, Replies } from './replies.js';
import { ReplyProducers } from './reply-producers.js';
import {
  DEFAULT_STATUS_BUFFER,
  type StatusEmitter,
  type StatusEvent,
  type StatusListener,
  StatusStream,
} from './status.js';
import { checkKeys } from './strict-keys.js';
import type { Telemetry } from './telemetry/telemetry.js';

const DEFAULT_PREFETCH = 32;
const STATUS_OPTION_KEYS: ReadonlySet<string> = new Set(['bufferSize']);
const DEFAULT_POLL_WAIT_MS = 5_000;
const DEFAULT_HANDLER_RETRY = Object.freeze({ initialDelayMs: 200, maxDelayMs: 60_000, multiplier: 2 });

/** @internal What connect() hands a Broker. */
export interface BrokerInternals {
  readonly driver: Driver;
  readonly logger: Logger;
  readonly retry: BackoffPolicy;
  readonly status: StatusEmitter;
  /** Undefined when telemetry is off: producers and consumers then carry none. */
  readonly telemetry?: Telemetry | undefined;
}

/**
 * A connection to one broker through one driver. Producers and consumers it opens share the
 * connection; close() drains them all.
 */
export class Broker implements AsyncDisposable {
  readonly driver: string;
  readonly capabilities: Readonly<Capabilities>;
  readonly #internals: BrokerInternals;
  readonly #producers = new Set<Producer>();
  readonly #consumers = new Set<Consumer>();
  readonly #replies: Replies;
  readonly #replyProducers: ReplyProducers;
  /**
   * Deadline signals for every producer's sends: a producer sending now and then (one of many
   * destinations) takes an idle bucket another's send released instead of opening its own (§28).
   */
  readonly #deadlines: SharedDeadlines;
  #closing: Promise<void> | undefined;

  /** @internal Use connect(). */
  constructor(internals: BrokerInternals) {
    this.#internals = internals;
    this.#deadlines = new SharedDeadlines(internals.driver.name);
    this.#replies = new Replies(internals.driver, internals.logger);
    this.#replyProducers = new ReplyProducers((address) => this.#openReplyProducer(address));
    this.driver = internals.driver.name;
    this.capabilities = internals.driver.capabilities;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Opens a producer for a destination: a short name qualified by the broker's config, or a full native name. */
  async producer(destination: string, options: ProducerOptions = {}): Promise<Producer> {
    this.#assertOpen();
    const name = validateName(destination, 'destination');
    const opts = parseWithSchema(producerOptionsSchema, options, 'producer options', InvalidArgumentError);
    const { driver, logger, retry } = this.#internals;
    const native = await driver
      .openProducer(name, { driverOptions: opts.driverOptions ?? {} })
      .catch((e: unknown) => {
        throw toSwitchyardError(e, driver.name);
      });
    const producer: Producer = new Producer(
      native,
      driver.name,
      driver.capabilities,
      {
        destination: name,
        maxBatchSize: rateLimitedBatchSize(
          opts.maxBatchSize ?? driver.capabilities.maxBatchSize,
          opts.maxPerSecond,
        ),
        limiter: opts.maxPerSecond === undefined ? undefined : new RateLimiter(opts.maxPerSecond),
        maxInFlight: opts.maxInFlight ?? 4,
        retry: { ...retry, ...opts.retry },
      },
      logger,
      () => this.#producers.delete(producer),
      this.#internals.telemetry?.producer(name, driver.capabilities),
      driver.openReplyInbox === undefined ? undefined : this.#replies,
      this.#deadlines,
    );
    this.#producers.add(producer);
    return producer;
  }

  /**
   * Answers a request (a message `producer.request()` sent, or any message carrying a `reply-to`
   * address: AMQP reply_to from a plain client, a NestJS client): sends `response` to the request's
   * reply address with its correlation id (the request's `correlation-id`, else its message id).
   * Resolves when the broker accepted the reply. INVALID_ARGUMENT when the message has no reply
   * address; CLOSED once close() has drained the consumers. Acking the request stays the caller's (or run()'s) business.
   */
  async reply(request: Message, response: SendInput): Promise<Receipt> {
    // Not #assertOpen(): handlers that close() drains still answer their requests; the reply
    // producers close after the consumers, and refuse from then on. No requestReply capability
    // needed: answering only sends to an address (an inbox is the requester's business).
    const address = request.headers[REPLY_TO_HEADER];
    if (address === undefined || address === '') {
      throw new InvalidArgumentError(
        `message ${request.id} has no reply-to address: it was not sent as a request (producer.request), so there is nowhere to reply`,
      );
    }
    const message =
      typeof response === 'string' || response instanceof Uint8Array ? { body: response } : response;
    const correlationId = request.headers[CORRELATION_ID_HEADER] ?? request.id;
    const producer = await this.#replyProducers.get(address);
    return producer.send({
      ...message,
      headers: { ...message.headers, [CORRELATION_ID_HEADER]: correlationId },
    });
  }

  /**
   * Whether the broker answers now: a cheap round trip through the driver (a channel open, a list
   * call), bounded by `timeoutMs` (default 5 s). Never rejects: `{ status: 'down', details }` says
   * why. The shape plugs into @nestjs/terminus (`{ [key]: { status, ...details } }`) and an HTTP
   * probe (200 on up, 503 on down).
   */
  health(options: HealthOptions = {}): Promise<Health> {
    return probeHealth(this.#internals.driver, this.#internals.status.last, this.closed, options);
  }

  /** Replies that matched no request of this broker (another process's, or sent by mistake); dropped. */
  get unmatchedReplies(): number {
    return this.#replies.unmatched;
  }

  /** Opens a consumer of a source for a group (default group "default"). */
  async consumer(source: string, options: ConsumerOptions = {}): Promise<Consumer> {
    this.#assertOpen();
    const name = validateName(source, 'source');
    const opts = parseWithSchema(consumerOptionsSchema, options, 'consumer options', InvalidArgumentError);
    const { driver, logger, retry } = this.#internals;
    const caps = driver.capabilities;
    if (opts.filter?.tags?.length) requireCapability(caps, 'tagFilter', driver.name);
    if (opts.filter?.routingKeys?.length) requireCapability(caps, 'routingKeyFilter', driver.name);
    if (opts.visibilityTimeoutMs !== undefined) requireCapability(caps, 'visibilityTimeout', driver.name);
    if (opts.startFrom !== undefined) requireCapability(caps, 'startFrom', driver.name);
    if (opts.ordered) requireCapability(caps, 'orderingKeys', driver.name, 'Ordered consumption');
    const group = opts.group ?? 'default';
    const deadLetter =
      opts.maxDeliveries !== undefined && opts.deadLetter !== undefined && caps.deadLetter === 'native'
        ? { maxDeliveries: opts.maxDeliveries, destination: opts.deadLetter }
        : undefined;
    // The driver may report an expired lease before the Consumer exists: nothing is delivered yet then.
    let expired: ((delivery: Delivery) => void) | undefined;
    const native = await driver
      .openConsumer(name, {
        group,
        filter: opts.filter ?? {},
        prefetch: opts.prefetch ?? DEFAULT_PREFETCH,
        visibilityTimeoutMs: opts.visibilityTimeoutMs,
        startFrom: opts.startFrom,
        deadLetter,
        driverOptions: opts.driverOptions ?? {},
        leaseExpired: (delivery) => expired?.(delivery),
      })
      .catch((e: unknown) => {
        throw toSwitchyardError(e, driver.name);
      });
    const consumer: Consumer = new Consumer(
      native,
      driver.name,
      caps,
      {
        source: name,
        group,
        prefetch: opts.prefetch ?? DEFAULT_PREFETCH,
        concurrency: opts.concurrency ?? 1,
        ordered: opts.ordered ?? false,
        maxDeliveries: opts.maxDeliveries,
        deadLetter: opts.deadLetter,
        pollWaitMs: opts.pollWaitMs ?? DEFAULT_POLL_WAIT_MS,
        maxPerSecond: opts.maxPerSecond,
        handlerRetry: { ...DEFAULT_HANDLER_RETRY, ...opts.retry },
        transportRetry: retry,
        attemptStore: opts.attemptStore,
      },
      logger,
      {
        openProducer: (destination) => this.producer(destination),
        onClose: () => this.#consumers.delete(consumer),
      },
      this.#internals.telemetry?.consumer(
        name,
        group,
        native.backlog === undefined ? undefined : () => native.backlog!(),
      ),
    );
    expired = (delivery) => consumer.leaseExpired(delivery);
    this.#consumers.add(consumer);
    return consumer;
  }

  /**
   * Connection status events (connected, reconnecting, closed). The current status is replayed to
   * a new listener at once, so a late subscriber still learns where things stand. Returns an
   * unsubscribe function.
   */
  onStatus(listener: StatusListener): () => void {
    const last = this.#internals.status.last;
    const off = this.#internals.status.on(listener);
    if (last !== undefined) listener(last);
    return off;
  }

  /**
   * Connection status events as an async iterable: `for await (const event of broker.status())`.
   * The current status comes first; the iteration ends after the 'closed' event, or when the loop
   * exits (break/return), and leaves no listener behind. Up to `bufferSize` events (default 64)
   * wait between reads; past that the oldest is dropped (StatusStream.dropped counts them).
   */
  status(options: { bufferSize?: number } = {}): StatusStream {
    checkKeys(options, STATUS_OPTION_KEYS, 'status options');
    const { bufferSize = DEFAULT_STATUS_BUFFER } = options;
    if (!Number.isInteger(bufferSize) || bufferSize < 1)
      throw new InvalidArgumentError(`status bufferSize must be a whole number ≥ 1, got ${bufferSize}`);
    return new StatusStream(this.#internals.status, bufferSize);
  }

  /** The latest status event ('connected', 'reconnecting', 'closed'), if the driver reported one. */
  get lastStatus(): StatusEvent | undefined {
    return this.#internals.status.last;
  }

  /** The native client (amqplib ChannelModel, SDK client, the memory store, ...). */
  unwrap<T = unknown>(): T {
    return this.#internals.driver.native as T;
  }

  /**
   * Drains and closes: consumers stop fetching, in-flight handlers finish (up to `timeoutMs`),
   * acks flush, producers finish their sends, then the connection closes. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing ??= (async () => {
      const timeoutMs = options.timeoutMs ?? 30_000;
      const deadline = Date.now() + timeoutMs;
      await Promise.allSettled([...this.#consumers].map((c) => c.close({ timeoutMs })));
      // Sends get what is left of the time; then they are rejected, so close returns on time.
      const left = Math.max(0, deadline - Date.now());
      await Promise.allSettled([...this.#producers].map((p) => p.close({ timeoutMs: left })));
      await this.#replies.close(deadline);
      await this.#replyProducers.close(Math.max(0, deadline - Date.now()));
      this.#deadlines.close();
      await this.#internals.driver.close({ deadline });
      this.#internals.status.emit({ type: 'closed', driver: this.driver });
    })();
    return this.#closing;
  }

  /**
   * `await using broker = await connect(...)`: close() with its default timeout on scope exit,
   * draining consumers and producers as close() does.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A producer for one reply address, kept by ReplyProducers (not in #producers: it closes them). */
  async #openReplyProducer(address: string): Promise<Producer> {
    const { driver, logger, retry } = this.#internals;
    const open = (): Promise<DriverProducer> =>
      driver.openReplyProducer?.(address) ?? driver.openProducer(address, { driverOptions: {} });
    const native = await open().catch((e: unknown) => {
      throw toSwitchyardError(e, driver.name);
    });
    return new Producer(
      native,
      driver.name,
      driver.capabilities,
      { destination: address, maxBatchSize: driver.capabilities.maxBatchSize, maxInFlight: 4, retry },
      logger,
      () => {},
      this.#internals.telemetry?.producer(address, driver.capabilities),
      undefined,
      this.#deadlines,
    );
  }

  #assertOpen(): void {
    if (this.#closing !== undefined)
      throw new ClosedError(`the ${this.driver} broker is closed`, { driver: this.driver });
  }
}
