import { randomUUID } from 'node:crypto';
import type { Delivery, Outgoing } from '@switchyard/core/driver';
import type { IClientPublishOptions, IPublishPacket } from 'mqtt';

// Switchyard messages are plain MQTT messages: the payload is the body, untouched. On MQTT 5 the
// content type, correlation data, response topic and message expiry travel in their own PUBLISH
// properties and headers in user properties, so a plain MQTT 5 client reads them as they are; on
// MQTT 3.1.1 only the body travels.

export const ID_PROPERTY = 'x-switchyard-id';
export const KEY_PROPERTY = 'x-switchyard-key';
export const PUBLISHED_PROPERTY = 'x-switchyard-published';
/** Deliveries a message had before this copy was published (a nack), so the count travels with it. */
export const ATTEMPTS_PROPERTY = 'x-switchyard-attempts';
/**
 * The group a nack's copy is for. The copy goes back on the topic, where MQTT delivers it to every
 * group: Switchyard consumers of other groups acknowledge and skip it (plain clients see it again).
 */
export const GROUP_PROPERTY = 'x-switchyard-group';
const DRIVER_PROPERTIES = new Set([
  ID_PROPERTY,
  KEY_PROPERTY,
  PUBLISHED_PROPERTY,
  ATTEMPTS_PROPERTY,
  GROUP_PROPERTY,
]);

/** Headers that are MQTT 5 PUBLISH properties, in both directions. */
export const CORRELATION_HEADER = 'correlation-id';
export const REPLY_TO_HEADER = 'reply-to';
export const EXPIRY_HEADER = 'message-expiry-interval';

export function publishOptions(
  message: Outgoing,
  version: 4 | 5,
  messageExpirySeconds: number | undefined,
): IClientPublishOptions {
  if (version === 4) return { qos: 1 };
  // Literal keys (the constants' values): a computed key in a literal takes V8's keyed-define path,
  // per message (issue 18).
  const user: Record<string, string> = {
    'x-switchyard-id': message.id,
    'x-switchyard-published': String(message.publishedAt),
  };
  const properties: NonNullable<IClientPublishOptions['properties']> = {
    contentType: message.contentType,
    userProperties: user,
  };
  if (message.text !== undefined) properties.payloadFormatIndicator = true;
  if (messageExpirySeconds !== undefined) properties.messageExpiryInterval = messageExpirySeconds;
  // for…in, not Object.entries: no array of pairs per message, and none at all without headers.
  const headers = message.headers;
  for (const name in headers) {
    const value = headers[name]!;
    if (name === CORRELATION_HEADER) properties.correlationData = Buffer.from(value);
    else if (name === REPLY_TO_HEADER) properties.responseTopic = value;
    else if (name === EXPIRY_HEADER) properties.messageExpiryInterval = Number(value);
    else user[name] = value;
  }
  if (message.key !== undefined) user[KEY_PROPERTY] = message.key;
  return { qos: 1, properties };
}

/** The options to publish a copy of a received message with its attempt count and target group. */
export function copyOptions(packet: IPublishPacket, attempts: number, group: string): IClientPublishOptions {
  const p = packet.properties ?? {};
  const { topicAlias: _alias, subscriptionIdentifier: _sub, ...kept } = p;
  return {
    qos: 1,
    properties: {
      ...kept,
      userProperties: {
        ...(p.userProperties ?? {}),
        [ATTEMPTS_PROPERTY]: String(attempts),
        [GROUP_PROPERTY]: group,
      },
    },
  };
}

/** A user property's value: MQTT allows a name more than once; the last value wins. */
export function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const value = packet.properties?.userProperties?.[name];
  if (Array.isArray(value)) return value.at(-1);
  return value;
}

/** Deliveries carry no tags on MQTT: one frozen empty list for all of them. */
const NO_TAGS: readonly string[] = Object.freeze([]);

/**
 * A delivery from a parsed PUBLISH. The user properties are read in one for…in pass: the driver's
 * own go to their fields, the rest become headers (Object.entries made an array of pairs per
 * message, ≈ 550 B, and each driver property was looked up again; issue 18).
 */
export function toDelivery(
  packet: IPublishPacket,
  routingKey: string | undefined,
  handle: unknown,
): Delivery {
  const p = packet.properties;
  const headers: Record<string, string> = {};
  let id: string | undefined;
  let key: string | undefined;
  let attempts = 0;
  let published: number | undefined;
  const users = p?.userProperties;
  if (users !== undefined) {
    for (const name in users) {
      const raw = users[name]!;
      // MQTT allows a name more than once: the last value wins.
      const value = typeof raw === 'string' ? raw : (raw.at(-1) ?? '');
      if (!DRIVER_PROPERTIES.has(name)) headers[name] = value;
      else if (name === ID_PROPERTY) id = value;
      else if (name === KEY_PROPERTY) key = value;
      else if (name === ATTEMPTS_PROPERTY) attempts = Number(value);
      else if (name === PUBLISHED_PROPERTY) {
        const at = Number(value);
        if (Number.isFinite(at)) published = at;
      }
    }
  }
  if (p?.correlationData !== undefined)
    headers[CORRELATION_HEADER] = Buffer.from(p.correlationData).toString('utf8');
  if (p?.responseTopic !== undefined) headers[REPLY_TO_HEADER] = p.responseTopic;
  if (p?.messageExpiryInterval !== undefined) headers[EXPIRY_HEADER] = String(p.messageExpiryInterval);
  const body = packet.payload;
  return {
    // A plain publisher's message has no id: one is made up for it (never used to count attempts).
    id: id ?? randomUUID(),
    body: typeof body === 'string' ? Buffer.from(body) : body,
    contentType: p?.contentType,
    headers,
    key,
    tags: NO_TAGS,
    routingKey,
    orderingKey: undefined,
    deliveryAttempt: (Number.isSafeInteger(attempts) && attempts > 0 ? attempts : 0) + 1,
    publishedAt: published,
    native: packet,
    handle,
  };
}
