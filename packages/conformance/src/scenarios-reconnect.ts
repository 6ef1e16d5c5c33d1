import { expect, it } from 'vitest';
import { type SuiteContext, texts } from './context.js';

/**
 * Watermill's TestReconnect: the broker goes away under an open producer and consumer
 * (harness.restart: a broker restart, every connection cut, or an outage the emulator injects)
 * and both resume by themselves. What was confirmed before is delivered; what is sent after is
 * confirmed and delivered; duplicates are allowed (at-least-once), losses are not.
 */
export function reconnectScenarios(ctx: SuiteContext): void {
  it('producer and consumer resume by themselves after the broker restarts', {
    timeout: 120_000,
  }, async (t) => {
    const restart = ctx.harness.restart?.bind(ctx.harness);
    if (restart === undefined) {
      t.skip('the harness cannot restart this broker');
      return;
    }
    const dest = await ctx.destination('reconnect');
    const consumer = await ctx.broker.consumer(dest, { group: ctx.group() });
    const producer = await ctx.broker.producer(dest);
    await producer.send('before the restart');
    await restart();
    // The send retries retryable failures within its deadline, across the reconnect.
    await producer.send('after the restart');
    const seen = new Set<string>();
    const deadline = Date.now() + ctx.ms(60_000);
    while (seen.size < 2 && Date.now() < deadline) {
      for (const m of await consumer.receive({ max: 10, waitMs: 1_000 })) {
        seen.add(m.text());
        await m.ack();
      }
    }
    expect([...seen].sort()).toEqual(['after the restart', 'before the restart']);
    await consumer.close();
    // Still usable after the restart: one more round trip on the same broker object.
    const again = await ctx.broker.consumer(dest, { group: ctx.group('after') });
    await producer.send('round trip');
    const got: string[] = [];
    while (!got.includes('round trip') && Date.now() < deadline + ctx.ms(30_000)) {
      const batch = await again.receive({ max: 10, waitMs: 1_000 });
      for (const m of batch) await m.ack();
      got.push(...texts(batch));
    }
    expect(got).toContain('round trip');
    await again.close();
  });
}
