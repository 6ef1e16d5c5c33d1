// SEND_MESSAGE (10), SEND_MESSAGE_V2 (310) and SEND_BATCH_MESSAGE (320) into the shared store, with
// the broker's checks and remarks (AbstractSendMessageProcessor#msgCheck, SendMessageProcessor):
// topic and queue checks, size limits, delay levels and TDMQ's `__STARTDELIVERTIME`, and the
// reroute of a `%RETRY%` message that used up its reconsume times to `%DLQ%<group>`.

import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import {
  decodeBatchBody,
  decodeProperties,
  MessageConst,
  MessageSysFlag,
  type RemotingCommand,
  ResponseCode,
  response,
} from '@switchyard/rocketmq-remoting';
import type { AppendInput } from '../rocketmq/engine.js';
import type { MessageType, StoredMessage } from '../rocketmq/model.js';
import { RocketMqError } from '../rocketmq/statuses.js';
import type { Peer, RemotingBroker, Reply } from './broker.js';
import { liftProperties, messageIdOf } from './records.js';
import { isLegalTopic, topicFor } from './route.js';

/** SendMessageRequestHeaderV2's one-letter keys (sheet §2.2). */
const V2_NAMES: Record<string, string> = {
  a: 'producerGroup',
  b: 'topic',
  c: 'defaultTopic',
  d: 'defaultTopicQueueNums',
  e: 'queueId',
  f: 'sysFlag',
  g: 'bornTimestamp',
  h: 'flag',
  i: 'properties',
  j: 'reconsumeTimes',
  k: 'unitMode',
  l: 'maxReconsumeTimes',
  m: 'batch',
  n: 'bname',
};
const REQUIRED = [
  'producerGroup',
  'topic',
  'defaultTopic',
  'defaultTopicQueueNums',
  'queueId',
  'sysFlag',
  'bornTimestamp',
  'flag',
];
const DEFAULT_MAX_RECONSUME = 16;
/** TDMQ accepts delivery times up to 40 days ahead. */
const MAX_START_DELIVER_MS = 40 * 24 * 3600_000;
const MAX_PROPERTIES_BYTES = 32_767;

/** A failed check: the reply code and Apache's remark. */
class Refused extends Error {
  constructor(
    readonly code: number,
    remark: string,
  ) {
    super(remark);
  }
}

/** The V1 field names whichever header form arrived (Go sends V1 names with code 10). */
export function sendHeader(cmd: RemotingCommand): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cmd.extFields)) out[V2_NAMES[k] ?? k] = v;
  return out;
}

interface Target {
  readonly topic: string;
  readonly queueId: number;
  readonly type: 'NORMAL' | 'FIFO';
  readonly reconsumeTimes: number;
  readonly deadLetter: boolean;
}

export function sendMessage(broker: RemotingBroker, cmd: RemotingCommand, peer: Peer): Reply {
  try {
    const h = sendHeader(cmd);
    const props = decodeProperties(h.properties ?? '');
    const target = resolveTarget(broker, h, props, peer);
    const input = messageInput(broker, h, props, body(broker, cmd.body, Number(h.sysFlag)), target, peer);
    const stored = append(broker, target.topic, input);
    return sent(broker, cmd, [stored], target.topic);
  } catch (error) {
    return refusal(cmd, error);
  }
}

export function sendBatchMessage(broker: RemotingBroker, cmd: RemotingCommand, peer: Peer): Reply {
  try {
    const h = sendHeader(cmd);
    if ((h.topic ?? '').startsWith('%RETRY%'))
      throw new Refused(
        ResponseCode.MESSAGE_ILLEGAL,
        `batch request does not support retry group ${h.topic}`,
      );
    const shared = decodeProperties(h.properties ?? '');
    const target = resolveTarget(broker, h, shared, peer);
    let entries: ReturnType<typeof decodeBatchBody>;
    try {
      entries = decodeBatchBody(cmd.body ?? Buffer.alloc(0));
    } catch (error) {
      throw new Refused(
        ResponseCode.MESSAGE_ILLEGAL,
        `the batch body is malformed: ${(error as Error).message}`,
      );
    }
    if (entries.length === 0)
      throw new Refused(ResponseCode.MESSAGE_ILLEGAL, 'the batch body holds no message');
    // Check every message before storing any: a batch is stored whole or not at all.
    const inputs = entries.map((e) => {
      const props = { ...e.properties, ...shared };
      if (Number(props[MessageConst.DELAY] ?? 0) > 0)
        throw new Refused(ResponseCode.MESSAGE_ILLEGAL, 'batch message does not support delay level');
      return messageInput(
        broker,
        { ...h, flag: String(e.flag) },
        props,
        checkSize(broker, e.body),
        target,
        peer,
      );
    });
    const stored = inputs.map((input) => append(broker, target.topic, input));
    return sent(broker, cmd, stored, target.topic);
  } catch (error) {
    return refusal(cmd, error);
  }
}

function resolveTarget(
  broker: RemotingBroker,
  h: Record<string, string>,
  props: Record<string, string>,
  peer: Peer,
): Target {
  for (const field of REQUIRED) {
    if (h[field] === undefined)
      throw new Refused(ResponseCode.SYSTEM_ERROR, `the custom field <${field}> is null`);
  }
  let topic = h.topic!;
  if (!isLegalTopic(topic)) {
    throw new Refused(
      ResponseCode.SYSTEM_ERROR,
      `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (props[MessageConst.TRAN_MSG] === 'true') {
    throw new Refused(
      ResponseCode.NO_PERMISSION,
      `the broker[${broker.brokerName}] sending transaction message is forbidden`,
    );
  }
  const reconsumeTimes = int(h.reconsumeTimes ?? props[MessageConst.RECONSUME_TIME], 0);
  let deadLetter = false;
  if (topic.startsWith('%RETRY%')) {
    const max = int(h.maxReconsumeTimes ?? props[MessageConst.MAX_RECONSUME_TIMES], DEFAULT_MAX_RECONSUME);
    if (reconsumeTimes >= max) {
      topic = `%DLQ%${topic.slice('%RETRY%'.length)}`;
      deadLetter = true;
    }
  }
  const system = topic.startsWith('%RETRY%') || deadLetter;
  const requested = Math.min(Math.max(1, int(h.defaultTopicQueueNums, 4)), 16);
  const info = system ? systemTopic(broker, topic) : topicFor(broker, topic, requested);
  if (info === undefined) {
    throw new Refused(
      ResponseCode.TOPIC_NOT_EXIST,
      broker.faq(`topic[${topic}] not exist, apply first please!`),
    );
  }
  let queueId = deadLetter ? 0 : int(h.queueId, 0);
  if (queueId < 0) queueId = Math.floor(Math.random() * info.queues);
  if (queueId >= info.queues) {
    throw new Refused(
      ResponseCode.SYSTEM_ERROR,
      `request queueId[${queueId}] is illegal, TopicConfig{topicName='${topic}', readQueueNums=${info.queues}, writeQueueNums=${info.queues}} Producer: ${peer.address}`,
    );
  }
  return { topic, queueId, type: info.type === 'FIFO' ? 'FIFO' : 'NORMAL', reconsumeTimes, deadLetter };
}

/** `%RETRY%` and `%DLQ%` topics: one queue, created by the broker whatever auto-create says. */
function systemTopic(broker: RemotingBroker, topic: string) {
  return broker.engine.getTopic(topic) ?? broker.engine.createTopic(topic, { type: 'MIXED', queues: 1 });
}

function body(broker: RemotingBroker, raw: Buffer | undefined, sysFlag: number): Buffer {
  let out = raw ?? Buffer.alloc(0);
  // Stored uncompressed, so gRPC consumers read the payload; pulls send it as is.
  if ((sysFlag & MessageSysFlag.COMPRESSED) !== 0) {
    try {
      out = inflateSync(out, { maxOutputLength: broker.maxBodyBytes + 1 });
    } catch (error) {
      throw new Refused(
        ResponseCode.MESSAGE_ILLEGAL,
        `the compressed message body does not inflate: ${String(error)}`,
      );
    }
  }
  return checkSize(broker, out);
}

function checkSize(broker: RemotingBroker, b: Buffer): Buffer {
  if (b.length > broker.maxBodyBytes)
    throw new Refused(
      ResponseCode.MESSAGE_ILLEGAL,
      `the message body size over max value, MAX: ${broker.maxBodyBytes}`,
    );
  return b;
}

function messageInput(
  broker: RemotingBroker,
  h: Record<string, string>,
  props: Record<string, string>,
  payload: Buffer,
  target: Target,
  peer: Peer,
): AppendInput {
  const lifted = liftProperties(props);
  if (Buffer.byteLength(h.properties ?? '') > MAX_PROPERTIES_BYTES)
    throw new Refused(
      ResponseCode.MESSAGE_ILLEGAL,
      `the message properties size over max value ${MAX_PROPERTIES_BYTES}`,
    );
  const properties = { ...lifted.properties };
  let deliveryTimestamp: number | undefined;
  const engineNow = broker.engine.clock.now();
  const level = int(props[MessageConst.DELAY], 0);
  if (!target.deadLetter && level > 0) {
    deliveryTimestamp = engineNow + broker.delayOf(level);
    // ScheduleMessageService keeps where the message was going.
    properties[MessageConst.REAL_TOPIC] = target.topic;
    properties[MessageConst.REAL_QID] = String(target.queueId);
  }
  const startAt = Number(props[MessageConst.START_DELIVER_TIME] ?? '');
  if (!target.deadLetter && deliveryTimestamp === undefined && Number.isFinite(startAt) && startAt > 0) {
    const ahead = startAt - broker.now();
    if (ahead > MAX_START_DELIVER_MS)
      throw new Refused(
        ResponseCode.MESSAGE_ILLEGAL,
        `${MessageConst.START_DELIVER_TIME} is more than 40 days ahead`,
      );
    // Delays run on the engine clock; the client stamps real time.
    if (ahead > 0) deliveryTimestamp = engineNow + ahead;
  }
  const type: MessageType = deliveryTimestamp !== undefined ? 'DELAY' : target.type;
  return {
    messageId: lifted.uniqKey ?? randomBytes(16).toString('hex').toUpperCase(),
    type,
    ...(lifted.tag !== undefined ? { tag: lifted.tag } : {}),
    keys: lifted.keys,
    // A FIFO topic orders per message group; a 4.x producer orders per queue.
    ...(type === 'FIFO' ? { messageGroup: `queue-${target.queueId}` } : {}),
    body: payload,
    properties,
    bornTimestamp: int(h.bornTimestamp, engineNow),
    bornHost: peer.address,
    ...(deliveryTimestamp !== undefined ? { deliveryTimestamp } : {}),
    queueId: target.queueId,
    reconsumeTimes: target.reconsumeTimes,
    flag: int(h.flag, 0),
  };
}

function append(broker: RemotingBroker, topic: string, input: AppendInput): StoredMessage {
  try {
    return broker.engine.append(topic, input);
  } catch (error) {
    // A 5.x topic of another message type (FIFO, DELAY, TRANSACTION) refuses the message.
    if (error instanceof RocketMqError) throw new Refused(ResponseCode.MESSAGE_ILLEGAL, error.message);
    throw error;
  }
}

function sent(
  broker: RemotingBroker,
  cmd: RemotingCommand,
  stored: readonly StoredMessage[],
  topic: string,
): Reply {
  const first = stored[0]!;
  const entry = broker.index.byCommitLogOffset(first.seq);
  const queueId = entry?.queueId ?? first.queueId ?? 0;
  return response(cmd, ResponseCode.SUCCESS, {
    msgId: stored.map((m) => messageIdOf(broker.storeHost, m)).join(','),
    queueId,
    // A delayed message gets its queue offset when delivered; until then the queue's next offset.
    queueOffset: entry?.queueOffset ?? broker.index.maxOffset(topic, queueId),
    MSG_REGION: 'DefaultRegion',
    TRACE_ON: 'true',
  });
}

function refusal(cmd: RemotingCommand, error: unknown): Reply {
  if (error instanceof Refused) return response(cmd, error.code, {}, undefined, error.message);
  throw error;
}

export function int(value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : fallback;
}
