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
  offAbort,
  onAbortOnce,
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
  /** Received and not handed on yet (what receives on the wire bring lands here). */
  #stash: MessageView[] = [];
  /** Receives on the wire, kept across calls whose wait ended first. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Messages those receives asked for. */
  #requested = 0;
  /** The last receive brought messages: a second may go out while a batch is handled. */
  #backlog = false;
  /** A receive's failure, reported by the call that finds nothing else. */
  #failure: unknown;
  /** Ends the wait of a receiveBatch (a receive came back, or messages became ready elsewhere). */
  #wake: (() => void) | undefined;
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
      if (this.#inFlight.size === 0 && this.#failure === undefined) this.#send(Math.min(max, MAX_BATCH));
      if (this.#inFlight.size > 0) await this.#arrival(waitMs, signal);
      if (this.#stash.length === 0) {
        const failure = this.#failure;
        if (failure === undefined) return [];
        this.#failure = undefined;
        throw mapError(failure, `receive from "${this.#options.topic}" (group "${this.#options.group}")`);
      }
    }
    const views = this.#stash.splice(0, max);
    // Messages came: a failure of the other receive is not reported (the next one retries it).
    this.#failure = undefined;
    // On a backlog, a receive goes out before this batch is handled (up to two on the wire).
    if (this.#backlog && this.#hold === undefined) {
      const room = max - views.length - this.#requested - this.#stash.length;
      if (room > 0 && this.#inFlight.size < 2 && !this.#closed) this.#send(Math.min(room, MAX_BATCH));
    }
    return views.map(toDelivery);
  }

  /** One receive of up to `max`, on the wire until it comes back; what it brings lands in the stash. */
  #send(max: number): void {
    const refused = this.#options.retryRefused ?? ((run) => run());
    this.#requested += max;
    const receive: Promise<void> = refused(() => this.#client.receive(max, this.#options.invisibleMs)).then(
      (views) => {
        this.#stash.push(...(this.#hold?.admitAll(views) ?? views));
        this.#backlog = views.length > 0;
        this.#landed(receive, max);
      },
      (error: unknown) => {
        this.#failure ??= error;
        this.#backlog = false;
        this.#landed(receive, max);
      },
    );
    this.#inFlight.add(receive);
  }

  #landed(receive: Promise<void>, max: number): void {
    this.#inFlight.delete(receive);
    this.#requested -= max;
    this.#wake?.();
  }

  /** Until a receive comes back (or wake()), `waitMs` passes (−1: the next turn of the event loop) or `signal` aborts. */
  #arrival(waitMs: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      const done = () => {
        clearTimeout(timer);
        if (immediate !== undefined) clearImmediate(immediate);
        if (signal !== undefined) offAbort(signal, done);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      if (waitMs < 0) immediate = setImmediate(done);
      else timer = setTimeout(done, waitMs);
      if (signal !== undefined) onAbortOnce(signal, done);
      this.#wake = done;
    });
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
    if (this.#stash.length > 0) this.#wake?.();
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
    // Receives still running will pop messages for us: wait for them (bounded) and hand their
    // messages back at once rather than let them sit invisible for the whole lease.
    if (this.#inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(this.#inFlight),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(resolve, this.#options.receiveBoundMs, undefined);
        }),
      ]);
      clearTimeout(timer);
    }
    const leftovers = [...this.#stash.splice(0), ...(this.#hold?.drain() ?? [])];
    await Promise.all(
      leftovers.map((view) => this.#client.changeInvisibleDuration(view, 0).catch(() => undefined)),
    );
    await shutdownQuietly(this.#client);
  }
}
