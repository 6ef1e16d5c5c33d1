import {
  type Capabilities,
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
  replyConsumerOptions,
} from '@switchyard/core/driver';
import { pulsarHttpAdmin } from './admin.js';
import { pulsarHttpCapabilities, rawCapabilities } from './capabilities.js';
import { Api } from './client.js';
import { fromUrl, type PulsarHttpConfig, parseConfig } from './config.js';
import { PulsarHttpConsumer } from './consumer.js';
import { DRIVER } from './errors.js';
import { qualifyTopic, type TopicName } from './naming.js';
import { PulsarHttpProducer } from './producer.js';
import { openPulsarHttpReplyInbox, probePulsarHttp, REPLY_SUBSCRIPTION } from './reply.js';
import { Topology } from './topology.js';

const SUBSCRIPTION_NAME = /^[^\s/#]{1,128}$/;

export const driver: DriverModule<PulsarHttpConfig> = {
  name: DRIVER,
  schemes: ['pulsar-http+https', 'pulsar-http+http'],
  defaultCapabilities: rawCapabilities,
  fromUrl: (url) => fromUrl(url),
  parseConfig: (input) => parseConfig(input),
  async create(config, context) {
    const credentials = new CredentialProvider(config.credentials, {
      driver: DRIVER,
      what: 'pulsar-http SecretId/SecretKey',
      status: (event) => context.status(event),
      logger: context.logger,
    });
    const created = new PulsarHttpDriver(config, context.logger, credentials);
    // No request here: the first send or receive proves the credentials (errors name the action).
    context.status({
      type: 'connected',
      driver: DRIVER,
      detail: `${config.protocol}://${config.endpoint} (${config.region})`,
    });
    return created;
  },
};

class PulsarHttpDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  readonly #config: PulsarHttpConfig;
  readonly #api: Api;
  readonly #topology: Topology | undefined;
  readonly #logger: Logger;

  constructor(config: PulsarHttpConfig, logger: DriverContext['logger'], credentials: CredentialProvider) {
    this.#config = config;
    this.#logger = logger;
    this.capabilities = pulsarHttpCapabilities(config);
    this.#api = new Api(config, credentials);
    this.#topology = config.manageTopology ? new Topology(this.#api, config.partitions) : undefined;
  }

  /** tencentcloud-sdk-nodejs-common's CommonClient for TDMQ 2020-02-17 (`request(action, params)`). */
  get native(): unknown {
    return this.#api.sdk;
  }

  qualify(name: string): TopicName {
    return qualifyTopic(name, this.#config.cluster, this.#config.namespace);
  }

  async openProducer(destination: string): Promise<DriverProducer> {
    const topic = this.qualify(destination);
    await this.#topology?.ensureTopic(topic);
    return new PulsarHttpProducer(this.#api, topic, this.#config.mode, this.#config.token, this.#config.pack);
  }

  /** Topics, subscription backlogs and purge through the TDMQ API (admin.ts). */
  get admin(): DriverAdmin {
    return pulsarHttpAdmin(this.#api, (name) => this.qualify(name));
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    const topic = this.qualify(source);
    if (!SUBSCRIPTION_NAME.test(options.group)) {
      throw new InvalidArgumentError(
        `group "${options.group.slice(0, 40)}" cannot be a Pulsar subscription name: 1-128 characters without spaces, / or #`,
        { driver: DRIVER },
      );
    }
    if (this.#topology === undefined && options.startFrom instanceof Date) {
      throw new InvalidArgumentError(
        'startFrom as a Date needs topology management (ResetMsgSubOffsetByTimestamp); pass manageTopology: true or use "earliest" / "latest"',
        { driver: DRIVER },
      );
    }
    await this.#topology?.ensureSubscription(topic, options.group, options.startFrom);
    return new PulsarHttpConsumer({
      api: this.#api,
      topology: this.#topology,
      topic,
      group: options.group,
      mode: this.#config.mode,
      token: this.#config.token,
      startFrom: options.startFrom,
      receiveWaitMs: this.#config.receiveWaitMs,
      receiveMode: this.#config.receiveMode,
      pack: this.#config.pack,
      nackMode: this.#config.nackMode,
      visibilityTimeoutMs: options.visibilityTimeoutMs,
      leaseExpired: options.leaseExpired,
      logger: this.#logger,
      qualify: (name) => this.qualify(name),
    });
  }

  /** A private reply topic per process; capabilities.requestReply needs envelopes and topology rights. */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    const topology = this.#topology!;
    return openPulsarHttpReplyInbox(
      {
        api: this.#api,
        qualify: (name) => this.qualify(name),
        ensure: (topic) => topology.ensureSubscription(topic, REPLY_SUBSCRIPTION, 'earliest'),
        consume: (path) => this.openConsumer(path, replyConsumerOptions(REPLY_SUBSCRIPTION)),
        logger: this.#logger,
      },
      onReply,
    );
  }

  probe(signal: AbortSignal): Promise<ProbeDetails> {
    return probePulsarHttp(this.#api, signal);
  }

  async close(): Promise<void> {
    this.#api.close();
  }
}
