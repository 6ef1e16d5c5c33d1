// One pulsar-client Producer per portable producer. A batch is handed to the client message by
// message without waiting in between, so with batching on the client packs them into batches on
// the wire (KeyBasedBatching for Key_Shared); each send resolves once the broker has persisted it.

import { ClosedError, type DriverProducer, type Outgoing, type Receipt } from '@switchyard/core/driver';
import { DRIVER, isAlreadyClosed, mapError } from './errors.js';
import { toProducerMessage } from './messages.js';
import type { PulsarProducer } from './native-api.js';

export class PulsarDriverProducer implements DriverProducer {
  readonly #producer: PulsarProducer;
  readonly #topic: string;
  #closed = false;

  constructor(producer: PulsarProducer, topic: string) {
    this.#producer = producer;
    this.#topic = topic;
  }

  get native(): PulsarProducer {
    return this.#producer;
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw new ClosedError('pulsar producer is closed', { driver: DRIVER });
    // The client's sends cannot be withdrawn once queued, so an abort signal is not consulted here:
    // the portable layer stops sending further batches instead.
    const results = await Promise.all(messages.map((message) => this.#sendOne(message)));
    const errors = results.filter((r): r is Error => r instanceof Error);
    // All failed (missing topic, bad token, broker down): one rejection says so.
    if (errors.length > 0 && errors.length === results.length) throw errors[0];
    return results;
  }

  async #sendOne(message: Outgoing): Promise<Receipt | Error> {
    try {
      const id = await this.#producer.send(toProducerMessage(message));
      return { messageId: id.toString() };
    } catch (error) {
      return mapError(error, `send to "${this.#topic}"`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#producer.close();
    } catch (error) {
      if (!isAlreadyClosed(error)) throw mapError(error, `close of producer for "${this.#topic}"`);
    }
  }
}
