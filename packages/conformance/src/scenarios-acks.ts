import { DeadLetterHeaders } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, nothingWithin, type SuiteContext, sleep } from './context.js';

export function ackScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;

  it.skipIf(!caps.visibilityTimeout)('an acked message is not delivered again', async () => {
    const dest = await ctx.destination();
    const vis = ctx.visibilityMs;
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), visibilityTimeoutMs: vis });
    const producer = await ctx.broker.producer(dest);
    await producer.send('once');
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(m!.text()).toBe('once');
    expect(await nothingWithin(consumer, vis * 2 + ctx.ms(500))).toHaveLength(0);
  });

  it.skipIf(!caps.nack)('a nacked message is redelivered', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    // An emulated nack is a copy: it must keep the id and headers and leak none of its own.
    const headers = caps.headers === 'none' ? undefined : { 'x-kept': 'yes' };
    await producer.send({ body: 'again', headers });
    const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
    await m!.nack();
    const [again] = await collect(consumer, 1, ctx.ms(10_000));
    expect(again!.text()).toBe('again');
    expect(again!.id).toBe(m!.id);
    expect(again!.headers).toEqual(m!.headers);
    if (headers !== undefined) expect(again!.headers['x-kept']).toBe('yes');
  });

  it.skipIf(!caps.nackDelay)('nack with a delay does not redeliver before the delay', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      visibilityTimeoutMs: caps.visibilityTimeout ? Math.max(ctx.visibilityMs, 5_000) : undefined,
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send('later');
    const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
    const delay = ctx.ms(1_500);
    const nackedAt = Date.now();
    await m!.nack({ delayMs: delay });
    const [again] = await collect(consumer, 1, delay + ctx.ms(10_000));
    expect(again!.text()).toBe('later');
    expect(Date.now() - nackedAt).toBeGreaterThanOrEqual(delay - 50);
  });

  it.skipIf(!caps.visibilityTimeout)(
    'an un-acked message reappears after the visibility timeout',
    async () => {
      const dest = await ctx.destination();
      const vis = ctx.visibilityMs;
      const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), visibilityTimeoutMs: vis });
      const producer = await ctx.broker.producer(dest);
      await producer.send('lease');
      const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
      const taken = Date.now();
      const [again] = await collect(consumer, 1, vis + ctx.ms(10_000));
      expect(again!.text()).toBe('lease');
      expect(Date.now() - taken).toBeGreaterThanOrEqual(vis - 100);
      expect(again!.deliveryAttempt).toBe(2);
      await m!.ack(); // a stale ack is harmless
    },
  );

  it.skipIf(!caps.extend || !caps.visibilityTimeout)(
    'extend keeps a message hidden past its visibility timeout',
    async () => {
      const dest = await ctx.destination();
      const vis = ctx.visibilityMs;
      const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), visibilityTimeoutMs: vis });
      const producer = await ctx.broker.producer(dest);
      await producer.send('keep');
      const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
      await m!.extend(vis * 4);
      expect(await nothingWithin(consumer, vis * 2)).toHaveLength(0);
      await m!.ack();
    },
  );

  it.skipIf(!caps.nack)('deliveryAttempt counts every delivery', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    await producer.send('count me');
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
      attempts.push(m!.deliveryAttempt);
      if (i < 2) await m!.nack();
      else await m!.ack();
    }
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('a throwing run() handler gets the message again and can then succeed', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      retry: { initialDelayMs: 10, maxDelayMs: 50 },
      visibilityTimeoutMs: caps.visibilityTimeout ? ctx.visibilityMs : undefined,
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send('flaky');
    const stop = new AbortController();
    const seen: number[] = [];
    const timer = setTimeout(() => stop.abort(), ctx.ms(20_000));
    await consumer.run(
      (m) => {
        seen.push(m.deliveryAttempt);
        if (seen.length < 3) throw new Error('not yet');
        stop.abort();
      },
      { signal: stop.signal },
    );
    clearTimeout(timer);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('deadLetter(reason) moves one message to the dead-letter destination', async () => {
    const dest = await ctx.destination();
    const dlq = await ctx.destination('dlq');
    const dlqConsumer = await ctx.broker.consumer(dlq, { group: ctx.group() });
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), deadLetter: dlq });
    const producer = await ctx.broker.producer(dest);
    await producer.send('reject me');
    const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
    await m!.deadLetter('schema mismatch');
    const [dead] = await collect(dlqConsumer, 1, ctx.ms(15_000));
    expect(dead!.text()).toBe('reject me');
    if (caps.headers !== 'none') expect(dead!.headers[DeadLetterHeaders.reason]).toBe('schema mismatch');
    expect(await nothingWithin(consumer, ctx.ms(300))).toHaveLength(0);
  });

  it('acking twice, and nacking after an ack, are harmless', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    await producer.send('idempotent');
    const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
    await m!.ack();
    await expect(m!.ack()).resolves.toBeUndefined();
    await expect(m!.nack()).resolves.toBeUndefined();
    await expect(m!.deadLetter('late')).resolves.toBeUndefined();
    expect(m!.state).toBe('acked');
    await sleep(50);
    expect(await nothingWithin(consumer, ctx.ms(300))).toHaveLength(0);
  });
}
