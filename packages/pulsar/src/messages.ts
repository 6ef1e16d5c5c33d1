// Portable messages ↔ Pulsar messages. Headers are message properties, and the content type rides
// in one reserved property only when the body does not tell it (core's impliedContentType), so a
// plain consumer sees a text or binary message with exactly the properties its sender gave; `key` is Pulsar's partition key (the message key), `orderingKey` its
// ordering key (what Key_Shared routes by), `delayMs` becomes deliverAfter and `publishedAt` the
// event time. A delivery's id is the broker's MessageId, stable across redeliveries.

import { type Delivery, impliedContentType, type Outgoing } from '@switchyard/core/driver';
import type { ProducerMessage, PulsarMessage } from './native-api.js';

/** Property holding the portable content type (stripped from headers on receive). */
export const CONTENT_TYPE_PROPERTY = 'x-switchyard-content-type';

export function toProducerMessage(message: Outgoing): ProducerMessage {
  const out: ProducerMessage = {
    data: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    properties:
      message.contentType === impliedContentType(message.body)
        ? { ...message.headers }
        : { ...message.headers, [CONTENT_TYPE_PROPERTY]: message.contentType },
    eventTimestamp: message.publishedAt,
  };
  if (message.key !== undefined) out.partitionKey = message.key;
  if (message.orderingKey !== undefined) out.orderingKey = message.orderingKey;
  if (message.delayMs !== undefined && message.delayMs > 0) out.deliverAfter = message.delayMs;
  return out;
}

/** Settling state of one delivery: the native message (ack and nack take it). */
export interface Handle {
  readonly message: PulsarMessage;
}

/**
 * `counted`: the subscription type has the broker count redeliveries (Shared, Key_Shared); for
 * the others the count is always 0, so it is left undefined for the portable layer to count.
 */
export function toDelivery(message: PulsarMessage, counted: boolean): Delivery {
  const headers: Record<string, string> = {};
  let contentType: string | undefined;
  for (const [key, value] of Object.entries(message.getProperties())) {
    if (key === CONTENT_TYPE_PROPERTY) contentType = value;
    else headers[key] = value;
  }
  const data = message.getData();
  const body = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const eventTime = message.getEventTimestamp();
  const handle: Handle = { message };
  return {
    id: message.getMessageId().toString(),
    body,
    contentType: contentType ?? impliedContentType(body),
    headers,
    // The client reports "no key" as an empty string.
    key: message.getPartitionKey() || undefined,
    tags: [],
    routingKey: undefined,
    orderingKey: message.getOrderingKey() || undefined,
    deliveryAttempt: counted ? message.getRedeliveryCount() + 1 : undefined,
    // Failover and Exclusive keep no redelivery count: count per broker-assigned id instead.
    attemptKey: counted ? undefined : message.getMessageId().toString(),
    publishedAt: eventTime > 0 ? eventTime : message.getPublishTimestamp() || undefined,
    native: message,
    handle,
  };
}

/** The ordering key a consumer holds messages by (Key_Shared routes by it, else by the key). */
export function laneKey(message: PulsarMessage): string | undefined {
  return message.getOrderingKey() || undefined;
}
