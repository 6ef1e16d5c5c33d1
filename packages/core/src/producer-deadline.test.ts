import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { deadlineSignal } from './deadline-signal.js';
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

describe('deadlineSignal', () => {
  it('follows its parent, and sets no timer for a deadline beyond what setTimeout can hold', () => {
    const parent = new AbortController();
    const far = deadlineSignal(parent.signal, Date.now() + 2 ** 40, 'memory');
    expect(far.signal.aborted).toBe(false);
    parent.abort(new Error('closing'));
    expect(far.signal.aborted).toBe(true);
    expect((far.signal.reason as Error).message).toBe('closing');
    far.dispose();
  });

  it('is aborted at once for a deadline already passed', async () => {
    const passed = deadlineSignal(new AbortController().signal, Date.now() - 1, 'memory');
    await new Promise<void>((resolve) => passed.signal.addEventListener('abort', () => resolve()));
    expect(passed.signal.reason).toMatchObject({ code: 'TIMEOUT' });
    passed.dispose();
  });
});
