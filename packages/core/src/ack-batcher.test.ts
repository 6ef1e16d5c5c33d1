import { describe, expect, it } from 'vitest';
import { AckBatcher } from './ack-batcher.js';
import type { DriverConsumer } from './driver.js';
import { silentLogger } from './logger.js';
import type { Delivery } from './message-types.js';

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

describe('AckBatcher', () => {
  it('sends a full batch during a burst of microtasks, without waiting for setImmediate', async () => {
    const calls: number[] = [];
    const batcher = new AckBatcher(recordingDriver(calls), 1_000, policy, silentLogger);
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
    await Promise.all(acks);
    expect(calls).toEqual([1_000, 1_000, 500]);
  });

  it('coalesces the acks of one tick into one driver call, and drain waits for them', async () => {
    const calls: number[] = [];
    const batcher = new AckBatcher(recordingDriver(calls), 1_000, policy, silentLogger);
    for (let i = 0; i < 3; i++) void batcher.add(delivery(i));
    await batcher.drain();
    expect(calls).toEqual([3]);
  });
});
