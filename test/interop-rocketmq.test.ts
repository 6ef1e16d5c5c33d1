// Switchyard and plain rocketmq-client-nodejs programs as two halves of one fleet, on the
// emulator's gRPC proxy: what one side writes the other reads exactly (bodies, ids, tag, every
// key, properties, message group), a raw SimpleConsumer and a Switchyard consumer in one group
// share a stream, and what Switchyard nacks or leaves unacked comes back to the raw consumer.

import { BINARY, type Broker, TEXT } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { CONTENT_TYPE_PROPERTY, OWN_GROUP_PROPERTY } from '@switchyard/rocketmq';
import { type MessageView, Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { within } from '../packages/emulator/test-kit/within.js';
import {
  connectTo,
  fullName,
  startTestEmulator,
  TEST_ROLE,
  TEST_TOKEN,
} from '../packages/rocketmq/test-kit/emulator.js';
import { DEADLINE_MS, receiveAll, shareStream } from './interop-support.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

let emulator: RunningEmulator;
const brokers: Broker[] = [];
const raw: { shutdown(): Promise<unknown> }[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 41 });
});

afterEach(async () => {
  await Promise.allSettled(brokers.splice(0).map((b) => b.close({ timeoutMs: 5_000 })));
  await Promise.allSettled(raw.splice(0).map((c) => c.shutdown()));
});

afterAll(async () => {
  // Every client's shutdown has reached the server before it stops (the deadline guards a hang).
  await within(emulator.telemetryClosed(), 10_000, 'RocketMQ clients to shut down');
  await emulator.stop();
});

/** What a program written from the RocketMQ 5 getting-started guide passes: full TDMQ names. */
function plainOptions() {
  return {
    endpoints: emulator.endpoints.rocketmq,
    namespace: '',
    sessionCredentials: { accessKey: TEST_TOKEN, accessSecret: TEST_ROLE },
    logger: quiet,
    requestTimeout: 5_000,
  };
}

async function plainProducer(topic: string): Promise<Producer> {
  const producer = new Producer({ ...plainOptions(), topics: [fullName(topic)] });
  raw.push(producer);
  await producer.startup();
  return producer;
}

async function plainConsumer(topic: string, group: string, expression = '*'): Promise<SimpleConsumer> {
  const consumer = new SimpleConsumer({
    ...plainOptions(),
    consumerGroup: fullName(group),
    subscriptions: new Map([[fullName(topic), expression]]),
    awaitDuration: 500,
  });
  raw.push(consumer);
  await consumer.startup();
  return consumer;
}

async function switchyard(): Promise<Broker> {
  const broker = await connectTo(emulator);
  brokers.push(broker);
  return broker;
}

/** A topic and a group that exist on the server, as the console would have made them. */
function topology(name: string, type: 'MIXED' | 'FIFO' = 'MIXED'): { topic: string; group: string } {
  const engine = emulator.engines.rocketmq;
  engine.createTopic(fullName(`${name}-t`), { type });
  engine.createGroup(fullName(`${name}-g`), { fifo: type === 'FIFO' });
  return { topic: `${name}-t`, group: `${name}-g` };
}

/** Raw receives (acking each unless told not to) until `done` says so or the deadline passes. */
async function rawReceive(
  consumer: SimpleConsumer,
  done: (got: MessageView[]) => boolean,
  options: { ack?: boolean; invisibleMs?: number } = {},
): Promise<MessageView[]> {
  const got: MessageView[] = [];
  const end = Date.now() + DEADLINE_MS;
  while (!done(got) && Date.now() < end) {
    for (const view of await consumer.receive(16, options.invisibleMs ?? 10_000)) {
      got.push(view);
      if (options.ack !== false) await consumer.ack(view);
    }
  }
  return got;
}

function progress(group: string, topic: string): { inflight: number; done: number; pending: number } {
  const state = emulator.engines.rocketmq.inspect() as {
    groups: { name: string; progress: Record<string, { inflight: number; done: number; pending: number }> }[];
  };
  const found = state.groups.find((g) => g.name === fullName(group))?.progress[fullName(topic)];
  return found ?? { inflight: 0, done: 0, pending: 0 };
}

const BYTES = new Uint8Array([0x00, 0xff, 0x80, 0x0a, 0x7f, 0xc3]);

describe('plain rocketmq-client-nodejs producer → Switchyard consumer', () => {
  it('reads body, id, tag, every key and every property exactly, and an ack sticks', async () => {
    const { topic, group } = topology('p2s');
    const broker = await switchyard();
    const consumer = await broker.consumer(topic, { group, prefetch: 4 });
    const producer = await plainProducer(topic);
    const text = await producer.send({
      topic: fullName(topic),
      tag: 'TagA',
      keys: ['order-1', 'user-7', 'trace-9'],
      properties: new Map([
        ['region', 'gz'],
        ['Content-Type', 'application/xml'],
      ]),
      body: Buffer.from('<order id="1">é</order>'),
    });
    const binary = await producer.send({ topic: fullName(topic), body: Buffer.from(BYTES) });

    const got = await receiveAll(consumer, 2);
    expect(got.map((m) => m.id).sort()).toEqual([text.messageId, binary.messageId].sort());
    const t = got.find((m) => m.id === text.messageId)!;
    expect(t.text()).toBe('<order id="1">é</order>');
    expect(t.tags).toEqual(['TagA']);
    expect(t.key).toBe('order-1');
    expect(t.keys).toEqual(['order-1', 'user-7', 'trace-9']);
    // Every property is a header, including one that looks like a content type: Switchyard
    // reads only its own reserved property for that.
    expect(t.headers).toEqual({ region: 'gz', 'Content-Type': 'application/xml' });
    expect(t.contentType).toBe(TEXT);
    expect(t.orderingKey).toBeUndefined();
    expect(t.deliveryAttempt).toBe(1);
    expect(t.publishedAt).toBeInstanceOf(Date);
    const b = got.find((m) => m.id === binary.messageId)!;
    expect([...b.body]).toEqual([...BYTES]);
    expect(b.contentType).toBe(BINARY);
    expect(b.tags).toEqual([]);
    expect(b.keys).toEqual([]);
    expect(b.key).toBeUndefined();
    expect(b.headers).toEqual({});

    await Promise.all(got.map((m) => m.ack()));
    await consumer.close();
    // Acked stays acked: the broker has both done for the group, nothing in flight or pending.
    expect(progress(group, topic)).toEqual({ inflight: 0, done: 2, pending: 0 });
    const again = await plainConsumer(topic, group);
    expect(await again.receive(16, 10_000)).toEqual([]);
  });

  it('a FIFO message group from a plain producer is the ordering key', async () => {
    const { topic, group } = topology('p2s-fifo', 'FIFO');
    const broker = await connectTo(emulator, { topicType: 'FIFO', fifoGroups: true });
    brokers.push(broker);
    const consumer = await broker.consumer(topic, { group });
    const producer = await plainProducer(topic);
    await producer.send({ topic: fullName(topic), messageGroup: 'account-1', body: Buffer.from('a') });
    const [m] = await receiveAll(consumer, 1);
    expect(m!.orderingKey).toBe('account-1');
    await m!.ack();
  });
});

describe('Switchyard producer → plain SimpleConsumer', () => {
  it('a text and a binary message arrive exactly, with no bookkeeping property', async () => {
    const { topic, group } = topology('s2p');
    const plain = await plainConsumer(topic, group);
    const broker = await switchyard();
    const producer = await broker.producer(topic);
    const [text, binary, json] = await producer.send([
      { body: 'héllo\nworld', tags: ['TagA'], keys: ['order-1', 'user-7'], headers: { region: 'gz' } },
      { body: BYTES, key: 'only-key' },
      { body: { n: 1 } },
    ]);
    const got = await rawReceive(plain, (g) => g.length >= 3);
    const byId = new Map(got.map((v) => [v.messageId, v]));
    expect([...byId.keys()].sort()).toEqual([text!.messageId, binary!.messageId, json!.messageId].sort());

    const t = byId.get(text!.messageId)!;
    expect(t.body.toString('utf8')).toBe('héllo\nworld');
    expect(t.tag).toBe('TagA');
    expect(t.keys).toEqual(['order-1', 'user-7']);
    expect(Object.fromEntries(t.properties)).toEqual({ region: 'gz' });
    expect(t.messageGroup ?? '').toBe('');
    expect(t.deliveryAttempt).toBe(1);
    expect(t.corrupted).toBeFalsy();

    const b = byId.get(binary!.messageId)!;
    expect([...b.body]).toEqual([...BYTES]);
    expect(b.keys).toEqual(['only-key']);
    expect(b.tag ?? '').toBe('');
    expect(Object.fromEntries(b.properties)).toEqual({});

    // A JSON body cannot be told from text by its bytes: that one property says what it is.
    const j = byId.get(json!.messageId)!;
    expect(JSON.parse(j.body.toString('utf8'))).toEqual({ n: 1 });
    expect(Object.fromEntries(j.properties)).toEqual({ [CONTENT_TYPE_PROPERTY]: 'application/json' });
  });

  it('on a FIFO topic the plain consumer sees the ordering key as the message group', async () => {
    const { topic, group } = topology('s2p-fifo', 'FIFO');
    const plain = await plainConsumer(topic, group);
    const broker = await connectTo(emulator, { topicType: 'FIFO', fifoGroups: true });
    brokers.push(broker);
    const producer = await broker.producer(topic);
    const [ordered, unordered] = await producer.send([
      { body: 'a', orderingKey: 'account-1' },
      { body: 'b', id: 'sy-id-2' },
    ]);
    const got = await rawReceive(plain, (g) => g.length >= 2);
    const o = got.find((v) => v.messageId === ordered!.messageId)!;
    expect(o.messageGroup).toBe('account-1');
    expect(Object.fromEntries(o.properties)).toEqual({});
    // A FIFO topic takes FIFO messages only: a message without an ordering key is its own group,
    // and the one property that says so keeps Switchyard from reading it back as an ordering key.
    const u = got.find((v) => v.messageId === unordered!.messageId)!;
    expect(u.messageGroup).toBe('sy-id-2');
    expect(Object.fromEntries(u.properties)).toEqual({ [OWN_GROUP_PROPERTY]: '1' });
  });
});

describe('one consumer group, a plain and a Switchyard consumer', () => {
  it('share a stream: every message handled once, nothing stuck', async () => {
    const { topic, group } = topology('mixed');
    const N = 60;
    const plain = await plainConsumer(topic, group);
    const broker = await switchyard();
    const consumer = await broker.consumer(topic, { group, prefetch: 4 });
    const producer = await broker.producer(topic);
    const sent = await producer.send(Array.from({ length: N }, (_, i) => ({ body: `m-${i}` })));
    const ids = new Set(sent.map((r) => r.messageId));

    const { bySwitchyard, byPlain } = await shareStream(consumer, N, async () => {
      const ids: string[] = [];
      for (const view of await plain.receive(4, 10_000)) {
        ids.push(view.messageId);
        await plain.ack(view);
      }
      return ids;
    });
    expect(bySwitchyard.length + byPlain.length).toBe(N);
    expect(new Set([...bySwitchyard, ...byPlain])).toEqual(ids);
    expect(byPlain.length).toBeGreaterThan(0);
    expect(bySwitchyard.length).toBeGreaterThan(0);
    expect(progress(group, topic)).toEqual({ inflight: 0, done: N, pending: 0 });
  });

  it('a message Switchyard nacks, and one it leaves unacked on close, come back to the plain consumer', async () => {
    const { topic, group } = topology('giveback');
    const broker = await switchyard();
    const consumer = await broker.consumer(topic, { group, prefetch: 4 });
    const producer = await broker.producer(topic);
    const [nacked, unacked, acked] = await producer.send([
      { body: 'nacked', keys: ['k-n'] },
      { body: 'unacked', keys: ['k-u'] },
      { body: 'acked', keys: ['k-a'] },
    ]);
    const got = await receiveAll(consumer, 3);
    expect(got.map((m) => m.id).sort()).toEqual([nacked, unacked, acked].map((r) => r!.messageId).sort());
    const byBody = new Map(got.map((m) => [m.text(), m]));
    await byBody.get('acked')!.ack();
    await byBody.get('nacked')!.nack();
    // 'unacked' is neither: closing the consumer hands it back.
    await consumer.close();

    const plain = await plainConsumer(topic, group);
    const back = await rawReceive(plain, (g) => g.length >= 2);
    expect(back.map((v) => v.body.toString()).sort()).toEqual(['nacked', 'unacked']);
    for (const view of back) {
      expect([nacked!.messageId, unacked!.messageId]).toContain(view.messageId);
      // The broker counted Switchyard's deliveries (its pump may have fetched the nacked one
      // again before closing): this is not a first delivery.
      expect(view.deliveryAttempt).toBeGreaterThanOrEqual(2);
    }
    expect(back.find((v) => v.messageId === nacked!.messageId)!.keys).toEqual(['k-n']);
    expect(progress(group, topic)).toEqual({ inflight: 0, done: 3, pending: 0 });
  });

  it('what a plain consumer leaves unacked comes to Switchyard with the broker-counted attempt', async () => {
    const { topic, group } = topology('plain-giveback');
    const plainProd = await plainProducer(topic);
    const sent = await plainProd.send({ topic: fullName(topic), body: Buffer.from('x'), keys: ['k'] });
    const plain = await plainConsumer(topic, group);
    const [first] = await rawReceive(plain, (g) => g.length >= 1, { ack: false, invisibleMs: 10_000 });
    expect(first!.deliveryAttempt).toBe(1);
    // A plain consumer's nack: make it visible again at once.
    await plain.changeInvisibleDuration(first!, 0);
    const broker = await switchyard();
    const consumer = await broker.consumer(topic, { group });
    const [m] = await receiveAll(consumer, 1);
    expect(m!.id).toBe(sent.messageId);
    expect(m!.deliveryAttempt).toBe(2);
    await m!.ack();
    await consumer.close();
    expect(progress(group, topic)).toEqual({ inflight: 0, done: 1, pending: 0 });
  });
});
