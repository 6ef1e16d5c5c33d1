import {
  type Capabilities,
  type Driver,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverModule,
  type DriverProducer,
  type DriverProducerOptions,
  InvalidArgumentError,
  type Logger,
  parseWithSchema,
  type SwitchyardError,
} from '@switchyard/core';
import type { ChannelModel } from 'amqplib';
import { z } from 'zod';
import { rabbitCapabilities, rabbitmqCapabilities } from './capabilities.js';
import { parseConfig, type RabbitConfig } from './config.js';
import { ConnectionManager } from './connection.js';
import { RabbitConsumer } from './consumer.js';
import { bindDelayTarget, type DelayTarget, declareDelayLevels, targetValue } from './delay.js';
import { closedError, DRIVER } from './errors.js';
import { RabbitProducer } from './producer.js';
import { Publisher, type PublishItem } from './publisher.js';
import type { Shared } from './shared.js';
import { bindingKeys, prepareExchange, prepareQueue, queueName } from './topology.js';
import { fromUrl } from './url.js';

const producerOptionsSchema = z.strictObject({
  /** Publish to this queue through the default exchange instead of to an exchange. */
  queue: z.boolean().optional(),
});

const consumerOptionsSchema = z.strictObject({
  /** Queue name for this consumer, instead of the configured `{source}.{group}` pattern. */
  queue: z.string().min(1).max(255).optional(),
  /** false: consume the queue as it is, without binding it to the source exchange. */
  bind: z.boolean().optional(),
});

export class RabbitDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  readonly #config: RabbitConfig;
  readonly #manager: ConnectionManager;
  readonly #shared: Shared;
  #delayLevels: Promise<void> | undefined;
  readonly #delayTargets = new Map<string, Promise<void>>();
  readonly #lastUnroutableLog = new Map<string, number>();
  #closed = false;

  constructor(config: RabbitConfig, context: DriverContext) {
    this.#config = config;
    this.capabilities = rabbitCapabilities(config);
    this.#manager = new ConnectionManager(config, context);
    const republisher = new Publisher(this.#manager, 'republish for a delayed nack');
    this.#shared = {
      config,
      manager: this.#manager,
      logger: context.logger,
      ensureDelay: (target, deadline) => this.#ensureDelay(target, deadline),
      republisher,
    };
  }

  /** The live amqplib ChannelModel (undefined while reconnecting). */
  get native(): ChannelModel | undefined {
    return this.#manager.current;
  }

  get logger(): Logger {
    return this.#shared.logger;
  }

  async start(): Promise<void> {
    await this.#manager.start();
  }

  async openProducer(destination: string, options: DriverProducerOptions): Promise<DriverProducer> {
    this.#assertOpen();
    const opts = parseWithSchema(
      producerOptionsSchema,
      options.driverOptions,
      'producer driverOptions',
      InvalidArgumentError,
    );
    const target: DelayTarget = opts.queue === true ? { queue: destination } : { exchange: destination };
    const config = this.#config;
    const deadline = Date.now() + config.unavailableTimeoutMs;
    const what =
      'queue' in target
        ? `open producer for queue "${destination}"`
        : `open producer for exchange "${destination}"`;
    // Passive checks close their channel when they fail, so they run on a throwaway one.
    await this.#manager.withChannel(deadline, what, (channel) =>
      'queue' in target
        ? prepareQueue(channel, config, destination)
        : prepareExchange(channel, config, destination),
    );
    // Re-assert on every new channel (after a reconnect) where the account may declare.
    const publisher = new Publisher(
      this.#manager,
      what.replace(/^open producer for/, 'publish to'),
      config.topology === 'declare' && 'exchange' in target
        ? (channel) => prepareExchange(channel, config, destination)
        : undefined,
      (item) => this.#unroutable(item),
    );
    await publisher.open(deadline);
    return new RabbitProducer(this.#shared, target, publisher);
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const opts = parseWithSchema(
      consumerOptionsSchema,
      options.driverOptions,
      'consumer driverOptions',
      InvalidArgumentError,
    );
    const config = this.#config;
    const keys = opts.bind === false ? [] : bindingKeys(config.exchangeType, options.filter);
    const consumer = new RabbitConsumer(this.#shared, {
      topology: {
        exchange: source,
        queue: opts.queue ?? queueName(config.queueName, source, options.group),
        bindingKeys: keys,
        deadLetter:
          options.deadLetter === undefined
            ? undefined
            : { maxDeliveries: options.deadLetter.maxDeliveries, exchange: options.deadLetter.destination },
      },
      prefetch: options.prefetch,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
      countsAttempts: this.capabilities.deliveryAttempt === 'native',
    });
    await consumer.open();
    return consumer;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#shared.republisher.close();
    await this.#manager.close();
  }

  #ensureDelay(target: DelayTarget, deadline: number): Promise<void> {
    const config = this.#config;
    this.#delayLevels ??= this.#manager
      .withChannel(deadline, 'declare the delay queues', (channel) =>
        declareDelayLevels(channel, config.delayPrefix, config.delayLevels),
      )
      .catch((error: unknown) => {
        this.#delayLevels = undefined;
        throw error;
      });
    const key = targetValue(target);
    let bound = this.#delayTargets.get(key);
    if (bound === undefined) {
      bound = this.#delayLevels
        .then(() =>
          this.#manager.withChannel(deadline, `bind delayed delivery to ${key}`, (channel) =>
            bindDelayTarget(channel, config.delayPrefix, target),
          ),
        )
        .catch((error: unknown) => {
          this.#delayTargets.delete(key);
          throw error;
        });
      this.#delayTargets.set(key, bound);
    }
    return bound;
  }

  /** A returned (unroutable) message: reject its send, or log it, at most once a second per key. */
  #unroutable(item: PublishItem): SwitchyardError | undefined {
    if (this.#config.unroutable === 'error') return Publisher.unroutableError(item);
    const key = `${item.exchange}\0${item.routingKey}`;
    const now = Date.now();
    if ((this.#lastUnroutableLog.get(key) ?? 0) + 1_000 <= now) {
      if (this.#lastUnroutableLog.size > 1_000) this.#lastUnroutableLog.clear();
      this.#lastUnroutableLog.set(key, now);
      this.#shared.logger.warn(
        { exchange: item.exchange, routingKey: item.routingKey },
        'rabbitmq: no queue is bound for this routing key; the broker dropped the message',
      );
    }
    return undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError('the rabbitmq driver');
  }
}

/** The module core's registry loads for amqp:// and amqps:// URLs and `driver: 'rabbitmq'`. */
export const driver: DriverModule<RabbitConfig> = {
  name: DRIVER,
  schemes: ['amqp', 'amqps'],
  defaultCapabilities: rabbitmqCapabilities,
  fromUrl,
  parseConfig: (input) => parseConfig(input),
  async create(config, context) {
    const instance = new RabbitDriver(config, context);
    await instance.start();
    return instance;
  },
};
