// The native Pulsar driver: one pulsar-client Client per broker, one native Producer per portable
// producer, one native Consumer (subscription = group) per portable consumer. pulsar-client is
// loaded when a broker connects, through a loader that tests (and bundlers) can replace.

import {
  type Capabilities,
  ClosedError,
  type Driver,
  type DriverConsumer,
  type DriverConsumerOptions,
  type DriverContext,
  type DriverModule,
  type DriverProducer,
  InvalidArgumentError,
  parseWithSchema,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { isMultiConsumer, pulsarCapabilities } from './capabilities.js';
import { fromUrl, type PulsarConfig, parseConfig } from './config.js';
import { PulsarDriverConsumer } from './consumer.js';
import { DRIVER, isAlreadyClosed, mapError } from './errors.js';
import { loadPulsarClient, type PulsarLoader, resolvePulsarModule } from './load-client.js';
import { qualifyTopic } from './naming.js';
import type { PulsarClient } from './native-api.js';
import { clientConfig, consumerConfig, producerConfig } from './options.js';
import { PulsarDriverProducer } from './producer.js';

/** What `broker.unwrap()` returns: the native client, the resolved config (token hidden) and the name rule. */
export interface PulsarNative {
  readonly client: PulsarClient;
  readonly config: PulsarConfig;
  /** The wire name of a topic: `persistent://cluster/namespace/topic`. */
  qualify(name: string): string;
}

export function capabilitiesFor(config: PulsarConfig): Readonly<Capabilities> {
  return pulsarCapabilities({
    subscriptionType: config.subscriptionType,
    batching: config.batching,
    batchingMaxMessages: config.batchingMaxMessages,
    maxMessageBytes: config.maxMessageBytes,
  });
}

/**
 * Creates a driver for a parsed config. `load` supplies pulsar-client (default: require it); the
 * config's `pulsarClient`, when given, wins over both.
 */
export async function createPulsarDriver(
  config: PulsarConfig,
  context: DriverContext,
  load: PulsarLoader = loadPulsarClient,
): Promise<Driver> {
  const pulsar = config.pulsarClient ?? resolvePulsarModule(load);
  let client: PulsarClient;
  try {
    client = new pulsar.Client(clientConfig(config, pulsar));
  } catch (error) {
    throw mapError(error, `connect to ${config.serviceUrl}`);
  }
  // The client connects lazily, on the first producer or consumer.
  context.status({
    type: 'connected',
    driver: DRIVER,
    detail: `${config.serviceUrl} tenant ${config.cluster} namespace ${config.namespace}`,
  });
  return new PulsarDriver(config, client, context);
}

/** A driver module whose pulsar-client comes from `load` (for tests and bundlers). */
export function pulsarDriverModule(load: PulsarLoader = loadPulsarClient): DriverModule<PulsarConfig> {
  return {
    name: DRIVER,
    schemes: ['pulsar', 'pulsar+ssl'],
    defaultCapabilities: pulsarCapabilities(),
    fromUrl,
    parseConfig,
    create: (config, context) => createPulsarDriver(config, context, load),
    adminUnsupportedReason:
      "pulsar-client has no management calls; Pulsar's admin REST API (topics stats, peek-messages) is a separate HTTP service this driver does not speak",
  };
}

export const driver: DriverModule<PulsarConfig> = pulsarDriverModule();

const producerDriverOptions = z.strictObject({});

class PulsarDriver implements Driver {
  readonly name = DRIVER;
  readonly capabilities: Readonly<Capabilities>;
  readonly native: PulsarNative;
  readonly #config: PulsarConfig;
  readonly #client: PulsarClient;
  readonly #context: DriverContext;
  #closed = false;

  constructor(config: PulsarConfig, client: PulsarClient, context: DriverContext) {
    this.#config = config;
    this.#client = client;
    this.#context = context;
    this.capabilities = capabilitiesFor(config);
    const qualify = (name: string) => qualifyTopic(name, config);
    this.native = Object.freeze({ client, config, qualify });
  }

  async openProducer(
    destination: string,
    options: { driverOptions: Readonly<Record<string, unknown>> },
  ): Promise<DriverProducer> {
    this.#assertOpen();
    parseWithSchema(producerDriverOptions, options.driverOptions, 'driverOptions', InvalidArgumentError);
    const topic = qualifyTopic(destination, this.#config, 'destination');
    try {
      const producer = await this.#client.createProducer(producerConfig(topic, this.#config));
      return new PulsarDriverProducer(producer, topic);
    } catch (error) {
      throw mapError(error, `open producer for "${topic}"`);
    }
  }

  async openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer> {
    this.#assertOpen();
    const topic = qualifyTopic(source, this.#config, 'source');
    const native = consumerConfig(topic, options, this.#config);
    try {
      const consumer = await this.#client.subscribe(native);
      const type = native.subscriptionType ?? this.#config.subscriptionType;
      return new PulsarDriverConsumer(consumer, {
        topic,
        subscription: native.subscription,
        ordered: type !== 'Shared',
        counted: isMultiConsumer(type),
        maxRedeliverCount: native.deadLetterPolicy?.maxRedeliverCount,
      });
    } catch (error) {
      throw mapError(error, `subscribe "${options.group}" to "${topic}"`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#client.close();
    } catch (error) {
      if (!isAlreadyClosed(error)) throw mapError(error, 'close of the client');
    } finally {
      this.#context.status({ type: 'closed', driver: DRIVER });
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('pulsar broker is closed', { driver: DRIVER });
  }
}
