import type { Capabilities } from './capabilities.js';
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

/**
 * The copy the portable layer publishes when it emulates dead-lettering. It carries only what the
 * flavour can carry: on a text-only flavour without headers the body moves and the reason stays in
 * the consumer's log (a copy that cannot be sent would leave the message stuck in redelivery).
 */
export function deadLetterCopy(
  message: Message,
  reason: string,
  source: string,
  group: string,
  capabilities: Capabilities,
): OutgoingMessage {
  const withHeaders = capabilities.headers !== 'none';
  const tags = capabilities.tagFilter ? message.tags.slice(0, capabilities.maxTagsPerMessage) : [];
  return {
    body: message.body,
    ...(message.contentType === undefined ? {} : { contentType: message.contentType }),
    ...(withHeaders
      ? { headers: { ...message.headers, ...deadLetterHeaders(message, reason, source, group) } }
      : {}),
    ...(message.keys.length === 0 ? {} : { keys: message.keys.slice(0, capabilities.maxKeysPerMessage) }),
    ...(tags.length === 0 ? {} : { tags }),
    ...(message.routingKey === undefined || !capabilities.routingKeyFilter
      ? {}
      : { routingKey: message.routingKey }),
    ...(message.orderingKey === undefined || !capabilities.orderingKeys
      ? {}
      : { orderingKey: message.orderingKey }),
  };
}
