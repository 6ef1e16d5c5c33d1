// The consuming side of the broker: PULL_MESSAGE with long polling (PullMessageProcessor,
// DefaultMessageStore#getMessage, PullRequestHoldService), consumer offsets (ConsumerManageProcessor)
// and CONSUMER_SEND_MSG_BACK, which re-stores a failed message in `%RETRY%<group>` at the next delay
// level or, once its reconsume times are used up, in `%DLQ%<group>`.

import { crc32 } from 'node:zlib';
import {
  encodeStoredMessages,
  MessageConst,
  PullSysFlag,
  type RemotingCommand,
  ResponseCode,
  response,
} from '@switchyard/rocketmq-remoting';
import type { AppendInput } from '../rocketmq/engine.js';
import { ensureRetryTopic, type Peer, type RemotingBroker, type Reply } from './broker.js';
import { int } from './produce.js';
import type { QueueEntry } from './queues.js';
import { messageIdOf, toRecord } from './records.js';
import { matchesTag, parseSubscription, type Subscription } from './subscriptions.js';

/** PullMessageRequestHeader's @CFNotNull fields. */
export const PULL_REQUIRED = [
  'consumerGroup',
  'topic',
  'queueId',
  'queueOffset',
  'maxMsgNums',
  'sysFlag',
  'commitOffset',
  'suspendTimeoutMillis',
  'subVersion',
];
/** A pull looks at no more consume-queue entries than this (16000 bytes of 20-byte entries). */
const MAX_SCAN = 800;
/**
 * Each stored body's CRC, computed on its first pull: a broker computes it once, when it stores
 * the message, and a pull serves the stored bytes. Weak: a deleted topic's bodies take theirs along.
 */
const bodyCrcs = new WeakMap<Buffer, number>();
export function bodyCrc(body: Buffer): number {
  let crc = bodyCrcs.get(body);
  if (crc === undefined) {
    crc = crc32(body);
    bodyCrcs.set(body, crc);
  }
  return crc;
}

/** maxTransferBytesOnMessageInMemory: a pull returns at least one message, then stops past this. */
const MAX_TRANSFER_BYTES = 256 * 1024;
const DEFAULT_MAX_RECONSUME = 16;

export interface PullResult {
  readonly code: number;
  readonly nextBeginOffset: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  readonly entries: readonly QueueEntry[];
}

/** One pass over a queue, as DefaultMessageStore#getMessage decides it. */
export function evaluatePull(
  broker: RemotingBroker,
  topic: string,
  queueId: number,
  offset: number,
  maxMsgNums: number,
  sub: Subscription,
): PullResult {
  const queue = broker.index.queue(topic, queueId);
  const maxOffset = queue.length;
  const base = { minOffset: 0, maxOffset, entries: [] };
  if (maxOffset === 0) {
    return {
      ...base,
      code: offset === 0 ? ResponseCode.PULL_NOT_FOUND : ResponseCode.PULL_OFFSET_MOVED,
      nextBeginOffset: 0,
    };
  }
  if (offset < 0) return { ...base, code: ResponseCode.PULL_OFFSET_MOVED, nextBeginOffset: 0 };
  if (offset === maxOffset) return { ...base, code: ResponseCode.PULL_NOT_FOUND, nextBeginOffset: offset };
  // OFFSET_OVERFLOW_BADLY: with a min offset of 0 the store sends the consumer back to 0 (a queue
  // that was wiped and refilled), else to the max offset.
  if (offset > maxOffset) return { ...base, code: ResponseCode.PULL_OFFSET_MOVED, nextBeginOffset: 0 };
  const entries: QueueEntry[] = [];
  let bytes = 0;
  let at = offset;
  const wanted = Math.max(1, maxMsgNums);
  for (; at < maxOffset && at - offset < MAX_SCAN && entries.length < wanted; at++) {
    const entry = queue[at]!;
    if (!matchesTag(sub, entry.message.tag)) continue;
    if (entries.length > 0 && bytes + entry.message.body.length > MAX_TRANSFER_BYTES) break;
    bytes += entry.message.body.length;
    entries.push(entry);
  }
  const code = entries.length > 0 ? ResponseCode.SUCCESS : ResponseCode.PULL_RETRY_IMMEDIATELY;
  return { ...base, code, nextBeginOffset: at, entries };
}

export async function pullMessage(broker: RemotingBroker, cmd: RemotingCommand, peer: Peer): Promise<Reply> {
  const h = cmd.extFields;
  for (const field of PULL_REQUIRED) {
    if (h[field] === undefined)
      return response(cmd, ResponseCode.SYSTEM_ERROR, {}, undefined, `the custom field <${field}> is null`);
  }
  const group = h.consumerGroup!;
  const topic = h.topic!;
  const queueId = int(h.queueId, 0);
  const sysFlag = int(h.sysFlag, 0);
  const refused = checkGroup(broker, cmd, group);
  if (refused !== undefined) return refused;
  const info = broker.engine.getTopic(topic);
  if (info === undefined) {
    return response(
      cmd,
      ResponseCode.TOPIC_NOT_EXIST,
      {},
      undefined,
      broker.faq(`topic[${topic}] not exist, apply first please!`),
    );
  }
  if (queueId < 0 || queueId >= info.queues) {
    return response(
      cmd,
      ResponseCode.SYSTEM_ERROR,
      {},
      undefined,
      `queueId[${queueId}] is illegal, topic:[${topic}] topicConfig.readQueueNums:[${info.queues}] consumer:[${peer.address}]`,
    );
  }
  let sub: Subscription;
  if ((sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
    sub = parseSubscription(topic, h.subscription, h.expressionType || 'TAG', int(h.subVersion, 0));
  } else {
    // Java push consumers send no subscription: the heartbeat's is used (sheet §0.4).
    const known = broker.consumers.subscription(group, topic);
    if (known === undefined)
      return response(
        cmd,
        ResponseCode.SUBSCRIPTION_NOT_EXIST,
        {},
        undefined,
        broker.faq("the consumer's subscription not exist"),
      );
    if (known.subVersion < int(h.subVersion, 0))
      return response(
        cmd,
        ResponseCode.SUBSCRIPTION_NOT_LATEST,
        {},
        undefined,
        "the consumer's subscription not latest",
      );
    sub = known;
  }
  if (sub.expressionType !== 'TAG') {
    return response(
      cmd,
      ResponseCode.SYSTEM_ERROR,
      {},
      undefined,
      `The broker does not support consumer to filter message by ${sub.expressionType}`,
    );
  }
  if ((sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0)
    broker.engine.commitConsumerOffset(group, topic, queueId, int(h.commitOffset, 0));
  const offset = int(h.queueOffset, 0);
  const max = int(h.maxMsgNums, 32);
  let result = evaluatePull(broker, topic, queueId, offset, max, sub);
  if (result.code === ResponseCode.PULL_NOT_FOUND && (sysFlag & PullSysFlag.SUSPEND) !== 0) {
    const hold = Math.min(Math.max(0, int(h.suspendTimeoutMillis, 15_000)), broker.maxHoldMs);
    result = await holdPull(
      broker,
      peer.signal,
      hold,
      () => evaluatePull(broker, topic, queueId, offset, max, sub),
      topic,
    );
  }
  // The records written once into the reply's body (no buffer per record and no join of them),
  // each body's CRC remembered: a pull of 64 KiB messages cost the emulator a zeroed buffer, a CRC
  // and two copies of every body, more than the clients it serves spend receiving it.
  const body =
    result.entries.length > 0
      ? encodeStoredMessages(
          result.entries.map((e) => toRecord(e, broker.storeHost, broker.cluster)),
          bodyCrc,
        )
      : undefined;
  return response(
    cmd,
    result.code,
    {
      suggestWhichBrokerId: 0,
      nextBeginOffset: result.nextBeginOffset,
      minOffset: result.minOffset,
      maxOffset: result.maxOffset,
    },
    body,
  );
}

/** Park a pull that found nothing until a message arrives, the hold ends, or the peer leaves. */
async function holdPull(
  broker: RemotingBroker,
  signal: AbortSignal,
  holdMs: number,
  evaluate: () => PullResult,
  topic: string,
): Promise<PullResult> {
  const deadline = Date.now() + holdMs;
  let result = evaluate();
  while (result.code === ResponseCode.PULL_NOT_FOUND && !signal.aborted && !broker.engine.isClosed) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    // Delayed messages become visible without a store change: wake for the next one too.
    const untilVisible = broker.index.nextVisibleAt(topic) - broker.engine.clock.now();
    await broker.engine.waitForChange(Math.min(left, Math.max(1, untilVisible)), signal);
    result = evaluate();
  }
  return result;
}

function checkGroup(broker: RemotingBroker, cmd: RemotingCommand, group: string): Reply {
  if (broker.engine.getGroup(group) !== undefined) return undefined;
  if (broker.engine.autoCreate) {
    broker.engine.createGroup(group);
    return undefined;
  }
  return response(
    cmd,
    ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
    {},
    undefined,
    broker.faq(`subscription group [${group}] does not exist, `),
  );
}

export function queryConsumerOffset(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const h = cmd.extFields;
  const stored = broker.engine.consumerOffset(h.consumerGroup ?? '', h.topic ?? '', int(h.queueId, 0));
  // No stored offset: 0, since every queue here still starts at 0 in memory (sheet §0.9). A
  // stored negative one counts as none, as in ConsumerManageProcessor: ali-ons commits -1 for a
  // queue it never consumed from, and its successor must not take that for "start at the end".
  return response(cmd, ResponseCode.SUCCESS, { offset: stored !== undefined && stored >= 0 ? stored : 0 });
}

export function updateConsumerOffset(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const h = cmd.extFields;
  broker.engine.commitConsumerOffset(
    h.consumerGroup ?? '',
    h.topic ?? '',
    int(h.queueId, 0),
    int(h.commitOffset, 0),
  );
  return response(cmd, ResponseCode.SUCCESS);
}

export function consumerSendMsgBack(broker: RemotingBroker, cmd: RemotingCommand): Reply {
  const h = cmd.extFields;
  const group = h.group ?? '';
  const refused = checkGroup(broker, cmd, group);
  if (refused !== undefined) return refused;
  const offset = int(h.offset, -1);
  const entry = offset < 0 ? undefined : broker.index.byCommitLogOffset(offset);
  if (entry === undefined)
    return response(
      cmd,
      ResponseCode.SYSTEM_ERROR,
      {},
      undefined,
      `look message by offset failed, ${h.offset}`,
    );
  const m = entry.message;
  const reconsumeTimes = m.reconsumeTimes ?? 0;
  // maxReconsumeTimes is honoured from clients of version V3_4_9 (121) on; -1 means the default.
  const asked = cmd.version >= 121 ? int(h.maxReconsumeTimes, DEFAULT_MAX_RECONSUME) : DEFAULT_MAX_RECONSUME;
  const maxReconsumeTimes = asked < 0 ? DEFAULT_MAX_RECONSUME : asked;
  const delayLevel = int(h.delayLevel, 0);
  const properties: Record<string, string> = { ...m.properties };
  properties[MessageConst.RETRY_TOPIC] ??= entry.topic;
  properties[MessageConst.ORIGIN_MESSAGE_ID] ??= h.originMsgId || messageIdOf(broker.storeHost, m);
  const toDlq = reconsumeTimes >= maxReconsumeTimes || delayLevel < 0;
  const topic = toDlq ? `%DLQ%${group}` : ensureRetryTopic(broker.engine, group);
  if (toDlq && broker.engine.getTopic(topic) === undefined)
    broker.engine.createTopic(topic, { type: 'MIXED', queues: 1 });
  const level = delayLevel > 0 ? delayLevel : 3 + reconsumeTimes;
  const input: AppendInput = {
    messageId: m.messageId,
    type: toDlq ? 'NORMAL' : 'DELAY',
    ...(m.tag !== undefined ? { tag: m.tag } : {}),
    keys: m.keys,
    body: m.body,
    properties,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    ...(toDlq
      ? { deadLetter: { topic: properties[MessageConst.RETRY_TOPIC]!, messageId: m.messageId } }
      : { deliveryTimestamp: broker.engine.clock.now() + broker.delayOf(level) }),
    queueId: 0,
    reconsumeTimes: reconsumeTimes + 1,
    flag: m.flag ?? 0,
  };
  broker.engine.append(topic, input);
  return response(cmd, ResponseCode.SUCCESS);
}
