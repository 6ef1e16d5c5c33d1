// The driver through the portable API (connect, producer, consumer) with the fake pulsar-client
// injected as `pulsarClient`. Unit tests: they prove the translation and the driver's own logic
// (batches, holds, close), not a broker; the conformance suite does that against a real Pulsar.

import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { type Broker, connect, type Message } from '@switchyard/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeBrokerOptions, FakePulsarBroker } from '../test-kit/fake-pulsar.js';
import type { PulsarConfigInput } from './config.js';
import type { PulsarNative } from './driver.js';

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.driver-unit-role-token.c2ln';
const opened: Broker[] = [];
const fakes: FakePulsarBroker[] = [];

async function open(
  extra: Partial<PulsarConfigInput> & { retry?: Record<string, number> } = {},
  fakeOptions: FakeBrokerOptions = {},
): Promise<{ broker: Broker; fake: FakePulsarBroker }> {
  const fake = new FakePulsarBroker(fakeOptions);
  fakes.push(fake);
  const broker = await connect({
    driver: 'pulsar',
    serviceUrl: 'pulsar://127.0.0.1:6650',
    cluster: 'pulsar-unit',
    namespace: 'ns',
    nackRedeliveryMs: 100,
    pulsarClient: fake.module,
    ...extra,
  });
  opened.push(broker);
  return { broker, fake };
}

async function take(consumer: { receive(o: object): Promise<Message[]> }, n: number, ms = 3_000) {
  const out: Message[] = [];
  const deadline = Date.now() + ms;
  while (out.length < n && Date.now() < deadline) {
    out.push(...(await consumer.receive({ max: n - out.length, waitMs: 200 })));
  }
  return out;
}

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
  for (const fake of fakes.splice(0)) fake.stop();
});

describe('pulsar driver with an injected client (unit)', () => {
  it('sends to persistent://cluster/namespace/topic with properties, key and event time', async () => {
    const { broker, fake } = await open();
    const consumer = await broker.consumer('orders', { group: 'billing' });
    const producer = await broker.producer('orders');
    const receipt = await producer.send({ body: { id: 7 }, key: 'order-7', headers: { source: 'unit' } });
    expect(fake.producerConfigs[0]?.topic).toBe('persistent://pulsar-unit/ns/orders');
    expect(fake.consumerConfigs[0]).toMatchObject({ subscription: 'billing', subscriptionType: 'Shared' });
    const [m] = await take(consumer, 1);
    expect(m!.json()).toEqual({ id: 7 });
    expect(m!.key).toBe('order-7');
    expect(m!.headers).toEqual({ source: 'unit' });
    expect(m!.contentType).toBe('application/json');
    expect(m!.id).toBe(receipt.messageId);
    expect(m!.deliveryAttempt).toBe(1);
    await m!.ack();
    expect(broker.unwrap<PulsarNative>().qualify('x')).toBe('persistent://pulsar-unit/ns/x');
  });

  it('hands a batch to the client in one go and collects what is buffered in one receive', async () => {
    const { broker } = await open();
    const consumer = await broker.consumer('bulk', { group: 'g', prefetch: 50 });
    const producer = await broker.producer('bulk');
    const receipts = await producer.send(Array.from({ length: 20 }, (_, i) => `m-${i}`));
    expect(new Set(receipts.map((r) => r.messageId)).size).toBe(20);
    const got = await take(consumer, 20);
    expect(got.map((m) => m.text())).toEqual(Array.from({ length: 20 }, (_, i) => `m-${i}`));
    await Promise.all(got.map((m) => m.ack()));
  });

  it('delayMs becomes deliverAfter: the message is held until it is due', async () => {
    const { broker, fake } = await open();
    const consumer = await broker.consumer('later', { group: 'g' });
    const producer = await broker.producer('later');
    const sentAt = Date.now();
    await producer.send([{ body: 'late', delayMs: 400 }, { body: 'now' }]);
    expect(fake.sent.map((s) => s.deliverAfter)).toEqual([400, undefined]);
    const [first] = await take(consumer, 1);
    expect(first!.text()).toBe('now');
    await first!.ack();
    const [late] = await take(consumer, 1);
    expect(late!.text()).toBe('late');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(390);
    await late!.ack();
  });

  it('nack → negativeAcknowledge: redelivered after nackRedeliveryMs with the next attempt number', async () => {
    const { broker, fake } = await open();
    const consumer = await broker.consumer('retry', { group: 'g' });
    const producer = await broker.producer('retry');
    await producer.send('again');
    expect(fake.consumerConfigs[0]?.nAckRedeliverTimeoutMs).toBe(100);
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = await take(consumer, 1);
      attempts.push(m!.deliveryAttempt);
      if (i < 2) await m!.nack();
      else await m!.ack();
    }
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('nack({ delayMs }) is held by the portable layer, then nacked', async () => {
    const { broker } = await open();
    const consumer = await broker.consumer('nack-delay', { group: 'g' });
    const producer = await broker.producer('nack-delay');
    await producer.send('slow');
    const [m] = await take(consumer, 1);
    const nackedAt = Date.now();
    await m!.nack({ delayMs: 500 });
    const [again] = await take(consumer, 1, 5_000);
    expect(again!.text()).toBe('slow');
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(500);
    await again!.ack();
  });

  it('maxDeliveries sets the client dead-letter policy, and a failing handler ends in the DLQ topic', async () => {
    const { broker, fake } = await open();
    const dlq = await broker.consumer('poison-dlq', { group: 'dlq-reader' });
    const consumer = await broker.consumer('poison', {
      group: 'g',
      maxDeliveries: 3,
      deadLetter: 'poison-dlq',
      retry: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    expect(fake.consumerConfigs.at(-1)?.deadLetterPolicy).toEqual({
      deadLetterTopic: 'persistent://pulsar-unit/ns/poison-dlq',
      maxRedeliverCount: 2,
    });
    await (await broker.producer('poison')).send({ body: 'bad', headers: { case: 'poison' } });
    const attempts: number[] = [];
    const stop = new AbortController();
    const run = consumer.run(
      (m) => {
        attempts.push(m.deliveryAttempt);
        throw new Error('cannot parse');
      },
      { signal: stop.signal },
    );
    const [dead] = await take(dlq, 1, 8_000);
    stop.abort();
    await run;
    expect(dead!.text()).toBe('bad');
    expect(dead!.headers.case).toBe('poison');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('a message nacked past maxRedeliverCount is dead-lettered by the client itself', async () => {
    const { broker } = await open();
    const dlq = await broker.consumer('manual-dlq', { group: 'dlq-reader' });
    const consumer = await broker.consumer('manual', {
      group: 'g',
      maxDeliveries: 2,
      deadLetter: 'manual-dlq',
    });
    await (await broker.producer('manual')).send('twice');
    for (let i = 0; i < 2; i++) {
      const [m] = await take(consumer, 1);
      expect(m!.deliveryAttempt).toBe(i + 1);
      await m!.nack();
    }
    const [dead] = await take(dlq, 1);
    expect(dead!.text()).toBe('twice');
    expect(dead!.headers.REAL_TOPIC).toBe('persistent://pulsar-unit/ns/manual');
    expect(await consumer.receive({ waitMs: 300 })).toHaveLength(0);
  });

  it('Key_Shared: key-based batching, and a nacked message still comes before later ones of its key', async () => {
    const { broker, fake } = await open({ subscriptionType: 'KeyShared' });
    expect(broker.capabilities.orderingKeys).toBe(true);
    const consumer = await broker.consumer('ordered', {
      group: 'g',
      ordered: true,
      retry: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    const producer = await broker.producer('ordered');
    expect(fake.producerConfigs[0]?.batchingType).toBe('KeyBasedBatching');
    await producer.send([0, 1, 2, 3].map((i) => ({ body: String(i), orderingKey: 'same' })));
    expect(fake.sent.map((s) => s.orderingKey)).toEqual(['same', 'same', 'same', 'same']);
    const seen: string[] = [];
    let failed = false;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 8_000);
    await consumer.run(
      (m) => {
        if (m.text() === '1' && !failed) {
          failed = true;
          throw new Error('fail once');
        }
        seen.push(m.text());
        if (seen.length === 4) stop.abort();
      },
      { signal: stop.signal, concurrency: 4 },
    );
    clearTimeout(timer);
    expect(seen).toEqual(['0', '1', '2', '3']);
  });

  it('Failover: deliveryAttempt is counted by the portable layer (the broker reports 0)', async () => {
    const { broker } = await open({ subscriptionType: 'Failover' });
    expect(broker.capabilities.deliveryAttempt).toBe('process');
    const consumer = await broker.consumer('fo', { group: 'g' });
    await (await broker.producer('fo')).send('x');
    const [first] = await take(consumer, 1);
    await first!.nack();
    const [second] = await take(consumer, 1);
    expect([first!.deliveryAttempt, second!.deliveryAttempt]).toEqual([1, 2]);
    await second!.ack();
  });

  it('startFrom earliest gives a new subscription the messages sent before it', async () => {
    const { broker, fake } = await open();
    await (await broker.producer('history')).send(['old-1', 'old-2']);
    const late = await broker.consumer('history', { group: 'late', startFrom: 'earliest' });
    expect(fake.consumerConfigs.at(-1)?.subscriptionInitialPosition).toBe('Earliest');
    expect((await take(late, 2)).map((m) => m.text())).toEqual(['old-1', 'old-2']);
    const fresh = await broker.consumer('history', { group: 'fresh' });
    expect(await fresh.receive({ waitMs: 200 })).toHaveLength(0);
  });

  it('maps client errors: NOT_FOUND on a missing topic, retries a full queue, UNAUTHENTICATED without leaking the token', async () => {
    const { broker: strict } = await open({}, { autoCreateTopics: false });
    await expect(strict.producer('nosuch')).rejects.toMatchObject({ code: 'NOT_FOUND', driver: 'pulsar' });

    const { broker, fake } = await open({ retry: { initialDelayMs: 5, maxDelayMs: 10, deadlineMs: 2_000 } });
    const producer = await broker.producer('busy');
    fake.failNext('send', 'ProducerQueueIsFull', 2);
    await expect(producer.send('eventually')).resolves.toHaveProperty('messageId');
    fake.failNext('send', 'MessageTooBig');
    await expect(producer.send('x')).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE', retryable: false });

    const { broker: wrong } = await open({ token: TOKEN }, { token: 'the-right-token' });
    const error = (await wrong.producer('t').catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', retryable: false });
    expect(error.message).toMatch(/AuthenticationError/);
    for (const text of [error.message, inspect(error), JSON.stringify(error), inspect(wrong.unwrap())]) {
      expect(text).not.toContain('driver-unit-role-token');
    }
  });

  it('a visibility timeout under 10 s is refused before subscribing', async () => {
    const { broker } = await open();
    await expect(broker.consumer('t', { visibilityTimeoutMs: 2_000 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/at least 10000 ms/),
    });
  });

  it('closing a consumer loses nothing: un-acked and buffered messages go to the next consumer', async () => {
    const { broker } = await open();
    const first = await broker.consumer('drain', { group: 'g', prefetch: 4 });
    await (await broker.producer('drain')).send(Array.from({ length: 10 }, (_, i) => `d-${i}`));
    const handled = new Set<string>();
    for (const m of await take(first, 3)) {
      handled.add(m.text());
      await m.ack();
    }
    const [unacked] = await take(first, 1);
    expect(unacked).toBeDefined();
    await first.close({ timeoutMs: 1_000 });
    await expect(unacked!.ack()).rejects.toMatchObject({ code: 'CLOSED' });
    const second = await broker.consumer('drain', { group: 'g' });
    for (const m of await take(second, 10 - handled.size)) {
      handled.add(m.text());
      await m.ack();
    }
    expect(handled.size).toBe(10);
  });

  it('broker.close() drains running handlers, flushes their acks and closes the client', async () => {
    const { broker, fake } = await open();
    const consumer = await broker.consumer('shutdown', { group: 'g', concurrency: 2 });
    await (await broker.producer('shutdown')).send(['a', 'b']);
    const finished: string[] = [];
    let started = 0;
    void consumer.run(async (m) => {
      started++;
      await sleep(100);
      finished.push(m.text());
    });
    while (started < 2) await sleep(5);
    await broker.close({ timeoutMs: 2_000 });
    expect(finished.sort()).toEqual(['a', 'b']);
    const other = new fake.module.Client({ serviceUrl: 'pulsar://x:1' });
    const again = await other.subscribe({
      topic: 'persistent://pulsar-unit/ns/shutdown',
      subscription: 'g',
      subscriptionType: 'Shared',
    });
    await expect(Promise.race([again.receive(), sleep(200).then(() => 'nothing')])).resolves.toBe('nothing');
    await other.close();
    await expect(broker.producer('after')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
