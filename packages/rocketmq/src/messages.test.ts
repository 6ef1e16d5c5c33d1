import type { Outgoing } from '@switchyard/core';
import { describe, expect, it } from 'vitest';
import { rocketmqCapabilities } from './capabilities.js';
import { CONTENT_TYPE_PROPERTY, OWN_GROUP_PROPERTY, toDelivery, toMessageOptions } from './messages.js';

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
    const fifo = toMessageOptions('t', base, 'FIFO');
    expect(fifo.messageGroup).toBe('id-1');
    expect(fifo.properties?.get(OWN_GROUP_PROPERTY)).toBe('1');
    expect(
      toMessageOptions('t', { ...base, orderingKey: 'k' }, 'FIFO').properties?.has(OWN_GROUP_PROPERTY),
    ).toBe(false);
    expect(toMessageOptions('t', base, 'DELAY').deliveryTimestamp).toBeInstanceOf(Date);
    expect(toMessageOptions('t', base, 'NORMAL').deliveryTimestamp).toBeUndefined();
  });

  it('a message group the driver made up is no ordering key on receive', () => {
    const view = (group: string, properties: Record<string, string>) =>
      ({
        messageId: 'm-1',
        body: Buffer.from('x'),
        properties: new Map(Object.entries(properties)),
        keys: [],
        tag: '',
        messageGroup: group,
      }) as unknown as Parameters<typeof toDelivery>[0];
    const own = toDelivery(view('id-1', { [OWN_GROUP_PROPERTY]: '1', a: '1' }));
    expect(own.orderingKey).toBeUndefined();
    expect(own.headers).toEqual({ a: '1' });
    expect(toDelivery(view('k', {})).orderingKey).toBe('k');
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
