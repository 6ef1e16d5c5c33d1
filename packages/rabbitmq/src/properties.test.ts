import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { KEY_HEADER, toDelivery } from './properties.js';

function delivered(headers: Record<string, unknown>): ConsumeMessage {
  return {
    content: Buffer.from('x'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: 'orders',
      routingKey: 'eu.new',
      consumerTag: 'c',
    },
    properties: { headers, messageId: 'm-1', contentType: 'text/plain' },
  } as unknown as ConsumeMessage;
}

describe('toDelivery', () => {
  it("keeps the sender's headers and leaves out the broker's dead-letter bookkeeping", () => {
    const d = toDelivery(
      delivered({
        region: 'eu',
        [KEY_HEADER]: 'order-7',
        'x-death': [{ count: 1, queue: 'switchyard.delay.10', reason: 'expired' }],
        'x-first-death-queue': 'switchyard.delay.10',
        'x-first-death-reason': 'expired',
        'x-last-death-exchange': 'switchyard.delay.10',
        'x-delivery-count': 2,
      }),
      undefined,
      true,
    );
    expect(d.headers).toEqual({ region: 'eu' });
    expect(d.key).toBe('order-7');
    expect(d.deliveryAttempt).toBe(3);
  });
});
