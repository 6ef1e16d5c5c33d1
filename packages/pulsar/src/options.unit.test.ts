import { outgoing as plainOutgoing } from '@switchyard/conformance/outgoing';
import type { DriverConsumerOptions, Outgoing } from '@switchyard/core/driver';
import { describe, expect, it } from 'vitest';
import { FakePulsarBroker } from '../test-kit/fake-pulsar.js';
import { parseConfig } from './config.js';
import { CONTENT_TYPE_PROPERTY, toDelivery, toProducerMessage } from './messages.js';
import { clientConfig, compatibleSubscriptionType, consumerConfig, producerConfig } from './options.js';

const base = { serviceUrl: 'pulsar://h:6650', cluster: 'pulsar-abc', namespace: 'ns' };
const consumerOptions = (extra: Partial<DriverConsumerOptions> = {}): DriverConsumerOptions => ({
  group: 'billing',
  filter: {},
  prefetch: 32,
  visibilityTimeoutMs: undefined,
  startFrom: undefined,
  deadLetter: undefined,
  driverOptions: {},
  ...extra,
});
const outgoing = (extra: Partial<Outgoing> = {}): Outgoing =>
  plainOutgoing({
    body: new TextEncoder().encode('hello'),
    contentType: 'text/plain; charset=utf-8',
    headers: { 'x-order': '42' },
    publishedAt: 1_700_000_000_000,
    ...extra,
  });

describe('option translation (unit)', () => {
  it('client: service URL, token authentication, timeouts, TLS trust store', () => {
    const fake = new FakePulsarBroker();
    const config = parseConfig({ ...base, token: 'tok-123456', tlsTrustCertsFilePath: '/etc/ca.pem' });
    const client = clientConfig(config, fake.module);
    expect(client).toMatchObject({
      serviceUrl: 'pulsar://h:6650',
      operationTimeoutSeconds: 30,
      connectionTimeoutMs: 10_000,
      tlsTrustCertsFilePath: '/etc/ca.pem',
    });
    expect(client.authentication).toBeInstanceOf(fake.module.AuthenticationToken);
    expect(JSON.stringify(client)).not.toContain('tok-123456');
    expect(clientConfig(parseConfig(base), fake.module).authentication).toBeUndefined();
  });

  it('producer: batching on by default, key-based batches for Key_Shared, never blocking', () => {
    expect(producerConfig('persistent://a/b/c', parseConfig(base))).toEqual({
      topic: 'persistent://a/b/c',
      sendTimeoutMs: 30_000,
      blockIfQueueFull: false,
      maxPendingMessages: 10_000,
      batchingEnabled: true,
      batchingMaxPublishDelayMs: 10,
      batchingMaxMessages: 1_000,
      batchingType: 'DefaultBatching',
    });
    const keyShared = parseConfig({ ...base, subscriptionType: 'KeyShared', batching: false });
    expect(producerConfig('t', keyShared)).toMatchObject({
      batchingEnabled: false,
      batchingType: 'KeyBasedBatching',
    });
  });

  it('consumer: group → subscription, type, initial position, nack delay, receiver queue', () => {
    const config = parseConfig({ ...base, nackRedeliveryMs: 250 });
    expect(consumerConfig('persistent://pulsar-abc/ns/t', consumerOptions(), config)).toEqual({
      topic: 'persistent://pulsar-abc/ns/t',
      subscription: 'billing',
      subscriptionType: 'Shared',
      subscriptionInitialPosition: 'Latest',
      ackTimeoutMs: 0,
      nAckRedeliverTimeoutMs: 250,
      receiverQueueSize: 32,
    });
    expect(
      consumerConfig('t', consumerOptions({ startFrom: 'earliest' }), config).subscriptionInitialPosition,
    ).toBe('Earliest');
    expect(
      consumerConfig('t', consumerOptions({ startFrom: 'latest' }), config).subscriptionInitialPosition,
    ).toBe('Latest');
  });

  it('consumer: startFrom a Date is refused with UNSUPPORTED and the reason', () => {
    expect(() => consumerConfig('t', consumerOptions({ startFrom: new Date() }), parseConfig(base))).toThrow(
      expect.objectContaining({
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/'earliest' or 'latest'/),
      }),
    );
  });

  it('consumer: visibility timeout → ackTimeoutMs, at least the client minimum of 10 s', () => {
    const config = parseConfig(base);
    expect(consumerConfig('t', consumerOptions({ visibilityTimeoutMs: 15_000 }), config).ackTimeoutMs).toBe(
      15_000,
    );
    expect(() => consumerConfig('t', consumerOptions({ visibilityTimeoutMs: 5_000 }), config)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/at least 10000 ms/),
      }),
    );
  });

  it('consumer: maxDeliveries → deadLetterPolicy with maxDeliveries − 1 redeliveries, qualified topic', () => {
    const config = parseConfig(base);
    const native = consumerConfig(
      't',
      consumerOptions({ deadLetter: { maxDeliveries: 3, destination: 'orders-dlq' } }),
      config,
    );
    expect(native.deadLetterPolicy).toEqual({
      deadLetterTopic: 'persistent://pulsar-abc/ns/orders-dlq',
      maxRedeliverCount: 2,
    });
    // 0 would switch the client's policy off: one delivery is left to the portable layer.
    const once = consumerConfig(
      't',
      consumerOptions({ deadLetter: { maxDeliveries: 1, destination: 'd' } }),
      config,
    );
    expect(once.deadLetterPolicy).toBeUndefined();
  });

  it('consumer: driverOptions may pick a subscription type that keeps the capabilities', () => {
    const shared = parseConfig(base);
    expect(
      consumerConfig('t', consumerOptions({ driverOptions: { subscriptionType: 'KeyShared' } }), shared)
        .subscriptionType,
    ).toBe('KeyShared');
    expect(() =>
      consumerConfig('t', consumerOptions({ driverOptions: { subscriptionType: 'Failover' } }), shared),
    ).toThrow(/driverOptions\.subscriptionType Failover does not keep the capabilities/);
    expect(() => consumerConfig('t', consumerOptions({ driverOptions: { bogus: 1 } }), shared)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/bogus/) }),
    );
    expect(compatibleSubscriptionType('KeyShared', 'Shared')).toBe(false);
    expect(compatibleSubscriptionType('Failover', 'Exclusive')).toBe(true);
  });

  it('messages: headers → properties, key → partitionKey, orderingKey, delayMs → deliverAfter', () => {
    const message = toProducerMessage(
      outgoing({ key: 'order-7', orderingKey: 'customer-1', delayMs: 1_500 }),
    );
    expect(message).toEqual({
      data: Buffer.from('hello'),
      // Text the body itself tells: no bookkeeping property for a plain consumer to see.
      properties: { 'x-order': '42' },
      eventTimestamp: 1_700_000_000_000,
      partitionKey: 'order-7',
      orderingKey: 'customer-1',
      deliverAfter: 1_500,
    });
    const plain = toProducerMessage(outgoing());
    expect(plain).not.toHaveProperty('deliverAfter');
    expect(plain).not.toHaveProperty('partitionKey');
    // A content type the body does not tell still travels, so it reads back the same.
    const json = toProducerMessage(outgoing({ contentType: 'application/json' }));
    expect(json.properties).toEqual({ 'x-order': '42', [CONTENT_TYPE_PROPERTY]: 'application/json' });
  });

  it('deliveries: properties → headers, empty keys → undefined, redelivery count → attempt when counted', async () => {
    const fake = new FakePulsarBroker();
    const client = new fake.module.Client({ serviceUrl: 'pulsar://h:6650' });
    const consumer = await client.subscribe({ topic: 't', subscription: 's', subscriptionType: 'Shared' });
    const producer = await client.createProducer({ topic: 't' });
    await producer.send(toProducerMessage(outgoing({ key: 'k' })));
    const native = await consumer.receive();
    const delivery = toDelivery(native, true);
    expect(delivery).toMatchObject({
      id: native.getMessageId().toString(),
      contentType: 'text/plain; charset=utf-8',
      headers: { 'x-order': '42' },
      key: 'k',
      orderingKey: undefined,
      tags: [],
      deliveryAttempt: 1,
      publishedAt: 1_700_000_000_000,
    });
    expect(new TextDecoder().decode(delivery.body)).toBe('hello');
    expect(toDelivery(native, false).deliveryAttempt).toBeUndefined();
    await client.close();
  });
});
