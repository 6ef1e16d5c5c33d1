// Messages between the wire and the engine: the checks a producer's message must pass (with the
// proxy's codes) and what the engine appends for it, and the wire form of a stored message.

import { createHash } from 'node:crypto';
import type { AppendInput, Delivered } from './engine.js';
import { MESSAGE_TYPES, type MessageType } from './model.js';
import { fromMillis, type Resource, toMillis, type WireMessage } from './proto.js';
import { fail } from './statuses.js';

const MAX_DELAY_MS = 24 * 3600_000;
const RESERVED_PROPERTIES = new Set([
  'KEYS',
  'TAGS',
  'WAIT',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_MSG',
  'PGROUP',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'BUYER_ID',
  'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG',
  'CORRECTION_FLAG',
  'MQ2_FLAG',
  'RECONSUME_TIME',
  'MSG_REGION',
  'TRACE_ON',
  'UNIQ_KEY',
  'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME',
  '__STARTDELIVERTIME',
  'TIMER_DELIVER_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELAY_MS',
  'SHARDING_KEY',
  '__SHARDINGKEY',
  'POP_CK',
  'DELAY_LEVEL',
]);
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface OutgoingLimits {
  readonly maxBodyBytes: number;
  /** Real time, which the client's timestamps are in. */
  readonly now: () => number;
  /** The engine's clock, which delays run on. */
  readonly engineNow: () => number;
}

/**
 * Checks a producer's message (its topic already resolved) and returns what the engine appends;
 * a failed check throws the RocketMqError the proxy answers with.
 */
export function appendInputOf(m: WireMessage, limits: OutgoingLimits): AppendInput {
  const sp = m.system_properties ?? {};
  const messageId = sp.message_id;
  if (typeof messageId !== 'string' || messageId === '') fail('ILLEGAL_MESSAGE_ID', 'message id is empty');
  const body = Buffer.isBuffer(m.body)
    ? m.body
    : m.body instanceof Uint8Array
      ? Buffer.from(m.body)
      : Buffer.alloc(0);
  if (body.length === 0) fail('MESSAGE_BODY_EMPTY', 'message body is empty');
  if (body.length > limits.maxBodyBytes)
    fail(
      'MESSAGE_BODY_TOO_LARGE',
      `message body size ${body.length} exceeds the limit ${limits.maxBodyBytes}`,
    );
  const tag = sp.tag;
  if (
    tag !== undefined &&
    (typeof tag !== 'string' || tag.trim() === '' || tag.includes('|') || CONTROL.test(tag))
  )
    fail('ILLEGAL_MESSAGE_TAG', `tag ${JSON.stringify(tag)} is illegal`);
  const keys = Array.isArray(sp.keys) ? sp.keys : [];
  for (const k of keys) {
    if (typeof k !== 'string' || k.trim() === '' || CONTROL.test(k))
      fail('ILLEGAL_MESSAGE_KEY', `key ${JSON.stringify(k)} is illegal`);
  }
  const props = m.user_properties && typeof m.user_properties === 'object' ? m.user_properties : {};
  const entries = Object.entries(props);
  let size = (tag?.length ?? 0) + keys.reduce((n, k) => n + k.length, 0);
  for (const [k, v] of entries) {
    if (RESERVED_PROPERTIES.has(k)) fail('ILLEGAL_MESSAGE_PROPERTY_KEY', `property key ${k} is reserved`);
    size += k.length + String(v).length;
  }
  if (entries.length > 128 || size > 16 * 1024)
    fail('MESSAGE_PROPERTIES_TOO_LARGE', 'user properties exceed 128 entries or 16 KiB');
  const type = (sp.message_type ?? 'NORMAL') as MessageType;
  if (!MESSAGE_TYPES.includes(type))
    fail('UNSUPPORTED', `message type ${String(sp.message_type)} is not supported by the emulator`);
  const group = sp.message_group;
  if (group !== undefined && group !== '') {
    if (type !== 'FIFO')
      fail('MESSAGE_PROPERTY_CONFLICT_WITH_TYPE', `a message group needs message type FIFO, not ${type}`);
    if (typeof group !== 'string' || Buffer.byteLength(group) >= 64 || CONTROL.test(group))
      fail('ILLEGAL_MESSAGE_GROUP', `message group ${JSON.stringify(group)} is illegal`);
  } else if (type === 'FIFO') fail('ILLEGAL_MESSAGE_GROUP', 'message group is empty');
  const deliveryAt = toMillis(sp.delivery_timestamp);
  if (deliveryAt !== undefined) {
    if (type !== 'DELAY')
      fail(
        'MESSAGE_PROPERTY_CONFLICT_WITH_TYPE',
        `a delivery timestamp needs message type DELAY, not ${type}`,
      );
    if (deliveryAt - limits.now() > MAX_DELAY_MS)
      fail('ILLEGAL_DELIVERY_TIME', 'delivery timestamp is more than 24 hours ahead');
  } else if (type === 'DELAY') fail('ILLEGAL_DELIVERY_TIME', 'a DELAY message needs a delivery timestamp');
  const bornAt = toMillis(sp.born_timestamp);
  return {
    messageId,
    type,
    ...(tag !== undefined ? { tag } : {}),
    keys,
    ...(group ? { messageGroup: group } : {}),
    body,
    properties: Object.fromEntries(entries.map(([k, v]) => [k, String(v)])),
    ...(bornAt !== undefined && Number.isFinite(bornAt) ? { bornTimestamp: bornAt } : {}),
    bornHost: typeof sp.born_host === 'string' ? sp.born_host : '',
    // Delay runs on the engine clock; the client stamps real time.
    ...(deliveryAt !== undefined
      ? { deliveryTimestamp: limits.engineNow() + (deliveryAt - limits.now()) }
      : {}),
  };
}

/** The wire form of a stored message, as recovery commands and receives carry it. */
export function toWireMessage(
  message: Delivered['message'],
  topic: Resource,
  storeHost: string,
  extra: Record<string, unknown> = {},
): WireMessage {
  const sp: Record<string, unknown> = {
    keys: [...message.keys],
    message_id: message.messageId,
    body_digest: {
      type: 'MD5',
      checksum: createHash('md5').update(message.body).digest('hex').toUpperCase(),
    },
    body_encoding: 'IDENTITY',
    message_type: message.type,
    born_timestamp: fromMillis(message.bornTimestamp),
    born_host: message.bornHost,
    store_timestamp: fromMillis(message.storeTimestamp),
    store_host: storeHost,
    queue_id: 0,
    queue_offset: String(message.offset),
    ...extra,
  };
  if (message.tag !== undefined) sp.tag = message.tag;
  if (message.messageGroup !== undefined) sp.message_group = message.messageGroup;
  if (message.deliveryTimestamp !== undefined) sp.delivery_timestamp = fromMillis(message.deliveryTimestamp);
  if (message.deadLetter !== undefined)
    sp.dead_letter_queue = { topic: message.deadLetter.topic, message_id: message.deadLetter.messageId };
  return {
    topic: {
      ...(topic.resource_namespace ? { resource_namespace: topic.resource_namespace } : {}),
      name: topic.name ?? '',
    },
    user_properties: { ...message.properties },
    system_properties: sp,
    body: message.body,
  };
}
