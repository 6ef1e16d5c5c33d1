// runBatch(): batches of at most maxMessages, per-message outcomes settled as run() settles a
// message, a throw failing the whole batch, per-key order, and draining on close. Gated by the
// capabilities the outcomes need (nack for a redelivery, orderingKeys for order).

import type { BatchOutcome, Message } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, nothingWithin, type SuiteContext, sleep } from './context.js';

/** Runs `handler` on batches until `done()` holds after a call, or `timeoutMs` passes. */
async function runBatchesUntil(
  consumer: Awaited<ReturnType<SuiteContext['broker']['consumer']>>,
  options: { maxMessages: number; maxWaitMs: number; concurrency?: number },
  handler: (messages: Message[]) => readonly BatchOutcome[] | undefined | Promise<undefined>,
  done: () => boolean,
  timeoutMs: number,
): Promise<void> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  await consumer.runBatch(
    async (messages) => {
      const outcomes = await handler(messages);
      if (done()) stop.abort();
      return outcomes;
    },
    { ...options, signal: stop.signal },
  );
  clearTimeout(timer);
}

export function batchScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;
  const vis = () => (caps.visibilityTimeout ? ctx.visibilityMs : undefined);

  it('runBatch hands out batches of at most maxMessages and acks every message once', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const consumer = await ctx.broker.consumer(dest, { group, prefetch: 16, visibilityTimeoutMs: vis() });
    const producer = await ctx.broker.producer(dest);
    const sent = Array.from({ length: 12 }, (_, i) => `b-${i}`);
    await producer.send(sent);
    const seen: string[] = [];
    const sizes: number[] = [];
    await runBatchesUntil(
      consumer,
      { maxMessages: 5, maxWaitMs: ctx.ms(200) },
      (messages) => {
        sizes.push(messages.length);
        seen.push(...messages.map((m) => m.text()));
        return undefined;
      },
      () => seen.length >= sent.length,
      ctx.ms(30_000),
    );
    expect([...seen].sort()).toEqual([...sent].sort());
    expect(sizes.every((n) => n >= 1 && n <= 5)).toBe(true);
    expect(await nothingWithin(consumer, (vis() ?? 0) * 2 + ctx.ms(300))).toHaveLength(0);
    await consumer.close();
  });

  it.skipIf(!caps.nack)("a batch outcome of 'retry' or an Error redelivers only those messages", async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      visibilityTimeoutMs: vis(),
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send(['keep-1', 'again-1', 'keep-2', 'again-2']);
    const attempts = new Map<string, number[]>();
    await runBatchesUntil(
      consumer,
      { maxMessages: 4, maxWaitMs: ctx.ms(300) },
      (messages) =>
        messages.map((m) => {
          attempts.set(m.text(), [...(attempts.get(m.text()) ?? []), m.deliveryAttempt]);
          if (m.deliveryAttempt > 1 || m.text().startsWith('keep')) return 'ack';
          return m.text() === 'again-1' ? 'retry' : new Error('not yet');
        }),
      () => (attempts.get('again-1')?.length ?? 0) >= 2 && (attempts.get('again-2')?.length ?? 0) >= 2,
      ctx.ms(30_000),
    );
    expect(attempts.get('keep-1')).toEqual([1]);
    expect(attempts.get('keep-2')).toEqual([1]);
    expect(attempts.get('again-1')).toEqual([1, 2]);
    expect(attempts.get('again-2')).toEqual([1, 2]);
    await consumer.close();
  });

  it.skipIf(!caps.nack)('a throwing batch handler redelivers every message of its batch', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      visibilityTimeoutMs: vis(),
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send(['t-1', 't-2', 't-3']);
    const attempts = new Map<string, number[]>();
    await runBatchesUntil(
      consumer,
      { maxMessages: 3, maxWaitMs: ctx.ms(300) },
      async (messages) => {
        for (const m of messages)
          attempts.set(m.text(), [...(attempts.get(m.text()) ?? []), m.deliveryAttempt]);
        if (messages.some((m) => m.deliveryAttempt === 1)) throw new Error('the whole batch failed');
        return undefined;
      },
      () => [...attempts.values()].filter((a) => a.includes(2)).length === 3,
      ctx.ms(30_000),
    );
    for (const text of ['t-1', 't-2', 't-3']) expect(attempts.get(text)).toEqual([1, 2]);
    await consumer.close();
  });

  it.skipIf(!caps.orderingKeys)(
    'ordered batches hold one message per key and keep each key in order',
    async () => {
      const dest = await ctx.destination();
      const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), ordered: true, prefetch: 32 });
      const producer = await ctx.broker.producer(dest);
      const keys = ['k1', 'k2', 'k3'];
      const per = 6;
      for (let i = 0; i < per; i++)
        await producer.send(keys.map((k) => ({ body: `${k}:${i}`, orderingKey: k })));
      const order = new Map<string, number[]>();
      const batches: string[][] = [];
      let total = 0;
      await runBatchesUntil(
        consumer,
        { maxMessages: 8, maxWaitMs: ctx.ms(50), concurrency: 2 },
        async (messages) => {
          batches.push(messages.map((m) => m.orderingKey ?? ''));
          await sleep(Math.random() * 4);
          for (const m of messages) {
            const [k, i] = m.text().split(':');
            order.set(k!, [...(order.get(k!) ?? []), Number(i)]);
            total++;
          }
          return undefined;
        },
        () => total >= keys.length * per,
        ctx.ms(30_000),
      );
      for (const batch of batches) expect(new Set(batch).size).toBe(batch.length);
      const expected = Array.from({ length: per }, (_, i) => i);
      for (const k of keys) expect(order.get(k)).toEqual(expected);
      await consumer.close();
    },
  );

  it('closing a consumer while a batch runs settles that batch and loses nothing', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const other = await ctx.connectAnother();
    const consumer = await other.consumer(dest, { group, prefetch: 8, visibilityTimeoutMs: vis() });
    const producer = await ctx.broker.producer(dest);
    const n = 12;
    await producer.send(Array.from({ length: n }, (_, i) => `d-${i}`));
    const handled = new Set<string>();
    let started = false;
    const running = consumer.runBatch(
      async (messages) => {
        started = true;
        await sleep(50);
        for (const m of messages) handled.add(m.text());
      },
      { maxMessages: 4, maxWaitMs: ctx.ms(100) },
    );
    while (!started) await sleep(5);
    await consumer.close({ timeoutMs: ctx.ms(10_000) });
    await running;
    expect(handled.size).toBeGreaterThan(0);
    const again = await ctx.broker.consumer(dest, { group });
    const rest = await collect(again, n - handled.size, ctx.ms(20_000) + ctx.visibilityMs);
    const restTexts = rest.map((m) => m.text());
    // What the closed consumer's batch handled was acked: it does not come back.
    for (const text of restTexts) expect(handled.has(text)).toBe(false);
    expect(new Set([...handled, ...restTexts]).size).toBe(n);
    await again.close();
  });
}
