import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { DeadlineSignals } from './deadline-signal.js';
import { ClosedError, isSwitchyardError } from './errors.js';
import { registerDriver } from './registry.js';

/**
 * Memory, except that a send never reaches the broker: the driver waits, as a RabbitMQ publish
 * waits for a reconnect or an unblock, until its signal aborts, then fails as Pulsar over HTTP does
 * for an aborted request (CLOSED). What the signal carried is kept for the test.
 */
function stalledSends(name: string, reasons: unknown[]) {
  return faultyMemory(name, {
    async beforeSend(signal) {
      await new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      reasons.push(signal?.reason);
      throw new ClosedError('send aborted', { driver: name });
    },
  });
}

describe('a send whose driver attempt outlives its deadline', () => {
  it('is cut short at the deadline and rejected TIMEOUT, not CLOSED', async () => {
    const reasons: unknown[] = [];
    registerDriver(stalledSends('stalled-send', reasons));
    const broker = await connect({ driver: 'stalled-send', name: `stalled-${process.pid}` });
    try {
      // Without the deadline on the signal the attempt never ends (the test would time out).
      const producer = await broker.producer('t', { retry: { deadlineMs: 200, maxAttempts: 1_000 } });
      const error = await producer.send('late').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
      expect(String(error)).toContain('send aborted');
      expect(reasons).toHaveLength(1);
      expect(isSwitchyardError(reasons[0]) && reasons[0].code).toBe('TIMEOUT');
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });

  it('still ends with the close: the signal carries the close, the send fails as before', async () => {
    const reasons: unknown[] = [];
    registerDriver(stalledSends('stalled-close', reasons));
    const broker = await connect({ driver: 'stalled-close', name: `stalled-close-${process.pid}` });
    const producer = await broker.producer('t', { retry: { deadlineMs: 600_000 } });
    const sending = producer.send('in flight').catch((e: unknown) => e);
    await broker.close({ timeoutMs: 50 });
    expect(await sending).toMatchObject({ code: 'CLOSED' });
    expect(isSwitchyardError(reasons[0])).toBe(false);
  });
});

describe('DeadlineSignals', () => {
  it('follows its parent, and sets no timer for a deadline beyond what setTimeout can hold', () => {
    const parent = new AbortController();
    const signals = new DeadlineSignals(parent.signal, 'memory');
    const far = signals.acquire(Date.now() + 2 ** 40);
    expect(far.timer).toBeUndefined();
    expect(far.signal.aborted).toBe(false);
    expect(far.aborted).toBe(false);
    parent.abort(new Error('closing'));
    expect(far.signal.aborted).toBe(true);
    // The bucket's own flag, which the send path reads instead of the signal's getter, follows it.
    expect(far.aborted).toBe(true);
    expect((far.signal.reason as Error).message).toBe('closing');
    signals.release(far);
    const late = signals.acquire(Date.now() + 1_000);
    expect(late.signal.reason).toMatchObject({ message: 'closing' });
    expect(late.aborted).toBe(true);
  });

  it('is aborted at once for a deadline already passed', async () => {
    const signals = new DeadlineSignals(new AbortController().signal, 'memory');
    const passed = signals.acquire(Date.now() - 1);
    expect(passed.aborted).toBe(false);
    let flagged: boolean | undefined;
    await new Promise<void>((resolve) =>
      passed.signal.addEventListener('abort', () => {
        // Set before the signal's listeners run (a driver's abort may lead straight to settleAttempt).
        flagged = passed.aborted;
        resolve();
      }),
    );
    expect(flagged).toBe(true);
    expect(passed.signal.reason).toMatchObject({ code: 'TIMEOUT' });
    signals.release(passed);
  });

  it('shares one signal between sends whose deadlines fall in one bucket, and a new one after it aborted', async () => {
    const signals = new DeadlineSignals(new AbortController().signal, 'memory');
    const deadline = Date.now() + 60_000;
    const first = signals.acquire(deadline);
    // A minute left: the bucket is 100 ms wide, so the same deadline and the next ms share it.
    const second = signals.acquire(Math.ceil(deadline / 100) * 100);
    expect(second.signal).toBe(first.signal);
    expect(signals.acquire(deadline + 200).signal).not.toBe(first.signal);
    const soon = signals.acquire(Date.now());
    await new Promise<void>((resolve) => soon.signal.addEventListener('abort', () => resolve()));
    expect(signals.acquire(Date.now()).signal).not.toBe(soon.signal);
    signals.close();
  });

  it('keeps the deadline timer referenced only while a send holds it', () => {
    const signals = new DeadlineSignals(new AbortController().signal, 'memory');
    const deadline = Date.now() + 10_000;
    const a = signals.acquire(deadline);
    const b = signals.acquire(deadline);
    expect(a.timer?.hasRef()).toBe(true);
    signals.release(a);
    expect(b.timer?.hasRef()).toBe(true);
    signals.release(b);
    expect(b.timer?.hasRef()).toBe(false);
    signals.close();
  });

  it('keeps no idle bucket but the newest: a producer sending now and then holds one controller, not one per send', () => {
    const signals = new DeadlineSignals(new AbortController().signal, 'memory');
    const start = Date.now() + 60_000;
    // Sends one after another, each in a bucket of its own (deadlines 200 ms apart, buckets 100 ms).
    for (let i = 0; i < 50; i++) signals.release(signals.acquire(start + i * 200));
    expect(signals.kept).toBe(1);
    // Buckets still held are kept, and dropped once released (the newest idle one stays).
    const held = Array.from({ length: 5 }, (_, i) => signals.acquire(start + 20_000 + i * 200));
    expect(signals.kept).toBe(5);
    for (const bucket of held) signals.release(bucket);
    expect(signals.kept).toBe(1);
    // The one kept is the newest, for the next send in its window to reuse.
    expect(signals.acquire(start + 20_000 + 4 * 200).signal).toBe(held[4]!.signal);
    signals.close();
  });
});
