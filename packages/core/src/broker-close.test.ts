import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { connect } from './connect.js';
import type { DriverCloseOptions } from './driver.js';
import { registerDriver } from './registry.js';

describe('Broker.close({ timeoutMs }) passes its deadline down', () => {
  it('gives the driver, each producer and each consumer the absolute time their close must end by', async () => {
    const closes: Array<[string, DriverCloseOptions | undefined]> = [];
    registerDriver(
      faultyMemory('close-deadline', { onClose: (what, options) => closes.push([what, options]) }),
    );
    const broker = await connect({ driver: 'close-deadline', name: `broker-close-${process.pid}` });
    await broker.producer('t');
    await broker.consumer('t');
    const timeoutMs = 60_000;
    const before = Date.now();
    await broker.close({ timeoutMs });
    const after = Date.now();
    expect(closes.map(([what]) => what).sort()).toEqual(['consumer', 'driver', 'producer']);
    for (const [what, options] of closes) {
      // Between "timeoutMs after close was called" and "timeoutMs after it returned": the
      // broker's deadline, never a fresh timeout per layer (which would add up).
      expect({ what, deadline: options?.deadline }).toEqual({ what, deadline: expect.any(Number) });
      expect(options!.deadline!).toBeGreaterThanOrEqual(before + timeoutMs);
      expect(options!.deadline!).toBeLessThanOrEqual(after + timeoutMs);
    }
  });

  it('gives a producer closed without a timeout no deadline (the driver bounds its own waits)', async () => {
    const closes: Array<DriverCloseOptions | undefined> = [];
    registerDriver(
      faultyMemory('close-no-deadline', {
        onClose: (what, options) => what === 'producer' && closes.push(options),
      }),
    );
    const broker = await connect({ driver: 'close-no-deadline', name: `broker-close-none-${process.pid}` });
    try {
      const producer = await broker.producer('t');
      await producer.close();
      expect(closes).toEqual([{ deadline: undefined }]);
    } finally {
      await broker.close();
    }
  });

  it('returns by its deadline when giving messages back never completes (a stalled broker)', async () => {
    registerDriver(faultyMemory('close-stalled', { beforeNack: () => new Promise<void>(() => {}) }));
    const broker = await connect({ driver: 'close-stalled', name: `broker-close-stalled-${process.pid}` });
    const producer = await broker.producer('t');
    await producer.send([{ body: 'held by the caller' }, { body: 'buffered' }]);
    const consumer = await broker.consumer('t', { prefetch: 2 });
    const held = await consumer.receive({ max: 1, waitMs: 5_000 });
    expect(held).toHaveLength(1);
    // Every give-back (the held message, the buffered one) waits on a nack that never answers:
    // close must still return, leaving them to the broker's redelivery. Before, it waited forever.
    await consumer.close({ timeoutMs: 50 });
    await broker.close({ timeoutMs: 50 });
  });
});
