// Portable messages ↔ Remoting messages. Headers are user properties, the one tag is TAGS, keys
// are KEYS (space-separated), the portable id is UNIQ_KEY (the id Java's SendResult and a
// consumer's getMsgId() report), an ordering key is __SHARDINGKEY (the property RocketMQ 5 keeps
// a message group in, so gRPC and Remoting clients of one store agree). Delay is a 4.x delay
// level (the next one at or above the wish) or, on TDMQ, an exact __STARTDELIVERTIME.

import { inflateSync } from 'node:zlib';
import {
  type Delivery,
  InvalidArgumentError,
  impliedContentType,
  type Outgoing,
} from '@switchyard/core/driver';
import {
  DELAY_LEVELS_MS,
  MessageConst,
  MessageSysFlag,
  type StoredMessage,
} from '@switchyard/rocketmq-remoting';
import { DRIVER } from '../errors.js';
import { CONTENT_TYPE_PROPERTY, needsContentType, validateKeys } from '../messages.js';
import { validateTag } from '../tags.js';

export type DelayMode = 'levels' | 'startDeliverTime';

/** TDMQ's limit for __STARTDELIVERTIME. */
export const MAX_START_DELIVER_MS = 40 * 86_400_000;

/** Properties the protocol or a broker owns: never user headers, in either direction. */
const SYSTEM = new Set<string>([
  ...Object.values(MessageConst),
  'TIMER_DELIVER_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELAY_MS',
  'TIMER_OUT_MS',
  'TIMER_ENQUEUE_MS',
  'TIMER_DEQUEUE_MS',
  'TIMER_ROLL_TIMES',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'REPLY_TO_CLIENT',
  'CORRELATION_ID',
  'MSG_TYPE',
  'BORNHOST',
  '__BORNHOST',
  'DELIVERY_ATTEMPT',
]);

/** The smallest delay level whose delay is at least `ms` (18, two hours, at most). */
export function delayLevelFor(ms: number): number {
  const index = DELAY_LEVELS_MS.findIndex((level) => level >= ms);
  return index < 0 ? DELAY_LEVELS_MS.length : index + 1;
}

/** The properties of one outgoing message (without the batch-wide WAIT). */
export function toProperties(
  message: Outgoing,
  delayMode: DelayMode,
  now = Date.now(),
): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (SYSTEM.has(name)) {
      throw new InvalidArgumentError(
        `header "${name}" is a RocketMQ system property name; rename it (Remoting would read it as that property)`,
        { driver: DRIVER, details: { header: name } },
      );
    }
    props[name] = value;
  }
  if (needsContentType(message)) props[CONTENT_TYPE_PROPERTY] = message.contentType;
  const tag = message.tags[0];
  if (tag !== undefined) props[MessageConst.TAGS] = validateTag(tag);
  const keys = message.keys ?? (message.key === undefined ? [] : [message.key]);
  if (keys.length > 0) props[MessageConst.KEYS] = validateKeys(keys).join(' ');
  if (message.orderingKey !== undefined) props[MessageConst.SHARDING_KEY] = message.orderingKey;
  props[MessageConst.UNIQ_KEY] = message.id;
  if (message.delayMs !== undefined && message.delayMs > 0) {
    if (delayMode === 'startDeliverTime')
      props[MessageConst.START_DELIVER_TIME] = String(now + message.delayMs);
    else props[MessageConst.DELAY] = String(delayLevelFor(message.delayMs));
  }
  return props;
}

/** Settling state of one delivery. */
export interface RemotingHandle {
  readonly message: StoredMessage;
  /** Key of the queue it was pulled from (see queueKey). */
  readonly queue: string;
  /** Broker master address it came from: send-back goes there. */
  readonly address: string;
  /**
   * Acked, sent back or dead-lettered: settling it again does nothing. A flag on the handle (one
   * per delivery the driver made) rather than a WeakSet entry per delivery.
   */
  settled: boolean;
  /** The consumer's visibility lease, kept here rather than in a Map entry per delivery (core's Leases). */
  lease: object | undefined;
}

/** Shared by every delivery without keys, a tag or headers (frozen: the portable layer only reads them). */
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * `shared`: the group shares the message (clustering), so its stored position is the key an
 * attemptStore counts; broadcasting members each get every message and count apart (no key).
 */
export function toDelivery(message: StoredMessage, queue: string, address: string, shared = true): Delivery {
  const p = message.properties;
  // for…in over the decoded object (a plain literal): no entries array and no pair per property;
  // a message without user properties shares one empty object.
  let headers: Record<string, string> | undefined;
  for (const name in p) {
    // The content type first: a property name compared by reference, before a Set lookup.
    if (name === CONTENT_TYPE_PROPERTY || SYSTEM.has(name)) continue;
    headers ??= {};
    headers[name] = p[name] as string;
  }
  let raw = message.body;
  if ((message.sysFlag & MessageSysFlag.COMPRESSED) !== 0) raw = inflateSync(raw);
  const body = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const keyList = p[MessageConst.KEYS];
  const keys = keyList === undefined ? NO_STRINGS : keyList.split(' ').filter((k) => k !== '');
  const tag = p[MessageConst.TAGS];
  const handle: RemotingHandle = { message, queue, address, settled: false, lease: undefined };
  return {
    id: p[MessageConst.UNIQ_KEY] ?? message.msgId ?? '',
    body,
    contentType: p[CONTENT_TYPE_PROPERTY] ?? impliedContentType(body),
    headers: headers ?? NO_HEADERS,
    key: keys[0],
    keys,
    tags: tag ? [tag] : NO_STRINGS,
    routingKey: undefined,
    orderingKey: p[MessageConst.SHARDING_KEY] || undefined,
    // The broker counts: reconsumeTimes is 0 on the first delivery and grows with each send-back.
    deliveryAttempt: message.reconsumeTimes + 1,
    // Where the message is stored (topic@broker@queue and offset): a process killed in its handler
    // sends nothing back, so only a consumer's attemptStore, counting handouts of this position,
    // sees those crashes; a send-back stores a new position, carrying reconsumeTimes.
    attemptKey: shared ? `${queue}/${message.queueOffset}` : undefined,
    publishedAt: message.bornTimestamp,
    native: message,
    handle,
  };
}
