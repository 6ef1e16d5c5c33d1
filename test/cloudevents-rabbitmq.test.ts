// CloudEvents over RabbitMQ, read and written by programs that are not Switchyard: a plain amqplib
// consumer finds Switchyard's binary-mode event in AMQP application headers under the AMQP
// binding's `cloudEvents_` prefix (datacontenttype as the content_type property) and the official
// SDK accepts those attributes as a valid CloudEvent; an SDK-made event published by amqplib
// (structured, and binary under the AMQP prefix) is read by Switchyard.

import { type Broker, cloudEvents, connect } from '@switchyard/core';
import amqp from 'amqplib';
import { CloudEvent, HTTP } from 'cloudevents';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

let test: TestVhost;
let plain: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;
let broker: Broker;

beforeAll(async () => {
  test = await createTestVhost('cloudevents');
  plain = await amqp.connect(test.url);
  channel = await plain.createConfirmChannel();
  broker = await connect(test.url);
});
afterAll(async () => {
  await broker?.close();
  await plain?.close().catch(() => {});
  await test?.cleanup();
});

const event = {
  id: 'order-42',
  source: '/shop/orders',
  type: 'com.example.order.placed',
  subject: 'order/42',
  time: '2026-12-06T06:00:00.000Z',
  tenant: 'acme',
  data: { order: 42 },
};

function publish(exchange: string, body: Buffer, options: amqp.Options.Publish) {
  return new Promise<void>((resolve, reject) =>
    channel.publish(exchange, 'ce', body, options, (e) => (e ? reject(e) : resolve())),
  );
}

it('a plain AMQP consumer reads a binary-mode event under cloudEvents_, and the SDK validates it', async () => {
  const producer = await broker.producer('ce-out');
  const q = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(q.queue, 'ce-out', '#');
  const received = new Promise<amqp.ConsumeMessage>((resolve) => {
    void channel.consume(q.queue, (msg) => msg && resolve(msg), { noAck: true });
  });
  const codec = cloudEvents(broker);
  expect(codec).toMatchObject({ mode: 'binary', prefix: 'cloudEvents_' });
  await producer.send(codec.toMessage(event));
  const msg = await received;
  expect(msg.properties.contentType).toBe('application/json');
  const headers = msg.properties.headers ?? {};
  const attributes: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('cloudEvents_')) attributes[name.slice('cloudEvents_'.length)] = String(value);
  }
  expect(attributes).toEqual({
    specversion: '1.0',
    id: 'order-42',
    source: '/shop/orders',
    type: 'com.example.order.placed',
    subject: 'order/42',
    time: '2026-12-06T06:00:00.000Z',
    tenant: 'acme',
  });
  const sdk = new CloudEvent({
    ...attributes,
    datacontenttype: msg.properties.contentType,
    data: JSON.parse(msg.content.toString()),
  } as ConstructorParameters<typeof CloudEvent>[0]);
  expect(sdk.validate()).toBe(true);
  expect(sdk.data).toEqual({ order: 42 });
});

it('Switchyard reads SDK-made events a plain AMQP client publishes, structured and binary', async () => {
  const consumer = await broker.consumer('ce-in', { group: 'g' });
  const codec = cloudEvents(broker);
  const sdkEvent = new CloudEvent({ ...event, datacontenttype: 'application/json' });
  const structured = HTTP.structured(sdkEvent);
  await publish('ce-in', Buffer.from(String(structured.body)), {
    contentType: String((structured.headers as Record<string, string>)['content-type']),
  });
  // Binary under the AMQP binding's older `cloudEvents:` prefix, as other AMQP SDKs still write.
  const amqpHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(sdkEvent.toJSON())) {
    if (name !== 'data' && name !== 'datacontenttype' && value !== undefined)
      amqpHeaders[`cloudEvents:${name}`] = String(value);
  }
  await publish('ce-in', Buffer.from(JSON.stringify(event.data)), {
    contentType: 'application/json',
    headers: amqpHeaders,
  });
  const got = await consumer.receive({ max: 2, waitMs: 5_000 });
  if (got.length < 2) got.push(...(await consumer.receive({ waitMs: 5_000 })));
  expect(got).toHaveLength(2);
  for (const m of got) {
    expect(codec.fromMessage(m)).toMatchObject({
      specversion: '1.0',
      id: 'order-42',
      source: '/shop/orders',
      type: 'com.example.order.placed',
      tenant: 'acme',
      data: { order: 42 },
    });
    await m.ack();
  }
});
