// CMQ management and send/publish over the Tencent Cloud API (TDMQ 2020-02-17), on the same
// CmqEngine the CMQ HTTP endpoint uses, so a queue created here is consumable there and vice versa.
// Response shapes follow tdmq_models.d.ts (CmqQueue, CmqTopic, CmqSubscription); times are Unix ms
// as the fact sheet §4.3 says. A few attributes exist only in this API (Tags, Trace, Transaction,
// RetentionSizeInMB, a topic's MsgRetentionSeconds); they are kept beside the engine, keyed by the
// resource id so a resource re-created through the CMQ HTTP side does not inherit stale values.

import type { CmqEngine } from '../cmq/engine.js';
import { CmqError } from '../cmq/errors.js';
import type { QueueAttributes, QueueSettingsInput } from '../cmq/types.js';
import { type ActionContext, type ActionDef, invalidValue } from './action.js';
import { ApiError } from './envelope.js';
import { arr, bool, int, type Params, reqInt, reqStr, str } from './params.js';

interface Tag {
  TagKey: string;
  TagValue: string;
}

interface QueueExtra {
  id: string;
  tags: Tag[];
  trace: boolean;
  transaction: number;
  retentionSizeInMB: number;
  firstQueryInterval: number | null;
  maxQueryCount: number | null;
}

interface TopicExtra {
  id: string;
  tags: Tag[];
  trace: boolean;
  msgRetentionSeconds: number;
}

/** API-only attributes of CMQ resources, keyed by lower-cased name (CMQ names are case-insensitive). */
export class CmqExtras {
  readonly queues = new Map<string, QueueExtra>();
  readonly topics = new Map<string, TopicExtra>();

  queue(attrs: { queueId: string; queueName: string }): QueueExtra {
    const k = attrs.queueName.toLowerCase();
    const found = this.queues.get(k);
    if (found && found.id === attrs.queueId) return found;
    const fresh: QueueExtra = {
      id: attrs.queueId,
      tags: [],
      trace: false,
      transaction: 0,
      retentionSizeInMB: 0,
      firstQueryInterval: null,
      maxQueryCount: null,
    };
    this.queues.set(k, fresh);
    return fresh;
  }

  topic(attrs: { topicId: string; topicName: string }): TopicExtra {
    const k = attrs.topicName.toLowerCase();
    const found = this.topics.get(k);
    if (found && found.id === attrs.topicId) return found;
    const fresh: TopicExtra = { id: attrs.topicId, tags: [], trace: false, msgRetentionSeconds: 86_400 };
    this.topics.set(k, fresh);
    return fresh;
  }

  snapshot(): unknown {
    return { queues: [...this.queues], topics: [...this.topics] };
  }

  restore(data: unknown): void {
    const d = data as { queues?: [string, QueueExtra][]; topics?: [string, TopicExtra][] } | undefined;
    this.queues.clear();
    this.topics.clear();
    for (const [k, v] of d?.queues ?? []) this.queues.set(k, v);
    for (const [k, v] of d?.topics ?? []) this.topics.set(k, v);
  }
}

export type CmqContext = ActionContext & { readonly cmq: CmqEngine; readonly cmqExtras: CmqExtras };

const ALL = Number.MAX_SAFE_INTEGER;
/** Shown as CreateUin / TopicOwner: the emulator has one pretend account. */
const EMULATOR_UIN = 100000000001;
const TENANT_ID = 'emulator';

/** CMQ engine failures → the codes TDMQ's API returns for them (fact sheet §3.4). */
export function cmqErrorToApi(err: unknown): { code: string; message: string } | undefined {
  if (!(err instanceof CmqError)) return undefined;
  const byModule: Record<number, string> = {
    10100: 'ResourceNotFound',
    10600: err.text.startsWith('subscription') ? 'ResourceNotFound.Subscription' : 'ResourceNotFound.Topic',
    10550: 'ResourceInUse.Topic',
    10470: err.code === 4490 ? 'ResourceInUse.Subscription' : 'InvalidParameterValue',
    10220: 'LimitExceeded',
    10610: 'LimitExceeded.Topics',
    10480: 'LimitExceeded.Subscriptions',
    10660: 'FailedOperation',
    10540: 'FailedOperation',
    10650: 'FailedOperation',
    10730: 'FailedOperation',
    10670: err.code === 6050 ? 'FailedOperation' : 'InvalidParameterValue',
    10050: 'InternalError',
  };
  const code =
    err.code === 4460 && err.module === 4460
      ? 'ResourceInUse.Queue'
      : (byModule[err.module] ??
        (err.code === 4000
          ? 'InvalidParameterValue'
          : err.code >= 6000
            ? 'FailedOperation'
            : 'FailedOperation'));
  return { code, message: err.text };
}

function page(p: Params) {
  const offset = int(p, 'Offset') ?? 0;
  const limit = int(p, 'Limit') ?? 20;
  if (offset < 0) throw invalidValue('Offset', 'must not be negative');
  if (limit < 0) throw invalidValue('Limit', 'must not be negative');
  return { offset, limit: Math.min(limit, 50) };
}

/** `Filters: [{ Name: 'tag:<key>', Values: [...] }]` with IsTagFilter. */
function tagFilter(p: Params): (tags: readonly Tag[]) => boolean {
  const filters = (arr<{ Name?: string; Values?: string[] }>(p, 'Filters') ?? []).filter((f) =>
    f.Name?.startsWith('tag:'),
  );
  if (bool(p, 'IsTagFilter') !== true || filters.length === 0) return () => true;
  return (tags) =>
    filters.every((f) => {
      const key = (f.Name as string).slice(4);
      return tags.some((t) => t.TagKey === key && (!f.Values?.length || f.Values.includes(t.TagValue)));
    });
}

function queueSettings(p: Params): QueueSettingsInput {
  const dlq = str(p, 'DeadLetterQueueName');
  const policy = int(p, 'Policy');
  if (policy !== undefined && policy !== 0 && policy !== 1) throw invalidValue('Policy', '0 or 1');
  const settings: QueueSettingsInput = {
    ...(int(p, 'MaxMsgHeapNum') !== undefined ? { maxMsgHeapNum: int(p, 'MaxMsgHeapNum') } : {}),
    ...(int(p, 'PollingWaitSeconds') !== undefined
      ? { pollingWaitSeconds: int(p, 'PollingWaitSeconds') }
      : {}),
    ...(int(p, 'VisibilityTimeout') !== undefined ? { visibilityTimeout: int(p, 'VisibilityTimeout') } : {}),
    ...(int(p, 'MaxMsgSize') !== undefined ? { maxMsgSize: int(p, 'MaxMsgSize') } : {}),
    ...(int(p, 'MsgRetentionSeconds') !== undefined
      ? { msgRetentionSeconds: int(p, 'MsgRetentionSeconds') }
      : {}),
    ...(int(p, 'RewindSeconds') !== undefined ? { rewindSeconds: int(p, 'RewindSeconds') } : {}),
  };
  if (dlq !== undefined && dlq !== '') {
    const pol = (policy ?? 0) as 0 | 1;
    const maxReceiveCount = int(p, 'MaxReceiveCount');
    const maxTimeToLive = int(p, 'MaxTimeToLive');
    if (pol === 1 && maxTimeToLive === undefined) {
      throw new ApiError('MissingParameter', 'The request is missing a required parameter `MaxTimeToLive`.');
    }
    settings.deadLetterPolicy = {
      deadLetterQueue: dlq,
      policy: pol,
      ...(maxReceiveCount !== undefined ? { maxReceiveCount } : {}),
      ...(maxTimeToLive !== undefined ? { maxTimeToLive } : {}),
    };
  }
  return settings;
}

function applyQueueExtras(extra: QueueExtra, p: Params): void {
  const tags = arr<Tag>(p, 'Tags');
  if (tags) extra.tags = tags.map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
  const trace = bool(p, 'Trace');
  if (trace !== undefined) extra.trace = trace;
  const tx = int(p, 'Transaction');
  if (tx !== undefined) {
    if (tx !== 0 && tx !== 1) throw invalidValue('Transaction', '0 or 1');
    extra.transaction = tx;
  }
  const size = int(p, 'RetentionSizeInMB');
  if (size !== undefined) extra.retentionSizeInMB = size;
  const fqi = int(p, 'FirstQueryInterval');
  if (fqi !== undefined) extra.firstQueryInterval = fqi;
  const mqc = int(p, 'MaxQueryCount');
  if (mqc !== undefined) extra.maxQueryCount = mqc;
}

function describeQueue(ctx: CmqContext, a: QueueAttributes) {
  const extra = ctx.cmqExtras.queue(a);
  const dl = a.deadLetterPolicy;
  const sources = ctx.cmq
    .listQueues({ limit: ALL })
    .queueList.map((q) => ctx.cmq.getQueueAttributes(q.queueName))
    .filter((q) => q.deadLetterPolicy?.deadLetterQueue.toLowerCase() === a.queueName.toLowerCase())
    .map((q) => ({ QueueId: q.queueId, QueueName: q.queueName }));
  return {
    QueueId: a.queueId,
    QueueName: a.queueName,
    Qps: 5000,
    Bps: 52_428_800,
    MaxDelaySeconds: 3600,
    MaxMsgHeapNum: a.maxMsgHeapNum,
    PollingWaitSeconds: a.pollingWaitSeconds,
    MsgRetentionSeconds: a.msgRetentionSeconds,
    VisibilityTimeout: a.visibilityTimeout,
    MaxMsgSize: a.maxMsgSize,
    RewindSeconds: a.rewindSeconds,
    CreateTime: a.createTime * 1000,
    LastModifyTime: a.lastModifyTime * 1000,
    ActiveMsgNum: a.activeMsgNum,
    InactiveMsgNum: a.inactiveMsgNum,
    DelayMsgNum: a.delayMsgNum,
    RewindMsgNum: a.rewindMsgNum,
    MinMsgTime: a.minMsgTime,
    Transaction: extra.transaction === 1,
    DeadLetterSource: sources,
    DeadLetterPolicy: dl
      ? {
          DeadLetterQueue: dl.deadLetterQueue,
          Policy: dl.policy,
          MaxTimeToLive: dl.maxTimeToLive ?? null,
          MaxReceiveCount: dl.maxReceiveCount ?? null,
        }
      : null,
    TransactionPolicy:
      extra.transaction === 1
        ? { FirstQueryInterval: extra.firstQueryInterval, MaxQueryCount: extra.maxQueryCount }
        : null,
    CreateUin: EMULATOR_UIN,
    Tags: extra.tags,
    Trace: extra.trace,
    TenantId: TENANT_ID,
    NamespaceName: a.queueName,
    Status: 1,
    MaxUnackedMsgNum: null,
    MaxMsgBacklogSize: null,
    RetentionSizeInMB: extra.retentionSizeInMB,
  };
}

function describeTopic(ctx: CmqContext, topicName: string) {
  const a = ctx.cmq.getTopicAttributes(topicName);
  const extra = ctx.cmqExtras.topic(a);
  return {
    TopicId: a.topicId,
    TopicName: a.topicName,
    MsgRetentionSeconds: extra.msgRetentionSeconds,
    MaxMsgSize: a.maxMsgSize,
    Qps: 5000,
    FilterType: a.filterType,
    CreateTime: a.createTime * 1000,
    LastModifyTime: a.lastModifyTime * 1000,
    MsgCount: a.msgCount,
    CreateUin: EMULATOR_UIN,
    Tags: extra.tags,
    Trace: extra.trace,
    TenantId: TENANT_ID,
    NamespaceName: a.topicName,
    Status: 1,
    BrokerType: 0,
    SubscriptionCount: ctx.cmq.listSubscriptions(a.topicName, { limit: ALL }).totalCount,
  };
}

function describeSubscription(ctx: CmqContext, topicName: string, subscriptionName: string) {
  const s = ctx.cmq.getSubscriptionAttributes(topicName, subscriptionName);
  return {
    SubscriptionName: s.subscriptionName,
    SubscriptionId: s.subscriptionId,
    TopicOwner: Number(s.topicOwner),
    MsgCount: s.msgCount,
    LastModifyTime: s.lastModifyTime * 1000,
    CreateTime: s.createTime * 1000,
    BindingKey: s.bindingKeys,
    Endpoint: s.endpoint,
    FilterTags: s.filterTags,
    Protocol: s.protocol,
    NotifyStrategy: s.notifyStrategy,
    NotifyContentFormat: s.notifyContentFormat,
    TopicName: s.topicName,
  };
}

function retention(p: Params, name: string, min: number, max: number): number | undefined {
  const v = int(p, name);
  if (v !== undefined && (v < min || v > max)) throw invalidValue(name, `must be between ${min} and ${max}`);
  return v;
}

/** Empties a queue. Uses CmqEngine.clearQueue when the engine offers it (see the report). */
function clearQueue(cmq: CmqEngine, queueName: string): void {
  const engine = cmq as CmqEngine & { clearQueue?: (name: string) => void };
  if (typeof engine.clearQueue === 'function') {
    engine.clearQueue(queueName);
    return;
  }
  // Fallback through the public snapshot API: drop this queue's messages, keep everything else.
  cmq.getQueueAttributes(queueName);
  const snap = cmq.snapshot();
  cmq.restore({
    ...snap,
    queues: snap.queues.map((q) =>
      q.queueName.toLowerCase() === queueName.toLowerCase() ? { ...q, live: [], archive: [] } : q,
    ),
  });
}

const QUEUE_KNOBS = {
  MaxMsgHeapNum: 'Integer',
  PollingWaitSeconds: 'Integer',
  VisibilityTimeout: 'Integer',
  MaxMsgSize: 'Integer',
  MsgRetentionSeconds: 'Integer',
  RewindSeconds: 'Integer',
  FirstQueryInterval: 'Integer',
  MaxQueryCount: 'Integer',
  DeadLetterQueueName: 'String',
  Policy: 'Integer',
  MaxReceiveCount: 'Integer',
  MaxTimeToLive: 'Integer',
  Trace: 'Boolean',
  Transaction: 'Integer',
  RetentionSizeInMB: 'Integer',
} as const;

export const cmqActions: Record<string, ActionDef<CmqContext>> = {
  CreateCmqQueue: {
    schema: { QueueName: 'String!', ...QUEUE_KNOBS, Tags: 'Tag[]' },
    run(p, ctx) {
      const name = reqStr(p, 'QueueName');
      const settings = queueSettings(p);
      const { queueId } = ctx.cmq.createQueue(name, settings);
      applyQueueExtras(ctx.cmqExtras.queue({ queueId, queueName: name }), p);
      return { QueueId: queueId };
    },
  },

  DescribeCmqQueues: {
    schema: {
      Offset: 'Integer',
      Limit: 'Integer',
      QueueName: 'String',
      QueueNameList: 'String[]',
      IsTagFilter: 'Boolean',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const { offset, limit } = page(p);
      const names = (arr<string>(p, 'QueueNameList') ?? []).map((n) => n.toLowerCase());
      const byTag = tagFilter(p);
      const all = ctx.cmq
        .listQueues({ searchWord: str(p, 'QueueName') ?? '', limit: ALL })
        .queueList.filter((q) => names.length === 0 || names.includes(q.queueName.toLowerCase()))
        .map((q) => ctx.cmq.getQueueAttributes(q.queueName))
        .filter((a) => byTag(ctx.cmqExtras.queue(a).tags));
      return {
        TotalCount: all.length,
        QueueList: all.slice(offset, offset + limit).map((a) => describeQueue(ctx, a)),
      };
    },
  },

  DescribeCmqQueueDetail: {
    schema: { QueueName: 'String!' },
    run(p, ctx) {
      return { QueueDescribe: describeQueue(ctx, ctx.cmq.getQueueAttributes(reqStr(p, 'QueueName'))) };
    },
  },

  ModifyCmqQueueAttribute: {
    schema: { QueueName: 'String!', ...QUEUE_KNOBS },
    run(p, ctx) {
      const name = reqStr(p, 'QueueName');
      const current = ctx.cmq.getQueueAttributes(name);
      const settings = queueSettings(p);
      // Dead-letter knobs without a queue name modify the existing policy.
      if (!settings.deadLetterPolicy && current.deadLetterPolicy) {
        const pol = int(p, 'Policy');
        const mrc = int(p, 'MaxReceiveCount');
        const ttl = int(p, 'MaxTimeToLive');
        if (pol !== undefined || mrc !== undefined || ttl !== undefined) {
          settings.deadLetterPolicy = {
            ...current.deadLetterPolicy,
            ...(pol !== undefined ? { policy: pol as 0 | 1 } : {}),
            ...(mrc !== undefined ? { maxReceiveCount: mrc } : {}),
            ...(ttl !== undefined ? { maxTimeToLive: ttl } : {}),
          };
        }
      }
      const updated = ctx.cmq.setQueueAttributes(name, settings);
      applyQueueExtras(ctx.cmqExtras.queue(updated), p);
      return {};
    },
  },

  DeleteCmqQueue: {
    schema: { QueueName: 'String!' },
    run(p, ctx) {
      const name = reqStr(p, 'QueueName');
      ctx.cmq.deleteQueue(name);
      ctx.cmqExtras.queues.delete(name.toLowerCase());
      return {};
    },
  },

  ClearCmqQueue: {
    schema: { QueueName: 'String!' },
    run(p, ctx) {
      clearQueue(ctx.cmq, reqStr(p, 'QueueName'));
      return {};
    },
  },

  RewindCmqQueue: {
    schema: { QueueName: 'String!', StartConsumeTime: 'Integer!' },
    run(p, ctx) {
      ctx.cmq.rewindQueue(reqStr(p, 'QueueName'), reqInt(p, 'StartConsumeTime'));
      return {};
    },
  },

  CreateCmqTopic: {
    schema: {
      TopicName: 'String!',
      MaxMsgSize: 'Integer',
      FilterType: 'Integer',
      MsgRetentionSeconds: 'Integer',
      Trace: 'Boolean',
      Tags: 'Tag[]',
    },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      const keep = retention(p, 'MsgRetentionSeconds', 60, 86_400);
      const maxMsgSize = int(p, 'MaxMsgSize');
      const filterType = int(p, 'FilterType');
      const { topicId } = ctx.cmq.createTopic(name, {
        ...(maxMsgSize !== undefined ? { maxMsgSize } : {}),
        ...(filterType !== undefined ? { filterType } : {}),
      });
      const extra = ctx.cmqExtras.topic({ topicId, topicName: name });
      extra.tags = (arr<Tag>(p, 'Tags') ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
      extra.trace = bool(p, 'Trace') ?? false;
      if (keep !== undefined) extra.msgRetentionSeconds = keep;
      return { TopicId: topicId };
    },
  },

  DescribeCmqTopics: {
    schema: {
      Offset: 'Integer',
      Limit: 'Integer',
      TopicName: 'String',
      TopicNameList: 'String[]',
      IsTagFilter: 'Boolean',
      Filters: 'Filter[]',
    },
    run(p, ctx) {
      const { offset, limit } = page(p);
      const names = (arr<string>(p, 'TopicNameList') ?? []).map((n) => n.toLowerCase());
      const byTag = tagFilter(p);
      const all = ctx.cmq
        .listTopics({ searchWord: str(p, 'TopicName') ?? '', limit: ALL })
        .topicList.filter((t) => names.length === 0 || names.includes(t.topicName.toLowerCase()))
        .filter((t) => byTag(ctx.cmqExtras.topic(t).tags));
      return {
        TopicList: all.slice(offset, offset + limit).map((t) => describeTopic(ctx, t.topicName)),
        TotalCount: all.length,
      };
    },
  },

  DescribeCmqTopicDetail: {
    schema: { TopicName: 'String' },
    run(p, ctx) {
      const name = str(p, 'TopicName');
      if (name === undefined) {
        throw new ApiError('MissingParameter', 'The request is missing a required parameter `TopicName`.');
      }
      return { TopicDescribe: describeTopic(ctx, name) };
    },
  },

  ModifyCmqTopicAttribute: {
    schema: { TopicName: 'String!', MaxMsgSize: 'Integer', MsgRetentionSeconds: 'Integer', Trace: 'Boolean' },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      const keep = retention(p, 'MsgRetentionSeconds', 60, 86_400);
      const maxMsgSize = int(p, 'MaxMsgSize');
      const a = ctx.cmq.setTopicAttributes(name, maxMsgSize !== undefined ? { maxMsgSize } : {});
      const extra = ctx.cmqExtras.topic(a);
      if (keep !== undefined) extra.msgRetentionSeconds = keep;
      const trace = bool(p, 'Trace');
      if (trace !== undefined) extra.trace = trace;
      return {};
    },
  },

  DeleteCmqTopic: {
    schema: { TopicName: 'String!' },
    run(p, ctx) {
      const name = reqStr(p, 'TopicName');
      ctx.cmq.deleteTopic(name);
      ctx.cmqExtras.topics.delete(name.toLowerCase());
      return {};
    },
  },

  CreateCmqSubscribe: {
    schema: {
      TopicName: 'String!',
      SubscriptionName: 'String!',
      Protocol: 'String!',
      Endpoint: 'String!',
      NotifyStrategy: 'String',
      FilterTag: 'String[]',
      BindingKey: 'String[]',
      NotifyContentFormat: 'String',
    },
    run(p, ctx) {
      const protocol = reqStr(p, 'Protocol');
      const strategy = str(p, 'NotifyStrategy');
      const format = str(p, 'NotifyContentFormat');
      const tags = arr<string>(p, 'FilterTag');
      const keys = arr<string>(p, 'BindingKey');
      const { subscriptionId } = ctx.cmq.subscribe(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'), {
        protocol,
        endpoint: reqStr(p, 'Endpoint'),
        ...(strategy !== undefined ? { notifyStrategy: strategy } : {}),
        // A queue endpoint only takes SIMPLIFIED; when the caller says nothing, that is the default.
        ...(format !== undefined
          ? { notifyContentFormat: format }
          : protocol === 'queue'
            ? { notifyContentFormat: 'SIMPLIFIED' }
            : {}),
        ...(tags !== undefined ? { filterTags: tags } : {}),
        ...(keys !== undefined ? { bindingKeys: keys } : {}),
      });
      return { SubscriptionId: subscriptionId };
    },
  },

  DescribeCmqSubscriptionDetail: {
    schema: {
      TopicName: 'String',
      Offset: 'Integer',
      Limit: 'Integer',
      SubscriptionName: 'String',
      QueueName: 'String',
      QueryType: 'String',
    },
    run(p, ctx) {
      const { offset, limit } = page(p);
      const queryType = str(p, 'QueryType') ?? 'topic';
      const search = (str(p, 'SubscriptionName') ?? '').toLowerCase();
      let found: { topic: string; sub: string }[];
      if (queryType === 'topic') {
        const topic = str(p, 'TopicName');
        if (topic === undefined) {
          throw new ApiError('MissingParameter', 'The request is missing a required parameter `TopicName`.');
        }
        found = ctx.cmq
          .listSubscriptions(topic, { searchWord: search, limit: ALL })
          .subscriptionList.map((s) => ({ topic, sub: s.subscriptionName }));
      } else if (queryType === 'queue') {
        const queue = str(p, 'QueueName');
        if (queue === undefined) {
          throw new ApiError('MissingParameter', 'The request is missing a required parameter `QueueName`.');
        }
        found = ctx.cmq.listTopics({ limit: ALL }).topicList.flatMap((t) =>
          ctx.cmq
            .listSubscriptions(t.topicName, { searchWord: search, limit: ALL })
            .subscriptionList.filter(
              (s) => s.protocol === 'queue' && s.endpoint.toLowerCase() === queue.toLowerCase(),
            )
            .map((s) => ({ topic: t.topicName, sub: s.subscriptionName })),
        );
      } else {
        throw invalidValue('QueryType', 'topic or queue');
      }
      return {
        TotalCount: found.length,
        SubscriptionSet: found
          .slice(offset, offset + limit)
          .map((f) => describeSubscription(ctx, f.topic, f.sub)),
      };
    },
  },

  ModifyCmqSubscriptionAttribute: {
    schema: {
      TopicName: 'String!',
      SubscriptionName: 'String!',
      NotifyStrategy: 'String',
      NotifyContentFormat: 'String',
      FilterTags: 'String[]',
      BindingKey: 'String[]',
    },
    run(p, ctx) {
      const strategy = str(p, 'NotifyStrategy');
      const format = str(p, 'NotifyContentFormat');
      const tags = arr<string>(p, 'FilterTags');
      const keys = arr<string>(p, 'BindingKey');
      ctx.cmq.setSubscriptionAttributes(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'), {
        ...(strategy !== undefined ? { notifyStrategy: strategy } : {}),
        ...(format !== undefined ? { notifyContentFormat: format } : {}),
        ...(tags !== undefined ? { filterTags: tags } : {}),
        ...(keys !== undefined ? { bindingKeys: keys } : {}),
      });
      return {};
    },
  },

  DeleteCmqSubscribe: {
    schema: { TopicName: 'String!', SubscriptionName: 'String!' },
    run(p, ctx) {
      ctx.cmq.unsubscribe(reqStr(p, 'TopicName'), reqStr(p, 'SubscriptionName'));
      return {};
    },
  },

  SendCmqMsg: {
    schema: { QueueName: 'String!', MsgContent: 'String!', DelaySeconds: 'Integer!' },
    run(p, ctx) {
      const { msgId } = ctx.cmq.sendMessage(reqStr(p, 'QueueName'), reqStr(p, 'MsgContent'), {
        delaySeconds: reqInt(p, 'DelaySeconds'),
      });
      return { Result: true, MsgId: msgId };
    },
  },

  PublishCmqMsg: {
    schema: { TopicName: 'String!', MsgContent: 'String!', MsgTag: 'String[]' },
    run(p, ctx) {
      const topic = reqStr(p, 'TopicName');
      const tags = arr<string>(p, 'MsgTag') ?? [];
      // MsgTag carries tags for tag-filtered topics and the single routing key for FilterType 2.
      const routing = ctx.cmq.getTopicAttributes(topic).filterType === 2;
      if (routing && tags.length > 1) throw invalidValue('MsgTag', 'a routing-key topic takes one route key');
      const { msgId } = ctx.cmq.publishMessage(
        topic,
        reqStr(p, 'MsgContent'),
        routing ? (tags[0] !== undefined ? { routingKey: tags[0] } : {}) : { tags },
      );
      return { Result: true, MsgId: msgId };
    },
  },
};
