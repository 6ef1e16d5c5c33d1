// A clustering-mode push consumer in the Apache clients' shape (sheet §2.3–2.7, §4.3–4.5), under
// the pull-based driver contract. Its own client id and connections (the broker keys a consumer
// by connection, so two consumers of one group in one process are two members). It heartbeats its
// subscription (topic + %RETRY%<group>), splits the group's queues with AllocateMessageQueueAveragely
// on a timer and whenever the broker says the member list changed, long-polls each of its queues
// while the buffer has room, and commits per queue only up to the lowest offset still in flight.
// A nack (or a lease running out) is CONSUMER_SEND_MSG_BACK: the broker re-stores the message in
// %RETRY%<group> with the next delay level and its reconsumeTimes + 1, and moves it to %DLQ%<group>
// past maxReconsumeTimes — retry and dead-lettering are the broker's own. In broadcasting mode
// (driverOptions.messageModel) it takes every queue, keeps offsets in the process and redelivers
// a nack itself, as the Apache clients' broadcasting has no retry topic.

import {
  backoffDelay,
  ClosedError,
  type Delivery,
  type DriverCloseOptions,
  type DriverConsumer,
  ErrorCode,
  isRetryable,
  isSwitchyardError,
  KeyHold,
  Leases,
  sleep,
} from '@switchyard/core/driver';
import {
  decodeStoredMessages,
  MessageConst,
  PullSysFlag,
  RequestCode,
  ResponseCode,
  type StoredMessage,
  tagsHashCode,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import { delayLevelFor, type RemotingHandle, toDelivery } from './messages.js';
import { QueueOffsets } from './offsets.js';
import { ConnectionPool, notSupported } from './pool.js';
import { allocateAveragely } from './rebalance.js';
import { type MessageQueue, queueKey, RouteTable, subscribeQueues } from './routes.js';
import type { RemotingSettings } from './settings.js';

const PULL_BATCH = 32;
const RETRY_PAUSE = { initialDelayMs: 200, maxDelayMs: 3_000, multiplier: 2 } as const;

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
}

interface PulledQueue {
  readonly mq: MessageQueue;
  readonly address: string;
  readonly offsets: QueueOffsets;
  readonly stop: AbortController;
}

export class RemotingConsumer implements DriverConsumer {
  readonly #s: RemotingSettings;
  readonly #o: RemotingConsumerOptions;
  readonly #pool: ConnectionPool;
  readonly #routes: RouteTable;
  readonly #retryTopic: string;
  readonly #subVersion = Date.now();
  readonly #queues = new Map<string, PulledQueue>();
  readonly #buffer: Delivery[] = [];
  readonly #leases: Leases<Delivery>;
  readonly #settled = new WeakSet<Delivery>();
  readonly #hold = new KeyHold<Delivery>(
    (d) => d.orderingKey,
    (d) => d.id,
  );
  readonly #timers: NodeJS.Timeout[] = [];
  /** Broadcast redeliveries waiting for their nack delay. */
  readonly #redeliveries = new Set<NodeJS.Timeout>();
  #wakeReceiver: (() => void) | undefined;
  #wakePullers: Array<() => void> = [];
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;
  #closed = false;
  /** A pull failure retrying cannot fix (group or topic deleted, permission revoked): receive reports it. */
  #failure: Error | undefined;

  private constructor(settings: RemotingSettings, options: RemotingConsumerOptions) {
    this.#s = settings;
    this.#o = options;
    this.#retryTopic = `%RETRY%${options.group}`;
    this.#pool = new ConnectionPool({
      credentials: settings.credentials,
      securityToken: settings.securityToken,
      requestTimeoutMs: settings.requestTimeoutMs,
      logger: settings.logger,
      onRequest: (req, reply) => {
        // The broker's nudge; a failed rebalance (the consumer closing, the broker gone) waits for
        // the next nudge or the periodic one, and must not become an unhandled rejection.
        if (req.code === RequestCode.NOTIFY_CONSUMER_IDS_CHANGED)
          this.#rebalance().catch((error: unknown) => this.#backgroundFailed(error));
        else if ((req.flag & 2) === 0) reply(notSupported(req));
      },
    });
    this.#routes = new RouteTable(this.#pool, settings.nameServer, settings.routeRefreshMs);
    this.#leases = new Leases((delivery) => void this.#leaseExpired(delivery));
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
      await consumer.#heartbeat();
      await consumer.#rebalance();
    } catch (error) {
      await consumer.close({ deadline: Date.now() });
      throw error;
    }
    consumer.#every(settings.heartbeatIntervalMs, () => consumer.#heartbeat());
    consumer.#every(settings.rebalanceIntervalMs, () => consumer.#rebalance());
    consumer.#every(settings.offsetPersistMs, () => consumer.#persistOffsets(true));
    return consumer;
  }

  get native(): { clientId: string; queues: MessageQueue[] } {
    return { clientId: this.#o.clientId, queues: [...this.#queues.values()].map((q) => q.mq) };
  }

  async receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]> {
    if (this.#closed) throw new ClosedError('rocketmq consumer is closed', { driver: DRIVER });
    if (this.#buffer.length === 0 && this.#failure !== undefined) throw this.#failure;
    if (this.#buffer.length === 0 && waitMs > 0 && !signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          this.#wakeReceiver = undefined;
          resolve();
        };
        const timer = setTimeout(done, waitMs);
        signal?.addEventListener('abort', done, { once: true });
        this.#wakeReceiver = done;
      });
    }
    const out = this.#buffer.splice(0, max);
    for (const delivery of out) this.#leases.lease(delivery, this.#o.invisibleMs);
    if (out.length > 0) this.#wakeAllPullers();
    return out;
  }

  async ack(deliveries: readonly Delivery[]): Promise<void> {
    for (const delivery of deliveries) this.#finish(delivery);
  }

  async nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void> {
    if (this.#o.broadcast) {
      for (const d of deliveries) this.#redeliverHere(d, Math.max(0, delayMs ?? 0));
      return;
    }
    await this.#sendBackAll(deliveries, delayLevelFor(Math.max(0, delayMs ?? 0)));
  }

  /**
   * Broadcasting has no retry topic (a send-back would reach one member, not all), so a nacked
   * message comes back to this consumer only, counted here, and its offset stays uncommitted.
   * Keyed by id, so an ordering key's held messages keep waiting behind it.
   */
  #redeliverHere(delivery: Delivery, delayMs: number): void {
    if (this.#settled.has(delivery)) return;
    this.#settled.add(delivery);
    this.#leases.end(delivery);
    const again: Delivery = { ...delivery, deliveryAttempt: (delivery.deliveryAttempt ?? 1) + 1 };
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
    const results = await Promise.allSettled(deliveries.map((d) => this.#sendBack(d, delayLevel)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  async extend(delivery: Delivery, ms: number): Promise<void> {
    // A lease that already ran out was sent back: the message will come again, nothing to extend.
    this.#leases.extend(delivery, ms);
  }

  async close(options: DriverCloseOptions = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    for (const timer of this.#redeliveries) clearTimeout(timer);
    this.#leases.clear();
    this.#wakeReceiver?.();
    for (const q of this.#queues.values()) q.stop.abort();
    this.#wakeAllPullers();
    // What is unsettled stays uncommitted: the queue's next owner starts from it.
    const last = this.#bounded(options, async () => {
      await this.#persistOffsets(false);
      await this.#unregister();
    });
    await last;
    this.#queues.clear();
    this.#routes.close();
    this.#pool.close();
  }

  // --- settling ---------------------------------------------------------------------------------

  /** Acked, sent back or dead-lettered: the offset no longer holds commits back. */
  #finish(delivery: Delivery): void {
    if (this.#settled.has(delivery)) return;
    this.#settled.add(delivery);
    this.#leases.end(delivery);
    const h = delivery.handle as RemotingHandle;
    this.#queues.get(h.queue)?.offsets.done(h.message.queueOffset);
    const next = this.#hold.settled(delivery);
    if (next !== undefined) this.#deliver([next]);
  }

  async #sendBack(delivery: Delivery, delayLevel: number): Promise<void> {
    if (this.#settled.has(delivery)) return;
    const h = delivery.handle as RemotingHandle;
    const m = h.message;
    await this.#pool.call(
      h.address,
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
    this.#settled.add(delivery);
    this.#leases.end(delivery);
    this.#queues.get(h.queue)?.offsets.done(m.queueOffset);
  }

  async #leaseExpired(delivery: Delivery): Promise<void> {
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

  // --- membership and rebalance -----------------------------------------------------------------

  #heartbeatBody(): Buffer {
    const tags = [...new Set(this.#o.tags)];
    const all = tags.length === 0 || tags.includes('*');
    const subscription = (topic: string, filter: boolean) => ({
      topic,
      subString: filter ? tags.join(' || ') : '*',
      tagsSet: filter ? tags : [],
      codeSet: filter ? tags.map(tagsHashCode) : [],
      classFilterMode: false,
      expressionType: 'TAG',
      subVersion: this.#subVersion,
    });
    return Buffer.from(
      JSON.stringify({
        clientID: this.#o.clientId,
        consumerDataSet: [
          {
            groupName: this.#o.group,
            consumeType: 'CONSUME_PASSIVELY',
            messageModel: this.#o.broadcast ? 'BROADCASTING' : 'CLUSTERING',
            consumeFromWhere:
              this.#o.startFrom === 'earliest'
                ? 'CONSUME_FROM_FIRST_OFFSET'
                : this.#o.startFrom instanceof Date
                  ? 'CONSUME_FROM_TIMESTAMP'
                  : 'CONSUME_FROM_LAST_OFFSET',
            unitMode: false,
            subscriptionDataSet: [
              subscription(this.#o.topic, !all),
              ...(this.#o.broadcast ? [] : [subscription(this.#retryTopic, false)]),
            ],
          },
        ],
        producerDataSet: [],
      }),
    );
  }

  async #heartbeat(): Promise<void> {
    const body = this.#heartbeatBody();
    const addresses = this.#routes.brokerAddresses([this.#o.topic, this.#retryTopic]);
    await Promise.all(
      addresses.map((address) =>
        this.#pool.call(address, RequestCode.HEART_BEAT, {}, body, `heartbeat of group "${this.#o.group}"`),
      ),
    );
  }

  #rebalance(): Promise<void> {
    if (this.#rebalancing !== undefined) {
      this.#rebalanceAgain = true;
      return this.#rebalancing;
    }
    this.#rebalancing = (async () => {
      do {
        this.#rebalanceAgain = false;
        await this.#rebalanceTopic(this.#o.topic);
        if (this.#o.broadcast) continue;
        await this.#rebalanceTopic(this.#retryTopic).catch((error: unknown) => {
          // The broker creates %RETRY%<group> on the first heartbeat; its route may come later.
          if (!isSwitchyardError(error) || error.code !== ErrorCode.NOT_FOUND) throw error;
        });
      } while (this.#rebalanceAgain && !this.#closed);
    })().finally(() => {
      this.#rebalancing = undefined;
    });
    return this.#rebalancing;
  }

  async #rebalanceTopic(topic: string): Promise<void> {
    if (this.#closed) return;
    // The cached route (refreshed every routeRefreshMs), as the Apache clients rebalance on theirs.
    const route = await this.#routes.route(topic);
    const all = subscribeQueues(topic, route);
    const address = this.#routes.brokerAddresses([topic])[0];
    if (address === undefined) return;
    const mine = this.#o.broadcast
      ? new Map(all.map((q) => [queueKey(q), q]))
      : await this.#allocated(address, all);
    for (const [key, q] of this.#queues) {
      if (q.mq.topic === topic && !mine.has(key)) await this.#dropQueue(key, q);
    }
    const added = [...mine].filter(([key]) => !this.#queues.has(key));
    await Promise.all(added.map(([key, mq]) => this.#addQueue(key, mq)));
  }

  /** This member's share of the queues (AllocateMessageQueueAveragely over the member list). */
  async #allocated(address: string, all: MessageQueue[]): Promise<Map<string, MessageQueue>> {
    const reply = await this.#pool.call(
      address,
      RequestCode.GET_CONSUMER_LIST_BY_GROUP,
      { consumerGroup: this.#o.group },
      undefined,
      `member list of group "${this.#o.group}"`,
      { accept: [ResponseCode.SYSTEM_ERROR] },
    );
    const listed =
      reply.code === ResponseCode.SUCCESS && reply.body !== undefined
        ? ((JSON.parse(reply.body.toString('utf8')) as { consumerIdList?: string[] }).consumerIdList ?? [])
        : [];
    // Not listed yet (heartbeat still on its way): count ourselves in rather than pull nothing.
    const members = listed.includes(this.#o.clientId) ? listed : [...listed, this.#o.clientId];
    return new Map(allocateAveragely(this.#o.clientId, members, all).map((q) => [queueKey(q), q]));
  }

  async #addQueue(key: string, mq: MessageQueue): Promise<void> {
    const address = this.#routes.brokerAddress(mq.brokerName);
    if (address === undefined) return;
    const { offset, stored } = await this.#startOffset(mq, address);
    if (this.#closed || this.#queues.has(key)) return;
    if (!stored && !this.#o.broadcast) {
      // The group's first position on this queue is written down before anything is pulled: a
      // member that dies holding messages leaves this offset, not "none", so the next owner
      // starts here instead of at the end (which would skip what the dead member held).
      await this.#pool.call(
        address,
        RequestCode.UPDATE_CONSUMER_OFFSET,
        { consumerGroup: this.#o.group, topic: mq.topic, queueId: mq.queueId, commitOffset: offset },
        undefined,
        `offset commit of "${mq.topic}" queue ${mq.queueId}`,
      );
      if (this.#closed || this.#queues.has(key)) return;
    }
    const q: PulledQueue = { mq, address, offsets: new QueueOffsets(offset), stop: new AbortController() };
    this.#queues.set(key, q);
    void this.#pullLoop(key, q);
  }

  async #dropQueue(key: string, q: PulledQueue): Promise<void> {
    q.stop.abort();
    this.#queues.delete(key);
    this.#wakeAllPullers();
    await this.#commit(q, false).catch(() => undefined);
  }

  async #startOffset(mq: MessageQueue, address: string): Promise<{ offset: number; stored: boolean }> {
    const fields = { consumerGroup: this.#o.group, topic: mq.topic, queueId: mq.queueId };
    const what = `offset query of "${mq.topic}" queue ${mq.queueId}`;
    // Broadcasting keeps offsets in this process: a new consumer starts where startFrom says.
    if (!this.#o.broadcast) {
      const stored = await this.#pool.call(
        address,
        RequestCode.QUERY_CONSUMER_OFFSET,
        fields,
        undefined,
        what,
        {
          accept: [ResponseCode.QUERY_NOT_FOUND],
        },
      );
      const offset = Number(stored.extFields.offset);
      if (stored.code === ResponseCode.SUCCESS && offset >= 0) return { offset, stored: true };
    }
    const from = this.#o.startFrom;
    if (mq.topic === this.#retryTopic || from === 'earliest') return { offset: 0, stored: false };
    const queue = { topic: mq.topic, queueId: mq.queueId };
    const reply =
      from instanceof Date
        ? await this.#pool.call(
            address,
            RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
            { ...queue, timestamp: from.getTime() },
            undefined,
            what,
          )
        : await this.#pool.call(address, RequestCode.GET_MAX_OFFSET, queue, undefined, what);
    return { offset: Number(reply.extFields.offset ?? 0), stored: false };
  }

  // --- pulling ----------------------------------------------------------------------------------

  async #pullLoop(key: string, q: PulledQueue): Promise<void> {
    const expression = this.#o.tags.length === 0 ? '*' : [...new Set(this.#o.tags)].join('||');
    const isRetry = q.mq.topic === this.#retryTopic;
    let failures = 0;
    while (!q.stop.signal.aborted) {
      if (this.#buffer.length + this.#hold.heldCount >= this.#o.prefetch) {
        await new Promise<void>((resolve) => this.#wakePullers.push(resolve));
        continue;
      }
      const commitOffset = this.#o.broadcast ? 0 : q.offsets.committable();
      let reply: Awaited<ReturnType<ConnectionPool['call']>>;
      try {
        reply = await this.#pool.call(
          q.address,
          RequestCode.PULL_MESSAGE,
          {
            consumerGroup: this.#o.group,
            topic: q.mq.topic,
            queueId: q.mq.queueId,
            queueOffset: q.offsets.nextPull,
            maxMsgNums: PULL_BATCH,
            sysFlag:
              PullSysFlag.SUSPEND |
              PullSysFlag.SUBSCRIPTION |
              (commitOffset > 0 ? PullSysFlag.COMMIT_OFFSET : 0),
            commitOffset,
            suspendTimeoutMillis: this.#s.longPollMs,
            subscription: isRetry ? '*' : expression,
            subVersion: this.#subVersion,
            expressionType: 'TAG',
          },
          undefined,
          `pull from "${q.mq.topic}" queue ${q.mq.queueId}`,
          {
            timeoutMs: this.#s.longPollMs + this.#s.requestTimeoutMs,
            accept: [
              ResponseCode.PULL_NOT_FOUND,
              ResponseCode.PULL_RETRY_IMMEDIATELY,
              ResponseCode.PULL_OFFSET_MOVED,
            ],
          },
        );
        failures = 0;
        this.#failure = undefined;
      } catch (error) {
        if (q.stop.signal.aborted) return;
        if (!isRetryable(error)) {
          this.#failure = error as Error;
          this.#wakeReceiver?.();
        }
        failures++;
        this.#s.logger.warn(
          { topic: q.mq.topic, queueId: q.mq.queueId, error: (error as Error).message },
          'rocketmq: pull failed; retrying',
        );
        await sleep(backoffDelay(RETRY_PAUSE, failures), q.stop.signal).catch(() => undefined);
        continue;
      }
      if (q.stop.signal.aborted || this.#queues.get(key) !== q) return;
      const next = Number(reply.extFields.nextBeginOffset ?? q.offsets.nextPull);
      if (reply.code === ResponseCode.PULL_OFFSET_MOVED) {
        q.offsets.moveTo(next);
        continue;
      }
      if (reply.code !== ResponseCode.SUCCESS) {
        if (reply.code === ResponseCode.PULL_RETRY_IMMEDIATELY) q.offsets.moveTo(next);
        continue;
      }
      this.#accept(key, q, decodeStoredMessages(reply.body ?? Buffer.alloc(0)), next, isRetry);
    }
  }

  #accept(key: string, q: PulledQueue, messages: StoredMessage[], next: number, isRetry: boolean): void {
    q.offsets.pulled(
      messages.map((m) => m.queueOffset),
      next,
    );
    const wanted = new Set(this.#o.tags);
    const out: Delivery[] = [];
    for (const m of messages) {
      const tag = m.properties[MessageConst.TAGS];
      // The broker filters by tag hash; hashes collide, so the exact tag is checked here too.
      if (!isRetry && wanted.size > 0 && !wanted.has('*') && (tag === undefined || !wanted.has(tag))) {
        q.offsets.done(m.queueOffset);
        continue;
      }
      out.push(toDelivery(m, key, q.address));
    }
    this.#deliver(out);
  }

  #deliver(deliveries: readonly Delivery[]): void {
    const admitted = this.#hold.admitAll(deliveries);
    if (admitted.length === 0) return;
    this.#buffer.push(...admitted);
    this.#wakeReceiver?.();
  }

  #wakeAllPullers(): void {
    const waiting = this.#wakePullers;
    this.#wakePullers = [];
    for (const wake of waiting) wake();
  }

  // --- offsets ----------------------------------------------------------------------------------

  async #commit(q: PulledQueue, oneway: boolean): Promise<void> {
    if (this.#o.broadcast) return;
    const offset = q.offsets.takeCommit();
    if (offset === undefined) return;
    const fields = {
      consumerGroup: this.#o.group,
      topic: q.mq.topic,
      queueId: q.mq.queueId,
      commitOffset: offset,
    };
    if (oneway) await this.#pool.oneway(q.address, RequestCode.UPDATE_CONSUMER_OFFSET, fields);
    else
      await this.#pool.call(
        q.address,
        RequestCode.UPDATE_CONSUMER_OFFSET,
        fields,
        undefined,
        'offset commit',
      );
  }

  async #persistOffsets(oneway: boolean): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => this.#commit(q, oneway)));
  }

  async #unregister(): Promise<void> {
    const addresses = this.#routes.brokerAddresses([this.#o.topic, this.#retryTopic]);
    await Promise.allSettled(
      addresses.map((address) =>
        this.#pool.call(
          address,
          RequestCode.UNREGISTER_CLIENT,
          { clientID: this.#o.clientId, consumerGroup: this.#o.group },
          undefined,
          'unregister',
        ),
      ),
    );
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
