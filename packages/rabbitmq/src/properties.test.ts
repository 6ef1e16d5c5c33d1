import { createRequire } from 'node:module';
import { outgoing } from '@switchyard/conformance/outgoing';
import type { ConsumeMessage, Options } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  ATTEMPTS_HEADER,
  carriedAttempts,
  KEY_HEADER,
  ORIGIN_EXCHANGE_HEADER,
  ORIGIN_ROUTING_KEY_HEADER,
  originHeaders,
  publishOptions,
  republishOptions,
  toDelivery,
} from './properties.js';

function delivered(
  headers: Record<string, unknown>,
  messageId: string | null = 'm-1',
  fields: { exchange: string; routingKey: string } = { exchange: 'orders', routingKey: 'eu.new' },
): ConsumeMessage {
  return {
    content: Buffer.from('x'),
    fields: { deliveryTag: 1, redelivered: false, consumerTag: 'c', ...fields },
    properties: { headers, messageId, contentType: 'text/plain' },
  } as unknown as ConsumeMessage;
}

// amqplib's own encoding of a publish's properties, as its channel writes them.
const amqplibRequire = createRequire(createRequire(import.meta.url).resolve('amqplib'));
const args = amqplibRequire('./lib/api_args.js') as {
  publish(exchange: string, routingKey: string, options: Options.Publish): unknown;
};
const defs = amqplibRequire('./lib/defs.js') as {
  BasicProperties: number;
  encodeProperties(id: number, channel: number, size: number, fields: unknown): Buffer;
};
const encoded = (options: Options.Publish): string =>
  defs.encodeProperties(defs.BasicProperties, 1, 1, args.publish('ex', '', options)).toString('hex');

describe('publishOptions', () => {
  it('gives messages without headers one shared, frozen headers table (no fresh prototype per publish)', () => {
    const a = publishOptions(outgoing({ id: 'a' }), true, true);
    const b = publishOptions(outgoing({ id: 'b' }), true, true);
    expect(a.headers).toBe(b.headers);
    expect(Object.isFrozen(a.headers)).toBe(true);
    expect(a.headers).toEqual({});
    // A correlation id or reply-to header becomes its property, and no header.
    const request = publishOptions(
      outgoing({ headers: { 'correlation-id': 'c-1', 'reply-to': 'r' } }),
      true,
      true,
    );
    expect(request).toMatchObject({ correlationId: 'c-1', replyTo: 'r', headers: {} });
    expect(request.headers).toBe(a.headers);
  });

  it("gives a message with headers or a key a table of its own, never the shared one's", () => {
    const shared = publishOptions(outgoing(), true, true).headers;
    const withHeaders = publishOptions(outgoing({ headers: { region: 'eu' } }), true, true);
    const withKey = publishOptions(outgoing({ key: 'order-7' }), false, false);
    expect(withHeaders.headers).toEqual({ region: 'eu' });
    expect(withKey.headers).toEqual({ [KEY_HEADER]: 'order-7' });
    expect(withHeaders.headers).not.toBe(shared);
    expect(withKey.headers).not.toBe(withHeaders.headers);
    expect(shared).toEqual({});
  });

  it('encodes the same properties frame as a fresh empty headers table did', () => {
    const options = publishOptions(outgoing(), true, true);
    expect(encoded(options)).toBe(encoded({ ...options, headers: {} }));
    expect(encoded(options)).toBe(encoded(publishOptions(outgoing(), true, true)));
  });
});

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
      'native',
    );
    expect(d.headers).toEqual({ region: 'eu' });
    expect(d.key).toBe('order-7');
    expect(d.deliveryAttempt).toBe(3);
  });

  it('gives a message without message_id a fresh id per delivery, never one derived from its content', () => {
    const a = toDelivery(delivered({}, null), undefined, 'carried');
    const b = toDelivery(delivered({}, null), undefined, 'carried');
    expect(a.id).not.toBe(b.id);
    // Read from the properties when first asked: the one made for it stays its id.
    expect(a.id).toBe(a.id);
    expect(a.headers).toBe(a.headers);
    expect(toDelivery(delivered({}, ''), undefined, 'carried').id).not.toBe('');
    expect(toDelivery(delivered({}), undefined, 'carried').id).toBe('m-1');
  });

  it('reads the carried count, and hides the headers the driver writes', () => {
    expect(toDelivery(delivered({}), undefined, 'carried').deliveryAttempt).toBe(1);
    const copy = delivered(
      {
        [ATTEMPTS_HEADER]: '2',
        [ORIGIN_EXCHANGE_HEADER]: 'orders',
        [ORIGIN_ROUTING_KEY_HEADER]: 'eu.new',
        a: 'b',
      },
      'm-1',
      { exchange: '', routingKey: 'orders.workers' },
    );
    const d = toDelivery(copy, undefined, 'carried');
    expect(d.deliveryAttempt).toBe(3);
    expect(d.routingKey).toBe('eu.new');
    expect(d.headers).toEqual({ a: 'b' });
    const keyless = delivered(
      { [ORIGIN_EXCHANGE_HEADER]: 'orders', [ORIGIN_ROUTING_KEY_HEADER]: '' },
      'm-1',
      {
        exchange: '',
        routingKey: 'orders.workers',
      },
    );
    expect(toDelivery(keyless, undefined, 'carried').routingKey).toBeUndefined();
    // A header a plain client mangled counts as no count, never as NaN.
    expect(carriedAttempts(delivered({ [ATTEMPTS_HEADER]: 'many' }))).toBe(0);
    expect(carriedAttempts(delivered({ [ATTEMPTS_HEADER]: Buffer.from('4') }))).toBe(4);
  });

  it('is its own settle handle, reads its body and tags through, and shares one frozen {} when it has no headers', () => {
    const message = delivered({ [KEY_HEADER]: 'k', [ATTEMPTS_HEADER]: '1' });
    const a = toDelivery(message, undefined, 'carried');
    const b = toDelivery(delivered({}), undefined, 'carried');
    expect(a.handle).toBe(a);
    expect(a.native).toBe(message);
    expect(a.body).toBe(message.content);
    expect(a.tags).toEqual([]);
    expect(a.orderingKey).toBeUndefined();
    // Only driver headers and the key: none of the sender's.
    expect(a.headers).toEqual({});
    expect(a.headers).toBe(b.headers);
    expect(Object.isFrozen(a.headers)).toBe(true);
    expect(a.deliveryAttempt).toBe(2);
    // A correlation id alone makes headers of its own.
    const replyLike = {
      ...message,
      properties: { ...message.properties, headers: undefined, correlationId: 'c' },
    };
    const c = toDelivery(replyLike as ConsumeMessage, undefined, 'native');
    expect(c.headers).toEqual({ 'correlation-id': 'c' });
    expect(c.headers).not.toBe(b.headers);
  });

  it('keeps the first origin on a copy of a copy', () => {
    const original = delivered({});
    expect(originHeaders(original)).toEqual({
      [ORIGIN_EXCHANGE_HEADER]: 'orders',
      [ORIGIN_ROUTING_KEY_HEADER]: 'eu.new',
    });
    const copy = delivered({ [ORIGIN_ROUTING_KEY_HEADER]: 'eu.new' }, 'm-1', {
      exchange: '',
      routingKey: 'orders.workers',
    });
    expect(originHeaders(copy)).toEqual({});
    // Sent straight to the queue: nothing to keep.
    expect(originHeaders(delivered({}, 'm-1', { exchange: '', routingKey: 'q' }))).toEqual({});
  });

  it("republishes with the original's properties and without the broker's bookkeeping", () => {
    const options = republishOptions(delivered({ a: 'b', 'x-death': [], 'x-delivery-count': 3 }), {
      [ATTEMPTS_HEADER]: '1',
    });
    expect(options.headers).toEqual({ a: 'b', [ATTEMPTS_HEADER]: '1' });
    expect(options.messageId).toBe('m-1');
    expect(options.contentType).toBe('text/plain');
  });
});
