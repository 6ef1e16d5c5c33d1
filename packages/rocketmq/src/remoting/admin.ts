// Management over RocketMQ 4.x Remoting, with the requests mqadmin uses: the name server's topic
// list (GET_ALL_TOPIC_LIST_FROM_NAMESERVER), per-queue offsets (GET_MAX_OFFSET, GET_MIN_OFFSET,
// QUERY_CONSUMER_OFFSET) for a group's backlog, a peek that pulls from the group's committed
// offsets without COMMIT_OFFSET (the broker stores nothing, no reconsume count changes), and a
// purge that moves the group's committed offsets to the end (UPDATE_CONSUMER_OFFSET): a skip for
// that group, since a 4.x broker deletes messages only when their commit-log file expires.

import {
  type DestinationStats,
  type DriverAdmin,
  InvalidArgumentError,
  type PeekedMessage,
} from '@switchyard/core/driver';
import {
  decodeStoredMessages,
  PullSysFlag,
  RequestCode,
  ResponseCode,
  type StoredMessage,
} from '@switchyard/rocketmq-remoting';
import type { RocketMqConfig } from '../config.js';
import { DRIVER } from '../errors.js';
import { namespacePrefix, qualify } from '../naming.js';
import type { RemotingDelivery } from './delivery.js';
import { toDelivery } from './messages.js';
import { validateWireName } from './names.js';
import type { ConnectionPool } from './pool.js';
import { type MessageQueue, queueKey, type RouteTable, subscribeQueues } from './routes.js';

/** Topics every Apache broker registers for itself; not destinations an application uses. */
const SYSTEM_TOPIC =
  /^(TBW102|SCHEDULE_TOPIC_XXXX|OFFSET_MOVED_EVENT|SELF_TEST_TOPIC|BenchmarkTest|TRANS_CHECK_MAX_TIME_TOPIC|RMQ_SYS_.*|rmq_sys_.*|%RETRY%.*)$/;

interface QueueOffsets {
  readonly mq: MessageQueue;
  readonly address: string;
  readonly min: number;
  readonly max: number;
  /** The group's committed offset, undefined where it has none (QUERY_NOT_FOUND). */
  readonly committed: number | undefined;
}

export function remotingAdmin(pool: ConnectionPool, routes: RouteTable, config: RocketMqConfig): DriverAdmin {
  const nameServer = config.endpoints;
  const wire = (kind: 'topic' | 'group', name: string) => validateWireName(kind, qualify(name, config));

  /** The read queues of `topic` with their offsets for `group`; none when `optional` and the topic is missing. */
  const offsets = async (topic: string, group: string, optional: boolean): Promise<QueueOffsets[]> => {
    const route = await routes.refresh(topic).catch((error: unknown) => {
      if (optional && (error as { code?: string }).code === 'NOT_FOUND') return undefined;
      throw error;
    });
    if (route === undefined) return [];
    return Promise.all(
      subscribeQueues(topic, route).map(async (mq) => {
        const address = routes.brokerAddress(mq.brokerName)!;
        const queue = { topic: mq.topic, queueId: mq.queueId };
        const what = `offsets of "${mq.topic}" queue ${mq.queueId}`;
        const [min, max, stored] = await Promise.all([
          pool.call(address, RequestCode.GET_MIN_OFFSET, queue, undefined, what),
          pool.call(address, RequestCode.GET_MAX_OFFSET, queue, undefined, what),
          pool.call(
            address,
            RequestCode.QUERY_CONSUMER_OFFSET,
            { consumerGroup: group, ...queue },
            undefined,
            `offset of group "${group}" on "${mq.topic}" queue ${mq.queueId}`,
            { accept: [ResponseCode.QUERY_NOT_FOUND] },
          ),
        ]);
        const committed = Number(stored.extFields.offset);
        return {
          mq,
          address,
          min: Number(min.extFields.offset ?? 0),
          max: Number(max.extFields.offset ?? 0),
          committed: stored.code === ResponseCode.SUCCESS && committed >= 0 ? committed : undefined,
        };
      }),
    );
  };

  /** The group's queues: the topic's, then its retry topic's (messages sent back wait there). */
  const groupQueues = async (source: string, group: string | undefined, operation: string) => {
    if (group === undefined)
      throw new InvalidArgumentError(
        `${operation} on RocketMQ 4.x works per consumer group (each keeps its own offsets): name the group`,
        { driver: DRIVER },
      );
    const topic = wire('topic', source);
    const g = wire('group', group);
    const [main, retry] = await Promise.all([offsets(topic, g, false), offsets(`%RETRY%${g}`, g, true)]);
    return { topic, group: g, queues: [...main, ...retry] };
  };

  /** Where the group reads next: its committed offset, or the queue's start where it has none. */
  const start = (q: QueueOffsets) => Math.min(q.max, Math.max(q.min, q.committed ?? q.min));

  const consumersOnline = async (group: string, address: string | undefined): Promise<number> => {
    if (address === undefined) return 0;
    const reply = await pool.call(
      address,
      RequestCode.GET_CONSUMER_LIST_BY_GROUP,
      { consumerGroup: group },
      undefined,
      `consumers of group "${group}"`,
      // The broker answers SYSTEM_ERROR "no consumer for this group" when none is online.
      { accept: [ResponseCode.SYSTEM_ERROR] },
    );
    if (reply.code !== ResponseCode.SUCCESS) return 0;
    const body = JSON.parse(reply.body?.toString() || '{}') as { consumerIdList?: unknown[] };
    return body.consumerIdList?.length ?? 0;
  };

  return {
    async list() {
      const reply = await pool.call(
        nameServer,
        RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER,
        {},
        undefined,
        `topic list at name server ${nameServer}`,
      );
      const { topicList = [] } = JSON.parse(reply.body?.toString() || '{}') as { topicList?: string[] };
      // With a namespace, only its topics (and its groups' dead-letter topics), by the short name.
      const prefix = namespacePrefix(config);
      const names = topicList
        .filter((t) => !SYSTEM_TOPIC.test(t))
        .flatMap((t) => {
          if (prefix === undefined) return [t];
          if (t.startsWith(`${prefix}%`)) return [t.slice(prefix.length + 1)];
          return t.startsWith(`%DLQ%${prefix}%`) ? [t] : [];
        })
        .sort();
      return names.map((name) => ({ name, kind: 'topic' as const }));
    },

    async stats(source, group): Promise<DestinationStats> {
      const { topic, group: g, queues } = await groupQueues(source, group, 'stats');
      let ready = 0;
      for (const q of queues) ready += q.max - start(q);
      const consumers = await consumersOnline(g, queues[0]?.address);
      return { name: topic, consumers, groups: { [group!]: { ready } } };
    },

    purgeEffect: 'skip',
    async purge(source, group) {
      const { topic, group: g, queues } = await groupQueues(source, group, 'purge');
      // Online consumers keep their own offsets and would commit them back over the skip.
      const online = await consumersOnline(g, queues[0]?.address);
      if (online > 0)
        throw new InvalidArgumentError(
          `purge of group "${g}" on "${topic}" refused: ${online} consumer(s) of the group are online and would commit their own offsets over the skip; stop them first`,
          { driver: DRIVER },
        );
      let skipped = 0;
      for (const q of queues) {
        skipped += q.max - start(q);
        await pool.call(
          q.address,
          RequestCode.UPDATE_CONSUMER_OFFSET,
          { consumerGroup: g, topic: q.mq.topic, queueId: q.mq.queueId, commitOffset: q.max },
          undefined,
          `skip group "${g}" to the end of "${q.mq.topic}" queue ${q.mq.queueId}`,
        );
      }
      return skipped;
    },

    async peek(source, group, { max }): Promise<PeekedMessage[]> {
      const { group: g, queues } = await groupQueues(source, group, 'peek');
      const read = await Promise.all(
        queues.filter((q) => start(q) < q.max).map((q) => pullWithoutCommit(pool, g, q, start(q), max)),
      );
      // Queues are consumed side by side: the oldest stored first is the nearest guess at "next".
      return read
        .flat()
        .sort((a, b) => a.message.storeTimestamp - b.message.storeTimestamp)
        .slice(0, max)
        .map(({ message, q }) => peeked(toDelivery(message, queueKey(q.mq), q.address)));
    },
  };
}

/** What a peek shows of a delivery: every field but its handle and attemptKey. */
const PEEKED = [
  'id',
  'body',
  'contentType',
  'headers',
  'key',
  'keys',
  'tags',
  'routingKey',
  'orderingKey',
  'deliveryAttempt',
  'publishedAt',
  'native',
] as const satisfies readonly (keyof PeekedMessage)[];

/** Read through the delivery's getters (most of its fields are): a spread would copy none of them. */
function peeked(d: RemotingDelivery): PeekedMessage {
  return Object.fromEntries(PEEKED.map((name) => [name, d[name]])) as unknown as PeekedMessage;
}

/**
 * Up to `max` messages of one queue from `offset`: a pull without COMMIT_OFFSET (the broker stores
 * no offset) or SUSPEND (no hold), with its own subscription '*' (no heartbeat, so the group's
 * membership and rebalance are untouched). An offset the broker moves is followed once.
 */
async function pullWithoutCommit(
  pool: ConnectionPool,
  group: string,
  q: QueueOffsets,
  offset: number,
  max: number,
): Promise<Array<{ message: StoredMessage; q: QueueOffsets }>> {
  let from = offset;
  for (let attempt = 0; attempt < 2; attempt++) {
    const reply = await pool.call(
      q.address,
      RequestCode.PULL_MESSAGE,
      {
        consumerGroup: group,
        topic: q.mq.topic,
        queueId: q.mq.queueId,
        queueOffset: from,
        maxMsgNums: max,
        sysFlag: PullSysFlag.SUBSCRIPTION,
        commitOffset: 0,
        suspendTimeoutMillis: 0,
        subscription: '*',
        subVersion: 0,
        expressionType: 'TAG',
      },
      undefined,
      `peek at "${q.mq.topic}" queue ${q.mq.queueId}`,
      {
        accept: [
          ResponseCode.PULL_NOT_FOUND,
          ResponseCode.PULL_RETRY_IMMEDIATELY,
          ResponseCode.PULL_OFFSET_MOVED,
        ],
      },
    );
    if (reply.code === ResponseCode.SUCCESS)
      return decodeStoredMessages(reply.body ?? Buffer.alloc(0)).map((message) => ({ message, q }));
    if (reply.code !== ResponseCode.PULL_OFFSET_MOVED) return [];
    from = Number(reply.extFields.nextBeginOffset ?? from);
  }
  return [];
}
