import {
  type DriverCloseOptions,
  type DriverProducer,
  type Logger,
  NotFoundError,
  type Outgoing,
  type Receipt,
  TimeoutError,
  UnavailableError,
} from '@switchyard/core/driver';
import type { MqttClient } from 'mqtt';
import { type ClientWatch, watchClient } from './client-watch.js';
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
  readonly #logger: Logger;
  readonly #watch: ClientWatch;
  /** Topics warned about in the last second (each leaves the set on its own unref'd timer). */
  readonly #quiet = new Set<string>();
  #closed = false;

  constructor(client: MqttClient, destination: string, config: MqttConfig, version: 4 | 5, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
    this.#watch = watchClient(client);
    this.#destination = destination;
    this.#config = config;
    this.#version = version;
  }

  get native(): MqttClient {
    return this.#client;
  }

  /**
   * One PUBLISH per message, all pipelined on the connection; each result settles on its PUBACK.
   * Callbacks rather than a promise per message: a batch holds up to maxBatchSize publishes in
   * flight, and a promise, a race and an async frame each per message was most of the driver's
   * CPU and garbage on the publish path (issue 18).
   */
  sendBatch(
    messages: readonly Outgoing[],
    signal?: AbortSignal,
    confirmed?: (index: number, receipt: Receipt) => void,
  ): Promise<Array<Receipt | Error>> {
    if (this.#closed) return Promise.reject(closedError('the mqtt producer'));
    const what = `publish to "${this.#destination}"`;
    const results = new Array<Receipt | Error | undefined>(messages.length);
    let left = messages.length;
    if (left === 0) return Promise.resolve([]);
    return new Promise((resolve) => {
      let stop: { dispose(): void } | undefined;
      const finish = () => {
        stop?.dispose();
        resolve(results as Array<Receipt | Error>);
      };
      const settle = (index: number, result: Receipt | Error) => {
        if (results[index] !== undefined) return; // stopped before its PUBACK
        results[index] = result;
        // PUBACKed: that send resolves now, not at the batch's last PUBACK (issue 18).
        if (confirmed !== undefined && !(result instanceof Error)) confirmed(index, result);
        if (--left === 0) finish();
      };
      // The signal aborted or the connection stayed down: what has no PUBACK yet fails with it.
      stop = this.#stopper(signal, what, (error) => {
        const failed = mapError(error, what, this.#version);
        for (let i = 0; i < results.length && left > 0; i++) settle(i, failed);
      });
      // Aborted already: every result is settled, and nothing is published.
      if (left === 0) stop.dispose();
      for (let i = 0; i < messages.length && left > 0; i++) this.#publish(messages[i]!, i, what, settle);
    });
  }

  #publish(
    message: Outgoing,
    index: number,
    what: string,
    settle: (index: number, result: Receipt | Error) => void,
  ): void {
    let topic: string;
    try {
      topic = topicFor(this.#destination, message.routingKey);
      const options = publishOptions(message, this.#version, this.#config.messageExpirySeconds);
      // A view of the bytes, not a copy.
      this.#client.publish(topic, asBuffer(message.body), options, (error, sent) => {
        if (error !== undefined && error !== null) {
          settle(index, mapError(error, what, this.#version));
          return;
        }
        const id = (sent as { messageId?: number } | undefined)?.messageId;
        const refused =
          id !== undefined && this.#watch.unmatched.delete(id) ? this.#unroutable(topic) : undefined;
        settle(index, refused ?? { messageId: message.id });
      });
    } catch (error) {
      settle(index, mapError(error, what, this.#version));
    }
  }

  /** Calls `stop` when the send's signal aborts or the connection stays down past unavailableTimeoutMs. */
  #stopper(signal: AbortSignal | undefined, what: string, stop: (error: Error) => void): { dispose(): void } {
    const client = this.#client;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () =>
      stop(
        signal?.reason instanceof Error
          ? signal.reason
          : new TimeoutError(`${what}: the send was cancelled before the broker confirmed it`, {
              driver: DRIVER,
            }),
      );
    const start = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          stop(
            new UnavailableError(
              `${what}: the broker was unreachable for ${this.#config.unavailableTimeoutMs} ms; the message may still be sent when the connection returns`,
              { driver: DRIVER },
            ),
          ),
        this.#config.unavailableTimeoutMs,
      );
    };
    const outage = (offline: boolean) => (offline ? start() : clearTimeout(timer));
    const dispose = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      this.#watch.outageListeners.delete(outage);
    };
    if (signal?.aborted) {
      onAbort();
      return { dispose };
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#watch.outageListeners.add(outage);
    if (!client.connected) start();
    return { dispose };
  }

  /**
   * A message the broker dropped because no subscription matched its topic. No clock read on the
   * common path (the bench's publish row takes it for every message): the reconnect grace reads
   * the clock only after a reconnect, and the once-a-second warning is a set with a timer per
   * warned topic rather than a time per topic compared on every PUBACK (issue 18).
   */
  #unroutable(topic: string): NotFoundError | undefined {
    const mode = this.#config.unroutable;
    // Just after this connection came back the broker may have restarted, and subscribers may
    // not have subscribed again yet (Mosquitto restores sessions without shared subscriptions):
    // the message is sent again, whatever the mode, for resubscribeGraceMs.
    const reconnectedAt = this.#watch.reconnectedAt;
    const reconnecting =
      mode === 'warn' && reconnectedAt !== 0 && Date.now() - reconnectedAt < this.#config.resubscribeGraceMs;
    if (mode === 'error' || reconnecting) {
      return new NotFoundError(
        `publish to "${topic}": no subscription matches this topic, so the broker dropped the message (PUBACK 0x10); it is sent again while subscribers may be reconnecting (unroutable: 'error', or within resubscribeGraceMs of a reconnect)`,
        { driver: DRIVER, retryable: true, details: { topic } },
      );
    }
    // Bounded: past 1,000 topics warned within a second, the others wait for some to leave.
    if (mode === 'warn' && !this.#quiet.has(topic) && this.#quiet.size < 1_000) {
      this.#quiet.add(topic);
      setTimeout(() => this.#quiet.delete(topic), 1_000).unref();
      this.#logger.warn(
        { topic },
        'mqtt: no subscription matches this topic; the broker dropped the message',
      );
    }
    return undefined;
  }

  async close(_options?: DriverCloseOptions): Promise<void> {
    // The connection is the driver's, shared by its producers: closing one releases nothing.
    this.#closed = true;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
