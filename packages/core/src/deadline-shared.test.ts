import { afterEach, describe, expect, it, vi } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import { DeadlineSignals, SharedDeadlines } from './deadline-signal.js';
import { ClosedError, isSwitchyardError } from './errors.js';
import { registerDriver } from './registry.js';

/** Two producers' signals from one broker's buckets. */
function twoProducers() {
  const shared = new SharedDeadlines('memory');
  const closeA = new AbortController();
  const closeB = new AbortController();
  const a = new DeadlineSignals(closeA.signal, 'memory', shared);
  const b = new DeadlineSignals(closeB.signal, 'memory', shared);
  return { shared, closeA, a, b };
}

describe('deadline buckets shared by a broker’s producers', () => {
  it('hands another producer’s next send in the window the bucket a send released', () => {
    const { shared, a, b } = twoProducers();
    // One clock reading for both, and a deadline in the middle of its bucket's window (100 ms, the
    // most slack there is): on a window's last millisecond, deadline + 1 would open the next window
    // (1 run in 100).
    const now = Date.now();
    const deadline = Math.floor((now + 60_000) / 100) * 100 + 50;
    const first = a.acquire(deadline, now);
    a.release(first);
    const second = b.acquire(deadline + 1, now);
    expect(second.signal).toBe(first.signal);
    b.release(second);
    expect(shared.kept).toBe(1);
    a.close();
    b.close();
  });

  it('never shares a held bucket between producers: one producer’s close aborts its own sends only', () => {
    const { shared, closeA, a, b } = twoProducers();
    const deadline = Date.now() + 60_000;
    const taken = a.acquire(deadline);
    a.release(taken);
    const bHolds = b.acquire(deadline);
    expect(bHolds.signal).toBe(taken.signal);
    // B holds it now: A's next send in the same window gets a bucket of its own.
    const aHolds = a.acquire(deadline);
    expect(aHolds.signal).not.toBe(bHolds.signal);
    closeA.abort(new Error('A gave up'));
    expect(aHolds.signal.aborted).toBe(true);
    expect(aHolds.aborted).toBe(true);
    expect(bHolds.signal.aborted).toBe(false);
    expect(bHolds.aborted).toBe(false);
    // A's sends from now on are aborted at once; B's still share what B holds.
    expect(a.acquire(deadline).signal.reason).toMatchObject({ message: 'A gave up' });
    expect(b.acquire(deadline).signal).toBe(bHolds.signal);
    b.release(bHolds);
    b.release(bHolds);
    a.release(aHolds);
    a.close();
    b.close();
    // No timer left once the broker's last producer closed.
    expect(shared.kept).toBe(0);
    expect(bHolds.timer?.hasRef()).toBe(false);
  });

  it('keeps an idle bucket per deadline length: producers with 30 s and 1 s deadlines do not evict each other', () => {
    const { shared, a, b } = twoProducers();
    const now = Date.now();
    const long = a.acquire(now + 30_000, now);
    a.release(long);
    const short = b.acquire(now + 1_000, now);
    b.release(short);
    // Each one's next send in its window takes the bucket its previous one released.
    expect(a.acquire(now + 30_000, now).signal).toBe(long.signal);
    expect(b.acquire(now + 1_000, now).signal).toBe(short.signal);
    a.release(long);
    b.release(short);
    expect(shared.kept).toBe(2);
    a.close();
    b.close();
    expect(shared.kept).toBe(0);
  });

  it('aborts a shared bucket no later than the deadline of any send that took it', () => {
    const { a, b } = twoProducers();
    const now = Date.now();
    for (let i = 0; i < 2_000; i++) {
      const left = 1 + ((i * 7_919) % 120_000);
      const deadline = now + left;
      const bucket = (i % 2 === 0 ? a : b).acquire(deadline, now);
      // Never before the deadline; at most 1/64 of the time left (and 100 ms) after it.
      expect(bucket.end).toBeGreaterThanOrEqual(deadline);
      expect(bucket.end - deadline).toBeLessThan(Math.max(1, Math.min(100, Math.floor(left / 64))));
      (i % 2 === 0 ? a : b).release(bucket);
    }
    a.close();
    b.close();
  });

  it('aborts a taken bucket at its deadline with TIMEOUT', async () => {
    const { a, b } = twoProducers();
    const deadline = Date.now() + 20;
    a.release(a.acquire(deadline));
    const bucket = b.acquire(deadline);
    await new Promise<void>((resolve) => bucket.signal.addEventListener('abort', () => resolve()));
    expect(bucket.aborted).toBe(true);
    expect(bucket.signal.reason).toMatchObject({ code: 'TIMEOUT' });
    b.release(bucket);
    expect(b.acquire(deadline).signal).not.toBe(bucket.signal);
  });
});

describe('a broker’s producers sending now and then', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hand their driver one signal between them within one deadline window', async () => {
    const signals = new Set<AbortSignal | undefined>();
    registerDriver(faultyMemory('shared-deadlines', { beforeSend: (signal) => void signals.add(signal) }));
    // One clock read for every send: every deadline in one window (the window is what is shared).
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const broker = await connect({ driver: 'shared-deadlines', name: `shared-${process.pid}` });
    try {
      const producers = await Promise.all(Array.from({ length: 20 }, (_, i) => broker.producer(`d${i}`)));
      // One send each, one after another: before, each producer opened a bucket of its own.
      for (const producer of producers) await producer.send('once');
      expect(signals.size).toBe(1);
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });

  it('leave no deadline timer behind once the broker closed', async () => {
    // Counted by fake timers: an idle bucket's timer is unref'd, which Node's resource list omits.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const broker = await connect({ driver: 'memory', name: `shared-timers-${process.pid}` });
    const producers = await Promise.all(Array.from({ length: 5 }, (_, i) => broker.producer(`t${i}`)));
    // Sends in flight together hold buckets of their own; released, they stay idle for the next.
    await Promise.all(producers.map((producer) => producer.send('once')));
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await broker.close({ timeoutMs: 1_000 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leave other producers’ sends alone when one producer’s close gives up', async () => {
    const seen: AbortSignal[] = [];
    let arrived: () => void = () => {};
    const bothArrived = new Promise<void>((resolve) => (arrived = resolve));
    registerDriver(
      faultyMemory('shared-close', {
        async beforeSend(signal) {
          seen.push(signal!);
          if (seen.length === 2) arrived();
          await new Promise<void>((resolve) => {
            if (signal!.aborted) resolve();
            signal!.addEventListener('abort', () => resolve(), { once: true });
          });
          throw new ClosedError('send aborted', { driver: 'shared-close' });
        },
      }),
    );
    const broker = await connect({ driver: 'shared-close', name: `shared-close-${process.pid}` });
    try {
      const closing = await broker.producer('a', { retry: { deadlineMs: 600_000 } });
      const staying = await broker.producer('b', { retry: { deadlineMs: 600_000 } });
      const aSend = closing.send('a').catch((e: unknown) => e);
      const bSend = staying.send('b').catch((e: unknown) => e);
      await bothArrived;
      await closing.close({ timeoutMs: 0 });
      expect(await aSend).toMatchObject({ code: 'CLOSED' });
      expect(seen[0]!.aborted).toBe(true);
      expect(isSwitchyardError(seen[0]!.reason)).toBe(false);
      expect(seen[1]!.aborted).toBe(false);
      await staying.close({ timeoutMs: 0 });
      expect(await bSend).toMatchObject({ code: 'CLOSED' });
    } finally {
      await broker.close({ timeoutMs: 1_000 });
    }
  });
});
