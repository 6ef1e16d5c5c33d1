// The pull consumer on a SimpleConsumer: receiveBatch → receive(max, invisibleDuration), ack →
// ack, nack/extend → changeInvisibleDuration. A SimpleConsumer receive cannot be cancelled and
// long-polls for a fixed time set at construction: a receiveBatch whose wait (or signal) ends
// first returns what it has and leaves the receive running, and a later call picks its result up.
// One receive long-polls at a time; on a backlog (the last receive brought messages) a second one
// goes out as a batch is handed on, so one is on the wire while the other's batch is handled, as
// an expert's two receive loops (never in a FIFO group, and never past the room the caller gives).
// Nothing is lost meanwhile: messages are invisible, and leftovers are handed back (invisible
// duration 0) on close.

import {
  ClosedError,
  type Delivery,
  type DriverConsumer,
  KeyHold,
  ReceivesAhead,
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
  /**
   * The receives on the wire and what they brought: one long poll when nothing is on the wire and
   * nothing is ready; on a backlog (the last receive brought messages) a second goes out as a batch
   * is handed on, never past the room the caller gives. What comes back waits there for the next
   * call, after a wait that ended first.
   */
  readonly #ahead: ReceivesAhead<MessageView>;
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
    const hold = this.#hold;
    const refused = options.retryRefused ?? (<T>(run: () => Promise<T>) => run());
    this.#ahead = new ReceivesAhead<MessageView>({
      maxReceives: 2,
      // One per batch handed on: one receive is on the wire while the other's batch is handled.
      perRefill: 1,
      perReceive: MAX_BATCH,
      receive: (count) => refused(() => client.receive(count, options.invisibleMs)),
      backlog: (_was, got) => got > 0,
      admit: hold === undefined ? undefined : (views) => hold.admitAll(views),
    });
  }

  get native(): SimpleConsumer {
    return this.#client;
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError('rocketmq consumer is closed', { driver: DRIVER });
    const ahead = this.#ahead;
    let views = ahead.take(max);
    if (views === undefined) {
      if (ahead.receives === 0 && !ahead.failed) ahead.send(Math.min(max, MAX_BATCH));
      if (ahead.receives > 0) await ahead.arrival(waitMs, signal);
      views = ahead.take(max);
      if (views === undefined) {
        const failure = ahead.takeFailure();
        if (failure === undefined) return [];
        throw mapError(failure, `receive from "${this.#options.topic}" (group "${this.#options.group}")`);
      }
    }
    // On a backlog, a receive goes out before this batch is handled (up to two on the wire; one
    // in a FIFO group, where KeyHold releases one message per group at a time).
    if (this.#hold === undefined) ahead.refill(max - views.length);
    return views.map(toDelivery);
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
      if (next !== undefined) this.#ahead.put(next);
    }
    if (this.#ahead.buffered > 0) this.#ahead.wake();
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
    this.#ahead.close();
    // Receives still running will pop messages for us: wait for them (bounded) and hand their
    // messages back at once rather than let them sit invisible for the whole lease.
    await this.#ahead.quiet(this.#options.receiveBoundMs);
    const leftovers = [...this.#ahead.drain(), ...(this.#hold?.drain() ?? [])];
    await Promise.all(
      leftovers.map((view) => this.#client.changeInvisibleDuration(view, 0).catch(() => undefined)),
    );
    await shutdownQuietly(this.#client);
  }
}
