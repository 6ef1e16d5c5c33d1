import { getEventListeners } from 'node:events';
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

describe('Waiters, one timer and one listener for many waits', () => {
  it('times out each wait after its own time, whichever began first', async () => {
    const waiters = new Waiters();
    const order: string[] = [];
    const long = waiters.wait(60_000).then(() => order.push('long'));
    await waiters.wait(5).then(() => order.push('short'));
    await waiters.wait(1).then(() => order.push('shorter'));
    expect(order).toEqual(['short', 'shorter']);
    waiters.wakeAll();
    await long;
    expect(order).toEqual(['short', 'shorter', 'long']);
    // Woken before its time, a wait leaves nothing to time out later.
    const woken = waiters.wait(2);
    waiters.wakeAll();
    await woken;
    await waiters.wait(10);
  });

  it('keeps one abort listener on a signal waited with again and again, and ends only its waits', async () => {
    const waiters = new Waiters();
    const controller = new AbortController();
    for (let i = 0; i < 5; i++) {
      const waiting = waiters.wait(60_000, controller.signal);
      waiters.wakeAll();
      await waiting;
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const other = new AbortController();
    const ended: string[] = [];
    const first = waiters.wait(60_000, controller.signal).then(() => ended.push('first'));
    const second = waiters.wait(60_000, other.signal).then(() => ended.push('second'));
    const unsignalled = waiters.wait(60_000).then(() => ended.push('none'));
    other.abort();
    await second;
    expect(ended).toEqual(['second']);
    controller.abort();
    await first;
    expect(ended).toEqual(['second', 'first']);
    waiters.wakeAll();
    await unsignalled;
    // Listeners no wait needs are removed; the last signal waited with keeps its one.
    const a = new AbortController();
    const b = new AbortController();
    const wa = waiters.wait(60_000, a.signal);
    const wb = waiters.wait(60_000, b.signal);
    waiters.wakeAll();
    await Promise.all([wa, wb]);
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(1);
  });
});

describe('Waiters.waitFor, a wait without a promise', () => {
  it('calls its target once when woken, when its time is up or when its signal aborts, in the order the waits began', async () => {
    const waiters = new Waiters();
    const calls: string[] = [];
    const target = (name: string) => ({ woken: () => calls.push(name) });
    waiters.waitFor(target('a'), 60_000);
    waiters.waitFor(target('b'), 60_000);
    waiters.wakeAll();
    waiters.wakeAll();
    expect(calls).toEqual(['a', 'b']);
    const controller = new AbortController();
    waiters.waitFor(target('aborted'), 60_000, controller.signal);
    waiters.waitFor(target('timed'), 1);
    controller.abort();
    expect(calls).toEqual(['a', 'b', 'aborted']);
    await waiters.wait(20);
    expect(calls).toEqual(['a', 'b', 'aborted', 'timed']);
  });

  it('a target that waits again from woken() waits for the next wake, and every wait ended is called', () => {
    const waiters = new Waiters();
    const calls: string[] = [];
    // Each target waits again once: with the ended waits' records reused before all were called,
    // a wait begun from the first woken() took the second's record, and the second was never called.
    const again = (name: string) => {
      let waited = false;
      const t = {
        woken: () => {
          calls.push(name);
          if (!waited) {
            waited = true;
            waiters.waitFor(t, 60_000);
          }
        },
      };
      return t;
    };
    for (const name of ['a', 'b', 'c']) waiters.waitFor(again(name), 60_000);
    waiters.wakeAll();
    expect(calls).toEqual(['a', 'b', 'c']);
    waiters.wakeAll();
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    waiters.wakeAll();
    expect(calls).toHaveLength(6);
  });
});
