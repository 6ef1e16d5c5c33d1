// Flow control: maxPerSecond on consumers (handler starts) and producers (messages sent), and
// consumer.pause()/resume(). Rates are checked as an upper bound only (at most one second's burst
// plus the rate times the time passed): a loaded machine does less, never more.

import type { Message } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, type SuiteContext, sleep } from './context.js';

function underRate(times: readonly number[], t0: number, rate: number): void {
  times.forEach((at, i) => {
    expect(i + 1).toBeLessThanOrEqual(rate + Math.ceil(((at - t0) * rate) / 1000) + 1);
  });
}

export function flowScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;
  const vis = () => (caps.visibilityTimeout ? ctx.visibilityMs : undefined);

  it('a consumer with maxPerSecond starts handlers no faster than that', async () => {
    const dest = await ctx.destination();
    const rate = 10;
    const n = 25;
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      maxPerSecond: rate,
      concurrency: 4,
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: n }, (_, i) => `r-${i}`));
    const starts: number[] = [];
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ctx.ms(40_000));
    const t0 = Date.now();
    await consumer.run(
      () => {
        starts.push(Date.now());
        if (starts.length === n) stop.abort();
      },
      { signal: stop.signal },
    );
    clearTimeout(timer);
    expect(starts).toHaveLength(n);
    underRate(starts, t0, rate);
    await consumer.close();
  });

  it('a producer with maxPerSecond sends no faster than that', async () => {
    const dest = await ctx.destination();
    const rate = 10;
    const n = 25;
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest, { maxPerSecond: rate });
    const t0 = Date.now();
    const sending = producer.send(Array.from({ length: n }, (_, i) => `p-${i}`));
    const arrivals: number[] = [];
    const deadline = Date.now() + ctx.ms(40_000);
    while (arrivals.length < n && Date.now() < deadline) {
      for (const m of await consumer.receive({ max: n, waitMs: 1_000 })) {
        arrivals.push(Date.now());
        await m.ack();
      }
    }
    await sending;
    expect(arrivals).toHaveLength(n);
    underRate(arrivals, t0, rate);
    await consumer.close();
  });

  it('a paused consumer starts no handler; after resume() it handles everything', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), visibilityTimeoutMs: vis() });
    const producer = await ctx.broker.producer(dest);
    const handled: string[] = [];
    consumer.pause();
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ctx.ms(40_000));
    const running = consumer.run(
      (m: Message) => {
        handled.push(m.text());
        if (handled.length === 5) stop.abort();
      },
      { signal: stop.signal },
    );
    await producer.send(Array.from({ length: 5 }, (_, i) => `z-${i}`));
    await sleep(ctx.ms(500));
    expect(handled).toHaveLength(0);
    consumer.resume();
    await running;
    clearTimeout(timer);
    expect([...handled].sort()).toEqual(['z-0', 'z-1', 'z-2', 'z-3', 'z-4']);
    await consumer.close();
  });

  it.skipIf(ctx.options.activeConsumersPerGroup === 'one' || (!caps.nack && !caps.visibilityTimeout))(
    'a paused consumer handles nothing and holds back nothing of the group for good: the rest arrive on close',
    async () => {
      const dest = await ctx.destination();
      const group = ctx.group();
      const other = await ctx.connectAnother();
      const paused = await other.consumer(dest, { group, prefetch: 2, visibilityTimeoutMs: vis() });
      const handled: string[] = [];
      const running = paused.run((m) => {
        handled.push(m.text());
      });
      paused.pause();
      const active = await ctx.broker.consumer(dest, { group, visibilityTimeoutMs: vis() });
      const producer = await ctx.broker.producer(dest);
      const n = 10;
      await producer.send(Array.from({ length: n }, (_, i) => `h-${i}`));
      // A pull flavour gives everything back and a push flavour's client keeps at most prefetch, so
      // the other consumer gets at least n - 2 there; where a group's queues are partitioned among
      // its members (RocketMQ 4.x), the paused member's queues wait for it (as Kafka's pause does),
      // so only "some" is portable. The strong form is tested on memory (consumer-flow.test.ts).
      // Distinct texts: a short lease on a loaded machine may redeliver (at least once).
      const seen = new Set<string>();
      const gather = async (count: number, ms: number) => {
        const deadline = Date.now() + ms;
        while (seen.size < count && Date.now() < deadline) {
          for (const m of await collect(active, count - seen.size, deadline - Date.now())) seen.add(m.text());
        }
      };
      await gather(n - 2, ctx.ms(10_000) + (vis() ?? 0));
      expect(seen.size).toBeGreaterThan(0);
      await paused.close();
      await running;
      await gather(n, ctx.ms(20_000) + ctx.visibilityMs);
      expect(seen.size).toBe(n);
      expect(handled).toHaveLength(0);
    },
  );
}
