// The pull consumer on a SimpleConsumer: receiveBatch → receive(max, invisibleDuration), ack →
// ack, nack/extend → changeInvisibleDuration. A SimpleConsumer receive cannot be cancelled and
// long-polls for a fixed time set at construction, so at most one receive is in flight: a
// receiveBatch whose wait (or signal) ends first returns what it has and leaves the receive
// running, and the next call picks its result up. Nothing is lost meanwhile: messages are
// invisible, and leftovers are handed back (invisible duration 0) on close.

import {
  ClosedError,
  type Delivery,
  type DriverConsumer,
  KeyHold,
  PendingReceive,
  type ReceiveOutcome,
} from '@switchyard/core/driver';
import type { MessageView, SimpleConsumer } from 'rocketmq-client-nodejs';
import { batchAck, canBatchAck } from './batch-ack.js';
import { MAX_BATCH } from './capabilities.js';
import { DRIVER, isStaleHandle, mapError } from './errors.js';
import { shutdownQuietly } from './lifecycle.js';
import { type Handle, toDelivery } from './messages.js';

export interface RocketConsumerOptions {
  readonly topic: string;
  readonly group: string;
  readonly invisibleMs: number;
  /** Longest a receive can take: the long poll plus the request timeout. */
  readonly receiveBoundMs: number;
  /** The group is a FIFO group: release one message per message group at a time. */
  readonly fifo: boolean;
  readonly requestTimeoutMs: number;
  /** Runs a call once more after a refusal when the role token was rotated (client-options.ts). */
  readonly retryRefused?: <T>(run: () => Promise<T>) => Promise<T>;
}

export class RocketConsumer implements DriverConsumer {
  readonly #client: SimpleConsumer;
  readonly #options: RocketConsumerOptions;
  /** The one receive in flight, kept across calls whose wait ended first. */
  readonly #receive = new PendingReceive<MessageView[]>();
  #stash: MessageView[] = [];
  #closed = false;
  readonly #hold: KeyHold<MessageView> | undefined;

  constructor(client: SimpleConsumer, options: RocketConsumerOptions) {
    this.#client = client;
    this.#options = options;
    // FIFO groups hand out consecutive messages of a message group in one batch: a nacked head
    // would be overtaken by the next one without the hold. Redeliveries keep their message id.
    this.#hold = options.fifo
      ? new KeyHold<MessageView>(
          (view) => view.messageGroup,
          (view) => view.messageId,
        )
      : undefined;
  }

  get native(): SimpleConsumer {
    return this.#client;
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError('rocketmq consumer is closed', { driver: DRIVER });
    if (this.#stash.length === 0) {
      const outcome = await this.#waitForReceive(Math.min(max, MAX_BATCH), waitMs, signal);
      if (outcome === undefined) return this.#stash.splice(0, max).map(toDelivery);
      if ('error' in outcome)
        throw mapError(
          outcome.error,
          `receive from "${this.#options.topic}" (group "${this.#options.group}")`,
        );
      this.#stash.push(...(this.#hold?.admitAll(outcome.value) ?? outcome.value));
    }
    return this.#stash.splice(0, max).map(toDelivery);
  }

  /** The in-flight receive's outcome, or undefined when the wait or the signal ends first. */
  #waitForReceive(
    max: number,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<ReceiveOutcome<MessageView[]> | undefined> {
    const refused = this.#options.retryRefused ?? ((run) => run());
    return this.#receive.wait(
      () => refused(() => this.#client.receive(max, this.#options.invisibleMs)),
      waitMs,
      signal,
    );
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    if (canBatchAck(this.#client)) {
      const views = deliveries.map((d) => (d.handle as Handle).view);
      const failures = await batchAck(
        this.#client,
        this.#options.group,
        views,
        this.#options.requestTimeoutMs,
      );
      if (failures.length > 0) throw mapError(failures[0], `ack on "${this.#options.topic}"`);
    } else {
      const refused = this.#options.retryRefused ?? ((run) => run());
      await this.#settle(deliveries, 'ack', (view) => refused(() => this.#client.ack(view)));
    }
    if (this.#hold === undefined) return;
    // Acked (or acked after a dead-letter copy): the next message of its group may go out.
    for (const delivery of deliveries) {
      const next = this.#hold.settled((delivery.handle as Handle).view);
      if (next !== undefined) this.#stash.push(next);
    }
    if (this.#stash.length > 0) this.#receive.wake();
  }

  async nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void> {
    // Invisible for `delayMs` (0: visible again at once), then redelivered with attempt + 1.
    const ms = Math.max(0, Math.round(delayMs ?? 0));
    await this.#settle(deliveries, 'nack', (view) => this.#client.changeInvisibleDuration(view, ms));
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    const view = (delivery.handle as Handle).view;
    try {
      // The client swaps the view's receipt handle for the new one, so a later ack uses it.
      await this.#client.changeInvisibleDuration(view, Math.round(ms));
    } catch (error) {
      throw mapError(error, `extend of message ${view.messageId}`);
    }
  }

  /** Settles each delivery; a used or expired receipt handle is not an error (contract). */
  async #settle(
    deliveries: readonly Delivery[],
    what: string,
    operation: (view: MessageView) => Promise<void>,
  ): Promise<void> {
    const failures: unknown[] = [];
    await Promise.all(
      deliveries.map(async (delivery) => {
        try {
          await operation((delivery.handle as Handle).view);
        } catch (error) {
          if (!isStaleHandle(error)) failures.push(error);
        }
      }),
    );
    if (failures.length > 0) throw mapError(failures[0], `${what} on "${this.#options.topic}"`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // A receive still running will pop messages for us: wait for it (bounded) and hand its
    // messages back at once rather than let them sit invisible for the whole lease.
    const inFlight = this.#receive.take();
    if (inFlight !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        inFlight,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, this.#options.receiveBoundMs, undefined);
        }),
      ]);
      clearTimeout(timer);
      if (outcome !== undefined && 'value' in outcome) this.#stash.push(...outcome.value);
    }
    const leftovers = [...this.#stash.splice(0), ...(this.#hold?.drain() ?? [])];
    await Promise.all(
      leftovers.map((view) => this.#client.changeInvisibleDuration(view, 0).catch(() => undefined)),
    );
    await shutdownQuietly(this.#client);
  }
}
