// The real rocketmq-client-nodejs Producer and SimpleConsumer against the emulator: send and
// receive with every field, ack, changeInvisibleDuration, tag filters, redelivery with growing
// delivery attempts, dead-lettering, FIFO order per message group, delay, transactions, body limits.

import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../test-kit/manual-clock.js';
import { clientOptions, startTestServer, type TestServerOptions, teardown } from '../../test-kit/rocketmq.js';
import type { RocketMqServer } from './server.js';

let server: RocketMqServer | undefined;
const clients: { shutdown(): Promise<unknown> }[] = [];
afterEach(() => teardown(server, clients));

async function setup(options: TestServerOptions = {}) {
  server = await startTestServer(options);
  return server;
}

async function producer(s: RocketMqServer, topics: string[], extra: Record<string, unknown> = {}) {
  const p = new Producer({ ...clientOptions(s), topics, ...extra });
  clients.push(p);
  await p.startup();
  return p;
}

async function consumer(
  s: RocketMqServer,
  group: string,
  subscriptions: Record<string, string>,
  awaitDuration = 300,
) {
  const c = new SimpleConsumer({
    ...clientOptions(s),
    consumerGroup: group,
    subscriptions: new Map(Object.entries(subscriptions)),
    awaitDuration,
  });
  clients.push(c);
  await c.startup();
  return c;
}

/** Receive until `n` messages arrived (or time runs out). */
async function receiveN(c: SimpleConsumer, n: number, invisibleMs = 15_000, ms = 5000) {
  const out: Awaited<ReturnType<SimpleConsumer['receive']>> = [];
  const end = Date.now() + ms;
  while (out.length < n && Date.now() < end) out.push(...(await c.receive(32, invisibleMs)));
  return out;
}

describe('Producer + SimpleConsumer (real client)', () => {
  it('delivers every field the client reads and acks once', async () => {
    const s = await setup();
    const c = await consumer(s, 'G1', { T1: '*' });
    const p = await producer(s, ['T1']);
    const receipt = await p.send({
      topic: 'T1',
      tag: 'TagA',
      keys: ['k1', 'k2'],
      properties: new Map([['p1', 'v1']]),
      body: Buffer.from('hello'),
    });
    expect(receipt.messageId).toMatch(/^[0-9A-F]{34}$/);
    const [m, ...rest] = await receiveN(c, 1);
    expect(rest).toEqual([]);
    expect(m).toMatchObject({ messageId: receipt.messageId, topic: 'T1', tag: 'TagA', keys: ['k1', 'k2'] });
    // The MD5 body digest checks out (the client marks a mismatch as corrupted).
    expect(m!.corrupted).toBeFalsy();
    expect(m!.body.toString()).toBe('hello');
    expect(m!.properties.get('p1')).toBe('v1');
    expect(m!.deliveryAttempt).toBe(1);
    expect(m!.receiptHandle).not.toBe('');
    await c.ack(m!);
    await expect(c.ack(m!)).rejects.toMatchObject({ name: 'BadRequestException', code: 40013 });
    // Below the minimum invisible time (the proxy: 10 s; 1 s in these tests).
    await expect(c.receive(1, 500)).rejects.toMatchObject({ name: 'BadRequestException', code: 40011 });
  });

  it('changeInvisibleDuration replaces the handle; the old one is dead', async () => {
    const s = await setup();
    const c = await consumer(s, 'G1', { T1: '*' });
    const p = await producer(s, ['T1']);
    await p.send({ topic: 'T1', body: Buffer.from('x') });
    const [m] = await receiveN(c, 1);
    const old = m!.receiptHandle;
    await c.changeInvisibleDuration(m!, 20_000);
    expect(m!.receiptHandle).not.toBe(old);
    const stale = { ...m!, receiptHandle: old } as typeof m;
    await expect(c.ack(stale!)).rejects.toMatchObject({ code: 40013 });
    await c.ack(m!);
    expect(await c.receive(32, 15_000)).toEqual([]);
  });

  it('filters by tag expression TagA||TagB; other and untagged messages are consumed silently', async () => {
    const s = await setup();
    const c = await consumer(s, 'G1', { T1: 'TagA||TagB' });
    const all = await consumer(s, 'G2', { T1: '*' });
    const p = await producer(s, ['T1']);
    for (const tag of ['TagA', 'TagC', undefined, 'TagB']) {
      await p.send({ topic: 'T1', ...(tag ? { tag } : {}), body: Buffer.from(tag ?? 'none') });
    }
    const got = await receiveN(c, 2);
    expect(got.map((m) => m.tag)).toEqual(['TagA', 'TagB']);
    for (const m of got) await c.ack(m);
    expect(await c.receive(32, 15_000)).toEqual([]);
    // Another group sees everything, the untagged one with tag ''.
    expect((await receiveN(all, 4)).map((m) => m.tag)).toEqual(['TagA', 'TagC', '', 'TagB']);
  });

  it('redelivers after the invisible time with a growing delivery attempt, then dead-letters', async () => {
    const s = await setup();
    s.engine.createGroup('G1', { maxDeliveryAttempts: 2 });
    const c = await consumer(s, 'G1', { T1: '*' });
    const dlq = await consumer(s, 'GD', { '%DLQ%G1': '*' });
    const p = await producer(s, ['T1']);
    const { messageId } = await p.send({ topic: 'T1', tag: 'TagA', body: Buffer.from('poison') });
    const first = await receiveN(c, 1, 1000);
    expect(first.map((m) => [m.messageId, m.deliveryAttempt])).toEqual([[messageId, 1]]);
    const second = await receiveN(c, 1, 1000);
    expect(second.map((m) => [m.messageId, m.deliveryAttempt])).toEqual([[messageId, 2]]);
    // After two deliveries the third attempt goes to %DLQ%G1 instead.
    const dead = await receiveN(dlq, 1, 15_000, 4000);
    expect(dead.map((m) => [m.messageId, m.body.toString(), m.tag])).toEqual([[messageId, 'poison', 'TagA']]);
    expect(await c.receive(32, 1000)).toEqual([]);
    expect(s.engine.messages('%DLQ%G1')[0]?.deadLetter).toEqual({ topic: 'T1', messageId });
  });

  it('keeps FIFO order per message group and holds a group while a message is in flight', async () => {
    const s = await setup();
    s.engine.createTopic('F1', { type: 'FIFO' });
    s.engine.createGroup('GF', { fifo: true });
    const c = await consumer(s, 'GF', { F1: '*' });
    const p = await producer(s, ['F1']);
    for (const [group, body] of [
      ['g1', 'a1'],
      ['g1', 'a2'],
      ['g2', 'b1'],
      ['g1', 'a3'],
    ] as const) {
      await p.send({ topic: 'F1', messageGroup: group, body: Buffer.from(body) });
    }
    const [a1] = await c.receive(1, 15_000);
    expect(a1?.body.toString()).toBe('a1');
    expect(a1?.messageGroup).toBe('g1');
    // g1 is blocked behind a1; only g2 moves.
    expect((await c.receive(32, 15_000)).map((m) => m.body.toString())).toEqual(['b1']);
    await c.ack(a1!);
    const rest = await receiveN(c, 2);
    expect(rest.map((m) => m.body.toString())).toEqual(['a2', 'a3']);
    // A normal message to a FIFO-only topic is refused by the client (accept_message_types).
    await expect(p.send({ topic: 'F1', body: Buffer.from('n') })).rejects.toThrow(/accept message types/);
  });

  it('holds a delayed message until its delivery timestamp', async () => {
    // Delays run on the engine clock: an hour's delay, a clock that moves only when told.
    const clock = new ManualClock(Date.now());
    const s = await setup({ engineOptions: { clock } });
    const c = await consumer(s, 'G1', { D1: '*' });
    const p = await producer(s, ['D1']);
    const at = new Date(Date.now() + 3_600_000);
    await p.send({ topic: 'D1', deliveryTimestamp: at, body: Buffer.from('later') });
    const [stored] = s.engine.messages('D1');
    expect(await c.receive(32, 15_000)).toEqual([]);
    // A second before it is due it is still held; a second after, it is delivered.
    clock.advance(stored!.deliveryTimestamp! - clock.now() - 1000);
    expect(await c.receive(32, 15_000)).toEqual([]);
    clock.advance(2000);
    const [m] = await receiveN(c, 1);
    expect(m?.deliveryTimestamp?.getTime()).toBe(stored!.deliveryTimestamp);
    expect(m?.body.toString()).toBe('later');
  });

  it('transactions: commit delivers, rollback discards', async () => {
    const s = await setup();
    const c = await consumer(s, 'G1', { X1: '*' });
    const p = await producer(s, ['X1'], { checker: { check: async () => 2 /* ROLLBACK */ } });
    const tx1 = p.beginTransaction();
    const r1 = await p.send({ topic: 'X1', body: Buffer.from('commit-me') }, tx1);
    expect(r1.transactionId).not.toBe('');
    expect(await c.receive(32, 15_000)).toEqual([]);
    await tx1.commit();
    expect((await receiveN(c, 1)).map((m) => m.body.toString())).toEqual(['commit-me']);
    const tx2 = p.beginTransaction();
    await p.send({ topic: 'X1', body: Buffer.from('roll-me-back') }, tx2);
    await tx2.rollback();
    expect(await c.receive(32, 15_000)).toEqual([]);
    expect(s.engine.messages('X1').map((m) => m.tx)).toEqual(['committed', 'rolledback']);
  });

  it('an orphaned half message is checked with its producer, whose answer commits it', async () => {
    const s = await setup({ transactionCheckMs: 300 });
    const c = await consumer(s, 'G1', { X1: '*' });
    const checked: string[] = [];
    const p = await producer(s, ['X1'], {
      checker: {
        async check(view: { messageId: string }) {
          checked.push(view.messageId);
          return 1; // COMMIT
        },
      },
    });
    const tx = p.beginTransaction();
    const { messageId } = await p.send({ topic: 'X1', body: Buffer.from('orphan') }, tx);
    // Never committed by the client: the server asks the producer, whose checker says COMMIT.
    const [orphan] = await receiveN(c, 1, 15_000, 5000);
    expect(orphan?.body.toString()).toBe('orphan');
    expect(new Set(checked)).toEqual(new Set([messageId]));
  });

  it('a body at the advertised limit goes through; above it the client refuses clearly', async () => {
    const limit = 256 * 1024;
    const s = await setup({ maxBodyBytes: limit });
    const c = await consumer(s, 'G1', { B1: '*' });
    const p = await producer(s, ['B1']);
    const body = Buffer.alloc(limit, 7);
    await p.send({ topic: 'B1', body });
    const [m] = await receiveN(c, 1);
    expect(m?.body.equals(body)).toBe(true);
    await expect(p.send({ topic: 'B1', body: Buffer.alloc(limit + 1) })).rejects.toThrow(
      `Message body size exceeds the threshold, max size=${limit}`,
    );
  });

  it('accepts a 4 MiB body (the default limit); the Node client cannot receive it back', async () => {
    const s = await setup();
    const c = await consumer(s, 'G1', { B4: '*' });
    const p = await producer(s, ['B4']);
    await p.send({ topic: 'B4', body: Buffer.alloc(4 * 1024 * 1024, 1) });
    expect(s.engine.messages('B4')[0]?.body.length).toBe(4 * 1024 * 1024);
    // The client's channel keeps grpc-js's 4 MiB receive cap, which body + envelope exceed.
    await expect(c.receive(1, 15_000)).rejects.toMatchObject({ code: 8 });
  });
});
