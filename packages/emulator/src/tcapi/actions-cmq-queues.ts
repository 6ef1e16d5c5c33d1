// The Tencent Cloud API's CMQ queue actions (create, describe, modify, delete, clear, rewind) and
// their attribute translation, on the shared CmqEngine.

import type { CmqEngine } from '../cmq/engine.js';
import type { QueueAttributes, QueueSettingsInput } from '../cmq/types.js';
import { type ActionDef, invalidValue } from './action.js';
import {
  ALL,
  type CmqContext,
  EMULATOR_UIN,
  page,
  type QueueExtra,
  type Tag,
  TENANT_ID,
  tagFilter,
} from './cmq-context.js';
import { ApiError } from './envelope.js';
import { arr, bool, int, type Params, reqInt, reqStr, str } from './params.js';

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

export const cmqQueueActions: Record<string, ActionDef<CmqContext>> = {
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
};
