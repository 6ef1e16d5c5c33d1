// A clustering-mode push consumer in the Apache clients' shape (sheet §2.3–2.7, §4.3–4.5), under
// the pull-based driver contract. Its own client id and connections (the broker keys a consumer
// by connection, so two consumers of one group in one process are two members). Its place in the
// group — heartbeats, its share of the queues, offsets — is membership.ts; pull.ts long-polls each
// of its queues while it holds fewer than `prefetch`; this file buffers, leases, holds, settles and
// counts what it holds.
// A nack (or a lease running out) is CONSUMER_SEND_MSG_BACK: the broker re-stores the message in
// %RETRY%<group> with the next delay level and its reconsumeTimes + 1, and moves it to %DLQ%<group>
// past maxReconsumeTimes — retry and dead-lettering are the broker's own. In broadcasting mode
// (driverOptions.messageModel) it takes every queue, keeps offsets in the process and redelivers
// a nack itself, as the Apache clients' broadcasting has no retry topic.

import {
  ClosedError,
  type Delivery,
  type DriverCloseOptions,
  type DriverConsumer,
  isAborted,
  KeyHold,
  Leases,
  Waiters,
} from '@switchyard/core/driver';
import { MessageConst, RequestCode } from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import type { RemotingDelivery } from './delivery.js';
import { Membership, type PulledQueue } from './membership.js';
import { delayLevelFor } from './messages.js';
import { ConnectionPool, notSupported } from './pool.js';
import { PULL_BATCH, type PullContext, pullQueue } from './pull.js';
import { type MessageQueue, RouteTable } from './routes.js';
import type { RemotingSettings } from './settings.js';

export interface RemotingConsumerOptions {
  readonly topic: string;
  readonly group: string;
  /** Tags to receive; empty for every message. */
  readonly tags: readonly string[];
  readonly prefetch: number;
  readonly invisibleMs: number;
  readonly startFrom: 'earliest' | 'latest' | Date | undefined;
  /** Send-backs after which the broker moves a message to %DLQ%<group>. */
  readonly maxReconsumeTimes: number;
  /** The portable dead-letter destination is %DLQ%<group>: dead-letter by the broker's move. */
  readonly nativeDeadLetter: boolean;
  /** BROADCASTING: every queue, offsets in this process only, nacks redelivered here. */
  readonly broadcast: boolean;
  readonly clientId: string;
  /** Called once when the consumer has closed (the driver releases its group's topic claim). */
  readonly onClosed?: () => void;
}

export class RemotingConsumer implements DriverConsumer {
  readonly #s: RemotingSettings;
  readonly #o: RemotingConsumerOptions;
  readonly #pool: ConnectionPool;
  readonly #routes: RouteTable;
  readonly #member: Membership;
  readonly #pull: PullContext;
  /** Pulled, not yet taken: a pull's own array while nothing else is buffered (#deliver). */
  #buffer: RemotingDelivery[] = [];
  readonly #leases: Leases<RemotingDelivery>;
  readonly #hold = new KeyHold<RemotingDelivery>(
    (d) => d.orderingKey,
    (d) => d.id,
  );
  readonly #timers: NodeJS.Timeout[] = [];
  /** Broadcast redeliveries waiting for their nack delay. */
  readonly #redeliveries = new Set<NodeJS.Timeout>();
  /** A receiveBatch waiting for messages (or a failure, or the end). */
  readonly #arrivals = new Waiters();
  /** Pullers waiting for settles to make room. */
  readonly #pullers = new Waiters();
  /**
   * Pulled and not yet settled (acked or sent back), over every queue: in the buffer, held behind
   * an ordering key, with the portable layer, or waiting for a broadcast redelivery. With
   * `#reserved` it stays within `prefetch`: the driver pulled while its own buffer was under
   * prefetch, so with core's share it held twice prefetch and more (a pull of 32 per queue on top;
   * docs/bench-profiles.md §26.4, §26.5).
   */
  #inHand = 0;
  /** Room kept for pulls in flight that do not long-poll (they come back at once; pull.ts). */
  #reserved = 0;
  /**
   * The portable layer's push listener (onReady): called when deliveries land in the buffer, in
   * place of a receiveBatch cycle per batch (a promise, a timed wait and its wake-up).
   */
  #ready: (() => void) | undefined;
  #closed = false;
  /**
   * Pull failures retrying cannot fix (group or topic deleted, permission revoked), by queue:
   * receive reports one. Per queue, because another queue's pull working (the %RETRY% queue, which
   * outlives a deleted topic) says nothing of the failing one; one flag for all let that clear the
   * failure between two of the failing queue's pulls, and whether a receive saw it was a race.
   */
  readonly #failures = new Map<string, Error>();
  /** One of #failures (the first), or undefined. */
  #failure: Error | undefined;

  private constructor(settings: RemotingSettings, options: RemotingConsumerOptions) {
    this.#s = settings;
    this.#o = options;
    this.#pool = new ConnectionPool({
      credentials: settings.credentials,
      securityToken: settings.securityToken,
      requestTimeoutMs: settings.requestTimeoutMs,
      logger: settings.logger,
      onRequest: (req, reply) => {
        // The broker's nudge; a failed rebalance (the consumer closing, the broker gone) waits for
        // the next nudge or the periodic one, and must not become an unhandled rejection.
        if (req.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED)
          this.#member.rebalance().catch((error: unknown) => this.#backgroundFailed(error));
        else if ((req.flag & 2) === 0) reply(notSupported(req));
      },
    });
    this.#routes = new RouteTable(this.#pool, settings.nameServer, settings.routeRefreshMs);
    this.#member = new Membership(this.#pool, this.#routes, options, {
      closed: () => this.#closed,
      took: (key, q) => void pullQueue(this.#pull, key, q),
      gaveUp: () => this.#pullers.wakeAll(),
    });
    this.#pull = {
      pool: this.#pool,
      settings,
      group: options.group,
      tags: options.tags,
      broadcast: options.broadcast,
      retryTopic: this.#member.retryTopic,
      subVersion: this.#member.subVersion,
      room: (reserve) => this.#room(reserve),
      landed: (asked, reserved) => {
        if (reserved) {
          this.#reserved -= asked;
          this.#roomMade();
        }
        return options.prefetch - this.#inHand - this.#reserved;
      },
      owns: (key, q) => this.#member.queues.get(key) === q,
      failed: (key, error) => {
        const failures = this.#failures;
        if (error === undefined) {
          if (failures.size === 0 || !failures.delete(key)) return;
        } else failures.set(key, error);
        this.#failure = failures.values().next().value;
        if (error !== undefined) this.#arrived();
      },
      deliver: (deliveries) => {
        this.#inHand += deliveries.length;
        this.#deliver(deliveries);
      },
    };
    // The delivery is its own lease slot (delivery.ts).
    this.#leases = new Leases((delivery) => void this.#leaseExpired(delivery), ownSlot);
    // Only then: without it the portable layer copies the message to the destination it was given.
    if (options.nativeDeadLetter) this.deadLetter = (deliveries) => this.#moveToDeadLetter(deliveries);
  }

  /** Present with native dead-lettering only (see the constructor). */
  deadLetter?: (deliveries: readonly Delivery[], reason: string, destination: string) => Promise<void>;

  /** Subscribes and takes its share of the queues; a missing topic rejects NOT_FOUND. */
  static async open(settings: RemotingSettings, options: RemotingConsumerOptions): Promise<RemotingConsumer> {
    const consumer = new RemotingConsumer(settings, options);
    try {
      await consumer.#routes.route(options.topic);
      await consumer.#member.heartbeat();
      await consumer.#member.rebalance();
    } catch (error) {
      await consumer.close({ deadline: Date.now() });
      throw error;
    }
    const member = consumer.#member;
    consumer.#every(settings.heartbeatIntervalMs, () => member.heartbeat());
    consumer.#every(settings.rebalanceIntervalMs, () => member.rebalance());
    consumer.#every(settings.offsetPersistMs, () => member.persistOffsets(true));
    return consumer;
  }

  get native(): { clientId: string; queues: MessageQueue[] } {
    return { clientId: this.#o.clientId, queues: [...this.#member.queues.values()].map((q) => q.mq) };
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError('rocketmq consumer is closed', { driver: DRIVER });
    if (this.#buffer.length === 0 && this.#failure !== undefined) throw this.#failure;
    // isAborted, not signal.aborted: every AbortSignal has a map of its own, and reading it here
    // would deoptimise this function for every new consumer's signal (core's aborted.ts).
    if (this.#buffer.length === 0 && waitMs > 0 && !isAborted(signal)) {
      await this.#arrivals.wait(waitMs, signal);
    }
    return this.#take(max);
  }

  /**
   * Push mode (core calls it once, and then never receiveBatch): `ready` is called when deliveries
   * land in the buffer and when a pull fails in a way retrying cannot fix.
   */
  onReady(ready: () => void): void {
    this.#ready = ready;
    if (this.#buffer.length > 0 || this.#failure !== undefined) ready();
  }

  /** Up to `max` buffered deliveries, now; with none, the failure retrying cannot fix, if there is one. */
  takeReady(max: number): Delivery[] {
    if (this.#closed) throw new ClosedError('rocketmq consumer is closed', { driver: DRIVER });
    if (this.#buffer.length === 0 && this.#failure !== undefined) throw this.#failure;
    const out = this.#take(max);
    // The last buffered ones went out with a failure standing: another take reports it, as the
    // receiveBatch after them would.
    if (this.#buffer.length === 0 && this.#failure !== undefined) this.#ready?.();
    return out;
  }

  /** Takes up to `max` from the buffer, leased (they stay in hand until settled). */
  #take(max: number): RemotingDelivery[] {
    const buffer = this.#buffer;
    // All of it (the usual take): the array itself goes, not a copy made by splice.
    let out: RemotingDelivery[];
    if (max >= buffer.length) {
      out = buffer;
      this.#buffer = [];
    } else out = buffer.splice(0, max);
    this.#leases.leaseAll(out, this.#o.invisibleMs);
    return out;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    // Indexed: a per-batch path runs a few hundred times per 10,000 messages, so it stays
    // unoptimised for long, where for…of allocates an iterator result per element. One lookup of
    // the queue per run of its deliveries (a batch is mostly one pull's), not one per delivery:
    // settling does not change the consumer's queues.
    let key: string | undefined;
    let queue: PulledQueue | undefined;
    for (let i = 0; i < deliveries.length; i++) {
      const delivery = deliveries[i] as RemotingDelivery;
      if (delivery.settled) continue;
      if (delivery.queue !== key) {
        key = delivery.queue;
        queue = this.#member.queues.get(key);
      }
      this.#finish(delivery, queue);
    }
    this.#roomMade();
  }

  async nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void> {
    if (this.#o.broadcast) {
      for (const d of deliveries) this.#redeliverHere(d as RemotingDelivery, Math.max(0, delayMs ?? 0));
      return;
    }
    await this.#sendBackAll(deliveries, delayLevelFor(Math.max(0, delayMs ?? 0)));
  }

  /**
   * Broadcasting has no retry topic (a send-back would reach one member, not all), so a nacked
   * message comes back to this consumer only, counted here, and its offset stays uncommitted.
   * Keyed by id, so an ordering key's held messages keep waiting behind it.
   */
  #redeliverHere(delivery: RemotingDelivery, delayMs: number): void {
    if (delivery.settled) return;
    delivery.settled = true;
    this.#leases.end(delivery);
    // A delivery (and handle) of its own: the redelivery is settled apart from the one it repeats.
    const again = delivery.again();
    const timer = setTimeout(() => {
      this.#redeliveries.delete(timer);
      this.#deliver([again]);
    }, delayMs);
    this.#redeliveries.add(timer);
  }

  /** Delay level −1 is the broker's "to %DLQ%<group> now" (it keeps every property, counts one more). */
  #moveToDeadLetter(deliveries: readonly Delivery[]): Promise<void> {
    return this.#sendBackAll(deliveries, -1);
  }

  async #sendBackAll(deliveries: readonly Delivery[], delayLevel: number): Promise<void> {
    const results = await Promise.allSettled(
      deliveries.map((d) => this.#sendBack(d as RemotingDelivery, delayLevel)),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    // A lease that already ran out was sent back: the message will come again, nothing to extend.
    this.#leases.extend(delivery as RemotingDelivery, ms);
  }

  async close(options: DriverCloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const timer of this.#redeliveries) clearTimeout(timer);
    this.#leases.clear();
    this.#arrivals.wakeAll();
    for (const q of this.#member.queues.values()) q.stop.abort();
    this.#pullers.wakeAll();
    // What is unsettled stays uncommitted: the queue's next owner starts from it.
    const last = this.#bounded(options, async () => {
      await this.#member.persistOffsets(false);
      await this.#member.unregister();
    });
    try {
      await last;
    } finally {
      this.#member.queues.clear();
      this.#routes.close();
      this.#pool.close();
      this.#o.onClosed?.();
    }
  }

  // --- settling ---------------------------------------------------------------------------------

  /** Acked: the offset no longer holds commits back. `queue`: the delivery's queue, if still owned. */
  #finish(delivery: RemotingDelivery, queue: PulledQueue | undefined): void {
    delivery.settled = true;
    this.#inHand--;
    this.#leases.end(delivery);
    queue?.offsets.done(delivery.native.queueOffset);
    if (delivery.orderingKey === undefined) return;
    const next = this.#hold.settled(delivery);
    if (next !== undefined) this.#deliver([next]);
  }

  async #sendBack(delivery: RemotingDelivery, delayLevel: number): Promise<void> {
    if (delivery.settled) return;
    const m = delivery.native;
    await this.#pool.call(
      delivery.address,
      RequestCode.CONSUMER_SEND_MSG_BACK,
      {
        offset: m.commitLogOffset,
        group: this.#o.group,
        delayLevel,
        originMsgId: m.properties[MessageConst.UNIQ_KEY] ?? m.msgId,
        originTopic: m.properties[MessageConst.RETRY_TOPIC] ?? m.topic,
        unitMode: false,
        maxReconsumeTimes: this.#o.maxReconsumeTimes,
      },
      undefined,
      `send-back of message ${delivery.id} (group "${this.#o.group}")`,
    );
    // The head of an ordering key stays the head: its redelivery from %RETRY% has the same id.
    // Settled once: an ack while the send-back was on its way has already counted it out.
    const first = !delivery.settled;
    delivery.settled = true;
    this.#leases.end(delivery);
    this.#member.queues.get(delivery.queue)?.offsets.done(m.queueOffset);
    if (first) {
      this.#inHand--;
      this.#roomMade();
    }
  }

  async #leaseExpired(delivery: RemotingDelivery): Promise<void> {
    if (this.#o.broadcast) return this.#redeliverHere(delivery, 0);
    try {
      await this.#sendBack(delivery, 1);
    } catch (error) {
      // Left in flight: the offset is not committed, so the queue's next owner gets it again.
      this.#s.logger.warn(
        { group: this.#o.group, id: delivery.id, error: (error as Error).message },
        'rocketmq: could not send an expired delivery back; it stays uncommitted',
      );
    }
  }

  // --- buffering ----------------------------------------------------------------------------------

  /** See PullContext.room: what a pull may ask for within `prefetch`, or a wait for settles. */
  #room(reserve: boolean): number | Promise<void> {
    const free = this.#o.prefetch - this.#inHand - this.#reserved;
    if (free <= 0) return new Promise<void>((resolve) => this.#pullers.add(resolve));
    // Not kept for a drained queue's pull: several may ask for the same room, and what lands
    // beyond it is left on the broker (pull.ts). Asking for less would make a queue that fills
    // meanwhile wait another round trip for what there is room for.
    const ask = Math.min(PULL_BATCH, free);
    if (reserve) this.#reserved += ask;
    return ask;
  }

  /** Settles (or a pull back with less than it kept room for) may have made room: pullers look again. */
  #roomMade(): void {
    if (this.#inHand + this.#reserved < this.#o.prefetch) this.#pullers.wakeAll();
  }

  /** `deliveries`: an array of the consumer's own, which may become the buffer. */
  #deliver(deliveries: RemotingDelivery[]): void {
    // The hold is asked only about a message with an ordering key (it admits every other at
    // once): no filtered copy of each pull's deliveries and no call per message.
    const buffer = this.#buffer;
    const before = buffer.length;
    // Nothing buffered and no ordering key among them (the usual pull): the pull's array is the
    // buffer, rather than a push of each delivery onto it, which called the push builtin every
    // time (≈ 124 instructions per message, callgrind).
    if (before === 0 && !hasOrderingKey(deliveries)) {
      if (deliveries.length === 0) return;
      this.#buffer = deliveries;
      this.#arrived();
      return;
    }
    for (let i = 0; i < deliveries.length; i++) {
      const d = deliveries[i] as RemotingDelivery;
      if (d.orderingKey === undefined || this.#hold.admit(d)) buffer.push(d);
    }
    if (buffer.length > before) this.#arrived();
  }

  /** Deliveries (or a failure) for the portable layer: its push listener, else a waiting receive. */
  #arrived(): void {
    const ready = this.#ready;
    if (ready !== undefined) {
      if (!this.#closed) ready();
    } else this.#arrivals.wakeAll();
  }

  #backgroundFailed(error: unknown): void {
    if (!this.#closed)
      this.#s.logger.warn(
        { group: this.#o.group, error: (error as Error).message },
        'rocketmq: background task failed',
      );
  }

  #every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.#backgroundFailed(error));
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  async #bounded(options: DriverCloseOptions, work: () => Promise<void>): Promise<void> {
    const left = (options.deadline ?? Date.now() + 2 * this.#s.requestTimeoutMs) - Date.now();
    if (left <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      work().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, left);
      }),
    ]);
    clearTimeout(timer);
  }
}

/**
 * A delivery is its own lease slot. One function for every consumer, not an arrow per consumer:
 * Leases calls it per settle and per lease, inlined into `ack`/`#finish` and `leaseAll`, and the
 * next consumer's arrow threw that code away ("wrong call target"; docs/bench-profiles.md §28,
 * remoting; the rabbitmq driver's ownSlot, §27.4).
 */
function ownSlot(delivery: RemotingDelivery): RemotingDelivery {
  return delivery;
}

/** Whether the hold must see any of them (#deliver); a field read each, no call per message. */
function hasOrderingKey(deliveries: readonly RemotingDelivery[]): boolean {
  for (let i = 0; i < deliveries.length; i++)
    if ((deliveries[i] as RemotingDelivery).orderingKey !== undefined) return true;
  return false;
}
