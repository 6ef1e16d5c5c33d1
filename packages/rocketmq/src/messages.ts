// Portable messages ↔ RocketMQ messages. Headers are user properties; the content type rides in
// one reserved property; the key is the message's single RocketMQ key (keys are indexed for
// lookup in the console); the one tag is the RocketMQ tag; orderingKey is the message group and
// delayMs a delivery timestamp.

import type { Delivery, Outgoing } from '@switchyard/core';
import type { MessageOptions, MessageView } from 'rocketmq-client-nodejs';
import type { TopicType } from './config.js';
import { validateTag } from './tags.js';

/** User property holding the portable content type (stripped from headers on receive). */
export const CONTENT_TYPE_PROPERTY = 'x-switchyard-content-type';

/**
 * Marks a message group the driver made up (a FIFO topic takes only FIFO messages): on receive
 * such a message has no ordering key, as it had none when sent, so a bridge or dual-write to a
 * flavour without ordering keys does not fail on a key nobody asked for.
 */
export const OWN_GROUP_PROPERTY = 'x-switchyard-own-group';

/** The client-side message for one portable message, shaped for the topic's type. */
export function toMessageOptions(topic: string, message: Outgoing, topicType: TopicType): MessageOptions {
  const properties = new Map<string, string>(Object.entries(message.headers));
  properties.set(CONTENT_TYPE_PROPERTY, message.contentType);
  const options: MessageOptions = {
    topic,
    body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    properties,
  };
  const tag = message.tags[0];
  if (tag !== undefined) options.tag = validateTag(tag);
  if (message.key !== undefined) options.keys = [message.key];
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
  return {
    id: view.messageId,
    body: new Uint8Array(view.body.buffer, view.body.byteOffset, view.body.byteLength),
    contentType,
    headers,
    key: view.keys[0],
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
