// The cmq driver: wires config, the signed data-plane client, the management client and the two
// models behind core's Driver contract.

import {
  type Capabilities,
  ClosedError,
  CredentialProvider,
  type Delivery,
  type Driver,
  type DriverAdmin,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverModule,
  type DriverProducer,
  type DriverReplyInbox,
  InvalidArgumentError,
  type Logger,
  type ProbeDetails,
} from '@switchyard/core/driver';
import { cmqAdmin } from './admin.js';
import { cmqCapabilities, defaultCmqCapabilities } from './capabilities.js';
import { type CmqConfig, parseConfig } from './config.js';
import { DRIVER } from './errors.js';
import { CmqHttpClient } from './http-client.js';
import { CmqManagement } from './management.js';
import { checkCmqName, groupQueueName } from './names.js';
import { QueueConsumer, QueueProducer } from './queue-model.js';
import { openCmqReplyInbox, probeCmq } from './reply.js';
import { checkRoutingKey, checkTags, TopicProducer } from './topic-model.js';
import { fromUrl } from './url.js';

/** What broker.unwrap() returns. */
export interface CmqNative {
  /** The signed CMQ HTTP data-plane client (`call(action, params)`). */
  readonly http: CmqHttpClient;
  /** Management through the Cloud API 3.0 (`management.client` is tencentcloud-sdk-nodejs-common's CommonClient). */
  readonly management: CmqManagement;
  readonly config: CmqConfig;
}

const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class CmqDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  readonly #config: CmqConfig;
  readonly #http: CmqHttpClient;
  readonly #management: CmqManagement;
  /** Topology already ensured by this driver, so a second consumer costs no API call. */
  readonly #ensured = new Map<string, Promise<void>>();
  readonly #logger: Logger | undefined;
  #closed = false;

  constructor(config: CmqConfig, logger?: Logger, status?: DriverContext['status']) {
    this.#config = config;
    this.#logger = logger;
    this.capabilities = cmqCapabilities(config);
    // One provider for both APIs: they take the same SecretId/SecretKey/Token.
    const credentials = new CredentialProvider(config.credentials, {
      driver: DRIVER,
      what: 'CMQ SecretId/SecretKey',
      ...(logger === undefined ? {} : { logger }),
      ...(status === undefined ? {} : { status }),
    });
    this.#http = new CmqHttpClient({
      endpoint: config.endpoint,
      path: config.path,
      credentials,
      signatureMethod: config.signatureMethod,
      maxConnections: config.maxConnections,
      requestTimeoutMs: config.requestTimeoutMs,
    });
    this.#management = new CmqManagement({
      endpoint: config.managementEndpoint,
      region: config.region,
      credentials,
      requestTimeoutMs: config.requestTimeoutMs,
    });
  }

  get native(): CmqNative {
    return { http: this.#http, management: this.#management, config: this.#config };
  }

  async openProducer(destination: string): Promise<DriverProducer> {
    this.#assertOpen();
    const c = this.#config;
    const settings = { bodyMode: c.bodyMode, maxMessageBytes: c.maxMessageBytes };
    // Producers never create destinations: sending to a missing queue or topic is NOT_FOUND.
    if (c.model === 'queue')
      return new QueueProducer(this.#http, checkCmqName(destination, 'queue'), settings);
    return new TopicProducer(this.#http, checkCmqName(destination, 'topic'), {
      ...settings,
      filter: c.topicFilter,
      defaultRoutingKey: c.defaultRoutingKey,
    });
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const c = this.#config;
    const visibility =
      options.visibilityTimeoutMs === undefined
        ? undefined
        : Math.max(1, Math.ceil(options.visibilityTimeoutMs / 1000));
    const deadLetter =
      options.deadLetter === undefined
        ? undefined
        : {
            queue: checkCmqName(options.deadLetter.destination, 'dead-letter queue'),
            maxReceiveCount: options.deadLetter.maxDeliveries,
          };
    let queue: string;
    if (c.model === 'queue') {
      // Queue model: the queue is the destination; every group competes on it.
      queue = checkCmqName(source, 'queue');
      if (c.manageTopology) await this.#ensureQueue(queue, visibility, deadLetter);
    } else {
      const topic = checkCmqName(source, 'topic');
      queue = groupQueueName(topic, options.group);
      const tags = options.filter.tags ?? [];
      const keys = options.filter.routingKeys ?? [];
      checkTags(tags, 'consumer filter tags');
      if (keys.length > 5) {
        throw new InvalidArgumentError(`CMQ subscriptions take at most 5 binding keys, got ${keys.length}`, {
          driver: DRIVER,
        });
      }
      for (const key of keys) checkRoutingKey(key, 'binding key');
      if (c.manageTopology) {
        await this.#once(`topic:${topic}`, () =>
          this.#management.ensureTopic(topic, c.topicFilter, c.maxMessageBytes),
        );
        await this.#ensureQueue(queue, visibility, deadLetter);
        await this.#once(`sub:${topic}:${queue}:${JSON.stringify([tags, keys])}`, () =>
          this.#management.ensureSubscription({
            topic,
            name: queue,
            queue,
            filterTags: tags,
            // A routing topic delivers nothing to a subscription without binding keys: `#` = all.
            bindingKeys: c.topicFilter === 'routing' && keys.length === 0 ? ['#'] : keys,
          }),
        );
      }
    }
    return new QueueConsumer(this.#http, queue, {
      bodyMode: c.bodyMode,
      nackMode: c.nackMode,
      maxMessageBytes: c.maxMessageBytes,
    });
  }

  /** A private reply queue per process (capabilities.requestReply needs envelopes and topology rights). */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    return openCmqReplyInbox(this.#http, this.#management, this.#config, onReply, this.#logger ?? QUIET);
  }

  /** A reply address is a queue, whichever model this driver sends to. */
  async openReplyProducer(address: string): Promise<DriverProducer> {
    this.#assertOpen();
    const c = this.#config;
    return new QueueProducer(this.#http, checkCmqName(address, 'reply queue'), {
      bodyMode: c.bodyMode,
      maxMessageBytes: c.maxMessageBytes,
    });
  }

  async probe(signal: AbortSignal): Promise<ProbeDetails> {
    this.#assertOpen();
    return probeCmq(this.#http, signal);
  }

  async #ensureQueue(
    queue: string,
    visibility: number | undefined,
    deadLetter: { queue: string; maxReceiveCount: number } | undefined,
  ): Promise<void> {
    const c = this.#config;
    if (deadLetter !== undefined) {
      await this.#once(`queue:${deadLetter.queue}`, async () => {
        await this.#management.ensureQueue(deadLetter.queue, {
          visibilityTimeoutSeconds: Math.ceil(c.visibilityTimeoutMs / 1000),
          maxMsgSize: c.maxMessageBytes,
        });
      });
    }
    await this.#once(
      `queue:${queue}:${visibility}:${deadLetter?.queue}:${deadLetter?.maxReceiveCount}`,
      async () => {
        const created = await this.#management.ensureQueue(queue, {
          visibilityTimeoutSeconds: visibility ?? Math.ceil(c.visibilityTimeoutMs / 1000),
          maxMsgSize: c.maxMessageBytes,
          deadLetter,
        });
        // An existing queue keeps its settings unless this consumer asked for a visibility
        // timeout or a native dead-letter policy (both are queue-wide in CMQ).
        if (!created && (visibility !== undefined || deadLetter !== undefined)) {
          await this.#management.modifyQueue(queue, {
            ...(visibility === undefined ? {} : { visibilityTimeoutSeconds: visibility }),
            ...(deadLetter === undefined ? {} : { deadLetter }),
          });
        }
      },
    );
  }

  #once(key: string, run: () => Promise<unknown>): Promise<void> {
    let pending = this.#ensured.get(key);
    if (pending === undefined) {
      pending = run().then(() => undefined);
      pending.catch(() => this.#ensured.delete(key));
      this.#ensured.set(key, pending);
    }
    return pending;
  }

  /** Queue and topic names, queue counts and purge through the Cloud API (admin.ts). */
  get admin(): DriverAdmin {
    return cmqAdmin(this.#management, this.#config);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#management.close();
    // Consumers are closed first (their long polls aborted); don't wait on a stuck socket forever.
    let timer: NodeJS.Timeout | undefined;
    const closed = await Promise.race([
      this.#http.close().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), 2_000);
      }),
    ]);
    clearTimeout(timer);
    if (!closed) await this.#http.destroy();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('CMQ broker is closed', { driver: DRIVER });
  }
}

export const driver: DriverModule<CmqConfig> = {
  name: DRIVER,
  schemes: ['cmq+http', 'cmq+https'],
  defaultCapabilities: defaultCmqCapabilities,
  fromUrl: (url) => fromUrl(url),
  parseConfig: (input) => parseConfig(input),
  async create(config: CmqConfig, context: DriverContext): Promise<Driver> {
    const created = new CmqDriver(config, context.logger, (event) => context.status(event));
    context.status({
      type: 'connected',
      driver: DRIVER,
      detail: `${config.endpoint} (${config.model} model, ${config.bodyMode} bodies)`,
    });
    return created;
  },
};
