// Portable messages ↔ RocketMQ messages. Headers are user properties; `keys` are the message's
// RocketMQ keys (indexed for lookup in the console), `key` the first; the one tag is the RocketMQ
// tag; orderingKey is the message group and delayMs a delivery timestamp. A plain consumer must
// see a plain text or binary message exactly as sent, so bookkeeping properties are written only
// when the message cannot be read right without them.

import {
  BINARY,
  type Delivery,
  InvalidArgumentError,
  impliedContentType,
  type Outgoing,
  TEXT,
} from '@switchyard/core/driver';
import type { MessageOptions, MessageView } from 'rocketmq-client-nodejs';
import type { TopicType } from './config.js';
import { DRIVER } from './errors.js';
import { validateTag } from './tags.js';

/**
 * User property holding the portable content type (stripped from headers on receive). Left out
 * when the body alone tells it (core's impliedContentType), which covers messages sent as strings and
 * binary bytes, so a plain consumer sees no extra property on those.
 */
export const CONTENT_TYPE_PROPERTY = 'x-switchyard-content-type';

// Remoting (4.x) clients, the console's key index and the proxy's 4.x storage join keys with a
// space into one KEYS property, so a key holding whitespace would come back as several keys.
const BAD_KEY = /[\s\p{Cc}]/u;

export function validateKeys(keys: readonly string[]): string[] {
  for (const key of keys) {
    if (key === '' || BAD_KEY.test(key)) {
      throw new InvalidArgumentError(
        `RocketMQ key "${key}" is not allowed: keys must not be empty or hold whitespace or control characters (RocketMQ stores keys space-separated); send several keys in \`keys\` instead`,
        { driver: DRIVER, details: { key } },
      );
    }
  }
  return [...keys];
}

/**
 * Marks a message group the driver made up (a FIFO topic takes only FIFO messages): on receive
 * such a message has no ordering key, as it had none when sent, so a bridge or dual-write to a
 * flavour without ordering keys does not fail on a key nobody asked for.
 */
export const OWN_GROUP_PROPERTY = 'x-switchyard-own-group';

/**
 * Whether the content type must travel in CONTENT_TYPE_PROPERTY: the receiver implies text or
 * binary from the body (core's impliedContentType), so any other type (JSON, …) always travels and
 * needs no scan. No UTF-8 check ahead of it for binary bytes: impliedContentType's control-byte
 * scan stops at the first chunk holding one, which real binary payloads do (random 1 MiB: ≈ 10 µs,
 * where simdutf rejecting it took ≈ 74 µs), and bytes that read as text passed simdutf twice.
 */
export function needsContentType(message: Outgoing): boolean {
  const type = message.contentType;
  if (type !== TEXT && type !== BINARY) return true;
  return type !== impliedContentType(message.body);
}

/** The client-side message for one portable message, shaped for the topic's type. */
export function toMessageOptions(topic: string, message: Outgoing, topicType: TopicType): MessageOptions {
  const properties = new Map<string, string>(Object.entries(message.headers));
  if (needsContentType(message)) properties.set(CONTENT_TYPE_PROPERTY, message.contentType);
  const options: MessageOptions = {
    topic,
    body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    properties,
  };
  const tag = message.tags[0];
  if (tag !== undefined) options.tag = validateTag(tag);
  const keys = message.keys ?? (message.key === undefined ? [] : [message.key]);
  if (keys.length > 0) options.keys = validateKeys(keys);
  if (message.orderingKey !== undefined) options.messageGroup = message.orderingKey;
  else if (topicType === 'FIFO') {
    // A FIFO topic accepts FIFO messages only: an unordered message is its own message group.
    options.messageGroup = message.id;
    properties.set(OWN_GROUP_PROPERTY, '1');
  }
  if (message.delayMs !== undefined && message.delayMs > 0) {
    options.deliveryTimestamp = new Date(Date.now() + message.delayMs);
  } else if (topicType === 'DELAY') {
    // A DELAY topic accepts DELAY messages only: an undelayed message is due at once.
    options.deliveryTimestamp = new Date();
  }
  return options;
}

/** Settling state of one delivery: the view (its receipt handle changes on every CID). */
export interface Handle {
  readonly view: MessageView;
}

export function toDelivery(view: MessageView): Delivery {
  const headers: Record<string, string> = {};
  let contentType: string | undefined;
  let ownGroup = false;
  for (const [key, value] of view.properties) {
    if (key === CONTENT_TYPE_PROPERTY) contentType = value;
    else if (key === OWN_GROUP_PROPERTY) ownGroup = true;
    else headers[key] = value;
  }
  const handle: Handle = { view };
  const body = new Uint8Array(view.body.buffer, view.body.byteOffset, view.body.byteLength);
  return {
    id: view.messageId,
    body,
    contentType: contentType ?? impliedContentType(body),
    headers,
    key: view.keys[0],
    keys: [...view.keys],
    // The client reports an untagged message as '' (protobuf default), not undefined.
    tags: view.tag ? [view.tag] : [],
    routingKey: undefined,
    orderingKey: view.messageGroup && !ownGroup ? view.messageGroup : undefined,
    deliveryAttempt: view.deliveryAttempt && view.deliveryAttempt > 0 ? view.deliveryAttempt : undefined,
    publishedAt: view.bornTimestamp?.getTime(),
    native: view,
    handle,
  };
}
