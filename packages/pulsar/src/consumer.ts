// The pull consumer on a pulsar-client Consumer. receive() without a timeout is asynchronous in
// the client (receive(timeout) would block a libuv worker thread for the whole wait), but it cannot
// be cancelled: so at most one receive is in flight, a receiveBatch whose wait or signal ends
// first returns what it has, and the next call picks the pending result up. After the first
// message, whatever else the client has already buffered is collected in the same batch.
// Un-acked messages need no handing back on close: the broker redelivers every message a closed
// consumer had not acknowledged.

import {
  ClosedError,
  type Delivery,
  type DriverConsumer,
  isAborted,
  KeyHold,
  PendingReceive,
  type ReceiveOutcome,
} from '@switchyard/core/driver';
import { DRIVER, isAlreadyClosed, mapError } from './errors.js';
import { type Handle, laneKey, toDelivery } from './messages.js';
import type { PulsarConsumer, PulsarMessage } from './native-api.js';

export interface ConsumerSettings {
  readonly topic: string;
  readonly subscription: string;
  /** Release one message per ordering key at a time (ordered subscription types). */
  readonly ordered: boolean;
  /** The broker counts redeliveries (Shared, Key_Shared): deliveryAttempt is native. */
  readonly counted: boolean;
  /** The client dead-letters a message nacked after this many redeliveries (undefined: never). */
  readonly maxRedeliverCount: number | undefined;
}

export class PulsarDriverConsumer implements DriverConsumer {
  readonly #consumer: PulsarConsumer;
  readonly #settings: ConsumerSettings;
  readonly #hold: KeyHold<PulsarMessage> | undefined;
  /** The one receive() in flight, kept across calls whose wait ended first. */
  readonly #receive = new PendingReceive<PulsarMessage>();
  #stash: PulsarMessage[] = [];
  /** An error met while collecting the rest of a batch, thrown by the next call. */
  #deferred: unknown;
  #closed = false;

  constructor(consumer: PulsarConsumer, settings: ConsumerSettings) {
    this.#consumer = consumer;
    this.#settings = settings;
    // Ordered subscriptions (Key_Shared, Failover, Exclusive) deliver a key's messages ahead of
    // time into the receiver queue; a nacked head would come back behind them without the hold.
    this.#hold = settings.ordered
      ? new KeyHold(laneKey, (message) => message.getMessageId().toString())
      : undefined;
  }

  get native(): PulsarConsumer {
    return this.#consumer;
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    this.#assertOpen();
    const deadline = Date.now() + waitMs;
    while (this.#stash.length === 0 && !isAborted(signal) && !this.#closed) {
      if (this.#deferred !== undefined) {
        const error = this.#deferred;
        this.#deferred = undefined;
        throw mapError(error, this.#what('receive from'));
      }
      const outcome = await this.#next(Math.max(0, deadline - Date.now()), signal);
      if (outcome === undefined) break;
      if ('error' in outcome) {
        if (this.#closed && isAlreadyClosed(outcome.error)) break;
        throw mapError(outcome.error, this.#what('receive from'));
      }
      this.#admit(outcome.value);
      if (Date.now() >= deadline && this.#stash.length === 0) break;
    }
    // More of what the client has buffered already, without waiting for the network.
    while (this.#stash.length > 0 && this.#stash.length < max && !this.#closed) {
      const outcome = await this.#next(-1, undefined);
      if (outcome === undefined) break;
      if ('error' in outcome) {
        this.#deferred = outcome.error;
        break;
      }
      this.#admit(outcome.value);
    }
    const counted = this.#settings.counted;
    return this.#stash.splice(0, max).map((m) => toDelivery(m, counted));
  }

  #admit(message: PulsarMessage): void {
    if (this.#hold === undefined || this.#hold.admit(message)) this.#stash.push(message);
  }

  /**
   * The in-flight receive's outcome, or undefined when `waitMs` passes or `signal` aborts first.
   * `waitMs` −1: only a result that is ready by the next turn of the event loop.
   */
  #next(waitMs: number, signal: AbortSignal | undefined): Promise<ReceiveOutcome<PulsarMessage> | undefined> {
    return this.#receive.wait(() => this.#consumer.receive(), waitMs, signal);
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const failures: unknown[] = [];
    await Promise.all(
      deliveries.map(async (delivery) => {
        const { message } = delivery.handle as Handle;
        try {
          // Acking an id twice is a no-op for the client; only a closed consumer fails.
          await this.#consumer.acknowledge(message);
        } catch (error) {
          failures.push(error);
          return;
        }
        this.#release(message);
      }),
    );
    if (failures.length > 0) throw mapError(failures[0], this.#what('ack on'));
  }

  async nack(deliveries: readonly Delivery[]): Promise<void> {
    const limit = this.#settings.maxRedeliverCount;
    for (const delivery of deliveries) {
      const { message } = delivery.handle as Handle;
      try {
        // Redelivered by the client after the consumer's nAckRedeliverTimeoutMs.
        this.#consumer.negativeAcknowledge(message);
      } catch (error) {
        throw mapError(error, this.#what('nack on'));
      }
      // Past the dead-letter policy's count the client sends it to the dead-letter topic instead
      // of redelivering it: it will not come back, so its key must not wait for it.
      if (limit !== undefined && message.getRedeliveryCount() >= limit) this.#release(message);
    }
  }

  /** A message is settled for good: an ordered key may release its next message. */
  #release(message: PulsarMessage): void {
    const next = this.#hold?.settled(message);
    if (next === undefined) return;
    this.#stash.push(next);
    this.#receive.wake();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#receive.wake();
    this.#stash = [];
    try {
      // A pending receive fails with AlreadyClosed; un-acked messages go back to the subscription.
      await this.#consumer.close();
    } catch (error) {
      if (!isAlreadyClosed(error)) throw mapError(error, this.#what('close of consumer on'));
    }
    // A receive still pending settles with AlreadyClosed (its outcome is caught, never thrown).
    this.#receive.take();
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('pulsar consumer is closed', { driver: DRIVER });
  }

  #what(operation: string): string {
    return `${operation} "${this.#settings.topic}" (subscription "${this.#settings.subscription}")`;
  }
}
