// Interop with programs that are not Switchyard: MQTT.js used directly, and Mosquitto's own
// mosquitto_sub / mosquitto_pub. A Switchyard message is a plain MQTT 5 message (raw payload, the
// facts in PUBLISH properties and user properties), and a plain message is consumed as it is.

import { type Broker, connect, type Message } from '@switchyard/core';
import { ID_PROPERTY } from '@switchyard/mqtt';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freshTopic, MQTT_URL, spawnClient } from './mqtt-helpers.js';

let broker: Broker;
let plain: MqttClient;

beforeAll(async () => {
  broker = await connect(`${MQTT_URL}?clientIdPrefix=interop-${process.pid}-`);
  plain = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5 });
});
afterAll(async () => {
  await broker?.close();
  await plain?.endAsync();
});

async function receiveAll(consumer: Awaited<ReturnType<Broker['consumer']>>, n: number): Promise<Message[]> {
  const got: Message[] = [];
  const deadline = Date.now() + 15_000;
  while (got.length < n && Date.now() < deadline) {
    for (const m of await consumer.receive({ max: n - got.length, waitMs: 1_000 })) {
      await m.ack();
      got.push(m);
    }
  }
  return got;
}

it('a plain MQTT.js message (binary payload, MQTT 5 properties) is consumed as it is', async () => {
  const topic = freshTopic('plain-in');
  const consumer = await broker.consumer(topic, { group: 'g', filter: { routingKeys: ['orders.*'] } });
  const body = Buffer.from([0x00, 0xff, 0x10, 0x80, 0xfe]);
  await plain.publishAsync(`${topic}/orders/created`, body, {
    qos: 1,
    properties: {
      userProperties: { label: 'ünï', attempt: '3' },
      contentType: 'application/octet-stream',
      correlationData: Buffer.from('corr-7'),
      responseTopic: 'replies/7',
      messageExpiryInterval: 600,
    },
  });
  // QoS 0 from a plain client arrives too (nothing to acknowledge).
  await plain.publishAsync(`${topic}/orders/other`, 'qos0', { qos: 0 });
  await plain.publishAsync(`${topic}/invoices/created`, 'not matched', { qos: 1 });
  const [m, second] = await receiveAll(consumer, 2);
  expect(Buffer.from(m!.body).equals(body)).toBe(true);
  expect(m!.contentType).toBe('application/octet-stream');
  expect(m!.routingKey).toBe('orders.created');
  expect(m!.deliveryAttempt).toBe(1);
  expect(m!.key).toBeUndefined();
  expect(m!.headers).toMatchObject({
    label: 'ünï',
    attempt: '3',
    'correlation-id': 'corr-7',
    'reply-to': 'replies/7',
  });
  expect(Number(m!.headers['message-expiry-interval'])).toBeGreaterThan(0);
  expect(second!.text()).toBe('qos0');
  expect(second!.routingKey).toBe('orders.other');
  expect(await consumer.receive({ waitMs: 300 })).toEqual([]);
});

it('a plain MQTT.js subscriber reads a Switchyard message as a raw payload with its facts in properties', async () => {
  const topic = freshTopic('plain-out');
  const seen = new Promise<IPublishPacket>((resolve) =>
    plain.on('message', (t, _payload, packet) => {
      if (t.startsWith(topic)) resolve(packet);
    }),
  );
  await plain.subscribeAsync(`${topic}/#`, { qos: 1 });
  const producer = await broker.producer(topic);
  await producer.send({
    body: { order: 7 },
    key: 'order-7',
    routingKey: 'eu.paris',
    headers: { tenant: 'acme', 'correlation-id': 'c-1', 'reply-to': 'replies/acme' },
    id: 'msg-1',
  });
  const packet = await seen;
  expect(packet.topic).toBe(`${topic}/eu/paris`);
  expect(JSON.parse(packet.payload.toString())).toEqual({ order: 7 });
  expect(packet.qos).toBe(1);
  expect(packet.properties?.contentType).toBe('application/json');
  expect(packet.properties?.correlationData?.toString()).toBe('c-1');
  expect(packet.properties?.responseTopic).toBe('replies/acme');
  expect(packet.properties?.userProperties).toMatchObject({
    tenant: 'acme',
    [ID_PROPERTY]: 'msg-1',
    'x-switchyard-key': 'order-7',
  });
  await plain.unsubscribeAsync(`${topic}/#`);
});

it('mosquitto_sub sees what Switchyard publishes: topic, payload, content type and user properties', async () => {
  const topic = freshTopic('sub');
  const sub = spawnClient('mosquitto_sub', [
    '-V',
    '5',
    '-q',
    '1',
    '-d',
    '-t',
    `${topic}/#`,
    '-C',
    '2',
    '-F',
    'MSG|%t|%p|%C|%R|%P',
  ]);
  try {
    await sub.waitFor(/Client .* received SUBACK/);
    const producer = await broker.producer(topic);
    await producer.send([
      { body: 'hello mosquitto', headers: { tenant: 'acme', 'reply-to': 'back' } },
      { body: 'keyed', routingKey: 'a.b' },
    ]);
    expect(await sub.exited).toBe(0);
  } finally {
    sub.child.kill();
  }
  const messages = sub.lines.filter((l) => l.startsWith('MSG|')).map((l) => l.split('|'));
  expect(messages).toHaveLength(2);
  const [first, second] = messages;
  expect(first!.slice(1, 5)).toEqual([topic, 'hello mosquitto', 'text/plain; charset=utf-8', 'back']);
  expect(first![5]).toContain('tenant:acme');
  expect(first![5]).toContain(`${ID_PROPERTY}:`);
  expect(second!.slice(1, 3)).toEqual([`${topic}/a/b`, 'keyed']);
});

it('Switchyard consumers of one group share what mosquitto_pub sends; another group gets it all', async () => {
  const topic = freshTopic('pub');
  const group = 'workers';
  const a = await broker.consumer(topic, { group, prefetch: 5 });
  const other = await connect(`${MQTT_URL}?clientIdPrefix=interop-b-${process.pid}-`);
  try {
    const b = await other.consumer(topic, { group, prefetch: 5 });
    const audit = await broker.consumer(topic, { group: 'audit', prefetch: 50 });
    const n = 40;
    const lines = Array.from({ length: n }, (_, i) => `line-${i}`);
    const pub = spawnClient('mosquitto_pub', [
      '-V',
      '5',
      '-q',
      '1',
      '-t',
      topic,
      '-l',
      '-D',
      'publish',
      'user-property',
      'source',
      'mosquitto_pub',
    ]);
    pub.child.stdin!.end(`${lines.join('\n')}\n`);
    expect(await pub.exited).toBe(0);
    const byConsumer = { a: [] as string[], b: [] as string[] };
    const deadline = Date.now() + 20_000;
    while (byConsumer.a.length + byConsumer.b.length < n && Date.now() < deadline) {
      const [fromA, fromB] = await Promise.all([
        a.receive({ max: 10, waitMs: 200 }),
        b.receive({ max: 10, waitMs: 200 }),
      ]);
      for (const m of fromA) byConsumer.a.push(m.text());
      for (const m of fromB) byConsumer.b.push(m.text());
      await Promise.all([...fromA, ...fromB].map((m) => m.ack()));
      expect([...fromA, ...fromB].every((m) => m.headers.source === 'mosquitto_pub')).toBe(true);
    }
    const all = [...byConsumer.a, ...byConsumer.b];
    expect(all.sort()).toEqual([...lines].sort());
    expect(byConsumer.a.length).toBeGreaterThan(0);
    expect(byConsumer.b.length).toBeGreaterThan(0);
    const audited = await receiveAll(audit, n);
    expect(audited.map((m) => m.text()).sort()).toEqual([...lines].sort());
  } finally {
    await other.close();
  }
});
