// Switchyard and plain CMQ programs as two halves of one fleet, on the emulator: the plain side is
// a signed HTTP client making the calls the CMQ Python SDK makes in TDMQ's quick start (seeds 000
// and 004: CreateQueue / SendMessage / ReceiveMessage / DeleteMessage; CreateTopic / Subscribe /
// PublishMessage with msgTag or routingKey). Switchyard joins the topology the plain side made
// (manageTopology off), and the tests check exact bodies and msgIds both ways, in raw and
// envelope body mode, a shared queue, and that what Switchyard nacks or leaves unacked comes back
// to the plain consumer after the visibility timeout.

import { type Broker, TEXT } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  connectTo,
  startTestEmulator,
  TEST_SECRET_ID,
  TEST_SECRET_KEY,
} from '../packages/cmq/test-kit/emulator.js';
import { CmqTestClient, type ParamValue } from '../packages/emulator/test-kit/cmq.js';
import { DEADLINE_MS, receiveAll, shareStream } from './interop-support.js';

let emulator: RunningEmulator;
let plain: PlainCmq;
const brokers: Broker[] = [];

interface PlainMessage {
  msgId: string;
  msgBody: string;
  receiptHandle: string;
  dequeueCount: number;
  enqueueTime: number;
}

/** The calls of the CMQ Python SDK's Account / Queue / Topic, 1-based arrays, code checked. */
class PlainCmq {
  readonly #http: CmqTestClient;
  constructor(url: string) {
    this.#http = new CmqTestClient(url);
  }

  async call(action: string, params: Record<string, ParamValue>): Promise<Record<string, unknown>> {
    const credential = { secretId: TEST_SECRET_ID, secretKey: TEST_SECRET_KEY };
    const reply = await this.#http.call(action, params, { credential });
    if (reply.code !== 0) throw new Error(`${action}: ${reply.code} ${reply.message}`);
    return reply;
  }

  createQueue(name: string, visibilityTimeout = 30): Promise<unknown> {
    return this.call('CreateQueue', { queueName: name, visibilityTimeout, pollingWaitSeconds: 0 });
  }

  async send(queue: string, body: string): Promise<string> {
    const reply = await this.call('SendMessage', { queueName: queue, msgBody: body, delaySeconds: 0 });
    return reply.msgId as string;
  }

  /** ReceiveMessage; undefined for CMQ's 7000 "no message". */
  async receive(queue: string, waitSeconds = 1): Promise<PlainMessage | undefined> {
    const credential = { secretId: TEST_SECRET_ID, secretKey: TEST_SECRET_KEY };
    const reply = await this.#http.call(
      'ReceiveMessage',
      { queueName: queue, pollingWaitSeconds: waitSeconds },
      { credential },
    );
    if (reply.code === 7000) return undefined;
    if (reply.code !== 0) throw new Error(`ReceiveMessage: ${reply.code} ${reply.message}`);
    return reply as unknown as PlainMessage;
  }

  /** Receives (deleting each unless told not to) until `n` arrived or the deadline passes. */
  async receiveN(queue: string, n: number, remove = true): Promise<PlainMessage[]> {
    const got: PlainMessage[] = [];
    const end = Date.now() + DEADLINE_MS;
    while (got.length < n && Date.now() < end) {
      const m = await this.receive(queue);
      if (m === undefined) continue;
      got.push(m);
      if (remove) await this.delete(queue, m.receiptHandle);
    }
    return got;
  }

  delete(queue: string, receiptHandle: string): Promise<unknown> {
    return this.call('DeleteMessage', { queueName: queue, receiptHandle });
  }

  async counts(queue: string): Promise<{ active: number; inactive: number }> {
    const a = await this.call('GetQueueAttributes', { queueName: queue });
    return { active: a.activeMsgNum as number, inactive: a.inactiveMsgNum as number };
  }

  createTopic(name: string, filterType: 1 | 2): Promise<unknown> {
    return this.call('CreateTopic', { topicName: name, filterType });
  }

  /** A queue subscription, SIMPLIFIED (raw body), as the quick start makes it. */
  subscribe(
    topic: string,
    name: string,
    queue: string,
    filter: Record<string, ParamValue>,
  ): Promise<unknown> {
    return this.call('Subscribe', {
      topicName: topic,
      subscriptionName: name,
      protocol: 'queue',
      endpoint: queue,
      notifyContentFormat: 'SIMPLIFIED',
      ...filter,
    });
  }

  /**
   * PublishMessage as the Python SDK sends it: routingKey always present ('' on tag topics).
   * Undefined for CMQ's 6030 (no subscription matches), which the SDK raises and callers catch.
   */
  async publish(topic: string, body: string, tags: string[], routingKey = ''): Promise<string | undefined> {
    const params: Record<string, ParamValue> = { topicName: topic, msgBody: body, routingKey };
    if (tags.length > 0) params.msgTag = tags;
    const credential = { secretId: TEST_SECRET_ID, secretKey: TEST_SECRET_KEY };
    const reply = await this.#http.call('PublishMessage', params, { credential });
    if (reply.code === 6030) return undefined;
    if (reply.code !== 0) throw new Error(`PublishMessage: ${reply.code} ${reply.message}`);
    return reply.msgId as string;
  }
}

beforeAll(async () => {
  emulator = await startTestEmulator();
  plain = new PlainCmq(emulator.endpoints.cmq);
});

afterEach(async () => {
  await Promise.allSettled(brokers.splice(0).map((b) => b.close({ timeoutMs: 5_000 })));
});

afterAll(() => emulator.stop());

async function switchyard(extra: Parameters<typeof connectTo>[1] = {}): Promise<Broker> {
  const broker = await connectTo(emulator, extra);
  brokers.push(broker);
  return broker;
}

// Text that breaks naive form encoding or JSON detection, and non-ASCII.
const TRICKY = '{"order":1} & ü=1+2 %20 @at\n"quoted"';

describe('queue model, raw bodies (the default)', () => {
  it('plain SendMessage → Switchyard: exact body and msgId; an ack is a DeleteMessage that sticks', async () => {
    await plain.createQueue('raw-p2s');
    const msgId = await plain.send('raw-p2s', TRICKY);
    const broker = await switchyard();
    const consumer = await broker.consumer('raw-p2s');
    const [m] = await receiveAll(consumer, 1);
    expect(m!.id).toBe(msgId);
    expect(m!.text()).toBe(TRICKY);
    expect(m!.deliveryAttempt).toBe(1);
    expect(m!.headers).toEqual({});
    expect(m!.publishedAt).toBeInstanceOf(Date);
    await m!.ack();
    await consumer.close();
    expect(await plain.counts('raw-p2s')).toEqual({ active: 0, inactive: 0 });
    expect(await plain.receive('raw-p2s', 0)).toBeUndefined();
  });

  it('Switchyard send → plain ReceiveMessage: the body byte for byte, the msgId of the receipt', async () => {
    await plain.createQueue('raw-s2p');
    const broker = await switchyard();
    const producer = await broker.producer('raw-s2p');
    const receipts = await producer.send([TRICKY, 'second', 'third']);
    const got = await plain.receiveN('raw-s2p', 3);
    expect(got.map((m) => m.msgId).sort()).toEqual(receipts.map((r) => r.messageId).sort());
    const byId = new Map(got.map((m) => [m.msgId, m]));
    expect(byId.get(receipts[0]!.messageId)!.msgBody).toBe(TRICKY);
    expect(got.every((m) => m.dequeueCount === 1)).toBe(true);
  });
});

describe('queue model, envelope bodies', () => {
  it('a plain consumer sees the JSON envelope; the msgId is the receipt id', async () => {
    await plain.createQueue('env-s2p');
    const broker = await switchyard({ bodyMode: 'envelope' });
    const producer = await broker.producer('env-s2p');
    const [text, bytes] = await producer.send([
      { body: 'héllo', headers: { region: 'gz' }, key: 'order-1', id: 'sy-1' },
      { body: new Uint8Array([0, 255, 1]), id: 'sy-2' },
    ]);
    const got = await plain.receiveN('env-s2p', 2);
    const byId = new Map(got.map((m) => [m.msgId, JSON.parse(m.msgBody) as Record<string, unknown>]));
    expect(byId.get(text!.messageId)).toMatchObject({
      _switchyard: 1,
      id: 'sy-1',
      ct: TEXT,
      b: 'héllo',
      h: { region: 'gz' },
      k: 'order-1',
    });
    expect(byId.get(bytes!.messageId)).toMatchObject({ id: 'sy-2', b64: 'AP8B' });
  });

  it('a plain body (even JSON) reads as itself, with its msgId, in envelope mode', async () => {
    await plain.createQueue('env-p2s');
    const a = await plain.send('env-p2s', TRICKY);
    const b = await plain.send('env-p2s', '{"_switchyard":2,"id":"not-ours"}');
    const broker = await switchyard({ bodyMode: 'envelope' });
    const consumer = await broker.consumer('env-p2s');
    const got = await receiveAll(consumer, 2);
    const byId = new Map(got.map((m) => [m.id, m]));
    expect(byId.get(a)!.text()).toBe(TRICKY);
    expect(byId.get(b)!.text()).toBe('{"_switchyard":2,"id":"not-ours"}');
    expect(byId.get(a)!.contentType).toBeUndefined();
    expect(got.every((m) => m.deliveryAttempt === 1)).toBe(true);
    await Promise.all(got.map((m) => m.ack()));
  });

  it('keys beyond the first are refused, not dropped', async () => {
    await plain.createQueue('env-keys');
    const broker = await switchyard({ bodyMode: 'envelope' });
    const producer = await broker.producer('env-keys');
    await expect(producer.send({ body: 'x', keys: ['a', 'b'] })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/2 keys.*at most 1/),
    });
    expect(await plain.counts('env-keys')).toEqual({ active: 0, inactive: 0 });
  });
});

describe('topic model: joining topics and subscriptions a plain program made', () => {
  it('tag topic: plain PublishMessage with msgTag → the Switchyard group reads only its tag', async () => {
    await plain.createTopic('tagged', 1);
    // The group's queue is `<topic>-<group>`: the plain side names its subscription queue so.
    await plain.createQueue('tagged-billing');
    await plain.subscribe('tagged', 'tagged-billing', 'tagged-billing', { filterTag: ['TAG'] });
    const broker = await switchyard({ model: 'topic' });
    const consumer = await broker.consumer('tagged', { group: 'billing', filter: { tags: ['TAG'] } });
    expect(await plain.publish('tagged', `tag message ${TRICKY}`, ['TAG'])).toBeDefined();
    expect(await plain.publish('tagged', 'other tag', ['TAG1'])).toBeUndefined();
    const [m] = await receiveAll(consumer, 1);
    expect(m!.text()).toBe(`tag message ${TRICKY}`);
    // The id is the msgId of the message in the group's queue (a subscription queue gives the
    // message its own msgId; only the body travels, the tags do not).
    expect(m!.id).toBe(m!.unwrap<{ msgId: string }>().msgId);
    expect(m!.tags).toEqual([]);
    await m!.ack();
    expect(await plain.counts('tagged-billing')).toEqual({ active: 0, inactive: 0 });
  });

  it('tag topic: Switchyard publish with tags → a plain subscription queue, exact body', async () => {
    await plain.createTopic('tagged-out', 1);
    await plain.createQueue('tagged-out-q');
    await plain.subscribe('tagged-out', 'tagged-out-sub', 'tagged-out-q', { filterTag: ['TAG'] });
    const broker = await switchyard({ model: 'topic' });
    const producer = await broker.producer('tagged-out');
    await producer.send([
      { body: TRICKY, tags: ['TAG'] },
      { body: 'filtered out', tags: ['TAG2'] },
    ]);
    const [m] = await plain.receiveN('tagged-out-q', 1);
    expect(m!.msgBody).toBe(TRICKY);
    expect(await plain.receive('tagged-out-q', 0)).toBeUndefined();
  });

  it('routing topic both ways: routing keys against binding keys', async () => {
    await plain.createTopic('routed', 2);
    await plain.createQueue('routed-q');
    await plain.subscribe('routed', 'routed-sub', 'routed-q', { bindingKey: ['a.*.c'] });
    await plain.createQueue('routed-audit');
    await plain.subscribe('routed', 'routed-audit', 'routed-audit', { bindingKey: ['x.#'] });

    const broker = await switchyard({ model: 'topic', topicFilter: 'routing' });
    const producer = await broker.producer('routed');
    await producer.send([
      { body: 'to a.b.c', routingKey: 'a.b.c' },
      { body: 'to a.b.x', routingKey: 'a.b.x' },
    ]);
    const [m] = await plain.receiveN('routed-q', 1);
    expect(m!.msgBody).toBe('to a.b.c');
    expect(await plain.receive('routed-q', 0)).toBeUndefined();

    const consumer = await broker.consumer('routed', { group: 'audit', filter: { routingKeys: ['x.#'] } });
    await plain.publish('routed', 'from python x.y.z', [], 'x.y.z');
    expect(await plain.publish('routed', 'from python a.c.d', [], 'a.c.d')).toBeUndefined();
    const [s] = await receiveAll(consumer, 1);
    expect(s!.text()).toBe('from python x.y.z');
    await s!.ack();
  });
});

describe('one queue, a plain and a Switchyard consumer', () => {
  it('share a stream: every message handled once, none left', async () => {
    await plain.createQueue('shared');
    const N = 48;
    const broker = await switchyard();
    const producer = await broker.producer('shared');
    const sent = await producer.send(Array.from({ length: N }, (_, i) => `m-${i}`));
    const consumer = await broker.consumer('shared', { prefetch: 4 });
    const { bySwitchyard, byPlain } = await shareStream(consumer, N, async () => {
      const m = await plain.receive('shared', 1);
      if (m === undefined) return [];
      await plain.delete('shared', m.receiptHandle);
      return [m.msgId];
    });
    expect(bySwitchyard.length + byPlain.length).toBe(N);
    expect(new Set([...bySwitchyard, ...byPlain])).toEqual(new Set(sent.map((r) => r.messageId)));
    expect(byPlain.length).toBeGreaterThan(0);
    expect(bySwitchyard.length).toBeGreaterThan(0);
    expect(await plain.counts('shared')).toEqual({ active: 0, inactive: 0 });
  });

  it('what Switchyard nacks or leaves unacked comes back to the plain consumer, unchanged', async () => {
    // A 1 s visibility timeout, set by the plain side: CMQ cannot make a message visible early.
    await plain.createQueue('giveback', 1);
    const nacked = await plain.send('giveback', 'nacked');
    const unacked = await plain.send('giveback', 'unacked');
    const acked = await plain.send('giveback', 'acked');
    const broker = await switchyard();
    const consumer = await broker.consumer('giveback', { prefetch: 4 });
    const got = await receiveAll(consumer, 3);
    const byBody = new Map(got.map((m) => [m.text(), m]));
    await byBody.get('acked')!.ack();
    await byBody.get('nacked')!.nack();
    await consumer.close();
    const back = await plain.receiveN('giveback', 2);
    expect(back.map((m) => m.msgId).sort()).toEqual([nacked, unacked].sort());
    expect(back.map((m) => m.msgBody).sort()).toEqual(['nacked', 'unacked']);
    expect(back.every((m) => m.dequeueCount >= 2)).toBe(true);
    expect(back.map((m) => m.msgId)).not.toContain(acked);
    expect(await plain.counts('giveback')).toEqual({ active: 0, inactive: 0 });
  });

  it('requeue mode re-sends only its own envelopes; a plain message nacked comes back as it was', async () => {
    await plain.createQueue('requeue', 1);
    const plainId = await plain.send('requeue', 'plain body');
    const broker = await switchyard({ bodyMode: 'envelope', nackMode: 'requeue' });
    const producer = await broker.producer('requeue');
    const own = await producer.send({ body: 'switchyard body', id: 'sy-own' });
    const consumer = await broker.consumer('requeue', { prefetch: 4 });
    const got = await receiveAll(consumer, 2);
    await Promise.all(got.map((m) => m.nack()));
    await consumer.close();

    const back = await plain.receiveN('requeue', 2);
    const plainBack = back.find((m) => m.msgBody === 'plain body')!;
    // The same CMQ message: same msgId, and CMQ's count went on.
    expect(plainBack.msgId).toBe(plainId);
    expect(plainBack.dequeueCount).toBeGreaterThanOrEqual(2);
    // Switchyard's own message came back as a copy: a new msgId, the envelope carrying its id and
    // the deliveries so far (what a plain consumer sees of a requeued Switchyard message).
    const copy = back.find((m) => m !== plainBack)!;
    expect(copy.msgId).not.toBe(own.messageId);
    expect(JSON.parse(copy.msgBody)).toMatchObject({
      id: 'sy-own',
      b: 'switchyard body',
      h: { 'x-switchyard-cmq-attempts': expect.stringMatching(/^[1-9]/) },
    });
  });

  it('what a plain consumer leaves unacked comes to Switchyard with CMQ’s dequeueCount', async () => {
    await plain.createQueue('plain-giveback', 1);
    const id = await plain.send('plain-giveback', 'x');
    const first = await plain.receive('plain-giveback');
    expect(first!.dequeueCount).toBe(1);
    const broker = await switchyard();
    const consumer = await broker.consumer('plain-giveback');
    const [m] = await receiveAll(consumer, 1);
    expect(m!.id).toBe(id);
    expect(m!.deliveryAttempt).toBe(2);
    await m!.ack();
  });
});
