import type { Outgoing } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { rocketmqCapabilities } from './capabilities.js';
import { CONTENT_TYPE_PROPERTY, toMessageOptions } from './messages.js';

const base: Outgoing = {
  id: 'id-1',
  body: new Uint8Array([1, 2, 3]),
  contentType: 'application/octet-stream',
  headers: { a: '1' },
  key: 'order-7',
  tags: ['TagA'],
  routingKey: undefined,
  orderingKey: undefined,
  delayMs: undefined,
  publishedAt: Date.now(),
};

describe('outgoing mapping', () => {
  it('carries headers as properties, the key, the one tag and the content type', () => {
    const m = toMessageOptions('c|ns%t', base, 'MIXED');
    expect(m.topic).toBe('c|ns%t');
    expect([...m.body]).toEqual([1, 2, 3]);
    expect(m.tag).toBe('TagA');
    expect(m.keys).toEqual(['order-7']);
    expect(m.properties?.get('a')).toBe('1');
    expect(m.properties?.get(CONTENT_TYPE_PROPERTY)).toBe('application/octet-stream');
    expect(m.messageGroup).toBeUndefined();
    expect(m.deliveryTimestamp).toBeUndefined();
  });

  it('turns orderingKey into a message group and delayMs into a delivery timestamp', () => {
    expect(toMessageOptions('t', { ...base, orderingKey: 'k' }, 'FIFO').messageGroup).toBe('k');
    const before = Date.now();
    const delayed = toMessageOptions('t', { ...base, delayMs: 5_000 }, 'MIXED').deliveryTimestamp!.getTime();
    expect(delayed).toBeGreaterThanOrEqual(before + 5_000);
  });

  it('shapes messages for single-type topics', () => {
    // A FIFO topic takes FIFO messages only; a DELAY topic DELAY messages only.
    expect(toMessageOptions('t', base, 'FIFO').messageGroup).toBe('id-1');
    expect(toMessageOptions('t', base, 'DELAY').deliveryTimestamp).toBeInstanceOf(Date);
    expect(toMessageOptions('t', base, 'NORMAL').deliveryTimestamp).toBeUndefined();
  });

  it('refuses a tag the server would reject', () => {
    expect(() => toMessageOptions('t', { ...base, tags: ['a|b'] }, 'MIXED')).toThrow(/not allowed/);
  });
});

describe('capabilities by topic type', () => {
  it('declares delay and ordering only where the topic type takes them', () => {
    expect(rocketmqCapabilities({ topicType: 'NORMAL' })).toMatchObject({
      delayedSend: false,
      orderingKeys: false,
    });
    expect(rocketmqCapabilities({ topicType: 'DELAY' })).toMatchObject({
      delayedSend: 'native',
      orderingKeys: false,
    });
    expect(rocketmqCapabilities({ topicType: 'FIFO' })).toMatchObject({
      delayedSend: false,
      orderingKeys: true,
    });
    expect(rocketmqCapabilities({ topicType: 'MIXED' })).toMatchObject({
      delayedSend: 'native',
      orderingKeys: false,
    });
    const caps = rocketmqCapabilities();
    expect(caps).toMatchObject({ maxTagsPerMessage: 1, deadLetter: 'emulated', deliveryAttempt: 'native' });
    expect(Object.isFrozen(caps)).toBe(true);
  });
});
