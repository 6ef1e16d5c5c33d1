import { describe, expect, it } from 'vitest';
import { PendingReceive } from './pending-receive.js';

/** A receive call the test finishes by hand. */
function manual<T>() {
  let finish!: (value: T) => void;
  let fail!: (error: unknown) => void;
  let calls = 0;
  const start = () => {
    calls++;
    return new Promise<T>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
  };
  return { start, finish: (v: T) => finish(v), fail: (e: unknown) => fail(e), calls: () => calls };
}

describe('PendingReceive', () => {
  it('hands over the outcome of the call when it comes within the wait', async () => {
    const pending = new PendingReceive<string>();
    const call = manual<string>();
    const waiting = pending.wait(call.start, 60_000);
    call.finish('m1');
    expect(await waiting).toEqual({ value: 'm1' });
    expect(call.calls()).toBe(1);
  });

  it('keeps a call its waiter gave up on, and the next wait gets its outcome without a second call', async () => {
    const pending = new PendingReceive<string>();
    const call = manual<string>();
    const controller = new AbortController();
    const first = pending.wait(call.start, 60_000, controller.signal);
    controller.abort();
    expect(await first).toBeUndefined();
    const second = pending.wait(call.start, 60_000);
    call.finish('kept');
    expect(await second).toEqual({ value: 'kept' });
    expect(call.calls()).toBe(1);
    // Picked up once: the wait after starts a new call.
    void pending.wait(call.start, 0);
    expect(call.calls()).toBe(2);
  });

  it('wake() ends the wait under way; an already aborted signal returns at once', async () => {
    const pending = new PendingReceive<string>();
    const call = manual<string>();
    const waiting = pending.wait(call.start, 60_000);
    pending.wake();
    expect(await waiting).toBeUndefined();
    const aborted = AbortSignal.abort();
    expect(await pending.wait(call.start, 60_000, aborted)).toBeUndefined();
    expect(call.calls()).toBe(1);
  });

  it('a failed call is an outcome, not a rejection', async () => {
    const pending = new PendingReceive<string>();
    const call = manual<string>();
    const waiting = pending.wait(call.start, 60_000);
    const error = new Error('broker gone');
    call.fail(error);
    expect(await waiting).toEqual({ error });
  });

  it('take() removes the call in flight from later waits and hands it to the caller', async () => {
    const pending = new PendingReceive<string>();
    const call = manual<string>();
    expect(await pending.wait(call.start, -1)).toBeUndefined();
    const taken = pending.take();
    expect(taken).toBeDefined();
    call.finish('late');
    expect(await taken).toEqual({ value: 'late' });
    expect(pending.take()).toBeUndefined();
    void pending.wait(call.start, 0);
    expect(call.calls()).toBe(2);
  });
});
