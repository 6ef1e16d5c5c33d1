import { deflateSync } from 'node:zlib';
import { outgoing as plainOutgoing } from '@switchyard/conformance/outgoing';
import type { Outgoing } from '@switchyard/core/driver';
import { decodeStoredMessages, encodeStoredMessage, type StoredMessage } from '@switchyard/rocketmq-remoting';
import { describe, expect, it } from 'vitest';
import { delayLevelFor, toDelivery, toProperties } from './messages.js';
import { queueForKey } from './producer.js';

const outgoing = (over: Partial<Outgoing> = {}): Outgoing =>
  plainOutgoing({
    id: 'id-1',
    body: new TextEncoder().encode('hello'),
    contentType: 'text/plain; charset=utf-8',
    publishedAt: 0,
    ...over,
  });

const stored = (properties: Record<string, string>, over: Partial<StoredMessage> = {}): StoredMessage => ({
  topic: 'rocketmq-x|ns%orders',
  queueId: 1,
  flag: 0,
  queueOffset: 7,
  commitLogOffset: 1234,
  sysFlag: 0,
  bornTimestamp: 1_700_000_000_000,
  bornHost: '127.0.0.1:1',
  storeTimestamp: 1_700_000_000_001,
  storeHost: '127.0.0.1:10911',
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  body: Buffer.from('hello'),
  properties,
  ...over,
});

describe('delay levels', () => {
  it('picks the next level at or above the wish, capped at 2 h', () => {
    expect(delayLevelFor(0)).toBe(1);
    expect(delayLevelFor(1_000)).toBe(1);
    expect(delayLevelFor(1_001)).toBe(2);
    expect(delayLevelFor(45_000)).toBe(5);
    expect(delayLevelFor(7_200_000)).toBe(18);
    expect(delayLevelFor(10 * 7_200_000)).toBe(18);
  });
});

describe('toProperties', () => {
  it('writes tag, keys, headers, id, ordering key and a delay level', () => {
    const props = toProperties(
      outgoing({
        tags: ['TagA'],
        keys: ['k1', 'k2'],
        key: 'k1',
        headers: { tenant: 'acme' },
        orderingKey: 'o-7',
        delayMs: 3_000,
      }),
      'levels',
    );
    expect(props).toEqual({
      tenant: 'acme',
      TAGS: 'TagA',
      KEYS: 'k1 k2',
      __SHARDINGKEY: 'o-7',
      UNIQ_KEY: 'id-1',
      DELAY: '2',
    });
  });

  it('writes a content type only when the body does not imply it', () => {
    const binary = new Uint8Array([0x68, 0x00, 0x69]);
    expect(
      toProperties(outgoing({ body: binary, contentType: 'application/octet-stream' }), 'levels'),
    ).toEqual({
      UNIQ_KEY: 'id-1',
    });
    expect(
      toProperties(outgoing({ contentType: 'application/json' }), 'levels')['x-switchyard-content-type'],
    ).toBe('application/json');
    expect(
      toProperties(outgoing({ body: binary, contentType: 'text/plain; charset=utf-8' }), 'levels'),
    ).toHaveProperty('x-switchyard-content-type');
  });

  it("writes TDMQ's exact delivery time in startDeliverTime mode", () => {
    expect(toProperties(outgoing({ delayMs: 90_000 }), 'startDeliverTime', 1_000).__STARTDELIVERTIME).toBe(
      '91000',
    );
  });

  it('refuses headers named like system properties and keys with spaces', () => {
    expect(() => toProperties(outgoing({ headers: { DELAY: '1' } }), 'levels')).toThrow(/system property/);
    expect(() => toProperties(outgoing({ key: 'a b' }), 'levels')).toThrow(/whitespace/);
    expect(() => toProperties(outgoing({ tags: ['a||b'] }), 'levels')).toThrow(/tag/);
  });
});

describe('toDelivery', () => {
  it('reads the UNIQ_KEY id, tag, keys, headers and the broker-counted attempt', () => {
    const m = decodeStoredMessages(
      encodeStoredMessage(
        stored(
          {
            UNIQ_KEY: 'id-9',
            TAGS: 'TagA',
            KEYS: 'a b',
            WAIT: 'true',
            CLUSTER: 'c',
            tenant: 'acme',
            __SHARDINGKEY: 'g',
          },
          { reconsumeTimes: 2 },
        ),
      ),
    )[0]!;
    const d = toDelivery(m, 'q', '127.0.0.1:10911');
    expect(d).toMatchObject({
      id: 'id-9',
      tags: ['TagA'],
      key: 'a',
      keys: ['a', 'b'],
      headers: { tenant: 'acme' },
      orderingKey: 'g',
      deliveryAttempt: 3,
      publishedAt: 1_700_000_000_000,
      contentType: 'text/plain; charset=utf-8',
    });
    expect(new TextDecoder().decode(d.body)).toBe('hello');
    // The stored position, for a consumer's attemptStore: a send-back stores a new one.
    expect(d.attemptKey).toBe(`q/${m.queueOffset}`);
    // Broadcasting members each count every message apart: no shared key.
    expect(toDelivery(m, 'q', 'a', false).attemptKey).toBeUndefined();
  });

  it('falls back to the offsetMsgId (ali-ons sets no UNIQ_KEY) and inflates compressed bodies', () => {
    const m = decodeStoredMessages(
      encodeStoredMessage(stored({}, { body: deflateSync(Buffer.from('zipped')), sysFlag: 1 })),
    )[0]!;
    const d = toDelivery(m, 'q', 'a');
    expect(d.id).toBe('7F00000100002A9F00000000000004D2');
    expect(new TextDecoder().decode(d.body)).toBe('zipped');
    expect(d.keys).toEqual([]);
  });
});

describe('toDelivery without keys, tag or user properties', () => {
  it('reads as empty, with a handle of its own that starts unsettled', () => {
    const a = toDelivery(stored({ UNIQ_KEY: 'U1', WAIT: 'true' }), 'q@b@1', '127.0.0.1:10911');
    const b = toDelivery(stored({ UNIQ_KEY: 'U2' }), 'q@b@1', '127.0.0.1:10911');
    expect(a).toMatchObject({ id: 'U1', keys: [], key: undefined, tags: [], headers: {} });
    expect(Object.isFrozen(a.keys) && Object.isFrozen(a.tags) && Object.isFrozen(a.headers)).toBe(true);
    expect(a.handle).not.toBe(b.handle);
    expect(a.handle).toMatchObject({ queue: 'q@b@1', settled: false });
    // A message with headers gets an object of its own.
    const c = toDelivery(stored({ UNIQ_KEY: 'U3', tenant: 'acme' }), 'q@b@1', '127.0.0.1:10911');
    expect(c.headers).toEqual({ tenant: 'acme' });
    expect(Object.isFrozen(c.headers)).toBe(false);
  });
});

describe('queueForKey', () => {
  it('keeps one key on one queue, within range, for negative hashes too', () => {
    expect(queueForKey('order-1', 8)).toBe(queueForKey('order-1', 8));
    for (const key of ['a', 'tag_create', 'order-123456789', 'ü']) {
      const q = queueForKey(key, 7);
      expect(q).toBeGreaterThanOrEqual(0);
      expect(q).toBeLessThan(7);
    }
  });
});
