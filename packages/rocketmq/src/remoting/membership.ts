// A consumer's place in its group (sheet §2.3–2.7, §4.3–4.5): it heartbeats its subscription
// (topic + %RETRY%<group>), takes its share of the queues with AllocateMessageQueueAveragely on a
// timer and whenever the broker says the member list changed, finds where each queue it takes
// starts, and commits per queue only up to the lowest offset still in flight. In broadcasting mode
// it takes every queue and keeps offsets in the process. What is pulled, and how messages are
// settled, is the consumer's (consumer.ts, pull.ts).

import { ErrorCode, isSwitchyardError } from '@switchyard/core/driver';
import { RequestCode, ResponseCode, tagsHashCode } from '@switchyard/rocketmq-remoting';
import { QueueOffsets } from './offsets.js';
import type { ConnectionPool } from './pool.js';
import { allocateAveragely } from './rebalance.js';
import { type MessageQueue, queueKey, type RouteTable, subscribeQueues } from './routes.js';

/** The options of RemotingConsumer that concern its membership (see RemotingConsumerOptions). */
export interface MemberOptions {
  readonly topic: string;
  readonly group: string;
  readonly tags: readonly string[];
  readonly startFrom: 'earliest' | 'latest' | Date | undefined;
  readonly broadcast: boolean;
  readonly clientId: string;
}

/** A queue this member owns and pulls. */
export interface PulledQueue {
  readonly mq: MessageQueue;
  readonly address: string;
  readonly offsets: QueueOffsets;
  readonly stop: AbortController;
}

export interface MembershipHooks {
  /** True once the consumer is closing: no queue is taken any more. */
  closed(): boolean;
  /** A queue was taken: start pulling it. */
  took(key: string, q: PulledQueue): void;
  /** A queue was given up: pullers waiting for room look again. */
  gaveUp(): void;
}

export class Membership {
  readonly retryTopic: string;
  /** The subscription's version, sent with heartbeats and pulls. */
  readonly subVersion = Date.now();
  /** The queues this member owns, by queueKey. */
  readonly queues = new Map<string, PulledQueue>();
  readonly #pool: ConnectionPool;
  readonly #routes: RouteTable;
  readonly #o: MemberOptions;
  readonly #hooks: MembershipHooks;
  #rebalancing: Promise<void> | undefined;
  #rebalanceAgain = false;

  constructor(pool: ConnectionPool, routes: RouteTable, options: MemberOptions, hooks: MembershipHooks) {
    this.#pool = pool;
    this.#routes = routes;
    this.#o = options;
    this.#hooks = hooks;
    this.retryTopic = `%RETRY%${options.group}`;
  }

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
      subVersion: this.subVersion,
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
              ...(this.#o.broadcast ? [] : [subscription(this.retryTopic, false)]),
            ],
          },
        ],
        producerDataSet: [],
      }),
    );
  }

  async heartbeat(): Promise<void> {
    const body = this.#heartbeatBody();
    const addresses = this.#routes.brokerAddresses([this.#o.topic, this.retryTopic]);
    await Promise.all(
      addresses.map((address) =>
        this.#pool.call(address, RequestCode.HEART_BEAT, {}, body, `heartbeat of group "${this.#o.group}"`),
      ),
    );
  }

  /** Takes this member's share of the queues; a call while one runs makes it run once more. */
  rebalance(): Promise<void> {
    if (this.#rebalancing !== undefined) {
      this.#rebalanceAgain = true;
      return this.#rebalancing;
    }
    this.#rebalancing = (async () => {
      do {
        this.#rebalanceAgain = false;
        await this.#rebalanceTopic(this.#o.topic);
        if (this.#o.broadcast) continue;
        await this.#rebalanceTopic(this.retryTopic).catch((error: unknown) => {
          // The broker creates %RETRY%<group> on the first heartbeat; its route may come later.
          if (!isSwitchyardError(error) || error.code !== ErrorCode.NOT_FOUND) throw error;
        });
      } while (this.#rebalanceAgain && !this.#hooks.closed());
    })().finally(() => {
      this.#rebalancing = undefined;
    });
    return this.#rebalancing;
  }

  async #rebalanceTopic(topic: string): Promise<void> {
    if (this.#hooks.closed()) return;
    // The cached route (refreshed every routeRefreshMs), as the Apache clients rebalance on theirs.
    const route = await this.#routes.route(topic);
    const all = subscribeQueues(topic, route);
    const address = this.#routes.brokerAddresses([topic])[0];
    if (address === undefined) return;
    const mine = this.#o.broadcast
      ? new Map(all.map((q) => [queueKey(q), q]))
      : await this.#allocated(address, all);
    for (const [key, q] of this.queues) {
      if (q.mq.topic === topic && !mine.has(key)) await this.#dropQueue(key, q);
    }
    const added = [...mine].filter(([key]) => !this.queues.has(key));
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
    if (this.#hooks.closed() || this.queues.has(key)) return;
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
      if (this.#hooks.closed() || this.queues.has(key)) return;
    }
    const q: PulledQueue = { mq, address, offsets: new QueueOffsets(offset), stop: new AbortController() };
    this.queues.set(key, q);
    this.#hooks.took(key, q);
  }

  async #dropQueue(key: string, q: PulledQueue): Promise<void> {
    q.stop.abort();
    this.queues.delete(key);
    this.#hooks.gaveUp();
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
    if (mq.topic === this.retryTopic || from === 'earliest') return { offset: 0, stored: false };
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

  /** Commits every owned queue's offset (oneway on the timer, confirmed on close). */
  async persistOffsets(oneway: boolean): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => this.#commit(q, oneway)));
  }

  /** Leaves the group (on close), so the others rebalance without waiting for a timeout. */
  async unregister(): Promise<void> {
    const addresses = this.#routes.brokerAddresses([this.#o.topic, this.retryTopic]);
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
}
