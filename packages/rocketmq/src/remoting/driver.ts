// The Remoting transport's driver: one connection pool and route table for every producer (the
// name server and brokers are shared), and one client per consumer (a consumer is a group member
// with its own client id and connections, as one Apache MQClientInstance per consumer would be).

import { hostname } from 'node:os';
import {
  type Capabilities,
  ClosedError,
  type Delivery,
  type Driver,
  type DriverAdmin,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverProducer,
  type DriverReplyInbox,
  type ProbeDetails,
  replyConsumerOptions,
  UnsupportedError,
} from '@switchyard/core/driver';
import { RequestCode, ResponseCode } from '@switchyard/rocketmq-remoting';
import { remotingCapabilities } from '../capabilities.js';
import type { RocketMqConfig } from '../config.js';
import { DRIVER, mapError } from '../errors.js';
import { qualify } from '../naming.js';
import { openRocketReplyInbox } from '../reply.js';
import { validateTag } from '../tags.js';
import { remotingAdmin } from './admin.js';
import { RemotingConsumer } from './consumer.js';
import { parseConsumerDriverOptions } from './consumer-options.js';
import { GroupTopics } from './group-topics.js';
import { validateWireName } from './names.js';
import { ConnectionPool, notSupported } from './pool.js';
import { RemotingProducer } from './producer.js';
import { RouteTable } from './routes.js';
import type { RemotingSettings } from './settings.js';

let instances = 0;

/** `host@pid#n#random`, unique per consumer, in the Apache clientID shape. */
function newClientId(): string {
  instances++;
  return `${hostname()}@${process.pid}#${instances}#${Math.random().toString(36).slice(2, 10)}`;
}

export class RemotingDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  readonly native: { readonly config: RocketMqConfig; qualify(name: string): string };
  readonly #config: RocketMqConfig;
  readonly #settings: RemotingSettings;
  readonly #pool: ConnectionPool;
  readonly #routes: RouteTable;
  /** Which topic each consumer group consumes in this process (one per group, see group-topics.ts). */
  readonly #groupTopics = new GroupTopics();
  #closed = false;

  constructor(config: RocketMqConfig, context: DriverContext) {
    this.#config = config;
    this.#settings = {
      nameServer: config.endpoints,
      credentials: config.credentials,
      securityToken: config.securityToken,
      requestTimeoutMs: config.requestTimeoutMs,
      longPollMs: config.longPollMs,
      invisibleDurationMs: config.invisibleDurationMs,
      delayMode: config.delayMode,
      producerGroup: qualify(config.producerGroup, config),
      maxReconsumeTimes: config.maxReconsumeTimes,
      rebalanceIntervalMs: config.rebalanceIntervalMs,
      heartbeatIntervalMs: config.heartbeatIntervalMs,
      routeRefreshMs: config.routeRefreshMs,
      offsetPersistMs: config.offsetPersistMs,
      logger: context.logger,
    };
    this.#pool = new ConnectionPool({
      credentials: config.credentials,
      securityToken: config.securityToken,
      requestTimeoutMs: config.requestTimeoutMs,
      logger: context.logger,
      onRequest: (req, reply) => {
        if (req.code !== RequestCode.NOTIFY_CONSUMER_IDS_CHANGED && (req.flag & 2) === 0)
          reply(notSupported(req));
      },
    });
    this.#routes = new RouteTable(this.#pool, config.endpoints, config.routeRefreshMs);
    this.capabilities = remotingCapabilities({
      maxMessageBytes: config.maxMessageBytes,
      deadLetter: config.deadLetter,
      replyTopics: config.replyTopics,
    });
    this.native = Object.freeze({ config, qualify: (name: string) => qualify(name, config) });
  }

  async openProducer(destination: string): Promise<DriverProducer> {
    this.#assertOpen();
    return RemotingProducer.open(
      validateWireName('topic', qualify(destination, this.#config)),
      this.#pool,
      this.#routes,
      this.#settings,
    );
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const config = this.#config;
    const topic = validateWireName('topic', qualify(source, config));
    const group = validateWireName('group', qualify(options.group, config));
    const tags = (options.filter.tags ?? []).map(validateTag);
    const broadcast = parseConsumerDriverOptions(options.driverOptions).messageModel === 'broadcasting';
    if (broadcast && options.deadLetter !== undefined) {
      throw new UnsupportedError(
        'a broadcasting consumer sends nothing back, so the broker cannot dead-letter for it: use the clustering model, or deadLetter "emulated" in the broker config',
        { driver: DRIVER },
      );
    }
    const maxReconsumeTimes = this.#maxReconsumeTimes(group, options);
    const release = this.#groupTopics.claim(
      { group, topic, groupName: options.group, topicName: source },
      DRIVER,
    );
    try {
      if (config.ensureGroup !== undefined) {
        try {
          await config.ensureGroup(group, { fifo: false });
        } catch (error) {
          throw mapError(error, `ensureGroup("${group}")`);
        }
      }
      return await RemotingConsumer.open(this.#settings, {
        topic,
        group,
        tags,
        prefetch: Math.max(1, options.prefetch),
        invisibleMs: options.visibilityTimeoutMs ?? config.invisibleDurationMs,
        startFrom: options.startFrom,
        maxReconsumeTimes,
        nativeDeadLetter: options.deadLetter !== undefined,
        broadcast,
        clientId: newClientId(),
        onClosed: release,
      });
    } catch (error) {
      release();
      throw error;
    }
  }

  /** A private reply topic and group per process, through the replyTopics hooks (requestReply). */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    return openRocketReplyInbox(
      this.#config,
      this.#config.replyTopics!,
      (topic, group) => this.openConsumer(topic, replyConsumerOptions(group)),
      onReply,
      this.#settings.logger,
    );
  }

  /** list, stats, peek and purge (a skip for the group) with mqadmin's requests (admin.ts). */
  get admin(): DriverAdmin {
    return remotingAdmin(this.#pool, this.#routes, this.#config);
  }

  /**
   * Health: a route lookup at the name server (a topic that need not exist: TOPIC_NOT_EXIST is an
   * answer too), the round trip every producer and consumer starts with.
   */
  async probe(signal: AbortSignal): Promise<ProbeDetails> {
    this.#assertOpen();
    const lookup = this.#pool.call(
      this.#config.endpoints,
      RequestCode.GET_ROUTEINFO_BY_TOPIC,
      { topic: 'switchyard_health_probe' },
      undefined,
      `health probe at name server ${this.#config.endpoints}`,
      { accept: [ResponseCode.TOPIC_NOT_EXIST] },
    );
    await new Promise<void>((resolve, reject) => {
      const stop = () => reject(signal.reason);
      signal.addEventListener('abort', stop, { once: true });
      lookup
        .then(
          () => resolve(),
          (error: unknown) => reject(error),
        )
        .finally(() => signal.removeEventListener('abort', stop));
    });
    return { nameServer: 'answered' };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#routes.close();
    this.#pool.close();
  }

  /**
   * With native dead-lettering the broker moves a message to %DLQ%<group> once its reconsumeTimes
   * (the deliveries before this one) reach maxReconsumeTimes: maxDeliveries − 1 dead-letters it
   * after exactly maxDeliveries deliveries. The broker knows no other destination.
   */
  #maxReconsumeTimes(group: string, options: DriverConsumerOptions): number {
    const wanted = options.deadLetter;
    if (wanted === undefined) return this.#config.maxReconsumeTimes;
    const own = `%DLQ%${group}`;
    if (qualify(wanted.destination, this.#config) !== own) {
      throw new UnsupportedError(
        `deadLetter "${wanted.destination}": with deadLetter "native" the RocketMQ 4.x broker moves a message only to its group's own "${own}"; ` +
          `pass deadLetter: "${own}", or set deadLetter "emulated" in the broker config to copy it to a destination of your choice`,
        { driver: DRIVER },
      );
    }
    return wanted.maxDeliveries - 1;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('rocketmq broker is closed', { driver: DRIVER });
  }
}
