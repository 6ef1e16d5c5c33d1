import { outgoing } from '@switchyard/conformance/outgoing';
import { impliedContentType } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { rocketmqCapabilities } from './capabilities.js';
import { CONTENT_TYPE_PROPERTY, OWN_GROUP_PROPERTY, toDelivery, toMessageOptions } from './messages.js';

const base = outgoing({
  id: 'id-1',
  body: new Uint8Array([1, 2, 3]),
  headers: { a: '1' },
  key: 'order-7',
  tags: ['TagA'],
  publishedAt: Date.now(),
});

describe('outgoing mapping', () => {
  it('carries headers as properties, the key, the one tag, and no property for bytes', () => {
    const m = toMessageOptions('c|ns%t', base, 'MIXED');
    expect(m.topic).toBe('c|ns%t');
    expect([...m.body]).toEqual([1, 2, 3]);
    expect(m.tag).toBe('TagA');
    expect(m.keys).toEqual(['order-7']);
    expect(Object.fromEntries(m.properties ?? [])).toEqual({ a: '1' });
    expect(m.messageGroup).toBeUndefined();
    expect(m.deliveryTimestamp).toBeUndefined();
  });

  it('writes the content type only when the body does not tell it', () => {
    const text = {
      ...base,
      body: new TextEncoder().encode('héllo\n'),
      contentType: 'text/plain; charset=utf-8',
    };
    expect(toMessageOptions('t', text, 'MIXED').properties?.has(CONTENT_TYPE_PROPERTY)).toBe(false);
    const json = { ...text, contentType: 'application/json' };
    expect(toMessageOptions('t', json, 'MIXED').properties?.get(CONTENT_TYPE_PROPERTY)).toBe(
      'application/json',
    );
    // Bytes that happen to read as text keep their declared type.
    const textLike = { ...text, contentType: 'application/octet-stream' };
    expect(toMessageOptions('t', textLike, 'MIXED').properties?.get(CONTENT_TYPE_PROPERTY)).toBe(
      'application/octet-stream',
    );
    // Binary bytes that are not UTF-8, or that hold a control byte, read as binary: no property.
    for (const bytes of [new Uint8Array([0xc3, 0x28]), new Uint8Array([0x61, 0x00, 0x62])]) {
      const binary = { ...text, body: bytes, contentType: 'application/octet-stream' };
      expect(toMessageOptions('t', binary, 'MIXED').properties?.has(CONTENT_TYPE_PROPERTY)).toBe(false);
    }
    // Text holding a control byte would read as binary: the property keeps it text.
    const controlText = { ...text, body: new Uint8Array([0x61, 0x01]) };
    expect(toMessageOptions('t', controlText, 'MIXED').properties?.get(CONTENT_TYPE_PROPERTY)).toBe(
      'text/plain; charset=utf-8',
    );
    expect(impliedContentType(new Uint8Array([0xc3, 0x28]))).toBe('application/octet-stream');
    expect(impliedContentType(new TextEncoder().encode('a\tb\r\n'))).toBe('text/plain; charset=utf-8');
  });

  it('sends every key, key first, and refuses keys RocketMQ would split or reject', () => {
    expect(toMessageOptions('t', { ...base, keys: ['order-7', 'user-3'] }, 'MIXED').keys).toEqual([
      'order-7',
      'user-3',
    ]);
    expect(toMessageOptions('t', { ...base, key: undefined }, 'MIXED').keys).toBeUndefined();
    for (const bad of ['two words', 'tab\there', ''])
      expect(() => toMessageOptions('t', { ...base, key: bad, keys: [bad] }, 'MIXED')).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/whitespace/) }),
      );
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
    expect(own.contentType).toBe('text/plain; charset=utf-8');
    expect(own.orderingKey).toBeUndefined();
    expect(own.headers).toEqual({ a: '1' });
    expect(toDelivery(view('k', {})).orderingKey).toBe('k');
  });

  it('exposes every key and reads a property-less body by its look', () => {
    const view = {
      messageId: 'm-2',
      body: Buffer.from([0, 159, 146, 150]),
      properties: new Map([[CONTENT_TYPE_PROPERTY, 'application/x-protobuf']]),
      keys: ['k1', 'k2', 'k3'],
      tag: 'T',
      messageGroup: '',
    } as unknown as Parameters<typeof toDelivery>[0];
    const d = toDelivery(view);
    expect(d).toMatchObject({ key: 'k1', keys: ['k1', 'k2', 'k3'], contentType: 'application/x-protobuf' });
    expect(d.headers).toEqual({});
    const plain = toDelivery({ ...view, properties: new Map() } as typeof view);
    expect(plain.contentType).toBe('application/octet-stream');
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
