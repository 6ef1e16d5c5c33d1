import { describe, expect, it, vi } from 'vitest';
import { AckBatcher, CLOCK_EVERY } from './ack-batcher.js';
import type { DriverConsumer } from './driver.js';
import { InternalError, UnavailableError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import { memoryDriver } from './memory/driver.js';
import type { Subscription } from './memory/subscription.js';
import type { Delivery } from './message-types.js';
import { prepareOutgoing } from './outgoing.js';

function recordingDriver(calls: number[]): DriverConsumer {
  return {
    native: undefined,
    receiveBatch: async () => [],
    ack: async (deliveries) => {
      calls.push(deliveries.length);
    },
    nack: async () => {},
    close: async () => {},
  };
}

const delivery = (i: number) => ({ id: String(i) }) as unknown as Delivery;
const policy = { initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, maxAttempts: 1, deadlineMs: 1_000 };
// A stopped clock: on a loaded machine a real one could pass maxDelayMs inside a test's burst.
const limits = { maxBatch: 1_000, maxDelayMs: 10, now: () => 0 };

describe('AckBatcher', () => {
  it('sends a full batch during a burst of microtasks, without waiting for setImmediate', async () => {
    const calls: number[] = [];
    const batcher = new AckBatcher(recordingDriver(calls), limits, policy, silentLogger);
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    const acks: Array<Promise<void>> = [];
    for (let i = 0; i < 2_500; i++) acks.push(batcher.add(delivery(i)));
    // Microtasks only: the check-phase (setImmediate) cannot run in between.
    for (let i = 0; i < 20; i++) await Promise.resolve();
    expect(immediateRan).toBe(false);
    expect(calls).toEqual([1_000, 1_000]);
    expect(batcher.pending).toBe(500);
    await Promise.all(acks);
    expect(calls).toEqual([1_000, 1_000, 500]);
  });

  it('coalesces the acks of one tick into one driver call, and drain waits for them', async () => {
    const calls: number[] = [];
    const batcher = new AckBatcher(recordingDriver(calls), limits, policy, silentLogger);
    for (let i = 0; i < 3; i++) void batcher.add(delivery(i));
    await batcher.drain();
    expect(calls).toEqual([3]);
    expect(batcher.pending).toBe(0);
  });

  it('sends the batches many batchers opened in one tick from one setImmediate and one microtask, each to its own driver', async () => {
    const scheduled: string[] = [];
    const immediate = globalThis.setImmediate;
    const microtask = globalThis.queueMicrotask;
    const immediates = vi.spyOn(globalThis, 'setImmediate').mockImplementation(((
      fn: (...args: unknown[]) => void,
      ...args: unknown[]
    ) => {
      scheduled.push(`immediate ${fn.name}`);
      return immediate(fn, ...args);
    }) as typeof setImmediate);
    const microtasks = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => {
      scheduled.push(`microtask ${fn.name}`);
      microtask(fn);
    });
    try {
      const calls = Array.from({ length: 100 }, () => [] as number[]);
      // A clock of their own: no other test's batches on it.
      const own = { ...limits, now: () => 0 };
      const batchers = calls.map((c) => new AckBatcher(recordingDriver(c), own, policy, silentLogger));
      const acked = batchers.flatMap((b, i) => [b.add(delivery(2 * i)), b.add(delivery(2 * i + 1))]);
      await Promise.all(acked);
      expect(calls).toEqual(calls.map(() => [2]));
      // One per batch before (100 immediates and 100 microtasks).
      expect(scheduled).toEqual(['immediate bound flushAll', 'microtask sendAll']);
    } finally {
      immediates.mockRestore();
      microtasks.mockRestore();
    }
  });

  it('a batch that fails for good while every ack dropped its promise is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const failures: number[] = [];
      const broken: DriverConsumer = {
        ...recordingDriver([]),
        ack: async () => {
          throw new InternalError('no such tag');
        },
      };
      const batcher = new AckBatcher(broken, limits, policy, silentLogger, (_e, n) => failures.push(n));
      void batcher.add(delivery(0), true);
      void batcher.add(delivery(1), true);
      await batcher.drain();
      // Unhandled rejections are reported after the microtasks of the turn that rejected.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 0));
      expect(failures).toEqual([2]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('sends a batch older than maxDelayMs at the next ack that reads the clock (every CLOCK_EVERY-th), even inside a microtask burst', async () => {
    const calls: number[] = [];
    let clock = 0;
    let reads = 0;
    const batcher = new AckBatcher(
      recordingDriver(calls),
      {
        ...limits,
        now: () => {
          reads++;
          return clock;
        },
      },
      policy,
      silentLogger,
    );
    void batcher.add(delivery(0));
    void batcher.add(delivery(1));
    clock += 9;
    for (let i = 2; i <= CLOCK_EVERY; i++) void batcher.add(delivery(i));
    await Promise.resolve();
    // The (CLOCK_EVERY + 1)-th ack read the clock: 9 ms old, kept.
    expect(calls).toEqual([]);
    clock += 1;
    for (let i = CLOCK_EVERY + 1; i < 2 * CLOCK_EVERY; i++) void batcher.add(delivery(i));
    await Promise.resolve();
    // 10 ms old, but no ack has read the clock since.
    expect(calls).toEqual([]);
    // The batch holds 2 * CLOCK_EVERY acks: this ack reads the clock, sends it and opens the next one.
    void batcher.add(delivery(2 * CLOCK_EVERY));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(calls).toEqual([2 * CLOCK_EVERY]);
    expect(batcher.pending).toBe(1);
    // Two batches opened, two acks of the first read the clock; the rest did not.
    expect(reads).toBe(4);
    await batcher.drain();
    expect(calls).toEqual([2 * CLOCK_EVERY, 1]);
  });

  it("sends another consumer's batch past maxDelayMs when any batcher on the clock reads it, inside a microtask burst that never acks on that consumer again", async () => {
    let clock = 0;
    const now = () => clock;
    const quietCalls: number[] = [];
    const busyCalls: number[] = [];
    const quiet = new AckBatcher(recordingDriver(quietCalls), { ...limits, now }, policy, silentLogger);
    const busy = new AckBatcher(recordingDriver(busyCalls), { ...limits, now }, policy, silentLogger);
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    void quiet.add(delivery(0));
    clock += 9;
    for (let i = 1; i <= CLOCK_EVERY; i++) void busy.add(delivery(i));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    // 9 ms old when busy's batch opened, its one clock read so far: kept.
    expect(quietCalls).toEqual([]);
    clock += 1;
    for (let i = CLOCK_EVERY + 1; i <= 2 * CLOCK_EVERY; i++) void busy.add(delivery(i));
    for (let i = 0; i < 5; i++) await Promise.resolve();
    // busy's next clock read found quiet's batch 10 ms old and sent it, before any setImmediate.
    expect(immediateRan).toBe(false);
    expect(quietCalls).toEqual([1]);
    expect(quiet.pending).toBe(0);
    // busy's own batch (opened at 9) is only 1 ms old: still open.
    expect(busyCalls).toEqual([]);
    expect(busy.pending).toBe(2 * CLOCK_EVERY);
    await busy.drain();
    expect(busyCalls).toEqual([2 * CLOCK_EVERY]);
  });

  it('retries a retryable failure with backoff and a warning, and reports a final one to the failed callback per reported ack', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_fields: unknown, message: string) => warnings.push(message) };
    let fail = 2;
    const calls: number[] = [];
    const flaky: DriverConsumer = {
      ...recordingDriver(calls),
      ack: async (deliveries) => {
        calls.push(deliveries.length);
        if (fail-- > 0) throw new UnavailableError('broker away');
      },
    };
    const failures: Array<[string, number]> = [];
    const retrying = new AckBatcher(flaky, limits, { ...policy, maxAttempts: 3 }, logger as Logger, (e, n) =>
      failures.push([(e as Error).message, n]),
    );
    const acked = [retrying.add(delivery(0), true), retrying.add(delivery(1))];
    await Promise.all(acked);
    // Two failed attempts, the third acked both: one warning per retry, nothing reported.
    expect(calls).toEqual([2, 2, 2]);
    expect(warnings).toEqual(['ack failed; retrying', 'ack failed; retrying']);
    expect(failures).toEqual([]);

    const broken: DriverConsumer = {
      ...recordingDriver([]),
      ack: async () => {
        throw new InternalError('no such tag');
      },
    };
    const failing = new AckBatcher(broken, limits, policy, silentLogger, (e, n) =>
      failures.push([(e as Error).message, n]),
    );
    const sent = [failing.add(delivery(0), true), failing.add(delivery(1)), failing.add(delivery(2), true)];
    // A dropped promise is no unhandled rejection; a kept one rejects with the driver's error.
    await expect(sent[1]).rejects.toThrow('no such tag');
    await failing.drain();
    expect(failures).toEqual([['no such tag', 2]]);
    expect(failing.pending).toBe(0);
  });

  it('on the memory driver, a long burst of acks from microtasks never holds more than maxBatch pending acks or open leases', async () => {
    const driver = await memoryDriver.create(
      memoryDriver.parseConfig({ name: `ack-burst-${process.pid}-${Date.now()}`, retention: 0 }),
      { status: () => {} } as never,
    );
    const producer = await driver.openProducer('acks', {} as never);
    const consumer = await driver.openConsumer('acks', {
      group: 'g',
      filter: {},
      prefetch: 20_000,
      visibilityTimeoutMs: undefined,
      startFrom: undefined,
      deadLetter: undefined,
      driverOptions: {},
    });
    const subscription = consumer.native as Subscription;
    const total = 10_000;
    const outgoing = Array.from({ length: total }, () =>
      prepareOutgoing({ body: new Uint8Array(16) }, driver.capabilities, driver.name),
    );
    await producer.sendBatch(outgoing);
    const deliveries = await consumer.receiveBatch(total, 0);
    expect(deliveries).toHaveLength(total);
    const maxBatch = 100;
    const batcher = new AckBatcher(consumer, { maxBatch, maxDelayMs: 60_000 }, policy, silentLogger);
    let immediateRan = false;
    setImmediate(() => {
      immediateRan = true;
    });
    let mostPending = 0;
    let mostLeases = 0;
    const acks: Array<Promise<void>> = [];
    // Each ack in its own microtask, as handlers finishing one after another make them.
    for (const d of deliveries) {
      await Promise.resolve();
      acks.push(batcher.add(d));
      mostPending = Math.max(mostPending, batcher.pending);
      // Leases still open beyond those whose acks wait here or are on their way to the broker.
      mostLeases = Math.max(mostLeases, subscription.inFlight - (total - acks.length));
    }
    expect(immediateRan).toBe(false);
    // A batch goes out as its last ack comes in: pending peaks one short of the bound.
    expect(mostPending).toBe(maxBatch - 1);
    expect(mostLeases).toBeLessThanOrEqual(2 * maxBatch);
    await Promise.all(acks);
    expect(subscription.inFlight).toBe(0);
    await driver.close();
  });
});
