import {
  backoffDelay,
  CopyNacks,
  type Delivery,
  type DriverCloseOptions,
  type DriverConsumer,
  Leases,
  type RequeueCopy,
  type SwitchyardError,
  sleep,
} from '@switchyard/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import { CLOSE_WAIT_MS } from './connection.js';
import { within } from './deadline.js';
import { delayRoute } from './delay.js';
import { closedError, mapError } from './errors.js';
import {
  ATTEMPTS_HEADER,
  carriedAttempts,
  originHeaders,
  republishOptions,
  toDelivery,
} from './properties.js';
import { Publisher, type PublishItem } from './publisher.js';
import type { Shared } from './shared.js';
import { type ConsumerTopology, prepareConsumer } from './topology.js';

/** A delivery's settle handle: which channel it came on, whether it is settled, its lease. */
interface Handle {
  readonly channel: Channel;
  readonly message: ConsumeMessage;
  /**
   * Deliveries counted before this one (the carried count): what a copy that gives the message
   * back unseen carries. One more than the header for a redelivery that could not be checkpointed.
   */
  previous: number;
  settled: boolean;
  /** Set while an ack() call settles it, so one multiple-ack can cover a run of them. */
  acking: boolean;
  /** The one Delivery of this handle, whoever asks to copy it (CopyNacks keys by it). */
  delivery: Delivery | undefined;
}

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
  #buffer: Handle[] = [];
  #head = 0;
  /** Every delivery of the current channel in tag order, from the oldest unsettled one on. */
  #window: Handle[] = [];
  #low = 0;
  #waiter: (() => void) | undefined;
  #fatal: SwitchyardError | undefined;
  #closed = false;
  #recovering = false;
  /** Publishes checkpoint and give-back copies to this queue; opened on first use. */
  #copyPublisher: Publisher | undefined;
  /**
   * Checkpoints and give-backs are core's copy-then-ack on this consumer's own requeueCopy: the
   * original is acked only after its copy is confirmed, requeued when the copy fails, and never
   * copied twice.
   */
  readonly #copies = new CopyNacks(this, {
    transport: (operation) => operation(),
    ack: async (delivery) => this.#settle(delivery.handle as Handle, 'ack'),
    nack: async (delivery) => this.#settle(delivery.handle as Handle, 'requeue'),
    fellBack: (_, error) => this.#copyFailed(error),
  });
  /** Copies made while closing end by then (a blocked connection would hold them). */
  #closeBy = Number.POSITIVE_INFINITY;
  /** Why copies cannot be published (no write permission): attempts are then counted per delivery only. */
  #copyRefused: SwitchyardError | undefined;
  /** Ack deadlines (RabbitMQ 3.x has no per-consumer one): on expiry the delivery is requeued. */
  readonly #leases = new Leases<Handle>((handle) => this.#settle(handle, 'requeue'));
  readonly #inFlight = new Set<Promise<void>>();

  constructor(shared: Shared, settings: ConsumerSettings) {
    this.#shared = shared;
    this.#settings = settings;
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

  /** First subscription: its errors (NOT_FOUND, PERMISSION_DENIED, ...) reject openConsumer. */
  async open(): Promise<void> {
    await this.#subscribe(Date.now() + this.#shared.config.unavailableTimeoutMs);
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw closedError(`rabbitmq consumer of "${this.queue}"`);
    if (this.#available() === 0 && this.#fatal === undefined && waitMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          if (this.#waiter === done) this.#waiter = undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal?.addEventListener('abort', done, { once: true });
        this.#waiter = done;
      });
    }
    const out: Delivery[] = [];
    while (out.length < max && this.#head < this.#buffer.length) {
      const handle = this.#buffer[this.#head++]!;
      // Deliveries of a dead channel cannot be settled; the broker delivers them again.
      if (handle.channel !== this.#channel) continue;
      const delivery = this.#deliveryOf(handle);
      const vis = this.#settings.visibilityTimeoutMs;
      if (vis !== undefined) this.#leases.lease(handle, vis);
      out.push(delivery);
    }
    this.#compact();
    if (out.length === 0 && this.#fatal !== undefined) throw this.#fatal;
    return out;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    const channel = this.#channel;
    const live: Handle[] = [];
    for (const d of deliveries) {
      const handle = d.handle as Handle;
      if (handle.settled) continue;
      this.#markSettled(handle);
      // Tags of a dead channel are dropped: the broker redelivers those messages.
      if (handle.channel === channel) {
        handle.acking = true;
        live.push(handle);
      }
    }
    if (channel === undefined || live.length === 0) return;
    // One multiple-ack for the settled prefix of the window: it acks exactly the deliveries being
    // acked now (earlier settled ones are no longer outstanding at the broker), one frame for many.
    const last = this.#advance();
    const upTo = last?.message.fields.deliveryTag ?? -1;
    try {
      if (last !== undefined) channel.ack(last.message, true);
      for (const handle of live) if (handle.message.fields.deliveryTag > upTo) channel.ack(handle.message);
    } catch {
      // The channel closed meanwhile: the broker redelivers; acks of dead channels are dropped.
    }
    for (const handle of live) handle.acking = false;
  }

  /** basic.nack with requeue. A nack with a delay comes as requeueCopy instead. */
  async nack(deliveries: readonly Delivery[]): Promise<void> {
    for (const d of deliveries) this.#settle(d.handle as Handle, 'requeue');
  }

  /**
   * A confirmed copy with its count in ATTEMPTS_HEADER, back to this queue: through the delay levels
   * for a nack with a delay (basic.nack cannot delay), else straight to the queue (a checkpoint or a
   * give-back). Whoever asked then acks the original, or requeues it when the copy failed.
   */
  async requeueCopy(copies: readonly RequeueCopy[], delayMs?: number): Promise<Array<true | Error>> {
    return Promise.all(copies.map((copy) => this.#track(this.#copyBack(copy, delayMs))));
  }

  /**
   * Gives back deliveries no handler saw, without counting an attempt: on a classic queue by a
   * copy carrying the same count (then the original is acked), else — or when the copy fails — by
   * a plain requeue. Returns without waiting for the copies: the portable layer releases when it
   * stops and then closes, and close() waits for them only until its deadline (a stalled broker
   * would otherwise hold the whole close for unavailableTimeoutMs).
   */
  async release(deliveries: readonly Delivery[]): Promise<void> {
    void this.#giveBack(deliveries.map((d) => d.handle as Handle));
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    const handle = delivery.handle as Handle;
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
    this.#waiter?.();
    const deadline = options?.deadline ?? Date.now() + CLOSE_WAIT_MS;
    this.#closeBy = deadline;
    await within(Promise.allSettled([...this.#inFlight]), deadline - Date.now()).catch(() => {});
    this.#leases.clear();
    const channel = this.#channel;
    if (channel === undefined) {
      await this.#copyPublisher?.close(deadline);
      return;
    }
    if (this.#consumerTag !== undefined) {
      await within(channel.cancel(this.#consumerTag), deadline - Date.now()).catch(() => {});
    }
    // Give back what was pushed but never handed out (closing the channel would too, but counted
    // as a delivery on a classic queue); explicitly, they go back at once.
    const unseen = this.#buffer.slice(this.#head).filter((h) => h.channel === channel && !h.settled);
    this.#buffer = [];
    this.#head = 0;
    await this.#giveBack(unseen);
    this.#channel = undefined;
    await this.#copyPublisher?.close(deadline);
    await within(channel.close(), deadline - Date.now()).catch(() => {});
  }

  // ---- internals ----

  #available(): number {
    return this.#buffer.length - this.#head;
  }

  #compact(): void {
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }

  async #subscribe(deadline: number): Promise<void> {
    const { manager, config } = this.#shared;
    const what = `consume queue "${this.queue}"`;
    const { model } = await manager.connection(deadline, what);
    let channel: Channel;
    try {
      channel = await model.createChannel();
    } catch (error) {
      throw mapError(error, what);
    }
    channel.on('error', () => {
      // The 'close' that follows drives recovery; operations report their own errors.
    });
    try {
      await channel.prefetch(this.#settings.prefetch);
      await prepareConsumer(channel, config, this.#settings.topology);
      if (this.#closed) throw closedError(`rabbitmq consumer of "${this.queue}"`);
      this.#channel = channel;
      channel.on('close', () => this.#lost(channel));
      const { consumerTag } = await channel.consume(this.queue, (m) => this.#onMessage(channel, m), {
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
    const handle: Handle = {
      channel,
      message,
      previous: carriedAttempts(message),
      settled: false,
      acking: false,
      delivery: undefined,
    };
    this.#window.push(handle);
    // Redelivered on a classic queue (nacked, leased out, or its consumer crashed or closed): a copy
    // that says so (count + 1) replaces it and is handed out when it arrives, unredelivered. When no
    // copy can be published, this delivery is counted, though the count then stays here.
    if (message.fields.redelivered && !this.#settings.countsAttempts) {
      if (this.#copyRefused === undefined) {
        void this.#track(this.#copies.give(this.#deliveryOf(handle), handle.previous + 1));
        return;
      }
      handle.previous++;
    }
    this.#buffer.push(handle);
    this.#waiter?.();
  }

  #deliveryOf(handle: Handle): Delivery {
    if (handle.delivery !== undefined) return handle.delivery;
    const { message } = handle;
    handle.delivery = this.#settings.countsAttempts
      ? toDelivery(message, handle, 'native')
      : { ...toDelivery(message, handle, 'carried'), deliveryAttempt: handle.previous + 1 };
    return handle.delivery;
  }

  /**
   * A copy failed and its original was requeued. Without write permission no copy ever will:
   * redelivered messages are then handed out counted, the count kept per delivery only (a crash
   * loop is not bounded on this queue); say it once. The same for any failure that would repeat
   * (requeue, redeliver, fail again, in a tight loop), but not for an outage or the queue deleted
   * under the copy: the next redelivery tries again.
   */
  #copyFailed(error: unknown): void {
    const e = mapError(error, `republish a message of queue "${this.queue}" with its attempt count`);
    if (this.#copyRefused !== undefined) return;
    const refused = !e.retryable && e.code !== 'NOT_FOUND';
    if (refused) this.#copyRefused = e;
    this.#shared.logger.warn(
      { queue: this.queue, code: e.code, error: e.message },
      refused
        ? 'rabbitmq: cannot republish redelivered messages to carry their attempt count; counting per delivery only'
        : 'rabbitmq: republishing a message with its attempt count failed; requeued it',
    );
  }

  /**
   * Deliveries no handler saw go back uncounted: a copy with the same count, then an ack of the
   * original (classic queues); a plain requeue where the broker counts, where no copy can be made,
   * or where none would be confirmed in time (blocked connection, close deadline passed).
   */
  async #giveBack(handles: readonly Handle[]): Promise<void> {
    const live = handles.filter((h) => !h.settled && h.channel === this.#channel);
    const late = Date.now() >= this.#closeBy || this.#shared.manager.blocked !== undefined;
    if (this.#settings.countsAttempts || this.#copyRefused !== undefined || late) {
      for (const handle of live) this.#settle(handle, 'requeue');
      return;
    }
    await Promise.all(live.map((h) => this.#track(this.#copies.give(this.#deliveryOf(h), h.previous))));
  }

  #copier(): Publisher {
    this.#copyPublisher ??= new Publisher(
      this.#shared.manager,
      `republish to queue "${this.queue}" (attempt count)`,
      undefined,
      (item) => Publisher.unroutableError(item),
    );
    return this.#copyPublisher;
  }

  #lost(channel: Channel): void {
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    this.#consumerTag = undefined;
    this.#buffer = [];
    this.#head = 0;
    this.#window = [];
    this.#low = 0;
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
            this.#waiter?.();
            return;
          }
          await sleep(backoffDelay({ ...this.#shared.config.reconnect, multiplier: 2 }, attempt));
        }
      }
    } finally {
      this.#recovering = false;
    }
  }

  #markSettled(handle: Handle): void {
    handle.settled = true;
    this.#leases.end(handle);
  }

  /** Moves past settled deliveries; returns the last of them an ack() call is settling now. */
  #advance(): Handle | undefined {
    let last: Handle | undefined;
    const window = this.#window;
    while (this.#low < window.length && window[this.#low]!.settled) {
      const handle = window[this.#low++]!;
      if (handle.acking) last = handle;
    }
    if (this.#low > 1024 && this.#low * 2 > window.length) {
      this.#window = window.slice(this.#low);
      this.#low = 0;
    }
    return last;
  }

  #settle(handle: Handle, how: 'ack' | 'requeue'): void {
    if (handle.settled) return;
    this.#markSettled(handle);
    // A delivery tag is valid only on its own channel: after a reconnect the ack is dropped
    // (acking a foreign tag would close the channel) and the broker redelivers the message.
    if (handle.channel !== this.#channel) return;
    try {
      if (how === 'ack') handle.channel.ack(handle.message);
      else handle.channel.nack(handle.message, false, true);
    } catch {
      // The channel closed between the check and the write: same as above.
    }
    this.#advance();
  }

  async #copyBack({ delivery, attempts }: RequeueCopy, delayMs = 0): Promise<true | Error> {
    const handle = delivery.handle as Handle;
    // Settled, or its channel is gone (the broker redelivers it): nothing to copy, the ack is a no-op.
    if (handle.settled || handle.channel !== this.#channel) return true;
    // From here the copy owns the delivery: an ack deadline firing mid-copy would requeue it too,
    // and the message would come back twice (once requeued, once from the copy).
    this.#leases.end(handle);
    const deadline = Math.min(Date.now() + this.#shared.config.unavailableTimeoutMs, this.#closeBy);
    try {
      const item = await this.#copyOf(handle.message, attempts, delayMs, deadline);
      const publisher = delayMs > 0 ? this.#shared.republisher : this.#copier();
      const [result] = await publisher.publish([item], deadline);
      return result ?? true;
    } catch (error) {
      return mapError(error, `copy a message back to queue "${this.queue}"`);
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
    const count = { [ATTEMPTS_HEADER]: String(attempts) };
    if (delayMs === 0) {
      const options = republishOptions(message, { ...originHeaders(message), ...count });
      return { exchange: '', routingKey: this.queue, content, options };
    }
    const { config, ensureDelay } = this.#shared;
    await ensureDelay({ queue: this.queue }, deadline);
    const route = delayRoute(config.delayPrefix, delayMs, config.delayLevels, { queue: this.queue });
    const options = { ...republishOptions(message, { ...route.headers, ...count }), mandatory: false };
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
