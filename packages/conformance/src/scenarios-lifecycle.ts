import { inspect } from 'node:util';
import { errorCode, type Feature } from '@switchyard/core';
import { expect, it } from 'vitest';
import { collect, type SuiteContext, sleep } from './context.js';

export function lifecycleScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;

  it('closing a consumer while handlers run loses nothing', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const n = 30;
    const other = await ctx.connectAnother();
    const consumer = await other.consumer(dest, { group, prefetch: 10, concurrency: 5 });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: n }, (_, i) => ({ body: `c-${i}` })));
    const handled = new Set<string>();
    const run = consumer.run(async (m) => {
      await sleep(20);
      handled.add(m.text());
    });
    while (handled.size < 5) await sleep(5);
    await consumer.close({ timeoutMs: 5_000 });
    await run;
    const again = await ctx.broker.consumer(dest, { group });
    const rest = await collect(again, n - handled.size, ctx.ms(20_000) + ctx.visibilityMs);
    for (const m of rest) handled.add(m.text());
    expect(handled.size).toBe(n);
  });

  it('a consumer closed mid-stream loses nothing', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const n = 20;
    const other = await ctx.connectAnother();
    const consumer = await other.consumer(dest, { group, prefetch: 8 });
    const producer = await ctx.broker.producer(dest);
    await producer.send(Array.from({ length: n }, (_, i) => ({ body: `s-${i}` })));
    const seen = new Set<string>();
    for await (const m of consumer) {
      seen.add(m.text());
      await m.ack();
      if (seen.size === 5) break;
    }
    await consumer.close();
    const again = await ctx.broker.consumer(dest, { group });
    const rest = await collect(again, n - seen.size, ctx.ms(20_000) + ctx.visibilityMs);
    for (const m of rest) seen.add(m.text());
    expect(seen.size).toBe(n);
  });

  it('broker.close() drains running handlers and flushes their acks', async () => {
    const dest = await ctx.destination();
    const group = ctx.group();
    const other = await ctx.harness.connect();
    const consumer = await other.consumer(dest, { group, concurrency: 4 });
    const producer = await ctx.broker.producer(dest);
    await producer.send(['d-0', 'd-1', 'd-2', 'd-3']);
    const finished: string[] = [];
    let started = 0;
    const run = consumer.run(async (m) => {
      started++;
      await sleep(100);
      finished.push(m.text());
    });
    while (started < 1) await sleep(5);
    await other.close({ timeoutMs: 5_000 });
    await run;
    expect(finished.length).toBeGreaterThan(0);
    const again = await ctx.broker.consumer(dest, { group });
    const rest = await collect(again, 4 - finished.length, ctx.ms(10_000) + ctx.visibilityMs * 2);
    // Handled-and-acked messages do not come back; the others do.
    const back = rest.map((m) => m.text());
    for (const f of finished) expect(back).not.toContain(f);
    expect(new Set([...finished, ...back]).size).toBe(4);
  });

  it('sending to a nonexistent destination fails with NOT_FOUND', async (t) => {
    // A driver whose producers create their destination has no missing one to offer: skipped,
    // visibly (its own tests check NOT_FOUND where it can happen).
    const name = ctx.harness.nonexistentDestination?.();
    if (name === undefined) return t.skip();
    const producer = await ctx.broker.producer(name).catch((e: unknown) => ctx.caught(e));
    if (producer instanceof Error) {
      expect(errorCode(producer)).toBe('NOT_FOUND');
      return;
    }
    expect(
      await ctx.rejection((producer as Awaited<ReturnType<typeof ctx.broker.producer>>).send('x')),
    ).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a closed consumer rejects use with CLOSED', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    await consumer.close();
    expect(await ctx.rejection(consumer.receive())).toMatchObject({ code: 'CLOSED' });
    expect(await ctx.rejection(consumer.run(() => {}))).toMatchObject({ code: 'CLOSED' });
  });

  it('a closed producer rejects sends with CLOSED', async () => {
    const dest = await ctx.destination();
    const producer = await ctx.broker.producer(dest);
    await producer.close();
    expect(await ctx.rejection(producer.send('x'))).toMatchObject({ code: 'CLOSED', retryable: false });
  });

  it('a closed broker rejects new producers and consumers with CLOSED', async () => {
    const other = await ctx.harness.connect();
    await other.close();
    expect(await ctx.rejection(other.producer('x'))).toMatchObject({ code: 'CLOSED' });
    expect(await ctx.rejection(other.consumer('x'))).toMatchObject({ code: 'CLOSED' });
  });

  const missing = (Object.keys(caps) as Feature[]).filter((f) => caps[f] === false || caps[f] === 'none');
  it.skipIf(missing.length === 0)(
    `unsupported features fail with UNSUPPORTED (${missing.join(', ') || 'none'})`,
    async () => {
      const dest = await ctx.destination();
      const producer = await ctx.broker.producer(dest);
      const attempts: Array<[Feature, () => Promise<unknown>]> = [
        ['delayedSend', () => producer.send({ body: 'x', delayMs: 1_000 })],
        ['orderingKeys', () => producer.send({ body: 'x', orderingKey: 'k' })],
        ['tagFilter', () => producer.send({ body: 'x', tags: ['t'] })],
        ['routingKeyFilter', () => producer.send({ body: 'x', routingKey: 'a.b' })],
        ['headers', () => producer.send({ body: 'x', headers: { a: 'b' } })],
        ['startFrom', () => ctx.broker.consumer(dest, { startFrom: 'earliest' })],
        ['visibilityTimeout', () => ctx.broker.consumer(dest, { visibilityTimeoutMs: 1_000 })],
      ];
      let checked = 0;
      for (const [feature, attempt] of attempts) {
        if (!missing.includes(feature)) continue;
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => ctx.caught(e),
        );
        expect(error, feature).toMatchObject({ code: 'UNSUPPORTED' });
        expect(String((error as Error).message)).toContain(ctx.broker.driver);
        checked++;
      }
      if (missing.includes('extend')) {
        const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
        await producer.send('e');
        const [m] = await collect(consumer, 1, ctx.ms(10_000), { ack: false });
        expect(await ctx.rejection(m!.extend(1_000))).toMatchObject({ code: 'UNSUPPORTED' });
        await m!.ack();
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    },
  );

  it('invalid messages fail with INVALID_ARGUMENT and nothing is sent', async () => {
    const dest = await ctx.destination();
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    const bad = [{ body: 'ok' }, { body: 'x', headers: { n: 1 as unknown as string } }];
    expect(await ctx.rejection(producer.send(bad))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await ctx.rejection(producer.send({ body: 'x', delayMs: -1 }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(await consumer.receive({ waitMs: ctx.ms(300) })).toHaveLength(0);
  });

  it('a message over the size limit fails with MESSAGE_TOO_LARGE naming the limit', async () => {
    const dest = await ctx.destination();
    const producer = await ctx.broker.producer(dest);
    const body = 'x'.repeat(caps.maxMessageBytes + 1);
    const error = (await ctx.rejection(producer.send(body))) as Error;
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    expect(error.message).toContain(String(caps.maxMessageBytes));
  });

  it('invalid consumer options fail with INVALID_ARGUMENT naming the field', async () => {
    const dest = await ctx.destination();
    expect(await ctx.rejection(ctx.broker.consumer(dest, { prefetch: 0 }))).toHaveProperty(
      'message',
      expect.stringMatching(/prefetch/),
    );
    expect(await ctx.rejection(ctx.broker.consumer(dest, { maxDeliveries: 3 }))).toHaveProperty(
      'message',
      expect.stringMatching(/deadLetter/),
    );
  });

  it('escape hatches return the native objects', async () => {
    const dest = await ctx.destination();
    expect(ctx.options.native.broker(ctx.broker.unwrap())).toBe(true);
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    expect(producer.unwrap()).toBeDefined();
    expect(consumer.unwrap()).toBeDefined();
    await producer.send('native');
    const [m] = await collect(consumer, 1, ctx.ms(10_000));
    expect(ctx.options.native.message(m!.unwrap())).toBe(true);
  });

  it('no error text contains a secret', async (t) => {
    const secrets = ctx.harness.secrets ?? [];
    // Nothing to search for without credentials (memory): skipped rather than passed vacuously.
    if (secrets.length === 0) return t.skip();
    const capture = ctx.options.leakCheck;
    // With a sentinel capture, the harness must really have used the sentinel as its credentials.
    if (capture !== undefined) expect(secrets).toContain(capture.sentinel.value);
    const errors: unknown[] = [];
    const dest = await ctx.destination();
    const producer = await ctx.broker.producer(dest);
    errors.push(await ctx.rejection(producer.send({ body: 'x'.repeat(caps.maxMessageBytes + 1) })));
    const missingName = ctx.harness.nonexistentDestination?.();
    if (missingName !== undefined) {
      const p = await ctx.broker.producer(missingName).catch((e: unknown) => ctx.caught(e));
      errors.push(p instanceof Error ? p : await ctx.rejection((p as typeof producer).send('x')));
    }
    await producer.close();
    errors.push(await ctx.rejection(producer.send('x')));
    if (ctx.harness.connectWithWrongCredentials !== undefined) {
      // A refused credential: the error is about the credential, the likeliest place for it to show.
      const wrong = await ctx.harness.connectWithWrongCredentials().catch((e: unknown) => ctx.caught(e));
      if (wrong instanceof Error) errors.push(wrong);
      else {
        const broker = wrong as typeof ctx.broker;
        capture?.watch(broker);
        try {
          const p = await broker.producer(dest).catch((e: unknown) => ctx.caught(e));
          errors.push(p instanceof Error ? p : await ctx.rejection((p as typeof producer).send('x')));
        } finally {
          await broker.close({ timeoutMs: 5_000 }).catch((e: unknown) => ctx.caught(e));
        }
      }
      expect(errors.at(-1)).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    for (const error of errors) {
      expect(error).toBeInstanceOf(Error);
      // The error and its whole cause chain, as a logger's error serializer would walk it.
      const rendered: string[] = [];
      for (let e: unknown = error; e instanceof Error; e = e.cause) {
        rendered.push(e.message, String(e), e.stack ?? '', inspect(e, { depth: Infinity }));
        try {
          rendered.push(JSON.stringify(e));
        } catch {
          // a native cause that does not serialise prints nothing
        }
      }
      const text = rendered.join('\n');
      for (const secret of secrets) expect(text.includes(secret), 'a secret in error text').toBe(false);
    }
  });
}
