import { expect, it } from 'vitest';
import { collect, type SuiteContext, texts } from './context.js';

export function basicScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;

  it('round trip preserves body bytes, headers, key and tags', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const headers =
      caps.headers === 'none' ? undefined : { 'x-order': '42', 'x-weird key': 'ü ✓ "quoted" ,;=' };
    const tags = caps.tagFilter ? ['alpha'] : undefined;
    // A text-only flavour without headers carries the body alone (raw interop mode): no key either.
    const key = caps.headers === 'none' ? undefined : 'k-1';
    const receipt = await producer.send({
      body: 'héllo wörld',
      ...(headers && { headers }),
      ...(key && { key }),
      ...(tags && { tags }),
    });
    expect(typeof receipt.messageId).toBe('string');
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(m).toBeDefined();
    expect(Buffer.from(m!.body).equals(Buffer.from('héllo wörld'))).toBe(true);
    if (headers) expect(m!.headers).toMatchObject(headers);
    expect(m!.key).toBe(key);
    if (tags) expect(m!.tags).toEqual(tags);
    expect(m!.deliveryAttempt).toBe(1);
  });

  it('text bodies come back as text with their content type', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    await producer.send({ body: 'plain text ✓' });
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(m!.text()).toBe('plain text ✓');
    if (caps.headers !== 'none') expect(m!.contentType).toMatch(/^text\/plain/);
  });

  it('JSON bodies round-trip through json()', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const value = { order: 7, items: ['a', 'b'], nested: { ok: true, n: null } };
    await producer.send({ body: value });
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(m!.json()).toEqual(value);
    if (caps.headers !== 'none') expect(m!.contentType).toBe('application/json');
  });

  it.skipIf(caps.binaryBodies === false)('binary bodies keep every byte', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const bytes = new Uint8Array(256).map((_, i) => i);
    await producer.send({ body: bytes });
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(Buffer.from(m!.body).equals(Buffer.from(bytes))).toBe(true);
  });

  it.skipIf(caps.binaryBodies !== false)(
    'a non-UTF-8 body is refused before sending when the flavour carries text only',
    async () => {
      const dest = await ctx.destination();
      const producer = await ctx.broker.producer(dest);
      expect(await ctx.rejection(producer.send({ body: new Uint8Array([0xff, 0xfe, 0x00]) }))).toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
    },
  );

  it('batch send resolves receipts in order and delivers every message', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), prefetch: 64 });
    const producer = await ctx.broker.producer(dest);
    const bodies = Array.from({ length: 25 }, (_, i) => `m-${i}`);
    const receipts = await producer.send(bodies.map((body) => ({ body })));
    expect(receipts).toHaveLength(25);
    expect(new Set(receipts.map((r) => r.messageId)).size).toBe(25);
    const got = await collect(consumer, 25, ctx.ms(15_000));
    expect(texts(got).sort()).toEqual([...bodies].sort());
  });

  it('a batch larger than the driver maximum is split and fully delivered', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), prefetch: 256 });
    const producer = await ctx.broker.producer(dest);
    const n = Math.min(caps.maxBatchSize * 2 + 3, 250);
    await producer.send(Array.from({ length: n }, (_, i) => ({ body: `b-${i}` })));
    const got = await collect(consumer, n, ctx.ms(20_000));
    expect(new Set(texts(got)).size).toBe(n);
  });

  it('many concurrent single sends are all accepted and delivered', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), prefetch: 128 });
    const producer = await ctx.broker.producer(dest);
    await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send(`c-${i}`)));
    const got = await collect(consumer, 100, ctx.ms(20_000));
    expect(new Set(texts(got)).size).toBe(100);
  });

  it('competing consumers in one group get each message once', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const a = await ctx.broker.consumer(dest, { group, prefetch: 4 });
    const other = await ctx.connectAnother();
    const b = await other.consumer(dest, { group, prefetch: 4 });
    const producer = await ctx.broker.producer(dest);
    // Distinct keys (where the flavour carries keys: raw HTTP bodies do not): brokers that share a
    // group's load by key (Pulsar Key_Shared) spread them too.
    const keyed = caps.headers !== 'none';
    await producer.send(
      Array.from({ length: 40 }, (_, i) => ({ body: `w-${i}`, ...(keyed ? { key: `w-key-${i}` } : {}) })),
    );
    const seen: string[] = [];
    const counts = { a: 0, b: 0 };
    const done = new AbortController();
    const handler = (who: 'a' | 'b') => async (m: { text(): string }) => {
      seen.push(m.text());
      counts[who]++;
      await new Promise((r) => setTimeout(r, 5));
      if (seen.length >= 40) done.abort();
    };
    const timer = setTimeout(() => done.abort(), ctx.ms(20_000));
    await Promise.all([
      a.run(handler('a'), { signal: done.signal }),
      b.run(handler('b'), { signal: done.signal }),
    ]);
    clearTimeout(timer);
    expect(seen).toHaveLength(40);
    expect(new Set(seen).size).toBe(40);
    if (ctx.options.activeConsumersPerGroup === 'one') {
      // Failover: one consumer took them all, the other stood by.
      expect([counts.a, counts.b].sort((x, y) => x - y)).toEqual([0, 40]);
    } else {
      expect(counts.a).toBeGreaterThan(0);
      expect(counts.b).toBeGreaterThan(0);
    }
  });

  it.skipIf(!caps.fanOut)('separate groups each get every message', async () => {
    const dest = await ctx.destination();
    const one = await ctx.broker.consumer(dest, { group: ctx.group('one') });
    const two = await ctx.broker.consumer(dest, { group: ctx.group('two') });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ body: `f-${i}` })));
    const [x, y] = await Promise.all([collect(one, 10, ctx.ms(15_000)), collect(two, 10, ctx.ms(15_000))]);
    expect(texts(x).sort()).toEqual(texts(y).sort());
    expect(x).toHaveLength(10);
  });

  it('for await iterates messages as they arrive', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    await producer.send(['i-0', 'i-1', 'i-2']);
    const got: string[] = [];
    for await (const m of consumer) {
      got.push(m.text());
      await m.ack();
      if (got.length === 3) break;
    }
    expect(got.sort()).toEqual(['i-0', 'i-1', 'i-2']);
  });

  it('receive() returns an empty array when nothing arrives in time', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const started = Date.now();
    const got = await consumer.receive({ max: 5, waitMs: 300 });
    expect(got).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('a message keeps its id and publishedAt', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const before = Date.now();
    await producer.send({ body: 'stamped', id: 'client-id-1' });
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(m!.id.length).toBeGreaterThan(0);
    if (m!.publishedAt !== undefined) expect(m!.publishedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
  });

  it('run() processes messages concurrently up to `concurrency`', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), prefetch: 16 });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: 8 }, (_, i) => ({ body: `p-${i}` })));
    let active = 0;
    let peak = 0;
    let handled = 0;
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), ctx.ms(15_000));
    await consumer.run(
      async () => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 50));
        active--;
        if (++handled === 8) stop.abort();
      },
      { signal: stop.signal, concurrency: 4 },
    );
    clearTimeout(timer);
    expect(handled).toBe(8);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(4);
  });

  it('a consumer holds at most `prefetch` unsettled messages', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group(), prefetch: 3 });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ body: `q-${i}` })));
    const first = await collect(consumer, 10, ctx.ms(1_000), { ack: false });
    expect(first.length).toBeLessThanOrEqual(3);
    expect(first.length).toBeGreaterThan(0);
    for (const m of first) await m.ack();
    const rest = await collect(consumer, 10 - first.length, ctx.ms(15_000));
    expect(first.length + rest.length).toBe(10);
  });
}
