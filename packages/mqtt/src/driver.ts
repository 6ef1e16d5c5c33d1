import {
  type Capabilities,
  ConfigError,
  type Delivery,
  type Driver,
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
  type ProbeDetails,
  parseWithSchema,
  type SwitchyardError,
  UnsupportedError,
} from '@switchyard/core/driver';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { mqttCapabilities, mqttDefaultCapabilities } from './capabilities.js';
import { type MqttConfig, parseConfig } from './config.js';
import { endClient, endSession311, newClientId, openClient } from './connection.js';
import { MqttConsumer } from './consumer.js';
import { closedError, DRIVER } from './errors.js';
import { MqttProducer } from './producer.js';
import { MqttReplyInbox, probeMqtt } from './reply.js';
import { takeId, takeSlot } from './slots.js';
import { checkGroup, checkTopic, topicFilters } from './topics.js';
import { fromUrl } from './url.js';

const producerOptionsSchema = z.strictObject({});

const consumerOptionsSchema = z.strictObject({
  /** This consumer's MQTT client id (its session), instead of `<clientIdPrefix><group>-<slot>`. */
  clientId: z.string().min(1).max(65_535).optional(),
});

const CLOSE_WAIT_MS = 10_000;

/**
 * One connection publishes for every producer of the driver (a clean session: the broker keeps
 * nothing for it); every consumer opens its own persistent session (see consumer.ts).
 */
export class MqttDriver implements Driver {
  readonly name = DRIVER;
  readonly #config: MqttConfig;
  readonly #context: DriverContext;
  #version: 4 | 5;
  #client: MqttClient | undefined;
  capabilities: Readonly<Capabilities>;
  readonly #consumers = new Set<MqttConsumer>();
  #closed = false;

  constructor(config: MqttConfig, context: DriverContext) {
    this.#config = config;
    this.#context = context;
    this.#version = config.protocolVersion === 4 ? 4 : 5;
    this.capabilities = mqttCapabilities(this.#version, config.maxMessageBytes);
  }

  /** The producers' MQTT.js client. */
  get native(): MqttClient | undefined {
    return this.#client;
  }

  /** The protocol version in use: 5, or 4 (MQTT 3.1.1) when configured or fallen back to. */
  get protocolVersion(): 4 | 5 {
    return this.#version;
  }

  async start(): Promise<void> {
    const what = `connect to ${this.#config.protocol}://${this.#config.host}`;
    const spec = () => ({
      clientId: newClientId(this.#config.clientIdPrefix, 'p'),
      version: this.#version,
      persistent: false,
      role: 'producer',
    });
    try {
      this.#client = await openClient(this.#config, spec(), this.#context, what);
    } catch (error) {
      // `auto`: a broker that refuses MQTT 5 at CONNACK gets MQTT 3.1.1.
      if (this.#config.protocolVersion !== 'auto' || !refusedVersion(error)) throw error;
      this.#version = 4;
      this.capabilities = mqttCapabilities(4, this.#config.maxMessageBytes);
      this.#client = await openClient(this.#config, spec(), this.#context, what);
    }
  }

  async openProducer(destination: string, options: DriverProducerOptions): Promise<DriverProducer> {
    this.#assertOpen();
    parseWithSchema(
      producerOptionsSchema,
      options.driverOptions,
      'producer driverOptions',
      InvalidArgumentError,
    );
    checkTopic(destination, 'destination');
    return new MqttProducer(this.#client!, destination, this.#config, this.#version, this.#context.logger);
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const opts = parseWithSchema(
      consumerOptionsSchema,
      options.driverOptions,
      'consumer driverOptions',
      InvalidArgumentError,
    );
    checkTopic(source, 'source');
    checkGroup(options.group);
    const filters = topicFilters(source, options.filter.routingKeys);
    const id =
      opts.clientId === undefined
        ? takeSlot(this.#config.clientIdPrefix, options.group)
        : takeId(opts.clientId);
    if (id === undefined) {
      throw new InvalidArgumentError(
        `driverOptions.clientId "${opts.clientId}" is in use by another open consumer; each consumer is its own MQTT session`,
        { driver: DRIVER, details: { fields: ['driverOptions.clientId'] } },
      );
    }
    const consumer = new MqttConsumer({
      source,
      group: options.group,
      filters,
      version: this.#version,
      logger: this.#context.logger,
      endSession: (deadline) => endSession311(this.#config, id.clientId, deadline),
      release: () => {
        id.release();
        this.#consumers.delete(consumer);
      },
    });
    try {
      await openClient(
        this.#config,
        {
          clientId: id.clientId,
          version: this.#version,
          // Both versions keep the session across a crash (a 3.1.1 one until a clean close ends it).
          persistent: true,
          receiveMaximum: Math.min(options.prefetch, 65_535),
          role: options.group,
          // Its close and nacks are requests that follow PUBACK writes (connection.ts, sendPromptly).
          noDelay: true,
        },
        this.#context,
        `connect consumer of "${source}" (group "${options.group}")`,
        (client) => consumer.attach(client),
      );
      await consumer.subscribe();
    } catch (error) {
      await consumer.close({ deadline: Date.now() });
      id.release();
      throw error;
    }
    this.#consumers.add(consumer);
    return consumer;
  }

  /** MQTT 5 only: MQTT 3.1.1 has no Response Topic or Correlation Data to carry a request's. */
  async openReplyInbox(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox> {
    this.#assertOpen();
    if (this.#version !== 5) {
      throw new UnsupportedError(
        'request-reply needs MQTT 5 (response topic and correlation data); this connection speaks MQTT 3.1.1 — use protocolVersion: 5 with an MQTT 5 broker',
        { driver: DRIVER },
      );
    }
    const inbox = new MqttReplyInbox(this.#client!, onReply, this.#context.logger);
    await inbox.open();
    return inbox;
  }

  async probe(signal: AbortSignal): Promise<ProbeDetails> {
    this.#assertOpen();
    return { protocolVersion: this.#version, ...(await probeMqtt(this.#client!, signal)) };
  }

  async close(options?: DriverCloseOptions): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const deadline = options?.deadline ?? Date.now() + CLOSE_WAIT_MS;
    await Promise.all([...this.#consumers].map((c) => c.close({ deadline })));
    if (this.#client !== undefined) await endClient(this.#client, deadline, undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError('the mqtt driver');
  }
}

function refusedVersion(error: unknown): boolean {
  const cause = isSwitchyardError(error) ? (error as SwitchyardError).cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 0x84 || code === 1;
}

/** The module core's registry loads for mqtt://, mqtts://, ws://, wss:// URLs and `driver: 'mqtt'`. */
export const driver: DriverModule<MqttConfig> = {
  name: DRIVER,
  schemes: ['mqtt', 'mqtts', 'ws', 'wss', 'mqtt+ws', 'mqtt+wss'],
  defaultCapabilities: mqttDefaultCapabilities,
  fromUrl,
  parseConfig: (input) => {
    if (typeof input !== 'object' || input === null)
      throw new ConfigError('the mqtt config must be an object');
    return parseConfig(input);
  },
  async create(config, context) {
    const instance = new MqttDriver(config, context);
    await instance.start();
    return instance;
  },
};
