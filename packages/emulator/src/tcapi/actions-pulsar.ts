// TDMQ Pulsar actions (management by ClusterId/EnvironmentId/TopicName, messaging by one topic path).
// Field names, casing (MessageId on send/ack, MessageID on receive) and `###` batch joining follow the
// fact sheet §4.1/§4.2 and the SDK's tdmq_models.d.ts.

import { DEFAULT_CLUSTER_ID, type Delivered } from '../pulsar/engine.js';
import { PulsarError } from '../pulsar/errors.js';
import type { Topic } from '../pulsar/model.js';
import { type ActionContext, type ActionDef, formatTime, invalidValue, page } from './action.js';
import { arr, bool, int, type Params, reqInt, reqStr, str } from './params.js';

const TOPIC_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ENV_NAME_RE = /^[A-Za-z0-9_-]{1,16}$/;
/** Joins batch-receive ids and payloads; a payload containing it makes the split ambiguous (as on TDMQ). */
export const BATCH_SEPARATOR = '###';
const DEFAULT_RECEIVER_QUEUE_SIZE = 1000;

function range(p: Params, name: string, min: number, max: number, code = 'InvalidParameterValue'): void {
  const v = int(p, name);
  if (v !== undefined && (v < min || v > max))
    throw invalidValue(name, `must be between ${min} and ${max}`, code);
}

function maxLen(p: Params, name: string, max: number): void {
  const v = str(p, name);
  if (v !== undefined && v.length > max) throw invalidValue(name, `must be at most ${max} characters`);
}

function nonEmpty(p: Params, name: string): string {
  const v = reqStr(p, name);
  if (v.trim() === '') throw invalidValue(name, 'must not be empty');
  return v;
}

function topicInfo(ctx: ActionContext, t: Topic) {
  const stored = t.parts.reduce((n, p) => n + p.entries.length, 0);
  const size = t.parts.reduce((n, p) => n + p.entries.reduce((b, e) => b + e.bytes, 0), 0);
  const stats = (entries: number, bytes: number) => ({
    AverageMsgSize: entries > 0 ? String(Math.round(bytes / entries)) : '0',
    ConsumerCount: '0',
    LastConfirmedEntry: '',
    LastLedgerCreatedTimestamp: formatTime(t.createdAt),
    MsgRateIn: '0',
    MsgRateOut: '0',
    MsgThroughputIn: '0',
    MsgThroughputOut: '0',
    NumberOfEntries: String(entries),
    ProducerCount: '0',
    TotalSize: String(bytes),
  });
  return {
    ...stats(stored, size),
    Partitions: t.partitioned ? t.parts.length : 1,
    SubTopicSets: t.partitioned
      ? t.parts.map((p) => ({
          ...stats(
            p.entries.length,
            p.entries.reduce((b, e) => b + e.bytes, 0),
          ),
          Partitions: p.index,
          TopicType: t.topicType,
        }))
      : [],
    TopicType: t.topicType,
    EnvironmentId: t.namespace,
    TopicName: t.name,
    Remark: t.remark,
    CreateTime: formatTime(t.createdAt),
    UpdateTime: formatTime(t.updatedAt),
    ProducerLimit: '1000',
    ConsumerLimit: '1000',
    PulsarTopicType: t.pulsarTopicType,
    MsgTTL: t.msgTtlSec ?? ctx.pulsar.namespace(t.clusterId, t.namespace).msgTtlSec,
    ClusterId: t.clusterId,
    Tenant: t.clusterId,
    IsolateConsumerEnable: false,
    AckTimeOut: t.ackTimeoutSec ?? null,
    PulsarTopicMessageType: 0,
    Tags: [],
    DelayMessagePolicy: null,
  };
}

export const pulsarActions: Record<string, ActionDef> = {
  DescribeClusters: {
    schema: {
      Offset: 'Integer',
      Limit: 'Integer',
      ClusterIdList: 'String[]',
      IsTagFilter: 'Boolean',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const ids = arr<string>(p, 'ClusterIdList');
      const all = ctx.pulsar.listClusters().filter((c) => !ids || ids.length === 0 || ids.includes(c.id));
      return {
        TotalCount: all.length,
        ClusterSet: page(all, int(p, 'Offset'), int(p, 'Limit'), 20, 100).map((c) => ({
          ClusterId: c.id,
          ClusterName: c.name,
          Remark: c.remark,
          EndPointNum: 0,
          CreateTime: formatTime(c.createdAt),
          Healthy: 1,
          HealthyInfo: '',
          Status: 1,
          MaxNamespaceNum: 50,
          MaxTopicNum: 1000,
          MaxQps: 1000,
          MessageRetentionTime: 0,
          MaxStorageCapacity: 0,
          Version: '2.9.2',
          NamespaceNum: c.namespaces.size,
          TopicNum: [...c.namespaces.values()].reduce((n, ns) => n + ns.topics.size, 0),
          PublicAccessEnabled: false,
          Tags: [],
          PayMode: 0,
        })),
      };
    },
  },

  CreateEnvironment: {
    schema: {
      EnvironmentId: 'String!',
      MsgTTL: 'Integer!',
      ClusterId: 'String!',
      Remark: 'String',
      RetentionPolicy: 'RetentionPolicy',
      AutoSubscriptionCreation: 'Boolean',
      SubscriptionExpirationTime: 'Integer',
      SubscriptionExpirationTimeEnable: 'Boolean',
      Tags: 'Tag[]',
    },
    run(p, ctx) {
      const name = reqStr(p, 'EnvironmentId');
      if (!ENV_NAME_RE.test(name))
        throw invalidValue('EnvironmentId', 'letters, digits, - and _, at most 16');
      range(p, 'MsgTTL', 60, 1_296_000);
      maxLen(p, 'Remark', 128);
      const rp = p.RetentionPolicy as { TimeInMinutes: number; SizeInMB: number } | undefined;
      const ns = ctx.pulsar.createNamespace(
        reqStr(p, 'ClusterId'),
        name,
        reqInt(p, 'MsgTTL'),
        rp ? { timeInMinutes: rp.TimeInMinutes, sizeInMB: rp.SizeInMB } : undefined,
        str(p, 'Remark') ?? '',
      );
      return {
        EnvironmentId: ns.name,
        MsgTTL: ns.msgTtlSec,
        Remark: ns.remark,
        NamespaceId: `${ns.clusterId}/${ns.name}`,
        SubscriptionExpirationTime: int(p, 'SubscriptionExpirationTime') ?? null,
        SubscriptionExpirationTimeEnable: bool(p, 'SubscriptionExpirationTimeEnable') ?? false,
      };
    },
  },

  DescribeEnvironments: {
    schema: {
      ClusterId: 'String!',
      EnvironmentId: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const fuzzy = str(p, 'EnvironmentId');
      const exact = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? [])
        .filter((f) => f.Name === 'EnvironmentId')
        .flatMap((f) => f.Values ?? []);
      const all = [...ctx.pulsar.cluster(reqStr(p, 'ClusterId')).namespaces.values()].filter(
        (ns) => (!fuzzy || ns.name.includes(fuzzy)) && (exact.length === 0 || exact.includes(ns.name)),
      );
      return {
        TotalCount: all.length,
        EnvironmentSet: page(all, int(p, 'Offset'), int(p, 'Limit'), 20, 20).map((ns) => ({
          EnvironmentId: ns.name,
          Remark: ns.remark,
          MsgTTL: ns.msgTtlSec,
          CreateTime: formatTime(ns.createdAt),
          UpdateTime: formatTime(ns.updatedAt),
          NamespaceId: `${ns.clusterId}/${ns.name}`,
          NamespaceName: ns.name,
          TopicNum: ns.topics.size,
          RetentionPolicy: ns.retention
            ? { TimeInMinutes: ns.retention.timeInMinutes, SizeInMB: ns.retention.sizeInMB }
            : null,
          AutoSubscriptionCreation: true,
          SubscriptionExpirationTime: null,
          SubscriptionExpirationTimeEnable: false,
          Tags: [],
        })),
      };
    },
  },

  CreateTopic: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      Partitions: 'Integer!',
      ClusterId: 'String!',
      Remark: 'String',
      TopicType: 'Integer',
      PulsarTopicType: 'Integer',
      MsgTTL: 'Integer',
      UnackPolicy: 'String',
      IsolateConsumerEnable: 'Boolean',
      AckTimeOut: 'Integer',
      PulsarTopicMessageType: 'Integer',
      Tags: 'Tag[]',
      DelayMessagePolicy: 'String',
    },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      if (!TOPIC_NAME_RE.test(name)) throw invalidValue('TopicName', 'letters, digits, - and _, at most 64');
      range(p, 'Partitions', 0, 32);
      range(p, 'PulsarTopicType', 0, 3);
      range(p, 'TopicType', 0, 5);
      range(p, 'MsgTTL', 60, 1_296_000);
      range(p, 'AckTimeOut', 60, 86_400, 'InvalidParameterValue.AckTime');
      maxLen(p, 'Remark', 128);
      const partitions = reqInt(p, 'Partitions');
      const ptt = int(p, 'PulsarTopicType');
      // Partitions 0/1 means non-partitioned unless PulsarTopicType explicitly asks for a partitioned topic.
      const partitioned = ptt === 1 || ptt === 3 ? true : ptt === 0 || ptt === 2 ? false : partitions > 1;
      if (partitioned && partitions < 1)
        throw invalidValue('Partitions', 'a partitioned topic needs partitions');
      if (!partitioned && partitions > 1) throw invalidValue('PulsarTopicType', 'conflicts with Partitions');
      const topic = ctx.pulsar.createTopic(reqStr(p, 'ClusterId'), reqStr(p, 'EnvironmentId'), name, {
        partitions,
        partitioned,
        pulsarTopicType: ptt ?? (partitioned ? 3 : 2),
        topicType: int(p, 'TopicType') ?? 0,
        remark: str(p, 'Remark') ?? '',
        msgTtlSec: int(p, 'MsgTTL'),
        ackTimeoutSec: int(p, 'AckTimeOut'),
      });
      return {
        EnvironmentId: topic.namespace,
        TopicName: topic.name,
        Partitions: partitions,
        Remark: topic.remark,
        TopicType: topic.topicType,
      };
    },
  },

  DescribeTopics: {
    schema: {
      EnvironmentId: 'String!',
      ClusterId: 'String!',
      TopicName: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      TopicType: 'Integer',
      Filters: 'Filter[]',
      TopicCreator: 'Integer',
    },
    run(p, ctx) {
      const fuzzy = str(p, 'TopicName');
      const type = int(p, 'TopicType');
      const exact = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? [])
        .filter((f) => f.Name === 'TopicName')
        .flatMap((f) => f.Values ?? []);
      const all = ctx.pulsar
        .listTopics(reqStr(p, 'ClusterId'), reqStr(p, 'EnvironmentId'))
        .filter(
          (t) =>
            (!fuzzy || t.name.includes(fuzzy)) &&
            (exact.length === 0 || exact.includes(t.name)) &&
            (type === undefined || t.pulsarTopicType === type),
        )
        .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
      return {
        TopicSets: page(all, int(p, 'Offset'), int(p, 'Limit'), 10, 20).map((t) => topicInfo(ctx, t)),
        TotalCount: all.length,
      };
    },
  },

  DeleteTopics: {
    schema: { TopicSets: 'TopicRecord[]!', ClusterId: 'String!', EnvironmentId: 'String', Force: 'Boolean' },
    run(p, ctx) {
      const records = arr<{ EnvironmentId: string; TopicName: string }>(p, 'TopicSets') ?? [];
      if (records.length === 0 || records.length > 20)
        throw invalidValue('TopicSets', 'between 1 and 20 topics');
      const cluster = reqStr(p, 'ClusterId');
      // Resolve every record first so a bad one deletes nothing.
      const topics = records.map((r) => ctx.pulsar.topic(cluster, r.EnvironmentId, r.TopicName));
      for (const t of topics) ctx.pulsar.deleteTopic(t);
      return { TopicSets: records.map((r) => ({ EnvironmentId: r.EnvironmentId, TopicName: r.TopicName })) };
    },
  },

  CreateSubscription: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      SubscriptionName: 'String!',
      IsIdempotent: 'Boolean!',
      ClusterId: 'String!',
      Remark: 'String',
      AutoCreatePolicyTopic: 'Boolean',
      PostFixPattern: 'String',
    },
    run(p, ctx) {
      const name = nonEmpty(p, 'SubscriptionName');
      maxLen(p, 'SubscriptionName', 128);
      maxLen(p, 'Remark', 128);
      const pattern = str(p, 'PostFixPattern');
      if (pattern !== undefined && pattern !== 'LEGACY' && pattern !== 'COMMUNITY') {
        throw invalidValue('PostFixPattern', 'LEGACY or COMMUNITY');
      }
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      ctx.pulsar.createSubscription(topic, name, str(p, 'Remark') ?? '', bool(p, 'IsIdempotent') === true);
      return { Result: true };
    },
  },

  DescribeSubscriptions: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      ClusterId: 'String!',
      Offset: 'Integer',
      Limit: 'Integer',
      SubscriptionName: 'String',
      Filters: 'FilterSubscription[]',
    },
    run(p, ctx) {
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      const fuzzy = str(p, 'SubscriptionName');
      const filters =
        arr<{ SubscriptionNames?: string[]; ConsumerHasBacklog?: boolean; ConsumerHasCount?: boolean }>(
          p,
          'Filters',
        ) ?? [];
      const all = [...topic.subs.values()].filter((s) => {
        if (fuzzy && !s.name.includes(fuzzy)) return false;
        for (const f of filters) {
          if (f.SubscriptionNames && f.SubscriptionNames.length > 0 && !f.SubscriptionNames.includes(s.name))
            return false;
          if (f.ConsumerHasBacklog !== undefined && ctx.pulsar.backlog(topic, s) > 0 !== f.ConsumerHasBacklog)
            return false;
          // HTTP consumers are not connections; no subscription ever has a connected consumer here.
          if (f.ConsumerHasCount === true) return false;
        }
        return true;
      });
      return {
        SubscriptionSets: page(all, int(p, 'Offset'), int(p, 'Limit'), 10, 20).map((s) => ({
          TopicName: topic.name,
          EnvironmentId: topic.namespace,
          ConnectedSince: null,
          ConsumerAddr: null,
          ConsumerCount: '0',
          ConsumerName: null,
          MsgBacklog: String(ctx.pulsar.backlog(topic, s)),
          MsgRateExpired: '0',
          MsgRateOut: '0',
          MsgThroughputOut: '0',
          SubscriptionName: s.name,
          ConsumerSets: [],
          IsOnline: false,
          ConsumersScheduleSets: [],
          Remark: s.remark,
          CreateTime: formatTime(s.createdAt),
          UpdateTime: formatTime(s.updatedAt),
          SubType: 'Shared',
          BlockedSubscriptionOnUnackedMsgs: false,
          MaxUnackedMsgNum: 0,
        })),
        TotalCount: all.length,
      };
    },
  },

  DeleteSubscriptions: {
    schema: {
      SubscriptionTopicSets: 'SubscriptionTopic[]!',
      ClusterId: 'String',
      EnvironmentId: 'String',
      Force: 'Boolean',
    },
    run(p, ctx) {
      const sets =
        arr<{ EnvironmentId: string; TopicName: string; SubscriptionName: string }>(
          p,
          'SubscriptionTopicSets',
        ) ?? [];
      if (sets.length === 0 || sets.length > 20) {
        throw invalidValue('SubscriptionTopicSets', 'between 1 and 20 subscriptions');
      }
      const cluster = str(p, 'ClusterId') ?? DEFAULT_CLUSTER_ID;
      const resolved = sets.map((s) => {
        const topic = ctx.pulsar.topic(cluster, s.EnvironmentId, s.TopicName);
        ctx.pulsar.subscription(topic, s.SubscriptionName);
        return { topic, name: s.SubscriptionName };
      });
      for (const r of resolved) ctx.pulsar.deleteSubscription(r.topic, r.name);
      return {
        SubscriptionTopicSets: sets.map((s) => ({
          EnvironmentId: s.EnvironmentId,
          TopicName: s.TopicName,
          SubscriptionName: s.SubscriptionName,
        })),
      };
    },
  },

  ResetMsgSubOffsetByTimestamp: {
    schema: {
      EnvironmentId: 'String!',
      TopicName: 'String!',
      Subscription: 'String!',
      ToTimestamp: 'Integer!',
      ClusterId: 'String!',
    },
    run(p, ctx) {
      range(p, 'ToTimestamp', 0, Number.MAX_SAFE_INTEGER);
      const topic = ctx.pulsar.topic(
        reqStr(p, 'ClusterId'),
        reqStr(p, 'EnvironmentId'),
        reqStr(p, 'TopicName'),
      );
      const sub = ctx.pulsar.subscription(topic, reqStr(p, 'Subscription'));
      ctx.pulsar.resetByTimestamp(topic, sub, reqInt(p, 'ToTimestamp'));
      return { Result: true };
    },
  },

  SendMessages: {
    schema: {
      Topic: 'String!',
      Payload: 'String!',
      StringToken: 'String',
      ProducerName: 'String',
      SendTimeout: 'Integer',
      MaxPendingMessages: 'Integer',
    },
    run: send,
  },

  // One payload per call, exactly like SendMessages: TDMQ's gateway batches many calls into one
  // Pulsar batch behind the scenes, which is invisible here (each message gets its own entry).
  SendBatchMessages: {
    schema: {
      Topic: 'String!',
      Payload: 'String!',
      StringToken: 'String',
      ProducerName: 'String',
      SendTimeout: 'Integer',
      MaxPendingMessages: 'Integer',
      BatchingMaxMessages: 'Integer',
      BatchingMaxPublishDelay: 'Integer',
      BatchingMaxBytes: 'Integer',
    },
    run: send,
  },

  ReceiveMessage: {
    schema: {
      Topic: 'String!',
      SubscriptionName: 'String!',
      ReceiverQueueSize: 'Integer',
      SubInitialPosition: 'String',
      MaxNumMessages: 'Integer',
      MaxNumBytes: 'Integer',
      Timeout: 'Integer',
    },
    async run(p, ctx) {
      const subName = nonEmpty(p, 'SubscriptionName');
      const position = str(p, 'SubInitialPosition') ?? 'Earliest';
      if (position !== 'Earliest' && position !== 'Latest') {
        throw invalidValue('SubInitialPosition', 'Earliest or Latest');
      }
      for (const f of ['ReceiverQueueSize', 'MaxNumMessages', 'MaxNumBytes', 'Timeout']) {
        range(p, f, 0, 2_147_483_647);
      }
      const queue = int(p, 'ReceiverQueueSize') || DEFAULT_RECEIVER_QUEUE_SIZE;
      const maxNum = int(p, 'MaxNumMessages') ?? 0;
      const maxBytes = int(p, 'MaxNumBytes') ?? 0;
      const timeout = int(p, 'Timeout') ?? 0;
      const batch = maxNum > 0 || maxBytes > 0 || timeout > 0;
      const topic = ctx.pulsar.resolve(reqStr(p, 'Topic'));
      const got: Delivered[] = await ctx.pulsar.receive(topic, subName, {
        subInitialPosition: position,
        maxMessages: batch ? Math.min(maxNum > 0 ? maxNum : queue, queue) : 1,
        maxBytes: batch ? maxBytes : 0,
        waitMs: batch && timeout > 0 ? Math.min(timeout, ctx.maxReceiveWaitMs) : ctx.receiveWaitMs,
        returnEarly: !batch,
        signal: ctx.signal,
      });
      if (got.length === 0) {
        throw new PulsarError(
          'FailedOperation.ReceiveTimeout',
          'Receive message timeout, no message, please retry.',
        );
      }
      const common = { AckTopic: ctx.pulsar.topicPath(topic), ErrorMsg: '', SubName: subName };
      if (!batch) {
        const m = got[0] as Delivered;
        return {
          MessageID: m.messageId,
          MessagePayload: m.payload,
          ...common,
          MessageIDList: null,
          MessagesPayload: null,
        };
      }
      return {
        MessageID: null,
        MessagePayload: null,
        ...common,
        MessageIDList: got.map((m) => m.messageId).join(BATCH_SEPARATOR),
        MessagesPayload: got.map((m) => m.payload).join(BATCH_SEPARATOR),
      };
    },
  },

  AcknowledgeMessage: {
    schema: { MessageId: 'String!', AckTopic: 'String!', SubName: 'String!' },
    run(p, ctx) {
      const topic = ctx.pulsar.resolve(reqStr(p, 'AckTopic'));
      ctx.pulsar.acknowledge(topic, reqStr(p, 'SubName'), reqStr(p, 'MessageId'));
      return { ErrorMsg: '' };
    },
  },
};

function send(p: Params, ctx: ActionContext) {
  for (const f of [
    'SendTimeout',
    'MaxPendingMessages',
    'BatchingMaxMessages',
    'BatchingMaxPublishDelay',
    'BatchingMaxBytes',
  ]) {
    range(p, f, 0, 2_147_483_647);
  }
  const topic = ctx.pulsar.resolve(reqStr(p, 'Topic'));
  return { MessageId: ctx.pulsar.send(topic, reqStr(p, 'Payload')), ErrorMsg: '' };
}
