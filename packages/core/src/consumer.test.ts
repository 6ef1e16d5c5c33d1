import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { NotFoundError, UnavailableError } from './errors.js';
import type { Message } from './message.js';
import { registerDriver } from './registry.js';

let n = 0;
const store = () => `consumer-test-${process.pid}-${++n}`;

describe('Consumer', () => {
  it('retries retryable receive failures and keeps consuming', async () => {
    let failures = 3;
    registerDriver(
      faultyMemory('receive-flaky', {
        beforeReceive() {
          if (failures-- > 0) throw new UnavailableError('injected');
        },
      }),
    );
    const broker = await connect({
      driver: 'receive-flaky',
      name: store(),
      retry: { initialDelayMs: 5, maxDelayMs: 10 },
    });
    const consumer = await broker.consumer('t');
    await (await broker.producer('t')).send('survives');
    const [m] = await consumer.receive({ waitMs: 5_000 });
    expect(m?.text()).toBe('survives');
    expect(failures).toBeLessThan(0);
    await broker.close();
  });

  it('surfaces a permanent receive failure to run(), receive() and the iterator instead of stopping silently', async () => {
    let broken = false;
    registerDriver(
      faultyMemory('receive-broken', {
        beforeReceive() {
          if (broken) throw new NotFoundError('queue deleted');
        },
      }),
    );
    const broker = await connect({ driver: 'receive-broken', name: store() });
    const consumer = await broker.consumer('t', { pollWaitMs: 50 });
    const running = consumer.run(() => {});
    broken = true;
    await expect(running).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(consumer.receive({ waitMs: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(consumer[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await broker.close();
  });

  it('retries failed acks with backoff', async () => {
    let failures = 2;
    registerDriver(
      faultyMemory('ack-flaky', {
        beforeAck() {
          if (failures-- > 0) throw new UnavailableError('injected');
        },
      }),
    );
    const broker = await connect({
      driver: 'ack-flaky',
      name: store(),
      retry: { initialDelayMs: 5, maxDelayMs: 10 },
    });
    const consumer = await broker.consumer('t');
    await (await broker.producer('t')).send('ack me');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    await expect(m!.ack()).resolves.toBeUndefined();
    expect(failures).toBeLessThan(0);
    await broker.close();
  });

  it('does not pile up waiters while polled idle', async () => {
    const broker = await connect(`memory://${store()}`);
    const consumer = await broker.consumer('idle');
    for (let i = 0; i < 200; i++) expect(await consumer.receive({ waitMs: 1 })).toEqual([]);
    await (await broker.producer('idle')).send('finally');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    expect(m?.text()).toBe('finally');
    await broker.close();
  });

  it('emulated nack delay holds the message, and closing sends the nack at once (nothing lost)', async () => {
    const name = store();
    const broker = await connect({ driver: 'memory', name, profile: 'minimal' });
    const consumer = await broker.consumer('t');
    await (await broker.producer('t')).send('held');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    await m!.nack({ delayMs: 60_000 });
    expect(await consumer.receive({ waitMs: 200 })).toEqual([]);
    const started = Date.now();
    await consumer.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    const again = await broker.consumer('t');
    const [back] = await again.receive({ waitMs: 1_000 });
    expect(back?.text()).toBe('held');
    expect(back?.deliveryAttempt).toBe(1); // emulated counts live per consumer process
    await broker.close();
  });

  it('ordered run() keeps per-key order while other keys proceed in parallel', async () => {
    // The minimal memory profile holds no key: it hands out all 40 at once, so the order below is
    // the portable layer's lanes' doing, not the broker's.
    registerDriver(faultyMemory('unordered-broker', {}, { orderingKeys: true }));
    const broker = await connect({ driver: 'unordered-broker', name: store(), profile: 'minimal' });
    const consumer = await broker.consumer('o', { ordered: true, concurrency: 8, prefetch: 64 });
    const producer = await broker.producer('o');
    await producer.send(
      Array.from({ length: 40 }, (_, i) => ({ body: `${i % 4}:${i}`, orderingKey: `k${i % 4}` })),
    );
    const seen = new Map<string, number[]>();
    let active = 0;
    let peak = 0;
    const stop = new AbortController();
    let handled = 0;
    await consumer.run(
      async (m: Message) => {
        peak = Math.max(peak, ++active);
        const [k, i] = m.text().split(':');
        await new Promise((r) => setTimeout(r, 2));
        seen.set(k!, [...(seen.get(k!) ?? []), Number(i)]);
        active--;
        if (++handled === 40) stop.abort();
      },
      { signal: stop.signal },
    );
    for (const [, order] of seen) expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
    await broker.close();
  });

  it('a synchronous handler over a deep buffer does not overflow the stack', async () => {
    const broker = await connect(`memory://${store()}`);
    const consumer = await broker.consumer('deep', { prefetch: 10_000, ordered: true });
    const producer = await broker.producer('deep');
    await producer.send(Array.from({ length: 20_000 }, (_, i) => ({ body: String(i), orderingKey: 'one' })));
    const stop = new AbortController();
    let count = 0;
    await consumer.run(
      () => {
        if (++count === 20_000) stop.abort();
      },
      { signal: stop.signal, concurrency: 4 },
    );
    expect(count).toBe(20_000);
    await broker.close();
  });

  it('never shares an attempt count between distinct messages that share an id', async () => {
    // The minimal profile counts nothing on the broker: the portable layer counts per broker
    // identity (attemptKey). Sender-chosen ids repeat; counting by id would dead-letter the later
    // copies ("delivered N times") before any handler saw them.
    const broker = await connect({ driver: 'memory', name: store(), profile: 'minimal' });
    const consumer = await broker.consumer('same-id', {
      group: 'g',
      maxDeliveries: 2,
      deadLetter: 'same-id-dlq',
    });
    const dlq = await broker.consumer('same-id-dlq', { group: 'g' });
    const producer = await broker.producer('same-id');
    for (let i = 0; i < 5; i++) await producer.send({ id: 'repeated', body: `copy ${i}` });
    const seen: Array<[string, number]> = [];
    const controller = new AbortController();
    await consumer.run(
      (m) => {
        seen.push([m.text(), m.deliveryAttempt]);
        if (seen.length === 5) controller.abort();
      },
      { signal: controller.signal, concurrency: 1 },
    );
    expect(seen.map(([body]) => body).sort()).toEqual(['copy 0', 'copy 1', 'copy 2', 'copy 3', 'copy 4']);
    expect(seen.map(([, attempt]) => attempt)).toEqual([1, 1, 1, 1, 1]);
    expect(await dlq.receive({ waitMs: 0 })).toEqual([]);
    await broker.close();
  });

  it('replays the current connection status to a new listener', async () => {
    const broker = await connect(`memory://${store()}`);
    const events: string[] = [];
    broker.onStatus((e) => events.push(e.type));
    expect(events).toEqual(['connected']);
    await broker.close();
    expect(events).toEqual(['connected', 'closed']);
    expect(broker.lastStatus?.type).toBe('closed');
  });
});
