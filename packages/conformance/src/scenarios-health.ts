import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';

/**
 * broker.health() tells the truth within a bounded time: up while the broker answers, down while
 * it is away (harness.outage: the emulator refusing every request, the vhost refusing connections)
 * and up again after, down once the broker is closed. Changes are waited for by asking again.
 */
export function healthScenarios(ctx: SuiteContext): void {
  it('is up while the broker answers, in the terminus / HTTP probe shape', async () => {
    const health = await ctx.broker.health({ timeoutMs: ctx.ms(10_000) });
    expect(health.status).toBe('up');
    expect(health.details.driver).toBe(ctx.broker.driver);
  });

  it('turns down during an outage and up again after it, within the timeout each time', {
    timeout: 180_000,
  }, async (t) => {
    const outage = ctx.harness.outage?.bind(ctx.harness);
    if (outage === undefined) return t.skip('the harness cannot take this broker away');
    const broker = await ctx.connectAnother();
    const becomes = async (status: 'up' | 'down') => {
      const deadline = Date.now() + ctx.ms(120_000);
      for (;;) {
        const health = await broker.health({ timeoutMs: ctx.ms(3_000) });
        if (health.status === status || Date.now() > deadline) return health;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    expect((await becomes('up')).status).toBe('up');
    const end = await outage();
    let down: Awaited<ReturnType<typeof becomes>>;
    try {
      down = await becomes('down');
    } finally {
      await end();
    }
    expect(down.status).toBe('down');
    expect(typeof down.details.code).toBe('string');
    for (const secret of ctx.harness.secrets ?? []) expect(JSON.stringify(down)).not.toContain(secret);
    expect((await becomes('up')).status).toBe('up');
  });

  it('is down once the broker is closed, without asking it', async () => {
    const broker = await ctx.harness.connect();
    await broker.close({ timeoutMs: 5_000 });
    expect((await broker.health()).status).toBe('down');
  });
}
