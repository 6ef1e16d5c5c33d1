import { describe, expect, it, vi } from 'vitest';
import { RateLimiter, rateLimitedBatchSize } from './rate-limit.js';

describe('RateLimiter', () => {
  it('lets one second of permits through at once, then one per 1/rate seconds', () => {
    let now = 1_000;
    const limiter = new RateLimiter(4, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take())).toEqual([0, 0, 0, 0]);
    // Empty: the next permit is 250 ms away, and nothing is taken while waiting.
    expect(limiter.take()).toBe(250);
    now += 249;
    expect(limiter.take()).toBe(1);
    now += 1;
    expect(limiter.take()).toBe(0);
    expect(limiter.take()).toBe(250);
  });

  it('never lets more than perSecond * seconds + one second of burst through, whatever the callers do', () => {
    let now = 0;
    const rate = 7;
    const limiter = new RateLimiter(rate, () => now);
    let taken = 0;
    for (let step = 0; step < 10_000; step++) {
      now += step % 13; // irregular callers
      const count = 1 + (step % 3);
      if (limiter.take(count) === 0) taken += count;
      // count - 1: a take may leave a debt of at most one call's extra permits.
      expect(taken).toBeLessThanOrEqual(rate + (now * rate) / 1000 + count - 1);
    }
    expect(taken).toBeGreaterThan((now * rate) / 1000 - rate);
  });

  it('lets a batch larger than the bucket through when full, and the debt spaces the next', () => {
    const now = 0;
    const limiter = new RateLimiter(10, () => now);
    expect(limiter.take(25)).toBe(0);
    // 15 permits owed, plus the one asked for: 1.6 s at 10/s.
    expect(limiter.take(1)).toBe(1_600);
  });

  it('a limit under 1/s still lets one through', () => {
    let now = 0;
    const limiter = new RateLimiter(0.5, () => now);
    expect(limiter.take()).toBe(0);
    expect(limiter.take()).toBe(2_000);
    now += 2_000;
    expect(limiter.take()).toBe(0);
  });

  it('acquire() waits on the clock, and an abort leaves no timer or listener behind', async () => {
    let now = 0;
    const limiter = new RateLimiter(1, () => now);
    await limiter.acquire();
    const controller = new AbortController();
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const waiting = limiter.acquire(1, controller.signal);
    await new Promise((resolve) => setImmediate(resolve)); // its turn comes after a microtask
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(timersBefore + 1);
    controller.abort(new Error('closing'));
    await expect(waiting).rejects.toThrow('closing');
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(timersBefore);
    now += 1_000;
    await expect(limiter.acquire(1, controller.signal)).rejects.toThrow('closing');
  });

  it('acquire() serves callers in call order, and one aborted does not hold up the rest', async () => {
    vi.useFakeTimers();
    try {
      const limiter = new RateLimiter(2);
      const order: string[] = [];
      const controller = new AbortController();
      const all = [
        limiter.acquire(2).then(() => order.push('first')),
        // Needs the whole bucket again: 1 s.
        limiter.acquire(2).then(() => order.push('big')),
        limiter.acquire(1, controller.signal).catch(() => order.push('cancelled')),
        // Alone it would go after 0.5 s, ahead of `big`: in line it waits for it.
        limiter.acquire(1).then(() => order.push('small')),
      ];
      await vi.advanceTimersByTimeAsync(0);
      expect(order).toEqual(['first']);
      controller.abort(new Error('closing'));
      await vi.advanceTimersByTimeAsync(600);
      expect(order).toEqual(['first']);
      await vi.advanceTimersByTimeAsync(400);
      expect(order).toEqual(['first', 'big', 'cancelled']);
      await vi.advanceTimersByTimeAsync(500);
      expect(order).toEqual(['first', 'big', 'cancelled', 'small']);
      await Promise.all(all);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a limit that is not a positive finite number', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new RateLimiter(bad)).toThrow(/maxPerSecond/);
    }
  });

  it('rate-limited producer batches hold at most one second of messages', () => {
    expect(rateLimitedBatchSize(1_000, undefined)).toBe(1_000);
    expect(rateLimitedBatchSize(1_000, 20)).toBe(20);
    expect(rateLimitedBatchSize(10, 20)).toBe(10);
    expect(rateLimitedBatchSize(1_000, 0.5)).toBe(1);
  });
});
