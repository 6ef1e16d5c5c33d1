import { outgoing } from '@switchyard/conformance/outgoing';
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { publishOptions, toDelivery } from './properties.js';

const packet = (userProperties: Record<string, string | string[]> | undefined, extra = {}): IPublishPacket =>
  ({
    cmd: 'publish',
    topic: 'orders/eu',
    payload: Buffer.from('hi'),
    qos: 1,
    dup: false,
    retain: false,
    messageId: 7,
    properties: { contentType: 'text/plain', userProperties, ...extra },
  }) as IPublishPacket;

describe('toDelivery', () => {
  it("reads the driver's user properties into their fields and the others into headers", () => {
    const d = toDelivery(
      packet({
        'x-switchyard-id': 'id-1',
        'x-switchyard-key': 'k',
        'x-switchyard-published': '1700000000000',
        'x-switchyard-attempts': '2',
        'x-switchyard-group': 'g',
        tenant: 'acme',
      }),
      'eu',
      42,
    );
    expect(d).toMatchObject({
      id: 'id-1',
      key: 'k',
      publishedAt: 1_700_000_000_000,
      deliveryAttempt: 3,
      contentType: 'text/plain',
      headers: { tenant: 'acme' },
      routingKey: 'eu',
      handle: 42,
      tags: [],
    });
  });

  it('takes the last value of a repeated name, and MQTT 5 properties as headers', () => {
    const d = toDelivery(
      packet(
        { tenant: ['a', 'b'], 'x-switchyard-id': ['old', 'new'], 'x-switchyard-attempts': ['1', '4'] },
        { correlationData: Buffer.from('c-1'), responseTopic: 'replies/x', messageExpiryInterval: 30 },
      ),
      undefined,
      1,
    );
    expect(d.id).toBe('new');
    expect(d.deliveryAttempt).toBe(5);
    expect(d.headers).toEqual({
      tenant: 'b',
      'correlation-id': 'c-1',
      'reply-to': 'replies/x',
      'message-expiry-interval': '30',
    });
  });

  it("a plain publisher's message gets a made-up id, attempt 1 and no send time", () => {
    const d = toDelivery(packet(undefined), undefined, 1);
    expect(d.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.deliveryAttempt).toBe(1);
    expect(d.publishedAt).toBeUndefined();
    expect(d.headers).toEqual({});
    const bad = toDelivery(
      packet({ 'x-switchyard-published': 'soon', 'x-switchyard-attempts': 'x' }),
      undefined,
      1,
    );
    expect(bad.publishedAt).toBeUndefined();
    expect(bad.deliveryAttempt).toBe(1);
  });
});

describe('publishOptions', () => {
  const message = (headers: Record<string, string>, key?: string) =>
    outgoing({
      id: 'id-1',
      body: new Uint8Array(),
      contentType: 'application/json',
      headers,
      key,
      publishedAt: 1_700_000_000_000,
    });

  it('carries id, send time, key and headers as user properties, MQTT 5 ones as properties', () => {
    expect(
      publishOptions(
        message(
          { tenant: 'acme', 'correlation-id': 'c-1', 'reply-to': 'r', 'message-expiry-interval': '9' },
          'k',
        ),
        5,
        undefined,
      ),
    ).toEqual({
      qos: 1,
      properties: {
        contentType: 'application/json',
        userProperties: {
          'x-switchyard-id': 'id-1',
          'x-switchyard-published': '1700000000000',
          tenant: 'acme',
          'x-switchyard-key': 'k',
        },
        correlationData: Buffer.from('c-1'),
        responseTopic: 'r',
        messageExpiryInterval: 9,
      },
    });
    expect(publishOptions(message({}), 4, undefined)).toEqual({ qos: 1 });
    expect(publishOptions(message({}), 5, 60).properties?.messageExpiryInterval).toBe(60);
  });
});
