import { type Delivery, decodeEnvelope, utf8 } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { MAX_ENVELOPE_BODY_BYTES } from './capabilities.js';
import { fromRetryCopy, RETRY_ATTEMPTS_HEADER, retryCopyPayload } from './retry-topic.js';

function delivery(extra: Partial<Delivery> = {}): Delivery {
  return {
    id: 'order-1',
    body: utf8('body #1'),
    contentType: undefined,
    headers: { 'x-a': '1' },
    key: undefined,
    tags: [],
    routingKey: undefined,
    orderingKey: undefined,
    deliveryAttempt: 1,
    publishedAt: 1_700_000_000_000,
    native: undefined,
    handle: undefined,
    ...extra,
  };
}

describe('retry-topic copies', () => {
  it('carry the delivery count, which the next delivery reads back as one more', () => {
    const copy = decodeEnvelope(retryCopyPayload(delivery(), 2), 'p:1:0');
    expect(copy.headers[RETRY_ATTEMPTS_HEADER]).toBe('2');
    const back = fromRetryCopy(copy);
    expect(back.deliveryAttempt).toBe(3);
    expect(back.fields.headers).toEqual({ 'x-a': '1' });
    expect(back.fields.id).toBe('order-1');
    expect(Buffer.from(back.fields.body).toString()).toBe('body #1');
  });

  it('count a copy without a readable count as at least a second delivery', () => {
    const copy = decodeEnvelope(retryCopyPayload(delivery(), 1), 'p:1:0');
    expect(fromRetryCopy({ ...copy, headers: { [RETRY_ATTEMPTS_HEADER]: 'x' } }).deliveryAttempt).toBe(2);
    expect(fromRetryCopy({ ...copy, headers: {} }).deliveryAttempt).toBe(2);
  });

  it('read a copy of a delivery no handler saw (count 0) as a first delivery', () => {
    const copy = decodeEnvelope(retryCopyPayload(delivery(), 0), 'p:1:0');
    expect(fromRetryCopy(copy).deliveryAttempt).toBe(1);
  });

  it('fit every body the capability allows, and refuse, typed, when headers leave no room', () => {
    const body = new Uint8Array(MAX_ENVELOPE_BODY_BYTES).fill(7);
    expect(() => retryCopyPayload(delivery({ body }), 1)).not.toThrow();
    const headers = { big: 'h'.repeat(64 * 1024) };
    expect(() => retryCopyPayload(delivery({ body, headers }), 1)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_TOO_LARGE', retryable: false }),
    );
  });
});
