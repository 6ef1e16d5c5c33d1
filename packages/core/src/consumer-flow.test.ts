import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import type { Message } from './message.js';

const brokers: Broker[] = [];
async function memory(name = `flow-${randomUUID()}`): Promise<Broker> {
  const broker = await connect({ driver: 'memory', name });
  brokers.push(broker);
  return broker;
}
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

async function receiveAll(
  consumer: { receive(o: object): Promise<Message[]> },
  count: number,
): Promise<Message[]> {
  const out: Message[] = [];
  while (out.length < count) {
    const got = await consumer.receive({ max: count - out.length, waitMs: 5_000 });
    if (got.length === 0) break;
    for (const m of got) await m.ack();
    out.push(...got);
  }
  return out;
}

describe('Consumer.pause() / resume()', () => {
  it('while paused no handler starts and what was held goes back to the group', async () => {
    const name = `flow-${randomUUID()}`;
    const broker = await memory(name);
    const paused = await broker.consumer('q', { group: 'g', prefetch: 50 });
    const producer = await broker.producer('q');
    const handled: string[] = [];
    let first!: () => void;
    const firstHandled = new Promise<void>((r) => (first = r));
    const running = paused.run(async (m) => {
      handled.push(m.text());
      first();
    });
    await producer.send('before');
    await firstHandled;
    paused.pause();
    expect(paused.paused).toBe(true);
    // Sent while paused: all of them reach another consumer of the group, none the paused one.
    const during = Array.from({ length: 20 }, (_, i) => `during-${i}`);
    await producer.send(during);
    const other = await (await memory(name)).consumer('q', { group: 'g' });
    const got = await receiveAll(other, during.length);
    expect(got.map((m) => m.text()).sort()).toEqual([...during].sort());
    expect(handled).toEqual(['before']);
    await other.close();
    paused.resume();
    let after!: () => void;
    const afterHandled = new Promise<void>((r) => (after = r));
    const watch = setInterval(() => handled.includes('after') && after(), 5);
    await producer.send('after');
    await afterHandled;
    clearInterval(watch);
    await paused.close();
    await running;
  });

  it('pausing gives back messages a run() was holding behind a busy ordering key', async () => {
    const name = `flow-${randomUUID()}`;
    const broker = await memory(name);
    const consumer = await broker.consumer('q', { group: 'g', ordered: true, prefetch: 20 });
    const producer = await broker.producer('q');
    await producer.send([0, 1, 2, 3].map((i) => ({ body: String(i), orderingKey: 'k' })));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inHandler = new Promise<void>((r) => (started = r));
    const handled: string[] = [];
    const running = consumer.run(async (m) => {
      handled.push(m.text());
      started();
      await gate;
    });
    await inHandler;
    consumer.pause();
    release();
    const other = await (await memory(name)).consumer('q', { group: 'g' });
    const got = await receiveAll(other, 3);
    expect(got.map((m) => m.text()).sort()).toEqual(['1', '2', '3']);
    expect(handled).toEqual(['0']);
    await consumer.close();
    await running;
  });

  it('pause and resume leave no timer behind', async () => {
    const broker = await memory();
    const before = timers();
    const consumer = await broker.consumer('q', { maxPerSecond: 5, pollWaitMs: 20 });
    const producer = await broker.producer('q');
    const stop = new AbortController();
    let count = 0;
    const running = consumer.runBatch(
      (messages) => {
        count += messages.length;
      },
      { maxMessages: 3, maxWaitMs: 10_000, signal: stop.signal },
    );
    for (let i = 0; i < 50; i++) {
      consumer.pause();
      consumer.resume();
    }
    await producer.send(['a', 'b']);
    consumer.pause();
    stop.abort();
    await running;
    await consumer.close();
    await producer.close();
    expect(timers()).toBeLessThanOrEqual(before);
    expect(count).toBeLessThanOrEqual(2);
  });
});

describe('maxPerSecond', () => {
  it('a consumer starts at most one second of handlers at once, then maxPerSecond per second', async () => {
    const broker = await memory();
    const rate = 20;
    const consumer = await broker.consumer('q', { maxPerSecond: rate, concurrency: 8 });
    await (await broker.producer('q')).send(Array.from({ length: 35 }, (_, i) => String(i)));
    const starts: number[] = [];
    const stop = new AbortController();
    const t0 = Date.now();
    await consumer.run(
      () => {
        starts.push(Date.now());
        if (starts.length === 35) stop.abort();
      },
      { signal: stop.signal },
    );
    // An upper bound only: a slow machine starts fewer, never more.
    starts.forEach((at, i) => {
      expect(i + 1).toBeLessThanOrEqual(rate + Math.ceil(((at - t0) * rate) / 1000) + 1);
    });
  });

  it('a producer sends at most one second of messages at once, then maxPerSecond per second', async () => {
    const broker = await memory();
    const rate = 25;
    const consumer = await broker.consumer('q');
    const producer = await broker.producer('q', { maxPerSecond: rate });
    const t0 = Date.now();
    const sending = producer.send(Array.from({ length: 60 }, (_, i) => String(i)));
    const arrivals: number[] = [];
    while (arrivals.length < 60) {
      const got = await consumer.receive({ max: 60, waitMs: 5_000 });
      for (const m of got) {
        arrivals.push(Date.now());
        await m.ack();
      }
    }
    await sending;
    arrivals.forEach((at, i) => {
      expect(i + 1).toBeLessThanOrEqual(rate + Math.ceil(((at - t0) * rate) / 1000) + 1);
    });
  });

  it('a rate-limited producer closing past its timeout fails what it has not sent, typed', async () => {
    const broker = await memory();
    const producer = await broker.producer('q', { maxPerSecond: 1 });
    const sends = ['a', 'b', 'c'].map((body) => producer.send(body));
    await sends[0];
    await producer.close({ timeoutMs: 10 });
    const results = await Promise.allSettled(sends.slice(1));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'CLOSED' });
  });

  it('refuses a bad maxPerSecond, naming the field', async () => {
    const broker = await memory();
    await expect(broker.consumer('q', { maxPerSecond: 0 })).rejects.toThrow(/maxPerSecond/);
    await expect(broker.producer('q', { maxPerSecond: -5 })).rejects.toThrow(/maxPerSecond/);
  });
});
