import {
  type DriverCloseOptions,
  type DriverProducer,
  type Outgoing,
  type Receipt,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core/driver';
import type { MqttClient } from 'mqtt';
import type { MqttConfig } from './config.js';
import { closedError, DRIVER, mapError } from './errors.js';
import { publishOptions } from './properties.js';
import { topicFor } from './topics.js';

/**
 * Publishes at QoS 1 on the driver's connection: a send resolves on the broker's PUBACK. While the
 * connection is down MQTT.js keeps QoS 1 publishes in its outgoing store and sends them again after
 * reconnecting (at least once); a send that waits longer than unavailableTimeoutMs, or past its
 * deadline, fails (retryable) without a receipt.
 */
export class MqttProducer implements DriverProducer {
  readonly #client: MqttClient;
  readonly #destination: string;
  readonly #config: MqttConfig;
  readonly #version: 4 | 5;
  #closed = false;

  constructor(client: MqttClient, destination: string, config: MqttConfig, version: 4 | 5) {
    this.#client = client;
    this.#destination = destination;
    this.#config = config;
    this.#version = version;
  }

  get native(): MqttClient {
    return this.#client;
  }

  async sendBatch(messages: readonly Outgoing[], signal?: AbortSignal): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw closedError('the mqtt producer');
    const what = `publish to "${this.#destination}"`;
    const stop = this.#stopper(signal, what);
    try {
      return await Promise.all(
        messages.map(async (message): Promise<Receipt | Error> => {
          try {
            const topic = topicFor(this.#destination, message.routingKey);
            const options = publishOptions(message, this.#version, this.#config.messageExpirySeconds);
            await Promise.race([
              this.#client.publishAsync(topic, Buffer.from(message.body), options),
              stop.promise,
            ]);
            return { messageId: message.id };
          } catch (error) {
            return mapError(error, what, this.#version);
          }
        }),
      );
    } finally {
      stop.dispose();
    }
  }

  /** Rejects when the send's signal aborts or the connection stays down past unavailableTimeoutMs. */
  #stopper(signal: AbortSignal | undefined, what: string): { promise: Promise<never>; dispose(): void } {
    const client = this.#client;
    let timer: NodeJS.Timeout | undefined;
    let reject!: (error: Error) => void;
    const promise = new Promise<never>((_, r) => {
      reject = r;
    });
    promise.catch(() => {});
    const onAbort = () =>
      reject(
        signal?.reason instanceof Error
          ? signal.reason
          : new TimeoutError(`${what}: the send was cancelled before the broker confirmed it`, {
              driver: DRIVER,
            }),
      );
    const offline = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          reject(
            new UnavailableError(
              `${what}: the broker was unreachable for ${this.#config.unavailableTimeoutMs} ms; the message may still be sent when the connection returns`,
              { driver: DRIVER },
            ),
          ),
        this.#config.unavailableTimeoutMs,
      );
    };
    const online = () => clearTimeout(timer);
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    client.on('offline', offline);
    client.on('connect', online);
    if (!client.connected) offline();
    return {
      promise,
      dispose: () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        client.off('offline', offline);
        client.off('connect', online);
      },
    };
  }

  async close(_options?: DriverCloseOptions): Promise<void> {
    // The connection is the driver's, shared by its producers: closing one releases nothing.
    this.#closed = true;
  }
}
