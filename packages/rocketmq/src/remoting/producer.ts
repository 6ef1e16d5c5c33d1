// SEND_MESSAGE_V2 per message, SEND_BATCH_MESSAGE where the protocol allows a batch (one topic,
// one queue, no delay — sheet §3.2), with the queue chosen as the Apache clients do: round robin,
// or, for messages with an ordering key, the key's hash modulo the queue count, so one key stays
// on one queue and keeps its order.

import {
  ClosedError,
  type DriverProducer,
  type Outgoing,
  type Receipt,
  UnavailableError,
} from '@switchyard/core/driver';
import {
  encodeBatchParts,
  encodeProperties,
  MessageConst,
  RequestCode,
  tagsHashCode,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import { toProperties } from './messages.js';
import type { ConnectionPool } from './pool.js';
import { type MessageQueue, publishQueues, type RouteTable } from './routes.js';
import type { RemotingSettings } from './settings.js';

/** The queue for an ordering key: Java's String hash, made non-negative, modulo the count. */
export function queueForKey(key: string, queueCount: number): number {
  return Math.abs(tagsHashCode(key) % queueCount);
}

/**
 * A message this large goes in a request of its own: a batch saves a request's fixed cost (tens of
 * µs), nothing at this size, while the broker splits a batch's body into messages again (the
 * emulator copies each body out of it) and one large request holds up the ones behind it.
 */
const ALONE_BYTES = 256 * 1024;

export class RemotingProducer implements DriverProducer {
  readonly #topic: string;
  readonly #pool: ConnectionPool;
  readonly #routes: RouteTable;
  readonly #s: RemotingSettings;
  #next = Math.floor(Math.random() * 1024);
  #closed = false;

  private constructor(topic: string, pool: ConnectionPool, routes: RouteTable, settings: RemotingSettings) {
    this.#topic = topic;
    this.#pool = pool;
    this.#routes = routes;
    this.#s = settings;
  }

  /** Opens after a route lookup, so a missing topic is NOT_FOUND here. */
  static async open(
    topic: string,
    pool: ConnectionPool,
    routes: RouteTable,
    settings: RemotingSettings,
  ): Promise<RemotingProducer> {
    await routes.route(topic);
    return new RemotingProducer(topic, pool, routes, settings);
  }

  get native(): { topic: string } {
    return { topic: this.#topic };
  }

  async sendBatch(messages: readonly Outgoing[]): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw new ClosedError('rocketmq producer is closed', { driver: DRIVER });
    const queues = publishQueues(this.#topic, await this.#routes.route(this.#topic));
    if (queues.length === 0) {
      throw new UnavailableError(`rocketmq topic "${this.#topic}" has no writable queue now`, {
        driver: DRIVER,
      });
    }
    const results: Array<Receipt | Error> = new Array(messages.length);
    // Delayed and keyed messages go one by one (a batch cannot be delayed, and a key picks its
    // own queue), and so do large ones (see ALONE_BYTES); the rest go
    // as batches, one per queue, so a big batch still spreads the load.
    const plain = messages.flatMap((m, i) =>
      !m.delayMs && m.orderingKey === undefined && (m.bodyBytes ?? m.body.byteLength) < ALONE_BYTES
        ? [i]
        : [],
    );
    const chunks = Math.min(queues.length, plain.length);
    const size = Math.ceil(plain.length / Math.max(1, chunks));
    const batched: number[] = [];
    const work: Array<Promise<void>> = [];
    for (let c = 0; c < chunks; c++) {
      const indexes = plain.slice(c * size, (c + 1) * size);
      // One message is a SEND_MESSAGE_V2: its body goes out as it is, not copied into a batch.
      if (indexes.length < 2) continue;
      batched.push(...indexes);
      const queue = this.#roundRobin(queues);
      work.push(
        this.#sendAsBatch(
          indexes.map((i) => messages[i]!),
          queue,
        ).then(
          (receipts) => {
            for (const [k, i] of indexes.entries()) results[i] = receipts[k]!;
          },
          (error: Error) => {
            for (const i of indexes) results[i] = error;
          },
        ),
      );
    }
    const inBatch = new Set(batched);
    messages.forEach((m, i) => {
      if (inBatch.has(i)) return;
      const queue =
        m.orderingKey === undefined
          ? this.#roundRobin(queues)
          : queues[queueForKey(m.orderingKey, queues.length)]!;
      work.push(
        this.#sendOne(m, queue).then(
          (receipt) => {
            results[i] = receipt;
          },
          (error: Error) => {
            results[i] = error;
          },
        ),
      );
    });
    await Promise.all(work);
    const errors = results.filter((r): r is Error => r instanceof Error);
    // All failed for the same reason (missing topic, bad credentials): one rejection says so.
    if (errors.length === results.length && errors.length > 0) throw errors[0];
    return results;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #roundRobin(queues: readonly MessageQueue[]): MessageQueue {
    this.#next = (this.#next + 1) % 1_000_000;
    return queues[this.#next % queues.length]!;
  }

  #header(
    queue: MessageQueue,
    properties: string,
    batch: boolean,
  ): Record<string, string | number | boolean> {
    return {
      a: this.#s.producerGroup,
      b: this.#topic,
      c: 'TBW102',
      d: 4,
      e: queue.queueId,
      f: 0,
      g: Date.now(),
      h: 0,
      i: properties,
      j: 0,
      k: false,
      m: batch,
      n: queue.brokerName,
    };
  }

  #address(queue: MessageQueue): string {
    const address = this.#routes.brokerAddress(queue.brokerName);
    if (address === undefined) {
      throw new UnavailableError(`rocketmq broker "${queue.brokerName}" has no master now`, {
        driver: DRIVER,
      });
    }
    return address;
  }

  async #sendOne(message: Outgoing, queue: MessageQueue): Promise<Receipt> {
    // Set on toProperties' own fresh object: a property added after a spread takes V8's slow path.
    const props = toProperties(message, this.#s.delayMode);
    props[MessageConst.WAIT] = 'true';
    const encoded = encodeProperties(props);
    await this.#pool.call(
      this.#address(queue),
      RequestCode.SEND_MESSAGE_V2,
      this.#header(queue, encoded, false),
      Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
      `send to "${this.#topic}"`,
    );
    return { messageId: message.id };
  }

  async #sendAsBatch(messages: readonly Outgoing[], queue: MessageQueue): Promise<Receipt[]> {
    const body = encodeBatchParts(
      messages.map((m) => ({
        flag: 0,
        body: Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength),
        properties: toProperties(m, this.#s.delayMode),
      })),
    );
    await this.#pool.call(
      this.#address(queue),
      RequestCode.SEND_BATCH_MESSAGE,
      this.#header(queue, `${MessageConst.WAIT}\u0001true`, true),
      body,
      `batch send of ${messages.length} to "${this.#topic}"`,
    );
    return messages.map((m) => ({ messageId: m.id }));
  }
}
