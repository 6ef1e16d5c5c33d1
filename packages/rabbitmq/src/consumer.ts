import {
  backoffDelay,
  type Delivery,
  type DriverCloseOptions,
  type DriverConsumer,
  isAborted,
  Leases,
  type RequeueCopy,
  type SwitchyardError,
  sleep,
  Waiters,
} from '@switchyard/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AckWindow } from './ack-window.js';
import { AttemptCopies } from './attempt-copies.js';
import { CLOSE_WAIT_MS } from './connection.js';
import { within } from './deadline.js';
import { closedError, mapError } from './errors.js';
import { MultipleAck } from './multiple-ack.js';
import { AmqpDelivery, carriedAttempts } from './properties.js';
import type { Shared } from './shared.js';
import { type ConsumerTopology, prepareConsumerChannel, prepareConsumerScratch } from './topology.js';

export interface ConsumerSettings {
  readonly topology: ConsumerTopology;
  readonly prefetch: number;
  readonly visibilityTimeoutMs: number | undefined;
  /**
   * The broker counts deliveries (quorum queues). Otherwise the count is carried: a redelivered
   * message is republished with its count before it is handed out (see #onMessage).
   */
  readonly countsAttempts: boolean;
}

/**
 * A delivery is its own lease slot. One function for every consumer, not an arrow per consumer:
 * Leases calls it per settle, inlined into the driver's ack, and the next consumer's arrow threw
 * that code away ("wrong call target", once per process in the bridge's runs; the bridge in
 * docs/bench-profiles.md).
 */
function ownSlot(handle: AmqpDelivery): AmqpDelivery {
  return handle;
}

/**
 * Consumes one queue with manual acks and a channel prefetch. The broker pushes into a buffer
 * (never more than `prefetch` unacked, the broker enforces it) that receiveBatch drains. When the
 * channel or the connection drops it re-declares the topology and consumes again by itself, with
 * backoff, for as long as it is open; deliveries from the dead channel are forgotten (their acks
 * are dropped: the broker redelivers them). Only a non-retryable failure to resubscribe (queue or
 * exchange gone in check mode, permission) stops it, and receiveBatch then reports that error.
 *
 * Attempts on classic queues are carried with the message: a classic queue only says
 * `redelivered`, so a redelivered message is not handed out but checkpointed — a copy with its
 * count + 1 in ATTEMPTS_HEADER is published to the same queue (default exchange, confirmed,
 * mandatory), then the original is acked. The count so survives crashes and restarts of any
 * consumer, and nack stays a plain basic.nack that any consumer of the queue can take.
 */
export class RabbitConsumer implements DriverConsumer {
  readonly #shared: Shared;
  readonly #settings: ConsumerSettings;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  /**
   * Pushed, not yet handed out: slots [#head, #tail); handed-out slots are emptied (a delivery
   * holds its body). Written by index up to the array's high-water length, which an emptied buffer
   * keeps (one emptied and regrown per socket read reallocated its backing store each time).
   */
  #buffer: Array<AmqpDelivery | undefined> = [];
  #head = 0;
  #tail = 0;
  /** Every delivery of the current channel in tag order, from the oldest unsettled one on. */
  readonly #window = new AckWindow<AmqpDelivery>();
  /** The settled prefix's multiple-ack, sent per half prefetch or after ACK_DELAY_MS. */
  readonly #multipleAck: MultipleAck;
  /** A receiveBatch waiting for messages (or the end). */
  readonly #arrivals = new Waiters();
  /** The portable layer's push listener (onReady): called per delivery instead of waking #arrivals. */
  #ready: (() => void) | undefined;
  #fatal: SwitchyardError | undefined;
  #closed = false;
  #recovering = false;
  /** Ack deadlines (RabbitMQ 3.x has no per-consumer one): on expiry the delivery is requeued. */
  readonly #leases = new Leases<AmqpDelivery>((handle) => this.#settle(handle, 'requeue'), ownSlot);
  /** Checkpoints of redeliveries, give-backs and delayed nacks, as copies carrying the count. */
  readonly #copies: AttemptCopies;

  constructor(shared: Shared, settings: ConsumerSettings) {
    this.#shared = shared;
    this.#settings = settings;
    this.#multipleAck = new MultipleAck(settings.prefetch);
    this.#copies = new AttemptCopies(this, {
      shared,
      queue: settings.topology.queue,
      countsAttempts: settings.countsAttempts,
      leases: this.#leases,
      channel: () => this.#channel,
      settle: (handle, how) => this.#settle(handle, how),
    });
  }

  get native(): Channel | undefined {
    return this.#channel;
  }

  get queue(): string {
    return this.#settings.topology.queue;
  }

  /**
   * Ready messages in the group's queue (not counting those delivered and unacked), for the
   * consumer-lag gauge. A passive check on a short-lived channel: a missing queue closes that
   * channel, never the consuming one.
   */
  async backlog(): Promise<number | undefined> {
    if (this.#closed) return undefined;
    const deadline = Date.now() + 5_000;
    const queue = this.#settings.topology.queue;
    const ok = await this.#shared.manager.withChannel(deadline, `backlog of queue "${queue}"`, (channel) =>
      channel.checkQueue(queue),
    );
    return ok.messageCount;
  }

  /**
   * First subscription: its errors (NOT_FOUND, PERMISSION_DENIED, ...) reject openConsumer.
   * `beforeConsume` (work of the driver's on the same connection) is waited for before basic.consume:
   * after it, replies queue behind the deliveries.
   */
  async open(beforeConsume?: Promise<void>): Promise<void> {
    const subscribed = this.#subscribe(Date.now() + this.#shared.config.unavailableTimeoutMs, beforeConsume);
    // Waited for even when the subscription fails first, so nothing is left running unobserved.
    await Promise.allSettled([subscribed, beforeConsume]);
    await subscribed;
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw closedError(`rabbitmq consumer of "${this.queue}"`);
    if (this.#available() === 0 && this.#fatal === undefined && waitMs > 0 && !isAborted(signal)) {
      await this.#arrivals.wait(waitMs, signal);
    }
    return this.takeReady(max);
  }

  /** Push mode (core calls it once): `ready` is called per pushed delivery and when the consumer stops for good. */
  onReady(ready: () => void): void {
    this.#ready = ready;
    if (this.#available() > 0 || this.#fatal !== undefined) ready();
  }

  /** Up to `max` pushed deliveries, now; with none, the error that stopped the consumer, if one did. */
  takeReady(max: number): Delivery[] {
    if (this.#closed) throw closedError(`rabbitmq consumer of "${this.queue}"`);
    // Sized once: an array grown by push from empty allocated its backing store twice per receive.
    const out = new Array<Delivery>(Math.min(max, this.#available()));
    const buffer = this.#buffer;
    const vis = this.#settings.visibilityTimeoutMs;
    let n = 0;
    while (n < out.length && this.#head < this.#tail) {
      const delivery = buffer[this.#head]!;
      buffer[this.#head++] = undefined;
      // Deliveries of a dead channel cannot be settled; the broker delivers them again.
      if (delivery.channel !== this.#channel) continue;
      if (vis !== undefined) this.#leases.lease(delivery, vis);
      out[n++] = delivery;
    }
    if (n < out.length) out.length = n;
    this.#compact();
    if (out.length === 0 && this.#fatal !== undefined) throw this.#fatal;
    return out;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const channel = this.#channel;
    // Two passes over `deliveries` (marked `acking` in the first) rather than an array of the live ones.
    let live = 0;
    for (let i = 0; i < deliveries.length; i++) {
      const handle = deliveries[i]!.handle as AmqpDelivery;
      if (handle.settled) continue;
      this.#markSettled(handle);
      // Tags of a dead channel are dropped: the broker redelivers those messages.
      if (handle.channel === channel) {
        handle.acking = true;
        live++;
      }
    }
    if (channel === undefined || live === 0) return;
    // One multiple-ack for the settled prefix of the window: it acks exactly the deliveries acked
    // since the last one (earlier settled ones are no longer outstanding at the broker), one frame
    // for many, and one frame for several calls (multiple-ack.ts). Those past a gap (an earlier
    // delivery still unsettled) go one by one, now.
    const last = this.#window.advance();
    const upTo = last?.native.fields.deliveryTag ?? -1;
    let covered = 0;
    let writable = true;
    for (let i = 0; i < deliveries.length; i++) {
      const handle = deliveries[i]!.handle as AmqpDelivery;
      if (!handle.acking) continue;
      handle.acking = false;
      if (handle.native.fields.deliveryTag <= upTo) covered++;
      else if (writable) {
        try {
          channel.ack(handle.native);
        } catch {
          // The channel closed meanwhile: the broker redelivers; acks of dead channels are dropped.
          writable = false;
        }
      }
    }
    if (last !== undefined) this.#multipleAck.add(last, covered);
    // Closing: nothing may wait for a timer now.
    if (this.#closed) this.#multipleAck.flush();
  }

  /** basic.nack with requeue. A nack with a delay comes as requeueCopy instead. */
  async nack(deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) this.#settle(d.handle as AmqpDelivery, 'requeue');
  }

  /**
   * A confirmed copy with its count in ATTEMPTS_HEADER, back to this queue: through the delay levels
   * for a nack with a delay (basic.nack cannot delay), else straight to the queue (a checkpoint or a
   * give-back). Whoever asked then acks the original, or requeues it when the copy failed.
   */
  async requeueCopy(copies: readonly RequeueCopy[], delayMs?: number): Promise<Array<true | Error>> {
    return this.#copies.requeue(copies, delayMs);
  }

  /**
   * Gives back deliveries no handler saw, without counting an attempt: on a classic queue by a
   * copy carrying the same count (then the original is acked), else — or when the copy fails — by
   * a plain requeue. Returns without waiting for the copies: the portable layer releases when it
   * stops and then closes, and close() waits for them only until its deadline (a stalled broker
   * would otherwise hold the whole close for unavailableTimeoutMs).
   */
  async release(deliveries: readonly Delivery[]): Promise<void> {
    void this.#copies.giveBack(deliveries.map((d) => d.handle as AmqpDelivery));
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    const handle = delivery.handle as AmqpDelivery;
    // Without a visibility timeout there is no deadline to push out: the broker holds it until acked.
    if (!handle.settled) this.#leases.extend(handle, ms);
  }

  /**
   * Waits for copies, the cancel and the channel close until the deadline (CLOSE_WAIT_MS from now
   * without one): a blocked connection or a stalled network never answers, and what is left
   * unsettled when the channel or connection goes, the broker requeues.
   */
  async close(options?: DriverCloseOptions): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The acks core flushed before closing the driver go out before the channel is cancelled.
    this.#multipleAck.flush();
    this.#arrivals.wakeAll();
    const deadline = options?.deadline ?? Date.now() + CLOSE_WAIT_MS;
    this.#copies.closeBy = deadline;
    await within(Promise.allSettled(this.#copies.inFlight()), deadline - Date.now()).catch(() => {});
    this.#leases.clear();
    const channel = this.#channel;
    if (channel === undefined) {
      await this.#copies.close(deadline);
      return;
    }
    if (this.#consumerTag !== undefined) {
      await within(channel.cancel(this.#consumerTag), deadline - Date.now()).catch(() => {});
    }
    // Give back what was pushed but never handed out (closing the channel would too, but counted
    // as a delivery on a classic queue); explicitly, they go back at once.
    const unseen = (this.#buffer.slice(this.#head, this.#tail) as AmqpDelivery[]).filter(
      (h) => h.channel === channel && !h.settled,
    );
    this.#emptyBuffer();
    await this.#copies.giveBack(unseen);
    this.#channel = undefined;
    await this.#copies.close(deadline);
    await within(channel.close(), deadline - Date.now()).catch(() => {});
  }

  // ---- internals ----

  #available(): number {
    return this.#tail - this.#head;
  }

  #compact(): void {
    if (this.#head === this.#tail) this.#head = this.#tail = 0;
    else if (this.#head > 1024) {
      // Never emptied (deliveries arrive as fast as they are taken): move the rest down, in place.
      const buffer = this.#buffer;
      buffer.copyWithin(0, this.#head, this.#tail);
      buffer.fill(undefined, this.#tail - this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
  }

  #emptyBuffer(): void {
    this.#buffer = [];
    this.#head = this.#tail = 0;
  }

  async #subscribe(deadline: number, beforeConsume?: Promise<void>): Promise<void> {
    const { manager, config } = this.#shared;
    const what = `consume queue "${this.queue}"`;
    const { model } = await manager.connection(deadline, what);
    const { prefetch, topology } = this.#settings;
    // The consuming channel opens (with its prefetch) while the exchange checks run on scratch
    // channels: neither needs the other, and in a row they were most of an open's round trips.
    const opening = model.createChannel().then(async (opened) => {
      opened.on('error', () => {
        // The 'close' that follows drives recovery; operations report their own errors.
      });
      try {
        await opened.prefetch(prefetch);
      } catch (error) {
        await opened.close().catch(() => {});
        throw error;
      }
      return opened;
    });
    const [open, checked] = await Promise.allSettled([opening, prepareConsumerScratch(config, topology)]);
    if (open.status === 'rejected') throw mapError(open.reason, what);
    const channel = open.value;
    try {
      if (checked.status === 'rejected') throw checked.reason;
      await prepareConsumerChannel(channel, config, topology);
      await beforeConsume;
      if (this.#closed) throw closedError(`rabbitmq consumer of "${this.queue}"`);
      this.#channel = channel;
      channel.on('close', () => this.#lost(channel));
      // A bound method, not an arrow per channel: V8 holds an arrow's optimized code only while
      // that arrow lives, so every new consumer (or channel after a reconnect) compiled the arrow
      // again with #onMessage and the intake's wake-up inlined into it (9–77 ms of TurboFan in the
      // bench's consume phases); the method's own code outlives its consumers.
      const { consumerTag } = await channel.consume(this.queue, this.#onMessage.bind(this, channel), {
        noAck: false,
      });
      this.#consumerTag = consumerTag;
    } catch (error) {
      if (this.#channel === channel) this.#channel = undefined;
      await channel.close().catch(() => {});
      throw mapError(error, what);
    }
  }

  #onMessage(channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted): start over on a fresh channel.
      void channel.close().catch(() => {});
      return;
    }
    const { countsAttempts } = this.#settings;
    // Redelivered on a classic queue (nacked, leased out, or its consumer crashed or closed): a copy
    // that says so (count + 1) replaces it and is handed out when it arrives, unredelivered. When no
    // copy can be published, this delivery is counted, though the count then stays here.
    const checkpoint = message.fields.redelivered && !countsAttempts;
    const copies = checkpoint && this.#copies.possible;
    const previous = carriedAttempts(message) + (checkpoint && !copies ? 1 : 0);
    const delivery = new AmqpDelivery(message, channel, countsAttempts ? 'native' : 'carried', previous);
    this.#window.push(delivery);
    if (copies) {
      this.#copies.checkpoint(delivery, previous + 1);
      return;
    }
    this.#buffer[this.#tail++] = delivery;
    const ready = this.#ready;
    if (ready !== undefined) ready();
    else this.#arrivals.wakeAll();
  }

  #lost(channel: Channel): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#consumerTag = undefined;
    this.#emptyBuffer();
    this.#window.clear();
    this.#multipleAck.clear();
    this.#leases.clear();
    if (!this.#closed) void this.#recover();
  }

  async #recover(): Promise<void> {
    if (this.#recovering) return;
    this.#recovering = true;
    try {
      for (let attempt = 1; !this.#closed; attempt++) {
        try {
          await this.#subscribe(Number.POSITIVE_INFINITY);
          return;
        } catch (error) {
          if (this.#closed) return;
          const e = mapError(error, `resubscribe to queue "${this.queue}"`);
          // The driver closed under us: nothing left to resubscribe to.
          if (e.code === 'CLOSED') return;
          if (!e.retryable) {
            this.#shared.logger.error({ queue: this.queue, error: e.message }, 'rabbitmq consumer stopped');
            this.#fatal = e;
            this.#arrivals.wakeAll();
            this.#ready?.();
            return;
          }
          await sleep(backoffDelay({ ...this.#shared.config.reconnect, multiplier: 2 }, attempt));
        }
      }
    } finally {
      this.#recovering = false;
    }
  }

  #markSettled(handle: AmqpDelivery): void {
    handle.settled = true;
    this.#leases.end(handle);
  }

  #settle(handle: AmqpDelivery, how: 'ack' | 'requeue'): void {
    if (handle.settled) return;
    this.#markSettled(handle);
    // A delivery tag is valid only on its own channel: after a reconnect the ack is dropped
    // (acking a foreign tag would close the channel) and the broker redelivers the message.
    const channel = handle.channel;
    if (channel === undefined || channel !== this.#channel) return;
    try {
      if (how === 'ack') channel.ack(handle.native);
      else channel.nack(handle.native, false, true);
    } catch {
      // The channel closed between the check and the write: same as above.
    }
    this.#window.advance();
  }
}
