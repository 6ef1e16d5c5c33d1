import type { Message } from './message.js';
import type { OutgoingMessage } from './message-types.js';

/**
 * Headers a dead-lettered message carries on every flavour (natively or by emulation), so a
 * poison-queue tool can tell why and from where a message came.
 */
export const DeadLetterHeaders = Object.freeze({
  reason: 'x-switchyard-dead-letter-reason',
  source: 'x-switchyard-dead-letter-source',
  group: 'x-switchyard-dead-letter-group',
  attempts: 'x-switchyard-dead-letter-attempts',
  messageId: 'x-switchyard-dead-letter-message-id',
  at: 'x-switchyard-dead-letter-at',
});

const MAX_REASON = 1_000;

export function deadLetterHeaders(
  message: Pick<Message, 'id' | 'deliveryAttempt'>,
  reason: string,
  source: string,
  group: string,
): Record<string, string> {
  return {
    [DeadLetterHeaders.reason]: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason,
    [DeadLetterHeaders.source]: source,
    [DeadLetterHeaders.group]: group,
    [DeadLetterHeaders.attempts]: String(message.deliveryAttempt),
    [DeadLetterHeaders.messageId]: message.id,
    [DeadLetterHeaders.at]: new Date().toISOString(),
  };
}

/** The copy the portable layer publishes when it emulates dead-lettering. */
export function deadLetterCopy(
  message: Message,
  reason: string,
  source: string,
  group: string,
): OutgoingMessage {
  return {
    body: message.body,
    ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    headers: { ...message.headers, ...deadLetterHeaders(message, reason, source, group) },
    ...(message.key === undefined ? {} : { key: message.key }),
    ...(message.tags.length === 0 ? {} : { tags: message.tags }),
    ...(message.routingKey === undefined ? {} : { routingKey: message.routingKey }),
    ...(message.orderingKey === undefined ? {} : { orderingKey: message.orderingKey }),
  };
}
