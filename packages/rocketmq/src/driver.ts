// The RocketMQ 5 driver: one client per portable producer and consumer (a SimpleConsumer per
// topic and group, since its receive polls one subscription per call anyway), names qualified
// by TDMQ's rules, clients closed producer/consumer first and only then the driver.

import {
  type Capabilities,
  ClosedError,
  type Delivery,
  type Driver,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverModule,
  type DriverProducer,
  type DriverReplyInbox,
  type Logger,
  replyConsumerOptions,
} from '@switchyard/core/driver';
import { FilterExpression, SimpleConsumer } from 'rocketmq-client-nodejs';
import { rocketmqCapabilities } from './capabilities.js';
import { type ClientFactory, clientFactory } from './client-options.js';
import { fromUrl, parseConfig, type RocketMqConfig } from './config.js';
import { RocketConsumer } from './consumer.js';
import { DRIVER, mapError } from './errors.js';
import { startWithin } from './lifecycle.js';
import { withLiveCredentials } from './live-credentials.js';
import { namespacePrefix, qualify } from './naming.js';
import { openRocketProducer } from './producer.js';
import { RemotingDriver } from './remoting/driver.js';
import { openRocketReplyInbox } from './reply.js';
import { tagExpression } from './tags.js';

/** What `broker.unwrap()` returns: the resolved config (secrets hidden) and the name rules. */
export interface RocketMqNative {
  readonly config: RocketMqConfig;
  /** The wire name of a topic or group (`cluster|namespace%name` in full naming). */
  qualify(name: string): string;
}

export const driver: DriverModule<RocketMqConfig> = {
  name: DRIVER,
  schemes: ['rocketmq', 'rocketmq+tls', 'rocketmq+remoting'],
  defaultCapabilities: rocketmqCapabilities(),
  fromUrl,
  parseConfig,
  async create(parsed, context) {
    const config = await withLiveCredentials(parsed, context);
    const created =
      config.transport === 'remoting'
        ? new RemotingDriver(config, context)
        : new RocketMqDriver(config, context);
    context.status({
      type: 'connected',
      driver: DRIVER,
      detail: `${config.transport === 'remoting' ? 'remoting name server ' : ''}${config.endpoints}${namespacePrefix(config) === undefined ? '' : ` namespace ${namespacePrefix(config)}`}`,
    });
    return created;
  },
};

class RocketMqDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  /** No management calls: say why (the CLI's "not on this flavour"). */
  readonly admin = {
    unsupportedReason:
      "RocketMQ 5's gRPC protocol has no management calls (the proxy's MessagingService only sends, receives and settles); the rocketmq+remoting:// transport of a 4.x cluster has list, stats, purge and peek",
  } as const;
  readonly native: RocketMqNative;
  readonly #config: RocketMqConfig;
  readonly #clients: ClientFactory;
  readonly #logger: Logger;
  #closed = false;

  constructor(config: RocketMqConfig, context: DriverContext) {
    this.#config = config;
    this.#logger = context.logger;
    this.#clients = clientFactory(config, context.logger);
    this.capabilities = rocketmqCapabilities(config);
    this.native = Object.freeze({ config, qualify: (name: string) => qualify(name, config) });
  }

  async openProducer(destination: string): Promise<DriverProducer> {
    this.#assertOpen();
    return openRocketProducer(qualify(destination, this.#config), this.#clients, this.#config.topicType);
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const config = this.#config;
    const topic = qualify(source, config);
    const group = qualify(options.group, config);
    const expression = tagExpression(options.filter.tags);
    if (config.ensureGroup !== undefined) {
      try {
        // The full name in either naming form: it identifies the group on the server.
        await config.ensureGroup(qualify(options.group, { ...config, naming: 'full' }), {
          fifo: config.fifoGroups,
        });
      } catch (error) {
        throw mapError(error, `ensureGroup("${group}")`);
      }
    }
    const client = new SimpleConsumer({
      ...this.#clients.base(),
      consumerGroup: group,
      subscriptions: new Map([[topic, new FilterExpression(expression)]]),
      awaitDuration: config.longPollMs,
      // Temporary server errors go back to the portable layer, which retries with backoff.
      maxRetryAttempts: 1,
    });
    await startWithin(client, config.startupTimeoutMs, `consumer of "${topic}" (group "${group}")`);
    return new RocketConsumer(client, {
      topic,
      group,
      invisibleMs: options.visibilityTimeoutMs ?? config.invisibleDurationMs,
      receiveBoundMs: config.longPollMs + config.requestTimeoutMs + 500,
      fifo: config.fifoGroups,
      requestTimeoutMs: config.requestTimeoutMs,
      retryRefused: (run) => this.#clients.retryRefused(run),
    });
  }

  /** A private reply topic and group per process, through the replyTopics hooks (requestReply). */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    const hooks = this.#config.replyTopics!;
    return openRocketReplyInbox(
      this.#config,
      hooks,
      (topic, group) => this.openConsumer(topic, replyConsumerOptions(group, undefined)),
      onReply,
      this.#logger,
    );
  }

  async close(): Promise<void> {
    // Producers and consumers own their clients and are closed before this (contract).
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('rocketmq broker is closed', { driver: DRIVER });
  }
}
