import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import { DeadLetterHeaders } from './dead-letter.js';
import type { Message } from './message.js';

const brokers: Broker[] = [];
async function memory(name = `batch-${randomUUID()}`): Promise<Broker> {
  const broker = await connect({ driver: 'memory', name });
  brokers.push(broker);
  return broker;
}
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
});

/** Resolves once `predicate` holds, checked after each handler call. */
function until(predicate: () => boolean): { check(): void; reached: Promise<void> } {
  let resolve!: () => void;
  const reached = new Promise<void>((r) => (resolve = r));
  return { check: () => predicate() && resolve(), reached };
}

describe('Consumer.runBatch', () => {
  it('hands out batches of at most maxMessages and settles each message by its outcome', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', { retry: { initialDelayMs: 0, maxDelayMs: 0 } });
    await (await broker.producer('q')).send(['0', '1', '2', '3', '4', '5']);
    const sizes: number[] = [];
    const attempts = new Map<string, number[]>();
    const acked = new Set<string>();
    const done = until(() => acked.size === 6);
    const stop = new AbortController();
    const running = consumer.runBatch(
      (messages) => {
        sizes.push(messages.length);
        const outcomes = messages.map((m) => {
          attempts.set(m.text(), [...(attempts.get(m.text()) ?? []), m.deliveryAttempt]);
          // Odd messages fail on their first delivery.
          if (Number(m.text()) % 2 === 1 && m.deliveryAttempt === 1) return 'retry' as const;
          acked.add(m.text());
          return 'ack' as const;
        });
        done.check();
        return outcomes;
      },
      { maxMessages: 3, signal: stop.signal },
    );
    await done.reached;
    stop.abort();
    await running;
    expect(Math.max(...sizes)).toBe(3);
    expect(sizes.every((n) => n >= 1 && n <= 3)).toBe(true);
    for (const even of ['0', '2', '4']) expect(attempts.get(even)).toEqual([1]);
    for (const odd of ['1', '3', '5']) expect(attempts.get(odd)).toEqual([1, 2]);
    expect(await consumer.receive({ waitMs: 50 })).toHaveLength(0);
  });

  it('a throwing handler fails the whole batch; messages it settled itself keep that', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', { retry: { initialDelayMs: 0, maxDelayMs: 0 } });
    await (await broker.producer('q')).send(['a', 'b', 'c']);
    const seen: string[] = [];
    const stop = new AbortController();
    const done = until(() => seen.filter((s) => s.endsWith('@2')).length === 2);
    const running = consumer.runBatch(
      async (messages) => {
        for (const m of messages) seen.push(`${m.text()}@${m.deliveryAttempt}`);
        done.check();
        if (messages.some((m) => m.deliveryAttempt === 1)) {
          const a = messages.find((m) => m.text() === 'a');
          await a?.ack();
          throw new Error('batch failed');
        }
      },
      { maxMessages: 3, maxWaitMs: 100, signal: stop.signal },
    );
    await done.reached;
    stop.abort();
    await running;
    expect(seen.slice(0, 3).sort()).toEqual(['a@1', 'b@1', 'c@1']);
    expect(seen.slice(3).sort()).toEqual(['b@2', 'c@2']);
  });

  it('dead-letters a message failed on its last delivery, as run() does', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', {
      maxDeliveries: 2,
      deadLetter: 'dlq',
      retry: { initialDelayMs: 0, maxDelayMs: 0 },
    });
    const dlq = await broker.consumer('dlq');
    await (await broker.producer('q')).send(['poison', 'fine']);
    const stop = new AbortController();
    const running = consumer.runBatch(
      (messages) => messages.map((m) => (m.text() === 'poison' ? new Error('bad schema') : 'ack')),
      { maxMessages: 2, signal: stop.signal },
    );
    const [dead] = await dlq.receive({ waitMs: 10_000 });
    stop.abort();
    await running;
    expect(dead?.text()).toBe('poison');
    expect(dead?.headers[DeadLetterHeaders.reason]).toBe('bad schema');
  });

  it('a wrong number of outcomes fails the batch with a message saying what to return', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', { retry: { initialDelayMs: 0, maxDelayMs: 0 } });
    await (await broker.producer('q')).send(['x', 'y']);
    const attempts: number[] = [];
    const stop = new AbortController();
    const done = until(() => attempts.includes(2));
    const running = consumer.runBatch(
      (messages) => {
        for (const m of messages) attempts.push(m.deliveryAttempt);
        done.check();
        return messages[0]!.deliveryAttempt === 1 ? ['ack'] : undefined;
      },
      { maxMessages: 2, maxWaitMs: 1_000, signal: stop.signal },
    );
    await done.reached;
    stop.abort();
    await running;
    expect(attempts.slice(0, 2)).toEqual([1, 1]);
  });

  it('a partial batch goes after maxWaitMs', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q');
    await (await broker.producer('q')).send('alone');
    let got: string[] = [];
    const stop = new AbortController();
    await consumer.runBatch(
      (messages) => {
        got = messages.map((m) => m.text());
        stop.abort();
      },
      { maxMessages: 5, maxWaitMs: 20, signal: stop.signal },
    );
    expect(got).toEqual(['alone']);
  });

  it('ordered: a batch holds one message per key, and each key stays in send order', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', { ordered: true, prefetch: 32 });
    const producer = await broker.producer('q');
    const per = 6;
    for (let i = 0; i < per; i++)
      await producer.send(['k1', 'k2'].map((k) => ({ body: `${k}:${i}`, orderingKey: k })));
    await producer.send(['u1', 'u2']);
    const order = new Map<string, number[]>();
    const batches: string[][] = [];
    let total = 0;
    const stop = new AbortController();
    await consumer.runBatch(
      async (messages) => {
        batches.push(messages.map((m) => m.orderingKey ?? '-'));
        await new Promise((r) => setImmediate(r));
        for (const m of messages) {
          const [k, i] = m.text().split(':');
          if (i !== undefined) order.set(k!, [...(order.get(k!) ?? []), Number(i)]);
          total++;
        }
        if (total === per * 2 + 2) stop.abort();
      },
      { maxMessages: 8, maxWaitMs: 5, signal: stop.signal, concurrency: 2 },
    );
    for (const keys of batches) {
      const ordered = keys.filter((k) => k !== '-');
      expect(new Set(ordered).size).toBe(ordered.length);
    }
    const expected = Array.from({ length: per }, (_, i) => i);
    expect(order.get('k1')).toEqual(expected);
    expect(order.get('k2')).toEqual(expected);
  });

  it('close() waits for a running batch, settles it, and gives back what was not started', async () => {
    const name = `batch-${randomUUID()}`;
    const broker = await memory(name);
    const consumer = await broker.consumer('q', { prefetch: 10 });
    await (await broker.producer('q')).send(['1', '2', '3', '4', '5']);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inHandler = new Promise<void>((r) => (started = r));
    const handled: string[] = [];
    const running = consumer.runBatch(
      async (messages) => {
        started();
        await gate;
        handled.push(...messages.map((m) => m.text()));
      },
      { maxMessages: 2 },
    );
    await inHandler;
    const closing = consumer.close({ timeoutMs: 10_000 });
    release();
    await closing;
    await running;
    expect(handled).toHaveLength(2);
    const again = await (await memory(name)).consumer('q');
    const rest: Message[] = [];
    while (rest.length < 3) rest.push(...(await again.receive({ max: 10, waitMs: 5_000 })));
    expect(rest.map((m) => m.text()).sort()).toEqual(
      ['1', '2', '3', '4', '5'].filter((t) => !handled.includes(t)),
    );
  });

  it("a batch of one is the handler's own: the array it was given is not reused for a later batch", async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q');
    await (await broker.producer('q')).send(['a', 'b', 'c']);
    const kept: Message[][] = [];
    const done = until(() => kept.length === 3);
    const stop = new AbortController();
    const running = consumer.runBatch(
      (messages) => {
        kept.push(messages);
        done.check();
      },
      { maxMessages: 1, signal: stop.signal },
    );
    await done.reached;
    stop.abort();
    await running;
    expect(kept.map((batch) => batch.map((m) => m.text()))).toEqual([['a'], ['b'], ['c']]);
  });

  it('refuses batches larger than prefetch, and a second run while one is active', async () => {
    const broker = await memory();
    const consumer = await broker.consumer('q', { prefetch: 4 });
    await expect(consumer.runBatch(() => {}, { maxMessages: 5 })).rejects.toThrow(/prefetch \(4\)/);
    await expect(consumer.runBatch(() => {}, { maxMessages: 2, maxWaitMs: -1 })).rejects.toThrow(/maxWaitMs/);
    const stop = new AbortController();
    const running = consumer.runBatch(() => {}, { maxMessages: 2, signal: stop.signal });
    await expect(consumer.run(() => {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    stop.abort();
    await running;
  });
});
