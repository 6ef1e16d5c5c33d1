// Copies of a message back to its own queue, carrying its delivery count in ATTEMPTS_HEADER: the
// checkpoint of a redelivery on a classic queue, the give-back of a message no handler saw, and a
// nack with a delay (through the delay levels; basic.nack cannot delay). The order of the steps —
// copy, confirm, then ack the original, or requeue it when the copy fails — is core's CopyNacks;
// what a copy looks like on the wire is here.

import {
  CopyNacks,
  type DriverConsumer,
  type Leases,
  type RequeueCopy,
  type SwitchyardError,
} from '@switchyard/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import { delayRoute } from './delay.js';
import { mapError } from './errors.js';
import { type AmqpDelivery, ATTEMPTS_HEADER, originHeaders, republishOptions } from './properties.js';
import { Publisher, type PublishItem } from './publisher.js';
import type { Shared } from './shared.js';

export interface AttemptCopiesOptions {
  readonly shared: Shared;
  readonly queue: string;
  /** The broker counts deliveries (quorum queues): give-backs are plain requeues. */
  readonly countsAttempts: boolean;
  readonly leases: Leases<AmqpDelivery>;
  /** The consuming channel now; a delivery of another channel cannot be settled. */
  channel(): Channel | undefined;
  settle(delivery: AmqpDelivery, how: 'ack' | 'requeue'): void;
}

export class AttemptCopies {
  readonly #o: AttemptCopiesOptions;
  /**
   * Checkpoints and give-backs are core's copy-then-ack on the consumer's own requeueCopy: the
   * original is acked only after its copy is confirmed, requeued when the copy fails, and never
   * copied twice.
   */
  readonly #copies: CopyNacks;
  /** Publishes checkpoint and give-back copies to this queue; opened on first use. */
  #copyPublisher: Publisher | undefined;
  /** Copies made while closing end by then (a blocked connection would hold them). */
  closeBy = Number.POSITIVE_INFINITY;
  /** Why copies cannot be published (no write permission): attempts are then counted per delivery only. */
  #refused: SwitchyardError | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(consumer: DriverConsumer, options: AttemptCopiesOptions) {
    this.#o = options;
    this.#copies = new CopyNacks(consumer, {
      transport: (operation) => operation(),
      ack: async (delivery) => options.settle(delivery.handle as AmqpDelivery, 'ack'),
      nack: async (delivery) => options.settle(delivery.handle as AmqpDelivery, 'requeue'),
      fellBack: (_, error) => this.#copyFailed(error),
    });
  }

  /** Copies can be published (none was refused for good). */
  get possible(): boolean {
    return this.#refused === undefined;
  }

  /** Replaces a redelivery by a copy that says it was delivered `attempts` times. */
  checkpoint(delivery: AmqpDelivery, attempts: number): void {
    void this.#track(this.#copies.give(delivery, attempts));
  }

  /** Copies in flight, settled or not (close waits for them until its deadline). */
  inFlight(): Promise<void>[] {
    return [...this.#inFlight];
  }

  /**
   * Deliveries no handler saw go back uncounted: a copy with the same count, then an ack of the
   * original (classic queues); a plain requeue where the broker counts, where no copy can be made,
   * or where none would be confirmed in time (blocked connection, close deadline passed).
   */
  async giveBack(handles: readonly AmqpDelivery[]): Promise<void> {
    const live = handles.filter((h) => !h.settled && h.channel === this.#o.channel());
    const late = Date.now() >= this.closeBy || this.#o.shared.manager.blocked !== undefined;
    if (this.#o.countsAttempts || this.#refused !== undefined || late) {
      for (const handle of live) this.#o.settle(handle, 'requeue');
      return;
    }
    await Promise.all(live.map((h) => this.#track(this.#copies.give(h, h.previous))));
  }

  /** DriverConsumer.requeueCopy: each copy confirmed or its error. */
  requeue(copies: readonly RequeueCopy[], delayMs?: number): Promise<Array<true | Error>> {
    return Promise.all(copies.map((copy) => this.#track(this.#copyBack(copy, delayMs))));
  }

  async close(deadline: number): Promise<void> {
    await this.#copyPublisher?.close(deadline);
  }

  /**
   * A copy failed and its original was requeued. Without write permission no copy ever will:
   * redelivered messages are then handed out counted, the count kept per delivery only (a crash
   * loop is not bounded on this queue); say it once. The same for any failure that would repeat
   * (requeue, redeliver, fail again, in a tight loop), but not for an outage or the queue deleted
   * under the copy: the next redelivery tries again.
   */
  #copyFailed(error: unknown): void {
    const e = mapError(error, `republish a message of queue "${this.#o.queue}" with its attempt count`);
    if (this.#refused !== undefined) return;
    const refused = !e.retryable && e.code !== 'NOT_FOUND';
    if (refused) this.#refused = e;
    this.#o.shared.logger.warn(
      { queue: this.#o.queue, code: e.code, error: e.message },
      refused
        ? 'rabbitmq: cannot republish redelivered messages to carry their attempt count; counting per delivery only'
        : 'rabbitmq: republishing a message with its attempt count failed; requeued it',
    );
  }

  #copier(): Publisher {
    this.#copyPublisher ??= new Publisher(
      this.#o.shared.manager,
      `republish to queue "${this.#o.queue}" (attempt count)`,
      undefined,
      (item) => Publisher.unroutableError(item),
    );
    return this.#copyPublisher;
  }

  async #copyBack({ delivery, attempts }: RequeueCopy, delayMs = 0): Promise<true | Error> {
    const handle = delivery.handle as AmqpDelivery;
    // Settled, or its channel is gone (the broker redelivers it): nothing to copy, the ack is a no-op.
    if (handle.settled || handle.channel !== this.#o.channel()) return true;
    // From here the copy owns the delivery: an ack deadline firing mid-copy would requeue it too,
    // and the message would come back twice (once requeued, once from the copy).
    this.#o.leases.end(handle);
    const deadline = Math.min(Date.now() + this.#o.shared.config.unavailableTimeoutMs, this.closeBy);
    try {
      const item = await this.#copyOf(handle.message, attempts, delayMs, deadline);
      const publisher = delayMs > 0 ? this.#o.shared.republisher : this.#copier();
      const [result] = await publisher.publish([item], deadline);
      return result ?? true;
    } catch (error) {
      return mapError(error, `copy a message back to queue "${this.#o.queue}"`);
    }
  }

  /**
   * A copy of `message` that says it was delivered `attempts` times before: straight to this queue
   * (mandatory: a missing queue fails it), or through the delay levels that deliver it here later.
   */
  async #copyOf(
    message: ConsumeMessage,
    attempts: number,
    delayMs: number,
    deadline: number,
  ): Promise<PublishItem> {
    const { content } = message;
    const queue = this.#o.queue;
    const count = { [ATTEMPTS_HEADER]: String(attempts) };
    if (delayMs === 0) {
      const options = republishOptions(message, { ...originHeaders(message), ...count });
      return { exchange: '', routingKey: queue, content, options };
    }
    const { config, ensureDelay } = this.#o.shared;
    await ensureDelay({ queue }, deadline);
    const route = delayRoute(
      config.delayPrefix,
      delayMs,
      config.delayLevels,
      { queue },
      config.delayQueueType,
    );
    // Quorum levels end with the mover publishing to the queue through the default exchange: the
    // origin headers keep the routing key the message was sent with.
    const extra = { ...originHeaders(message), ...route.headers, ...count };
    const options = { ...republishOptions(message, extra), mandatory: false };
    return { exchange: route.exchange, routingKey: message.fields.routingKey, content, options };
  }

  #track<T>(work: Promise<T>): Promise<T> {
    const done = work.then(
      () => {},
      () => {},
    );
    this.#inFlight.add(done);
    return work.finally(() => this.#inFlight.delete(done));
  }
}
