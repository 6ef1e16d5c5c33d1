import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { Producer, Receipt } from '@switchyard/core';
import { destinationOf, type HeldBroker, openBroker } from './broker-source.js';
import { decodeReply, encodeData } from './codec.js';
import type { SwitchyardClientOptions } from './options.js';

/**
 * A Nest ClientProxy over Switchyard: `emit(pattern, data)` sends to the pattern's destination and
 * completes once the broker accepted it; `send(pattern, data)` is a Switchyard request whose reply
 * (the handler's result, or its error) is the observable's one value. Unsubscribing from send()
 * gives up the wait; a reply after that is dropped and counted (`producer.lateReplies`).
 */
export class SwitchyardClient extends ClientProxy {
  readonly #options: SwitchyardClientOptions;
  #held: Promise<HeldBroker> | undefined;
  #broker: HeldBroker | undefined;
  readonly #producers = new Map<string, Promise<Producer>>();

  constructor(options: SwitchyardClientOptions) {
    super();
    this.#options = options;
  }

  async connect(): Promise<unknown> {
    this.#held ??= openBroker(this.#options).then(
      (held) => (this.#broker = held),
      (error: unknown) => {
        this.#held = undefined;
        throw error;
      },
    );
    return (await this.#held).broker;
  }

  /** Closes the producers it opened, and the broker if it opened it. */
  async close(): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    this.#broker = undefined;
    const producers = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.allSettled(producers.map(async (p) => (await p).close()));
    const opened = await held?.catch(() => undefined);
    if (opened?.owned) await opened.broker.close();
  }

  /** The Switchyard Broker (after connect()). */
  unwrap<T>(): T {
    if (this.#broker === undefined) throw new Error('the Switchyard client is not connected yet');
    return this.#broker.broker as T;
  }

  override on(): void {
    // Status events come from the Broker itself: client.unwrap<Broker>().onStatus(listener).
  }

  /** The producer of a pattern's destination, opened once. */
  producerFor(pattern: unknown): Promise<Producer> {
    const name = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
    let producer = this.#producers.get(name);
    if (producer === undefined) {
      producer = (async () => {
        const broker = (await this.connect()) as HeldBroker['broker'];
        return broker.producer(destinationOf(name, this.#options.destinations));
      })();
      producer.catch(() => this.#producers.delete(name));
      this.#producers.set(name, producer);
    }
    return producer;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    const abort = new AbortController();
    void (async () => {
      try {
        const producer = await this.producerFor(packet.pattern);
        const reply = await producer.request(encodeData(packet.data), {
          timeoutMs: this.#options.timeoutMs,
          signal: abort.signal,
        });
        const { err, response } = decodeReply(reply);
        callback(err === undefined ? { response, isDisposed: true } : { err, isDisposed: true });
      } catch (error) {
        if (!abort.signal.aborted) callback({ err: error, isDisposed: true });
      }
    })();
    return () => abort.abort();
  }

  protected async dispatchEvent<T = Receipt>(packet: ReadPacket): Promise<T> {
    const producer = await this.producerFor(packet.pattern);
    return (await producer.send(encodeData(packet.data))) as T;
  }
}
