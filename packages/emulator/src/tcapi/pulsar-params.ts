// What the Tencent Cloud API's Pulsar actions share: name patterns, parameter checks with the
// API's codes, and the TopicSets entry that describes a topic.

import type { Topic } from '../pulsar/model.js';
import { type ActionContext, formatTime, invalidValue } from './action.js';
import { int, type Params, reqStr, str } from './params.js';

export const TOPIC_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
export const ENV_NAME_RE = /^[A-Za-z0-9_-]{1,16}$/;
export const DEFAULT_RECEIVER_QUEUE_SIZE = 1000;

export function range(
  p: Params,
  name: string,
  min: number,
  max: number,
  code = 'InvalidParameterValue',
): void {
  const v = int(p, name);
  if (v !== undefined && (v < min || v > max))
    throw invalidValue(name, `must be between ${min} and ${max}`, code);
}

export function maxLen(p: Params, name: string, max: number): void {
  const v = str(p, name);
  if (v !== undefined && v.length > max) throw invalidValue(name, `must be at most ${max} characters`);
}

export function nonEmpty(p: Params, name: string): string {
  const v = reqStr(p, name);
  if (v.trim() === '') throw invalidValue(name, 'must not be empty');
  return v;
}

export function topicInfo(ctx: ActionContext, t: Topic) {
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
