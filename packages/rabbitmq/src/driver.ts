import {
  type Capabilities,
  type Delivery,
  type Driver,
  type DriverAdmin,
  type DriverCloseOptions,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverModule,
  type DriverProducer,
  type DriverProducerOptions,
  type DriverReplyInbox,
  InvalidArgumentError,
  isSwitchyardError,
  type Logger,
  type ProbeDetails,
  parseWithSchema,
  type SwitchyardError,
  UnsupportedError,
} from '@switchyard/core/driver';
import type { ChannelModel } from 'amqplib';
import { z } from 'zod';
import { rabbitAdmin } from './admin.js';
import { rabbitCapabilities, rabbitmqCapabilities } from './capabilities.js';
import { parseConfig, type RabbitConfig } from './config.js';
import { CLOSE_WAIT_MS, ConnectionManager } from './connection.js';
import { RabbitConsumer } from './consumer.js';
import { bindDelayTarget, type DelayTarget, declareDelayLevels, dueQueue, targetValue } from './delay.js';
import { DelayMover } from './delay-mover.js';
import { closedError, DRIVER } from './errors.js';
import { RabbitProducer } from './producer.js';
import { Publisher, type PublishItem } from './publisher.js';
import { probe, RabbitReplyInbox, replyProducer } from './reply.js';
import type { Shared } from './shared.js';
import {
  bindingKeys,
  checkName,
  prepareExchange,
  prepareQueue,
  queueName,
  type Scratch,
} from './topology.js';
import { fromUrl } from './url.js';

const producerOptionsSchema = z.strictObject({
  /** Publish to this queue through the default exchange instead of to an exchange. */
  queue: z.boolean().optional(),
});

const consumerOptionsSchema = z.strictObject({
  /**
   * Consume this queue instead of the group's `{source}.{group}` one: used as it is when it exists
   * (declared with the configured settings when missing), and bound to the source exchange only
   * when the consumer has routing-key filters.
   */
  queue: z.string().min(1).optional(),
  /** false: never bind; true: bind even a named queue (all keys when there is no filter). */
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
  /** Moves due delayed messages to their targets (quorum delay levels); started on first use. */
  readonly #mover: DelayMover;
  readonly #lastUnroutableLog = new Map<string, number>();
  /** Sends replies (to queues and direct reply-to addresses), opened on the first reply. */
  #replyPublisher: Publisher | undefined;
  #closed = false;

  constructor(config: RabbitConfig, context: DriverContext) {
    this.#config = config;
    this.capabilities = rabbitCapabilities(config);
    this.#manager = new ConnectionManager(config, context);
    this.#mover = new DelayMover({ config, manager: this.#manager, logger: context.logger });
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
    checkName('queue' in target ? 'queue name' : 'exchange name', destination, 'destination');
    const config = this.#config;
    const deadline = Date.now() + config.unavailableTimeoutMs;
    const what =
      'queue' in target
        ? `open producer for queue "${destination}"`
        : `open producer for exchange "${destination}"`;
    const scratch = this.#scratch(deadline);
    if ('queue' in target) await prepareQueue(scratch, config, destination);
    else await prepareExchange(scratch, config, destination);
    // Again on every new channel (after a reconnect), where the account may declare what went
    // missing; on scratch channels, so a failed check never closes the publishing one.
    const publisher = new Publisher(
      this.#manager,
      what.replace(/^open producer for/, 'publish to'),
      config.topology === 'declare' && 'exchange' in target
        ? () => prepareExchange(this.#scratch(), config, destination)
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
    // A named queue is someone's existing queue: bound only when asked (filters or bind: true).
    const bind = opts.bind ?? (opts.queue === undefined || (options.filter.routingKeys ?? []).length > 0);
    const keys = bind ? bindingKeys(config.exchangeType, options.filter) : [];
    const queue = opts.queue ?? queueName(config.queueName, source, options.group);
    checkName('queue name', queue, opts.queue === undefined ? 'queueName' : 'driverOptions.queue');
    if (keys.length > 0) checkName('exchange name', source, 'source');
    for (const key of keys) checkName('routing key', key, 'filter.routingKeys');
    if (options.deadLetter !== undefined)
      checkName('dead-letter exchange name', options.deadLetter.destination, 'deadLetter.destination');
    const consumer = new RabbitConsumer(this.#shared, {
      topology: {
        exchange: source,
        queue,
        namedQueue: opts.queue !== undefined,
        bindingKeys: keys,
        deadLetter:
          options.deadLetter === undefined
            ? undefined
            : { maxDeliveries: options.deadLetter.maxDeliveries, exchange: options.deadLetter.destination },
        scratch: this.#scratch(),
      },
      prefetch: options.prefetch,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
      countsAttempts: this.capabilities.deliveryAttempt === 'native',
    });
    // Alongside the consumer's own topology, and done before it subscribes: once the broker pushes
    // (up to the prefetch: at 1 MiB a message, 200 MiB), a reply to any later request on this
    // connection waits behind all of it (it cost a 1 MiB consumer's open 100-350 ms).
    await consumer.open(this.#helpMoveDue());
    return consumer;
  }

  /** Direct reply-to: the broker's own reply addresses, nothing to declare or delete. */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    const inbox = new RabbitReplyInbox(this.#manager, onReply, (item) => this.#unroutable(item));
    await inbox.open(Date.now() + this.#config.unavailableTimeoutMs);
    return inbox;
  }

  /** A reply address is a queue (or direct reply-to's pseudo-queue): the default exchange routes to it. */
  async openReplyProducer(address: string): Promise<DriverProducer> {
    this.#assertOpen();
    this.#replyPublisher ??= new Publisher(this.#manager, 'publish a reply', undefined, (item) =>
      this.#unroutable(item),
    );
    return replyProducer(this.#shared, this.#replyPublisher, address);
  }

  async probe(): Promise<ProbeDetails> {
    this.#assertOpen();
    return probe(this.#manager, Date.now() + this.#config.unavailableTimeoutMs);
  }

  async close(options?: DriverCloseOptions): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = options?.deadline ?? Date.now() + CLOSE_WAIT_MS;
    await this.#replyPublisher?.close(deadline);
    await this.#shared.republisher.close(deadline);
    await this.#mover.close(deadline);
    await this.#manager.close(deadline);
  }

  /**
   * Runs topology work on a short-lived channel of its own (a failed check closes its channel).
   * Without a deadline each call waits out an outage up to unavailableTimeoutMs from its start.
   */
  /** Queue counts and purge over AMQP (admin.ts). */
  get admin(): DriverAdmin {
    return rabbitAdmin(this.#scratch(), this.#config);
  }

  #scratch(deadline?: number): Scratch {
    const manager = this.#manager;
    const wait = this.#config.unavailableTimeoutMs;
    return (what, work) => manager.withChannel(deadline ?? Date.now() + wait, what, work);
  }

  #ensureDelay(target: DelayTarget, deadline: number): Promise<void> {
    const config = this.#config;
    this.#delayLevels ??= this.#manager
      .withChannel(deadline, 'declare the delay queues', (channel) =>
        declareDelayLevels(channel, config.delayPrefix, config.delayLevels, config.delayQueueType),
      )
      .then(() => {
        if (config.delayQueueType === 'quorum') this.#mover.start();
      })
      .catch((error: unknown) => {
        this.#delayLevels = undefined;
        throw delayLevelsError(error, config.delayQueueType);
      });
    // Quorum levels end in the due queue, whatever the target: nothing to bind per target.
    if (config.delayQueueType === 'quorum') return this.#delayLevels;
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

  /**
   * A consumer's process moves due delayed messages too when the vhost has quorum delay levels, so
   * they arrive while the sender is gone; it never declares them (a passive check on its own channel).
   */
  async #helpMoveDue(): Promise<void> {
    const config = this.#config;
    if (
      config.topology !== 'declare' ||
      config.delayQueueType !== 'quorum' ||
      this.#delayLevels !== undefined
    )
      return;
    const exists = await this.#scratch()('check the delay due queue', (ch) =>
      ch.checkQueue(dueQueue(config.delayPrefix)),
    ).then(
      () => true,
      () => false,
    );
    if (exists) this.#mover.start();
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

/** A failed declare of the quorum levels on a broker before 3.10 says which option avoids it. */
function delayLevelsError(error: unknown, type: RabbitConfig['delayQueueType']): unknown {
  if (type !== 'quorum' || !isSwitchyardError(error) || error.code === 'UNAVAILABLE') return error;
  const text = error.message;
  if (!/x-dead-letter-strategy|x-message-ttl|x-overflow|quorum/i.test(text)) return error;
  return new UnsupportedError(
    `declare the delay queues: this broker refused quorum delay queues with message TTL and at-least-once dead-lettering (RabbitMQ 3.10 or later is needed): upgrade it, or set delayQueueType: 'classic' to use classic delay queues, which drop a delayed message no queue is bound for when its delay ends (${text})`,
    { driver: DRIVER, cause: error, details: { feature: 'delayedSend' } },
  );
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
