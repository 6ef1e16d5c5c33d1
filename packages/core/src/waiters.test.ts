import { describe, expect, it } from 'vitest';
import { Waiters } from './waiters.js';

describe('Waiters', () => {
  it('wait() resolves on wakeAll(), and the woken waiter is gone', async () => {
    const waiters = new Waiters();
    let woken = false;
    const waiting = waiters.wait(60_000).then(() => {
      woken = true;
    });
    waiters.wakeAll();
    await waiting;
    expect(woken).toBe(true);
    // Nothing left to call: a second wakeAll wakes a new waiter only.
    let calls = 0;
    waiters.add(() => calls++);
    waiters.wakeAll();
    waiters.wakeAll();
    expect(calls).toBe(1);
  });

  it('wait() resolves when its signal aborts, or at once when it already has', async () => {
    const waiters = new Waiters();
    const controller = new AbortController();
    const waiting = waiters.wait(60_000, controller.signal);
    controller.abort();
    await waiting;
    await waiters.wait(60_000, AbortSignal.abort());
  });

  it('wait() resolves after its time when nothing wakes it; add() returns its own remover', async () => {
    const waiters = new Waiters();
    await waiters.wait(0);
    let calls = 0;
    const remove = waiters.add(() => calls++);
    remove();
    waiters.wakeAll();
    expect(calls).toBe(0);
  });
});
