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
import type { Driver } from './driver.js';
import { ClosedError, InvalidArgumentError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';
import { Producer } from './producer.js';
import type { StatusEmitter, StatusEvent, StatusListener } from './status.js';
import type { Telemetry } from './telemetry/telemetry.js';

const DEFAULT_PREFETCH = 32;
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
export class Broker {
  readonly driver: string;
  readonly capabilities: Readonly<Capabilities>;
  readonly #internals: BrokerInternals;
  readonly #producers = new Set<Producer>();
  readonly #consumers = new Set<Consumer>();
  #closing: Promise<void> | undefined;

  /** @internal Use connect(). */
  constructor(internals: BrokerInternals) {
    this.#internals = internals;
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
        maxBatchSize: opts.maxBatchSize ?? driver.capabilities.maxBatchSize,
        maxInFlight: opts.maxInFlight ?? 4,
        retry: { ...retry, ...opts.retry },
      },
      logger,
      () => this.#producers.delete(producer),
      this.#internals.telemetry?.producer(name, driver.capabilities),
    );
    this.#producers.add(producer);
    return producer;
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
        handlerRetry: { ...DEFAULT_HANDLER_RETRY, ...opts.retry },
        transportRetry: retry,
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

  /** The latest status event ('connected', 'reconnecting', 'closed'), if the driver reported one. */
  get status(): StatusEvent | undefined {
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
      await this.#internals.driver.close({ deadline });
      this.#internals.status.emit({ type: 'closed', driver: this.driver });
    })();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closing !== undefined)
      throw new ClosedError(`the ${this.driver} broker is closed`, { driver: this.driver });
  }
}
