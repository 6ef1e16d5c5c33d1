import {
  anchorShape,
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
   * CPU and garbage on the publish path (issue 18). The batch's bookkeeping is a PendingPublishes
   * (methods, not closures made per batch: see there).
   */
  sendBatch(
    messages: readonly Outgoing[],
    signal?: AbortSignal,
    confirmed?: (index: number, receipt: Receipt) => void,
  ): Promise<Array<Receipt | Error>> {
    if (this.#closed) return Promise.reject(closedError('the mqtt producer'));
    if (messages.length === 0) return Promise.resolve([]);
    const batch = new PendingPublishes(this, messages.length, `publish to "${this.#destination}"`, confirmed);
    const results = new Promise<Array<Receipt | Error>>((resolve) => {
      batch.resolve = resolve;
    });
    batch.watch(signal, this.#watch, this.#client.connected, this.#config.unavailableTimeoutMs);
    for (let i = 0; i < messages.length && batch.left > 0; i++) this.#publish(messages[i]!, i, batch);
    return results;
  }

  #publish(message: Outgoing, index: number, batch: PendingPublishes): void {
    try {
      const topic = topicFor(this.#destination, message.routingKey);
      const options = publishOptions(message, this.#version, this.#config.messageExpirySeconds);
      // A view of the bytes, not a copy. MQTT.js tells which publish a PUBACK is for only through
      // that publish's own callback: one closure per message, a one-line call into a method.
      this.#client.publish(topic, asBuffer(message.body), options, (error, sent) =>
        batch.published(index, message, topic, error, sent),
      );
    } catch (error) {
      batch.settle(index, this.mapError(error, batch.what));
    }
  }

  /** A publish's outcome from MQTT.js (its PUBACK, or its error): the message's receipt or error. */
  outcome(message: Outgoing, topic: string, sent: unknown): Receipt | Error {
    const id = (sent as { messageId?: number } | undefined)?.messageId;
    const refused =
      id !== undefined && this.#watch.unmatched.delete(id) ? this.#unroutable(topic) : undefined;
    return refused ?? { messageId: message.id };
  }

  /** A portable error for this producer's connection. */
  mapError(error: unknown, what: string): Error {
    return mapError(error, what, this.#version);
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

/**
 * One sendBatch's publishes waiting for their PUBACKs. A class, not closures made per batch: V8
 * holds a closure's optimized code weakly, so at 16 KiB (a mark-compact or more per round) the
 * per-batch `settle` and its siblings were compiled again by TurboFan every few thousand messages
 * (docs/bench-profiles.md §22.1, the RabbitMQ driver's same change); methods keep their code. It is
 * also the abort listener (handleEvent) and the connection-outage listener of its batch.
 */
export class PendingPublishes {
  readonly #producer: MqttProducer;
  readonly #results: Array<Receipt | Error | undefined>;
  readonly #confirmed: ((index: number, receipt: Receipt) => void) | undefined;
  readonly what: string;
  /** Results not settled yet. */
  left: number;
  resolve: (results: Array<Receipt | Error>) => void = noResolve;
  #signal: AbortSignal | undefined;
  #watch: ClientWatch | undefined;
  #unavailableMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    producer: MqttProducer,
    size: number,
    what: string,
    confirmed: ((index: number, receipt: Receipt) => void) | undefined,
  ) {
    this.#producer = producer;
    this.#results = new Array<Receipt | Error | undefined>(size);
    this.left = size;
    this.what = what;
    this.#confirmed = confirmed;
  }

  /**
   * Fails what has no PUBACK yet when the signal aborts or the connection stays down past
   * unavailableTimeoutMs. Aborted already: every result is settled now, and nothing is published.
   */
  watch(
    signal: AbortSignal | undefined,
    watch: ClientWatch,
    connected: boolean,
    unavailableMs: number,
  ): void {
    // Set first: an aborted signal's reason is what the batch fails with.
    this.#signal = signal;
    if (signal?.aborted) {
      this.handleEvent();
      return;
    }
    this.#watch = watch;
    this.#unavailableMs = unavailableMs;
    signal?.addEventListener('abort', this, { once: true });
    watch.outageListeners.add(this);
    if (!connected) this.outage(true);
  }

  /** MQTT.js's callback for the publish of `message` at `index`. */
  published(
    index: number,
    message: Outgoing,
    topic: string,
    error: Error | null | undefined,
    sent: unknown,
  ): void {
    if (error !== undefined && error !== null) this.settle(index, this.#producer.mapError(error, this.what));
    else this.settle(index, this.#producer.outcome(message, topic, sent));
  }

  settle(index: number, result: Receipt | Error): void {
    const results = this.#results;
    if (results[index] !== undefined) return; // stopped before its PUBACK
    results[index] = result;
    // PUBACKed: that send resolves now, not at the batch's last PUBACK (issue 18).
    if (this.#confirmed !== undefined && !(result instanceof Error)) this.#confirmed(index, result);
    if (--this.left === 0) {
      this.#dispose();
      this.resolve(results as Array<Receipt | Error>);
    }
  }

  /**
   * The signal aborted (an EventListener object: no closure per batch). A reason of its own (core's
   * deadline, a caller's error) is what the batch fails with; a bare abort() is a cancel.
   */
  handleEvent(): void {
    const reason = this.#signal?.reason as unknown;
    this.#fail(
      reason instanceof Error && reason.name !== 'AbortError'
        ? reason
        : new TimeoutError(`${this.what}: the send was cancelled before the broker confirmed it`, {
            driver: DRIVER,
            cause: reason,
          }),
    );
  }

  /** Called with true when the connection drops, false when it is back. */
  outage(offline: boolean): void {
    clearTimeout(this.#timer);
    if (!offline) return;
    this.#timer = setTimeout(() => {
      this.#fail(
        new UnavailableError(
          `${this.what}: the broker was unreachable for ${this.#unavailableMs} ms; the message may still be sent when the connection returns`,
          { driver: DRIVER },
        ),
      );
    }, this.#unavailableMs);
  }

  /** What has no PUBACK yet fails with `error`. */
  #fail(error: unknown): void {
    const failed = this.#producer.mapError(error, this.what);
    for (let i = 0; i < this.#results.length && this.left > 0; i++) this.settle(i, failed);
  }

  #dispose(): void {
    clearTimeout(this.#timer);
    this.#signal?.removeEventListener('abort', this);
    this.#watch?.outageListeners.delete(this);
  }
}

function noResolve(): void {}

/**
 * One batch kept for good, gone through a batch's whole life (watched, settled, disposed): with
 * none alive between bursts, a mark-compact collected the class's hidden class and threw away the
 * send path's optimized code, sendBatch and #publish with it, which the next burst compiled again
 * (core's shape-anchor.ts; docs/bench-profiles.md, mqtt).
 */
export function settledBatch(): PendingPublishes {
  const batch = new PendingPublishes(
    { mapError: (e: unknown) => e } as unknown as MqttProducer,
    1,
    '',
    noConfirm,
  );
  batch.resolve = noResolve;
  // No 8 KB id bitmap held for good: the batch reads none of the watch but its outage listeners.
  const watch = {
    unmatched: undefined,
    reconnectedAt: 0,
    outageListeners: new Set(),
  } as unknown as ClientWatch;
  batch.watch(undefined, watch, true, 1);
  batch.settle(0, new Error('anchor'));
  return batch;
}
function noConfirm(): void {}
anchorShape(settledBatch());

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
