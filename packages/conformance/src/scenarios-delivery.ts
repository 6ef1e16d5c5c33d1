import { expect, it } from 'vitest';
import { collect, nothingWithin, type SuiteContext, texts } from './context.js';

export function deliveryScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;

  it.skipIf(!caps.delayedSend)('a delayed send is not delivered before its delay', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const delay = ctx.ms(1_500);
    const sentAt = Date.now();
    await producer.send([{ body: 'late', delayMs: delay }, { body: 'now' }]);
    const [first] = await collect(consumer, 1, ctx.ms(10_000));
    expect(first!.text()).toBe('now');
    const [late] = await collect(consumer, 1, delay + ctx.ms(10_000));
    expect(late!.text()).toBe('late');
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(delay - 50);
  });

  it.skipIf(!caps.orderingKeys)('messages with one ordering key are handled in send order', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), ordered: true, prefetch: 64 });
    const producer = await ctx.broker.producer(dest);
    const keys = ['k1', 'k2', 'k3'];
    const per = 15;
    for (let i = 0; i < per; i++) {
      await producer.send(keys.map((k) => ({ body: `${k}:${i}`, orderingKey: k })));
    }
    const seen = new Map<string, number[]>();
    let total = 0;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ctx.ms(20_000));
    await consumer.run(
      async (m) => {
        const [k, i] = m.text().split(':');
        await new Promise((r) => setTimeout(r, Math.random() * 4));
        seen.set(k!, [...(seen.get(k!) ?? []), Number(i)]);
        if (++total === keys.length * per) stop.abort();
      },
      { signal: stop.signal, concurrency: 6 },
    );
    clearTimeout(timer);
    const expected = Array.from({ length: per }, (_, i) => i);
    for (const k of keys) expect(seen.get(k)).toEqual(expected);
  });

  it.skipIf(!caps.orderingKeys || !caps.nack)(
    'a redelivered message still comes before later ones of its key',
    async () => {
      const dest = await ctx.destination();
      const consumer = await ctx.broker.consumer(dest, {
        group: ctx.group(),
        ordered: true,
        retry: { initialDelayMs: 10, maxDelayMs: 20 },
      });
      const producer = await ctx.broker.producer(dest);
      await producer.send([0, 1, 2, 3].map((i) => ({ body: String(i), orderingKey: 'same' })));
      const seen: string[] = [];
      let failedOnce = false;
      const stop = new AbortController();
      const timer = setTimeout(() => stop.abort(), ctx.ms(20_000));
      await consumer.run(
        (m) => {
          if (m.text() === '1' && !failedOnce) {
            failedOnce = true;
            throw new Error('fail once');
          }
          seen.push(m.text());
          if (seen.length === 4) stop.abort();
        },
        { signal: stop.signal, concurrency: 4 },
      );
      clearTimeout(timer);
      expect(seen).toEqual(['0', '1', '2', '3']);
    },
  );

  it.skipIf(!caps.tagFilter)('a tag filter delivers only matching messages', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, {
      group: ctx.group(),
      filter: { tags: ['TAG1', 'TAG2'] },
    });
    const producer = await ctx.broker.producer(dest);
    await producer.send([
      { body: 'one', tags: ['TAG1'] },
      { body: 'none', tags: ['OTHER'] },
      { body: 'two', tags: ['TAG2'] },
      { body: 'untagged' },
    ]);
    const got = await collect(consumer, 2, ctx.ms(10_000));
    expect(texts(got).sort()).toEqual(['one', 'two']);
    expect(await nothingWithin(consumer, ctx.ms(500))).toHaveLength(0);
  });

  it.skipIf(!caps.routingKeyFilter)('routing-key filters match with * and #', async () => {
    const dest = await ctx.destination();
    const star = await ctx.broker.consumer(dest, {
      group: ctx.group('star'),
      filter: { routingKeys: ['a.*.c'] },
    });
    const hash = await ctx.broker.consumer(dest, {
      group: ctx.group('hash'),
      filter: { routingKeys: ['x.#'] },
    });
    const producer = await ctx.broker.producer(dest);
    const keys = ['a.b.c', 'a.b.x', 'a.c.d', 'x.y.z', 'x.y.c', 'a.z.c', 'x'];
    await producer.send(keys.map((routingKey) => ({ body: routingKey, routingKey })));
    const [s, h] = await Promise.all([collect(star, 2, ctx.ms(10_000)), collect(hash, 3, ctx.ms(10_000))]);
    expect(texts(s).sort()).toEqual(['a.b.c', 'a.z.c']);
    expect(texts(h).sort()).toEqual(['x', 'x.y.c', 'x.y.z']);
    expect(await nothingWithin(star, ctx.ms(300))).toHaveLength(0);
  });

  it.skipIf(!caps.startFrom)(
    "startFrom: 'earliest' gives a new group messages sent before it existed",
    async () => {
      const dest = await ctx.destination();
      const first = await ctx.broker.consumer(dest, { group: ctx.group() });
      const producer = await ctx.broker.producer(dest);
      await producer.send(['old-1', 'old-2']);
      await collect(first, 2, ctx.ms(10_000));
      const late = await ctx.broker.consumer(dest, { group: ctx.group('late'), startFrom: 'earliest' });
      const got = await collect(late, 2, ctx.ms(10_000));
      expect(texts(got).sort()).toEqual(['old-1', 'old-2']);
    },
  );
}
