// Interop with plain AMQP clients (amqplib used directly, no Switchyard): a plain message is
// consumed as it is, and a Switchyard message is read by a plain client as its raw body with its
// facts in AMQP properties, not inside a wrapper.

import { type Broker, connect } from '@switchyard/core';
import { KEY_HEADER } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

let test: TestVhost;
let plain: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;
let broker: Broker;

beforeAll(async () => {
  test = await createTestVhost('interop');
  plain = await amqp.connect(test.url);
  channel = await plain.createConfirmChannel();
  broker = await connect(test.url);
});
afterAll(async () => {
  await broker?.close();
  await plain?.close().catch(() => {});
  await test?.cleanup();
});

function publish(exchange: string, routingKey: string, body: Buffer, options: amqp.Options.Publish = {}) {
  return new Promise<void>((resolve, reject) =>
    channel.publish(exchange, routingKey, body, options, (e) => (e ? reject(e) : resolve())),
  );
}

it('a plain AMQP message (no Switchyard headers, binary body) is consumed as it is', async () => {
  const consumer = await broker.consumer('plain-in', { group: 'g', filter: { routingKeys: ['orders.*'] } });
  const body = Buffer.from([0x00, 0xff, 0x10, 0x80, 0xfe]);
  await publish('plain-in', 'orders.created', body, {
    headers: { attempt: 3, flag: true, label: 'ünï', nested: { a: 1 } },
    correlationId: 'corr-7',
    replyTo: 'replies',
  });
  await publish('plain-in', 'orders.created', Buffer.from('second'));
  const got = await consumer.receive({ max: 2, waitMs: 5_000 });
  if (got.length < 2) got.push(...(await consumer.receive({ waitMs: 5_000 })));
  const [m, second] = got;
  expect(Buffer.from(m!.body).equals(body)).toBe(true);
  expect(m!.contentType).toBeUndefined();
  expect(m!.routingKey).toBe('orders.created');
  expect(m!.deliveryAttempt).toBe(1);
  expect(m!.key).toBeUndefined();
  expect(m!.headers).toEqual({
    attempt: '3',
    flag: 'true',
    label: 'ünï',
    nested: '{"a":1}',
    'correlation-id': 'corr-7',
    'reply-to': 'replies',
  });
  // No message id on the wire: each delivery gets a handle of its own, never one from the content.
  expect(m!.id).toMatch(/^amqp-/);
  expect(second!.id).not.toBe(m!.id);
  await m!.nack();
  await second!.ack();
  const [again] = await consumer.receive({ waitMs: 5_000 });
  expect(Buffer.from(again!.body).equals(body)).toBe(true);
  expect(again!.deliveryAttempt).toBe(2);
  await again!.ack();
  // The redelivery was checkpointed: a copy that carries the count, keeping the routing key.
  expect(again!.routingKey).toBe('orders.created');
  expect(again!.unwrap<amqp.ConsumeMessage>().properties.headers?.['x-switchyard-attempts']).toBe('1');
});

it('a Switchyard message reads as its raw body with AMQP properties in a plain consumer', async () => {
  // Topology first (the producer declares the exchange), then a plain queue bound to it.
  const producer = await broker.producer('plain-out');
  const q = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(q.queue, 'plain-out', '#');
  const received = new Promise<amqp.ConsumeMessage>((resolve) => {
    void channel.consume(q.queue, (msg) => msg && resolve(msg), { noAck: true });
  });
  const before = Math.floor(Date.now() / 1000);
  await producer.send({
    body: { order: 42 },
    id: 'order-42',
    key: 'customer-9',
    routingKey: 'orders.paid',
    headers: { 'x-tenant': 'acme', 'correlation-id': 'c-42' },
  });
  const msg = await received;
  expect(msg.content.toString()).toBe('{"order":42}');
  expect(msg.fields.routingKey).toBe('orders.paid');
  expect(msg.properties).toMatchObject({
    messageId: 'order-42',
    contentType: 'application/json',
    correlationId: 'c-42',
    deliveryMode: 2,
  });
  expect(msg.properties.timestamp).toBeGreaterThanOrEqual(before);
  expect(msg.properties.headers).toEqual({ 'x-tenant': 'acme', [KEY_HEADER]: 'customer-9' });
});

it('a producer can target a queue through the default exchange, and a consumer can read any queue', async () => {
  await channel.assertQueue('jobs', { durable: true });
  const producer = await broker.producer('jobs', { driverOptions: { queue: true } });
  await producer.send('job-1');
  const got = await channel.get('jobs', { noAck: true });
  expect(got === false ? undefined : got.content.toString()).toBe('job-1');

  await publish('', 'jobs', Buffer.from('job-2'));
  const consumer = await broker.consumer('jobs', { driverOptions: { queue: 'jobs', bind: false } });
  const [m] = await consumer.receive({ waitMs: 5_000 });
  expect(m!.text()).toBe('job-2');
  expect(m!.routingKey).toBeUndefined();
  await m!.ack();
});

it('a delayed message reaches a plain consumer with its body and routing key intact', async () => {
  const producer = await broker.producer('plain-delay');
  const q = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(q.queue, 'plain-delay', 'k.#');
  const received = new Promise<amqp.ConsumeMessage>((resolve) => {
    void channel.consume(q.queue, (msg) => msg && resolve(msg), { noAck: true });
  });
  const sentAt = Date.now();
  await producer.send({ body: 'later', routingKey: 'k.1', delayMs: 300 });
  const msg = await received;
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(290);
  expect(msg.content.toString()).toBe('later');
  expect(msg.fields.routingKey).toBe('k.1');
  // The driver publishes it to the exchange when its delay ends (the quorum delay levels end in
  // its due queue), so it arrives as sent: from that exchange, without the delay headers.
  expect(msg.fields.exchange).toBe('plain-delay');
  expect(Object.keys(msg.properties.headers ?? {}).filter((h) => h.startsWith('switchyard-delay-'))).toEqual(
    [],
  );
});

it("a plain consumer of a group's queue shares the group's work with a Switchyard consumer", async () => {
  const consumer = await broker.consumer('mixed', { group: 'billing', prefetch: 1 });
  // The group's queue is `<exchange>.<group>`: a plain worker joins the group by consuming it.
  const worker = await plain.createChannel();
  await worker.prefetch(1);
  const total = 40;
  const plainGot: string[] = [];
  const switchyardGot: string[] = [];
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const count = () => plainGot.length + switchyardGot.length >= total && finish();
  await worker.consume(
    'mixed.billing',
    (msg) => {
      if (msg === null) return;
      plainGot.push(msg.content.toString());
      worker.ack(msg);
      count();
    },
    { noAck: false },
  );
  const running = consumer.run(async (m) => {
    switchyardGot.push(m.text());
    count();
  });
  const producer = await broker.producer('mixed');
  const sent = Array.from({ length: total }, (_, i) => `invoice-${i}`);
  await producer.send(sent.map((body) => ({ body, routingKey: 'invoice.created' })));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    finished,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`stuck at ${plainGot.length + switchyardGot.length}`)),
        20_000,
      );
    }),
  ]);
  clearTimeout(timer);
  await consumer.close();
  await running;
  expect([...plainGot, ...switchyardGot].sort()).toEqual([...sent].sort());
  expect(plainGot.length).toBeGreaterThan(0);
  expect(switchyardGot.length).toBeGreaterThan(0);
  await worker.close();
  expect((await channel.checkQueue('mixed.billing')).messageCount).toBe(0);
});
