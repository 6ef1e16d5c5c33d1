// Every CMQ action: parameters in, reply fields out (code/message/requestId are added by the
// handler). Field spellings follow protocols/cmq.md §4–§6, including the duplicates different
// SDKs read (rewindMsgNum/rewindmsgNum, protocol/protocal, filterTag/filterTags).

import type { CmqEngine } from './engine.js';
import { cmqErrors } from './errors.js';
import type { Params } from './params.js';
import type { DeadLetterPolicy, QueueAttributes, QueueSettingsInput, ReceivedMessage } from './types.js';

export type ReplyFields = Record<string, unknown>;
// `signal` is a getter because the server builds a request's AbortSignal only when asked for it.
export type Action = (
  engine: CmqEngine,
  params: Params,
  signal: () => AbortSignal,
) => ReplyFields | Promise<ReplyFields>;

const BATCH = 16;
const LIST_LIMIT = 1000;

function queueSettings(p: Params): QueueSettingsInput {
  const settings: QueueSettingsInput = {
    maxMsgHeapNum: p.int('maxMsgHeapNum'),
    pollingWaitSeconds: p.int('pollingWaitSeconds'),
    visibilityTimeout: p.int('visibilityTimeout'),
    maxMsgSize: p.int('maxMsgSize'),
    msgRetentionSeconds: p.int('msgRetentionSeconds'),
    rewindSeconds: p.int('rewindSeconds'),
  };
  const policy = p.get('deadLetterPolicy');
  if (policy !== undefined) settings.deadLetterPolicy = policy === '' ? null : parseDeadLetter(policy);
  // Senders that only set a value when it is > 0 (Java) and those that always send 0 (Python)
  // must mean the same thing: 0 for maxMsgHeapNum means "default".
  if (settings.maxMsgHeapNum === 0) settings.maxMsgHeapNum = undefined;
  return settings;
}

function parseDeadLetter(text: string): DeadLetterPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw cmqErrors.errorType('deadLetterPolicy');
  }
  if (typeof raw !== 'object' || raw === null) throw cmqErrors.errorType('deadLetterPolicy');
  const r = raw as Record<string, unknown>;
  const policy = r.policy ?? 0;
  const num = (v: unknown, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number') throw cmqErrors.errorType(name);
    return v;
  };
  if (typeof r.deadLetterQueue !== 'string') throw cmqErrors.missingParameter('deadLetterQueue');
  if (policy !== 0 && policy !== 1) throw cmqErrors.outOfRange('policy');
  return {
    deadLetterQueue: r.deadLetterQueue,
    policy,
    maxReceiveCount: num(r.maxReceiveCount, 'maxReceiveCount'),
    maxTimeToLive: num(r.maxTimeToLive, 'maxTimeToLive'),
  };
}

function queueAttributeFields(a: QueueAttributes): ReplyFields {
  return {
    queueId: a.queueId,
    queueName: a.queueName,
    maxMsgHeapNum: a.maxMsgHeapNum,
    pollingWaitSeconds: a.pollingWaitSeconds,
    visibilityTimeout: a.visibilityTimeout,
    maxMsgSize: a.maxMsgSize,
    msgRetentionSeconds: a.msgRetentionSeconds,
    createTime: a.createTime,
    lastModifyTime: a.lastModifyTime,
    activeMsgNum: a.activeMsgNum,
    inactiveMsgNum: a.inactiveMsgNum,
    delayMsgNum: a.delayMsgNum,
    rewindSeconds: a.rewindSeconds,
    rewindMsgNum: a.rewindMsgNum,
    rewindmsgNum: a.rewindMsgNum,
    minMsgTime: a.minMsgTime,
    ...(a.deadLetterPolicy ? { deadLetterPolicy: a.deadLetterPolicy } : {}),
  };
}

function listOptions(p: Params): { searchWord?: string; offset: number; limit: number } {
  const offset = p.int('offset') ?? 0;
  const limit = p.int('limit') ?? 20;
  if (offset < 0) throw cmqErrors.outOfRange('offset');
  if (limit < 0 || limit > LIST_LIMIT) throw cmqErrors.outOfRange('limit');
  const searchWord = p.get('searchWord');
  return { ...(searchWord !== undefined ? { searchWord } : {}), offset, limit };
}

function receiveArgs(p: Params): number | undefined {
  return p.int('pollingWaitSeconds');
}

const messageFields = (m: ReceivedMessage): ReplyFields => ({
  msgBody: m.msgBody,
  msgId: m.msgId,
  receiptHandle: m.receiptHandle,
  enqueueTime: m.enqueueTime,
  firstDequeueTime: m.firstDequeueTime,
  nextVisibleTime: m.nextVisibleTime,
  dequeueCount: m.dequeueCount,
});

/** Tags for filters: `msgTag.N` (every SDK) or, leniently, nothing at all. */
const tagList = (p: Params, prefix: string): string[] | undefined => p.list(prefix, LIST_LIMIT);

export const actions: Readonly<Record<string, Action>> = {
  CreateQueue: (e, p) => e.createQueue(p.required('queueName'), queueSettings(p)),
  DeleteQueue: (e, p) => {
    e.deleteQueue(p.required('queueName'));
    return {};
  },
  ListQueue: (e, p) => e.listQueues(listOptions(p)),
  GetQueueAttributes: (e, p) => queueAttributeFields(e.getQueueAttributes(p.required('queueName'))),
  SetQueueAttributes: (e, p) =>
    queueAttributeFields(e.setQueueAttributes(p.required('queueName'), queueSettings(p))),
  RewindQueue: (e, p) => {
    e.rewindQueue(p.required('queueName'), p.requiredInt('startConsumeTime'));
    return {};
  },
  SendMessage: (e, p) =>
    e.sendMessage(p.required('queueName'), p.required('msgBody'), {
      delaySeconds: p.int('delaySeconds') ?? 0,
    }),
  BatchSendMessage: (e, p) => {
    const queueName = p.required('queueName');
    const bodies = p.requiredList('msgBody', BATCH);
    return { msgList: e.sendMessages(queueName, bodies, { delaySeconds: p.int('delaySeconds') ?? 0 }) };
  },
  ReceiveMessage: async (e, p, signal) => {
    const queueName = p.required('queueName');
    const waitSeconds = receiveArgs(p);
    const [message] = await e.receiveMessages(queueName, {
      max: 1,
      ...(waitSeconds !== undefined ? { waitSeconds } : {}),
      signal: signal(),
    });
    if (message === undefined) throw cmqErrors.noMessage();
    return messageFields(message);
  },
  BatchReceiveMessage: async (e, p, signal) => {
    const queueName = p.required('queueName');
    const max = p.requiredInt('numOfMsg');
    if (max < 1 || max > BATCH) throw cmqErrors.outOfRange('numOfMsg');
    const waitSeconds = receiveArgs(p);
    const messages = await e.receiveMessages(queueName, {
      max,
      ...(waitSeconds !== undefined ? { waitSeconds } : {}),
      signal: signal(),
    });
    if (messages.length === 0) throw cmqErrors.noMessage();
    return { msgInfoList: messages.map(messageFields) };
  },
  DeleteMessage: (e, p) => {
    e.deleteMessage(p.required('queueName'), p.required('receiptHandle'));
    return {};
  },
  BatchDeleteMessage: (e, p) => {
    const queueName = p.required('queueName');
    const failures = e.deleteMessages(queueName, p.requiredList('receiptHandle', BATCH));
    if (failures.length > 0) throw cmqErrors.deletePartiallyFailed().withExtra({ errorList: failures });
    return {};
  },

  CreateTopic: (e, p) => {
    const maxMsgSize = p.int('maxMsgSize');
    const filterType = p.int('filterType');
    return e.createTopic(p.required('topicName'), {
      ...(maxMsgSize !== undefined ? { maxMsgSize } : {}),
      ...(filterType !== undefined ? { filterType } : {}),
    });
  },
  DeleteTopic: (e, p) => {
    e.deleteTopic(p.required('topicName'));
    return {};
  },
  ListTopic: (e, p) => e.listTopics(listOptions(p)),
  GetTopicAttributes: (e, p) => ({ ...e.getTopicAttributes(p.required('topicName')) }),
  SetTopicAttributes: (e, p) => {
    const maxMsgSize = p.int('maxMsgSize');
    e.setTopicAttributes(p.required('topicName'), maxMsgSize !== undefined ? { maxMsgSize } : {});
    return {};
  },
  PublishMessage: (e, p) => {
    const topicName = p.required('topicName');
    const body = p.required('msgBody');
    const routingKey = p.get('routingKey');
    return e.publishMessage(topicName, body, {
      tags: tagList(p, 'msgTag') ?? [],
      ...(routingKey !== undefined ? { routingKey } : {}),
    });
  },
  BatchPublishMessage: (e, p) => {
    const topicName = p.required('topicName');
    const bodies = p.requiredList('msgBody', BATCH);
    const routingKey = p.get('routingKey');
    return {
      msgList: e.publishMessages(topicName, bodies, {
        tags: tagList(p, 'msgTag') ?? [],
        ...(routingKey !== undefined ? { routingKey } : {}),
      }),
    };
  },
  Subscribe: (e, p) => {
    const topicName = p.required('topicName');
    const subscriptionName = p.required('subscriptionName');
    const protocol = p.required('protocol');
    const endpoint = p.required('endpoint');
    const notifyStrategy = p.get('notifyStrategy');
    const notifyContentFormat = p.get('notifyContentFormat');
    return e.subscribe(topicName, subscriptionName, {
      protocol,
      endpoint,
      ...(notifyStrategy !== undefined ? { notifyStrategy } : {}),
      ...(notifyContentFormat !== undefined ? { notifyContentFormat } : {}),
      filterTags: tagList(p, 'filterTag') ?? [],
      bindingKeys: tagList(p, 'bindingKey') ?? [],
    });
  },
  Unsubscribe: (e, p) => {
    e.unsubscribe(p.required('topicName'), p.required('subscriptionName'));
    return {};
  },
  ListSubscriptionByTopic: (e, p) => e.listSubscriptions(p.required('topicName'), listOptions(p)),
  GetSubscriptionAttributes: (e, p) => {
    const a = e.getSubscriptionAttributes(p.required('topicName'), p.required('subscriptionName'));
    return {
      subscriptionId: a.subscriptionId,
      subscriptionName: a.subscriptionName,
      topicName: a.topicName,
      topicOwner: a.topicOwner,
      msgCount: a.msgCount,
      protocol: a.protocol,
      protocal: a.protocol,
      endpoint: a.endpoint,
      notifyStrategy: a.notifyStrategy,
      notifyContentFormat: a.notifyContentFormat,
      filterTag: a.filterTags,
      filterTags: a.filterTags,
      bindingKey: a.bindingKeys,
      createTime: a.createTime,
      lastModifyTime: a.lastModifyTime,
    };
  },
  SetSubscriptionAttributes: (e, p) => {
    const notifyStrategy = p.get('notifyStrategy');
    const notifyContentFormat = p.get('notifyContentFormat');
    const filterTags = tagList(p, 'filterTag');
    const bindingKeys = tagList(p, 'bindingKey');
    e.setSubscriptionAttributes(p.required('topicName'), p.required('subscriptionName'), {
      ...(notifyStrategy !== undefined ? { notifyStrategy } : {}),
      ...(notifyContentFormat !== undefined ? { notifyContentFormat } : {}),
      ...(filterTags !== undefined ? { filterTags } : {}),
      ...(bindingKeys !== undefined ? { bindingKeys } : {}),
    });
    return {};
  },
  ClearSubscriptionFilterTags: (e, p) => {
    e.clearSubscriptionFilterTags(p.required('topicName'), p.required('subscriptionName'));
    return {};
  },
};

/** Lower-cased action name → canonical name (dispatch is case-insensitive, see the Java typo). */
export const actionNames: ReadonlyMap<string, string> = new Map(
  Object.keys(actions).map((n) => [n.toLowerCase(), n]),
);
