// Switchyard and plain TDMQ Pulsar-over-HTTP programs as two halves of one fleet, on the emulator.
// The plain side is the real tencentcloud-sdk-nodejs TDMQ client (v20200217) making the calls of
// TDMQ's HTTP quick start (seed 003): SendMessages with StringToken / ProducerName / SendTimeout,
// ReceiveMessage with ReceiverQueueSize and SubInitialPosition, AcknowledgeMessage with
// MessageId / AckTopic / SubName. The tests check exact bodies and ids both ways in raw and
// envelope mode, a subscription shared by both kinds of consumer, and that what Switchyard nacks
// or leaves un-acked in the default nackMode comes back to the plain consumer after the topic's
// ack timeout, while what it acked never does.

import { randomUUID } from 'node:crypto';
import { type Broker, type Consumer, connect, type Message } from '@switchyard/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_MS, receiveAll, shareStream } from './interop-support.js';
import { CLUSTER, type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

/** The topic's ack timeout on the emulator (TDMQ: 60 s at least), short so redelivery is quick. */
const ACK_TIMEOUT_MS = 2_000;
const ROLE_TOKEN = 'role-token-interop-pulsar-http';

let env: PulsarHttpEnv;
const brokers: Broker[] = [];

beforeAll(async () => {
  env = await startPulsarHttpEnv({ ackTimeoutMs: ACK_TIMEOUT_MS });
});
afterEach(async () => {
  await Promise.allSettled(brokers.splice(0).map((b) => b.close({ timeoutMs: 5_000 })));
});
afterAll(() => env.close());

interface PlainMessage {
  readonly messageId: string;
  readonly payload: string;
  readonly ackTopic: string;
  readonly subName: string;
}

/** The seed 003 program, one call per step, as the quick start writes it. */
const plain = {
  path: (topic: string) => `${CLUSTER}/default/${topic}`,

  async send(topic: string, payload: string): Promise<string> {
    const response = await env.sdk.SendMessages({
      StringToken: ROLE_TOKEN,
      Topic: plain.path(topic),
      Payload: payload,
      ProducerName: 'plain-producer',
      SendTimeout: 3000,
    });
    expect(response.ErrorMsg ?? '').toBe('');
    return response.MessageId as string;
  },

  /** One single-message ReceiveMessage; undefined when the service says there is nothing. */
  async receive(topic: string, sub: string): Promise<PlainMessage | undefined> {
    try {
      const r = await env.sdk.ReceiveMessage({
        Topic: plain.path(topic),
        SubscriptionName: sub,
        ReceiverQueueSize: 10,
        SubInitialPosition: 'Earliest',
      });
      return {
        messageId: r.MessageID as string,
        payload: r.MessagePayload as string,
        ackTopic: r.AckTopic as string,
        subName: r.SubName as string,
      };
    } catch (error) {
      if ((error as { code?: string }).code === 'FailedOperation.ReceiveTimeout') return undefined;
      throw error;
    }
  },

  async ack(m: PlainMessage): Promise<void> {
    const r = await env.sdk.AcknowledgeMessage({
      MessageId: m.messageId,
      AckTopic: m.ackTopic,
      SubName: m.subName,
    });
    expect(r.ErrorMsg ?? '').toBe('');
  },

  /** Receives and acks until `n` messages came or the deadline passed. */
  async receiveAll(topic: string, sub: string, n: number, deadlineMs = DEADLINE_MS): Promise<PlainMessage[]> {
    const got: PlainMessage[] = [];
    const end = Date.now() + deadlineMs;
    while (got.length < n && Date.now() < end) {
      const m = await plain.receive(topic, sub);
      if (m === undefined) continue;
      got.push(m);
      await plain.ack(m);
    }
    return got;
  },

  /** Everything that arrives within `ms` (acked, so a duplicate is not counted twice). */
  async drain(topic: string, sub: string, ms: number): Promise<PlainMessage[]> {
    const got: PlainMessage[] = [];
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const m = await plain.receive(topic, sub);
      if (m === undefined) continue;
      got.push(m);
      await plain.ack(m);
    }
    return got;
  },

  async topicExists(name: string): Promise<boolean> {
    const r = await env.sdk.DescribeTopics({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      Filters: [{ Name: 'TopicName', Values: [name] }],
      Limit: 1,
    });
    return (r.TotalCount ?? 0) > 0;
  },
};

async function broker(query: Record<string, string>): Promise<Broker> {
  const b = await connect(env.url({ token: ROLE_TOKEN, receiveWaitMs: '200', ...query }));
  brokers.push(b);
  return b;
}

/** A new topic made as an operator would, and a subscription on it that starts at the earliest message. */
async function topicWithGroup(): Promise<{ topic: string; group: string }> {
  const topic = `interop-${randomUUID().slice(0, 8)}`;
  await env.createTopic(topic);
  return { topic, group: `g-${randomUUID().slice(0, 6)}` };
}

/** Nothing at all within `ms` on a Switchyard consumer. */
async function nothingWithin(consumer: Consumer, ms: number): Promise<Message[]> {
  const got: Message[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end)
    got.push(...(await consumer.receive({ max: 10, waitMs: Math.max(1, end - Date.now()) })));
  return got;
}

const BODIES = [
  'this is a new message.',
  'ünïcödé ✓ 中文',
  '{"plain":true,"n":1}',
  '{"_switchyard":2,"id":"not-ours"}',
  '  leading and trailing spaces  ',
  'line one\nline two',
];

describe('plain SendMessages → Switchyard consumer', () => {
  for (const mode of ['raw', 'envelope'] as const) {
    it(`${mode} mode: the exact text, the MessageID as id, no metadata invented`, async () => {
      const { topic, group } = await topicWithGroup();
      const consumer = await (await broker({ mode })).consumer(topic, { group });
      const ids = new Map<string, string>();
      for (const body of BODIES) ids.set(body, await plain.send(topic, body));
      const got = await receiveAll(consumer, BODIES.length);
      expect(got.map((m) => m.text()).sort()).toEqual([...BODIES].sort());
      for (const m of got) {
        // A payload that is not a Switchyard envelope is never misjudged: raw text, broker id.
        expect(m.id).toBe(ids.get(m.text()));
        expect(m.headers).toEqual({});
        expect(m.key).toBeUndefined();
        expect(m.deliveryAttempt).toBe(1);
        expect((m.unwrap() as { messageId: string }).messageId).toBe(m.id);
        await m.ack();
      }
    });
  }
});

describe('Switchyard producer → plain ReceiveMessage', () => {
  it('raw mode: the plain client reads the exact body, under the MessageID the receipt gave', async () => {
    const { topic, group } = await topicWithGroup();
    await plain.receive(topic, group); // the plain program's subscription exists before the sends
    const producer = await (await broker({ mode: 'raw' })).producer(topic);
    const receipts = await producer.send(BODIES);
    const got = await plain.receiveAll(topic, group, BODIES.length);
    expect(got.map((m) => m.payload).sort()).toEqual([...BODIES].sort());
    const byBody = new Map(got.map((m) => [m.payload, m.messageId]));
    for (const [i, body] of BODIES.entries()) expect(receipts[i]?.messageId).toBe(byBody.get(body));
  });

  it('envelope mode: the plain client reads one JSON document per message (documented shape)', async () => {
    const { topic, group } = await topicWithGroup();
    await plain.receive(topic, group);
    const producer = await (await broker({ mode: 'envelope' })).producer(topic);
    await producer.send({ id: 'order-42', body: 'paid #1', headers: { 'x-tenant': 'acme' }, key: 'cust-7' });
    await producer.send({ id: 'blob-1', body: new Uint8Array([0, 1, 254, 255]) });
    const got = await plain.receiveAll(topic, group, 2);
    const docs = got.map((m) => JSON.parse(m.payload) as Record<string, unknown>);
    const text = docs.find((d) => d.id === 'order-42');
    expect(text).toMatchObject({
      _switchyard: 1,
      id: 'order-42',
      ct: 'text/plain; charset=utf-8',
      h: { 'x-tenant': 'acme' },
      k: 'cust-7',
      b: 'paid #1',
    });
    expect(typeof text?.ts).toBe('number');
    // `#` travels as the JSON escape \u0023 (same value), so batch receives can never split on it.
    expect(got.find((m) => m.payload.includes('order-42'))?.payload).toContain('\\u0023');
    expect(docs.find((d) => d.id === 'blob-1')).toMatchObject({
      b64: Buffer.from([0, 1, 254, 255]).toString('base64'),
    });
  });
});

describe('one subscription, a plain consumer and a Switchyard consumer', () => {
  it('share a stream: nothing lost, nothing stuck, acked stays acked', async () => {
    const { topic, group } = await topicWithGroup();
    const consumer = await (await broker({ mode: 'raw' })).consumer(topic, {
      group,
      prefetch: 2,
      concurrency: 1,
    });
    const n = 40;
    const sent = new Set<string>();
    for (let i = 0; i < n; i++) sent.add(await plain.send(topic, `work-${i}`));
    const { bySwitchyard, byPlain } = await shareStream(consumer, n, async () => {
      const m = await plain.receive(topic, group);
      if (m === undefined) return [];
      await plain.ack(m);
      return [m.messageId];
    });
    const handled = new Set([...bySwitchyard, ...byPlain]);
    expect([...sent].filter((id) => !handled.has(id))).toEqual([]);
    expect(bySwitchyard.length).toBeGreaterThan(0);
    expect(byPlain.length).toBeGreaterThan(0);
    // Past the ack timeout nothing comes back: every message was acked by whoever took it.
    expect(await plain.drain(topic, group, ACK_TIMEOUT_MS * 2 + 500)).toEqual([]);
  });

  it('what Switchyard nacks, and what it leaves un-acked at close, the plain consumer receives', async () => {
    const { topic, group } = await topicWithGroup();
    const b = await broker({ mode: 'envelope' });
    const consumer = await b.consumer(topic, { group, prefetch: 10 });
    // Raw payloads from a plain producer into an envelope-mode consumer: they must come back raw.
    const bodies = ['nack me', 'leave me', 'ack me'];
    const ids = new Map<string, string>();
    for (const body of bodies) ids.set(body, await plain.send(topic, body));
    const got = await receiveAll(consumer, 3);
    expect(got.map((m) => m.text()).sort()).toEqual([...bodies].sort());
    const byText = new Map(got.map((m) => [m.text(), m]));
    await byText.get('ack me')?.ack();
    await byText.get('nack me')?.nack();
    await consumer.close(); // 'leave me' is still held: given back by leaving it un-acked
    const back = await plain.receiveAll(topic, group, 2, ACK_TIMEOUT_MS * 3 + DEADLINE_MS);
    expect(back.map((m) => m.payload).sort()).toEqual(['leave me', 'nack me']);
    for (const m of back) expect(m.messageId).toBe(ids.get(m.payload));
    // No side topic took them, and the acked one never returns.
    expect(await plain.topicExists(`${topic}-${group}-RETRY`)).toBe(false);
    expect(await plain.drain(topic, group, ACK_TIMEOUT_MS * 2 + 500)).toEqual([]);
  });

  it('a message a plain consumer leaves un-acked returns to the Switchyard consumer', async () => {
    const { topic, group } = await topicWithGroup();
    expect(await plain.receive(topic, group)).toBeUndefined(); // subscribes
    const id = await plain.send(topic, 'dropped by the plain side');
    // The plain program takes it (no Switchyard consumer yet) and dies without acking.
    let taken: PlainMessage | undefined;
    const end = Date.now() + DEADLINE_MS;
    while (taken === undefined && Date.now() < end) taken = await plain.receive(topic, group);
    expect(taken?.messageId).toBe(id);
    const consumer = await (await broker({ mode: 'raw' })).consumer(topic, { group });
    const [m] = await receiveAll(consumer, 1);
    expect(m?.text()).toBe('dropped by the plain side');
    expect(m?.id).toBe(id);
    await m?.ack();
    expect(await nothingWithin(consumer, ACK_TIMEOUT_MS * 2 + 500)).toEqual([]);
  });
});

describe('delivery attempts are counted per broker message, never per sender id', () => {
  for (const nackMode of ['ack-timeout', 'retry-topic'] as const) {
    it(`${nackMode}: 10 healthy messages sharing one id, maxDeliveries 2: all handled, none dead-lettered`, async () => {
      const { topic, group } = await topicWithGroup();
      const dlqTopic = `${topic}-dlq`;
      await env.createTopic(dlqTopic);
      const b = await broker({ mode: 'envelope', nackMode });
      const dlq = await b.consumer(dlqTopic, { group: 'dlq-reader' });
      const consumer = await b.consumer(topic, { group, maxDeliveries: 2, deadLetter: dlqTopic });
      const producer = await b.producer(topic);
      const bodies = Array.from({ length: 10 }, (_, i) => `copy-${i}`);
      for (const body of bodies) await producer.send({ id: 'repeated-id', body });
      const seen: Array<[string, number]> = [];
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), DEADLINE_MS);
      await consumer.run(
        (m) => {
          seen.push([m.text(), m.deliveryAttempt]);
          if (seen.length === bodies.length) stop.abort();
        },
        { signal: stop.signal },
      );
      clearTimeout(timer);
      expect(seen.map(([body]) => body).sort()).toEqual([...bodies].sort());
      expect(seen.every(([, attempt]) => attempt === 1)).toBe(true);
      expect(await nothingWithin(dlq, ACK_TIMEOUT_MS + 500)).toEqual([]);
    });
  }

  it('ack-timeout: 10 messages sharing one id that each fail once are all handled on their second delivery', async () => {
    const { topic, group } = await topicWithGroup();
    const dlqTopic = `${topic}-dlq`;
    await env.createTopic(dlqTopic);
    const b = await broker({ mode: 'envelope' });
    const dlq = await b.consumer(dlqTopic, { group: 'dlq-reader' });
    const consumer = await b.consumer(topic, { group, maxDeliveries: 2, deadLetter: dlqTopic });
    const producer = await b.producer(topic);
    const bodies = Array.from({ length: 10 }, (_, i) => `flaky-${i}`);
    await producer.send(bodies.map((body) => ({ id: 'repeated-id', body })));
    const attempts = new Map<string, number[]>();
    const done = new Set<string>();
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ACK_TIMEOUT_MS * 3 + DEADLINE_MS);
    await consumer.run(
      (m) => {
        const list = attempts.get(m.text()) ?? [];
        list.push(m.deliveryAttempt);
        attempts.set(m.text(), list);
        if (list.length === 1) throw new Error('transient: first delivery fails');
        done.add(m.text());
        if (done.size === bodies.length) stop.abort();
      },
      { signal: stop.signal },
    );
    clearTimeout(timer);
    expect([...done].sort()).toEqual([...bodies].sort());
    for (const body of bodies) expect(attempts.get(body)).toEqual([1, 2]);
    expect(await nothingWithin(dlq, ACK_TIMEOUT_MS + 500)).toEqual([]);
  });
});
