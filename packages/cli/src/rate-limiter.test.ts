// The bridge's rate limiter and the interrupt-signal waits: every wait removes its abort listener,
// so a long rate-limited bridge does not pile listeners on the process-wide interrupt signal.

import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { whenAborted } from './abort.js';
import { RateLimiter } from './rate-limiter.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('RateLimiter', () => {
  it('waits for tokens 200 times without leaving an abort listener behind', async () => {
    vi.useFakeTimers();
    const signal = new AbortController().signal;
    const limiter = new RateLimiter(10);
    let granted = await limiter.take(1, signal); // the one token the bucket starts with
    for (let i = 0; i < 200; i++) {
      // The bucket is empty (the fake clock has not moved since the last grant): this take waits.
      const taken = limiter.take(1, signal);
      await Promise.resolve();
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(100);
      granted += await taken;
      expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    }
    expect(granted).toBe(201);
  });

  it('grants at most the tokens there are, and 0 once the signal aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const limiter = new RateLimiter(5);
    expect(await limiter.take(10, controller.signal)).toBe(1); // starts with one token
    const waiting = limiter.take(10, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    expect(await waiting).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_000); // a full second refills the bucket to its burst
    expect(await new RateLimiter(5).take(10, new AbortController().signal)).toBe(1);
    expect(await limiter.take(10, new AbortController().signal)).toBe(5);
  });
});

describe('abort waits', () => {
  it('whenAborted() removes its listener when disposed', async () => {
    const controller = new AbortController();
    const stop = whenAborted(controller.signal, 'stopped');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    stop.dispose();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const stop2 = whenAborted(controller.signal, 'stopped');
    controller.abort();
    expect(await stop2.promise).toBe('stopped');
    expect(await whenAborted(controller.signal, 'already').promise).toBe('already');
  });
});
