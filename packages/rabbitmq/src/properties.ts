import { createHash } from 'node:crypto';
import type { Delivery, Outgoing } from '@switchyard/core';
import type { ConsumeMessage, MessageProperties, Options } from 'amqplib';
import { isDelayHeader } from './delay.js';

// Switchyard messages are plain AMQP messages: the body is the raw payload, id / content type /
// timestamp / correlation travel in AMQP properties, headers in the headers table. So a plain
// AMQP client reads a Switchyard message as it is, and a plain message is consumed as it is.

/** The portable `key`, in a header because AMQP has no business-key property. */
export const KEY_HEADER = 'x-switchyard-key';
/** Deliveries a message had before it was republished (delayed nack), so counts survive the copy. */
export const ATTEMPTS_HEADER = 'x-switchyard-attempts';
/** Headers that map to AMQP properties in both directions. */
const PROPERTY_HEADERS = { 'correlation-id': 'correlationId', 'reply-to': 'replyTo' } as const;
/** Broker bookkeeping a republished copy must not carry (dead-letter cycle detection). */
const BROKER_HEADERS = /^x-(death|first-death-|last-death-|delivery-count)/;

export function publishOptions(message: Outgoing, persistent: boolean, mandatory: boolean): Options.Publish {
  const headers: Record<string, unknown> = {};
  const options: Options.Publish = {
    messageId: message.id,
    contentType: message.contentType,
    timestamp: Math.floor(message.publishedAt / 1000),
    persistent,
    mandatory,
    headers,
  };
  for (const [name, value] of Object.entries(message.headers)) {
    const property = PROPERTY_HEADERS[name as keyof typeof PROPERTY_HEADERS];
    if (property !== undefined) options[property] = value;
    else headers[name] = value;
  }
  if (message.key !== undefined) headers[KEY_HEADER] = message.key;
  return options;
}

/** Options to republish a received message unchanged but for the given extra headers. */
export function republishOptions(message: ConsumeMessage, extra: Record<string, unknown>): Options.Publish {
  const p = message.properties;
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(p.headers ?? {})) {
    if (!BROKER_HEADERS.test(name) && !isDelayHeader(name)) headers[name] = value;
  }
  const options: Options.Publish = { headers: { ...headers, ...extra }, mandatory: true };
  for (const field of [
    'contentType',
    'contentEncoding',
    'deliveryMode',
    'priority',
    'correlationId',
    'replyTo',
    'messageId',
    'timestamp',
    'type',
    'userId',
    'appId',
  ] as const) {
    const value = p[field];
    if (value !== undefined && value !== null) (options as Record<string, unknown>)[field] = value;
  }
  return options;
}

export function toDelivery(message: ConsumeMessage, handle: unknown, countsAttempts: boolean): Delivery {
  const p: MessageProperties = message.properties;
  const headers: Record<string, string> = {};
  let key: string | undefined;
  let previous = 0;
  let brokerCount = 0;
  for (const [name, value] of Object.entries(p.headers ?? {})) {
    if (name === KEY_HEADER) key = headerText(value);
    else if (name === ATTEMPTS_HEADER) previous = Number(headerText(value)) || 0;
    else if (name === 'x-delivery-count') brokerCount = Number(value) || 0;
    // x-death and friends are the broker's dead-letter bookkeeping (the delay queues add them):
    // not the sender's headers, and a portable copy carrying them as text would confuse the
    // broker's cycle detection. `message.unwrap()` still shows them.
    else if (BROKER_HEADERS.test(name) || isDelayHeader(name)) continue;
    else if (value !== undefined && value !== null) headers[name] = headerText(value);
  }
  if (typeof p.correlationId === 'string') headers['correlation-id'] = p.correlationId;
  if (typeof p.replyTo === 'string') headers['reply-to'] = p.replyTo;
  const timestamp = typeof p.timestamp === 'number' ? p.timestamp * 1000 : undefined;
  return {
    id: typeof p.messageId === 'string' && p.messageId !== '' ? p.messageId : contentId(message),
    body: message.content,
    contentType: typeof p.contentType === 'string' ? p.contentType : undefined,
    headers,
    key,
    tags: [],
    // The default exchange routes by queue name, which is no routing key of the message.
    routingKey:
      message.fields.exchange === '' || message.fields.routingKey === ''
        ? undefined
        : message.fields.routingKey,
    orderingKey: undefined,
    deliveryAttempt: countsAttempts ? previous + brokerCount + 1 : undefined,
    publishedAt: timestamp,
    native: message,
    handle,
  };
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/**
 * A message from a plain client may have no message id. Derive one from what stays the same on
 * redelivery, so the portable layer's per-id attempt count still works for it.
 */
function contentId(message: ConsumeMessage): string {
  const hash = createHash('sha256')
    .update(message.fields.exchange)
    .update('\0')
    .update(message.fields.routingKey)
    .update('\0')
    .update(String(message.properties.timestamp ?? ''))
    .update('\0')
    .update(message.content)
    .digest('hex');
  return `amqp-${hash.slice(0, 32)}`;
}
