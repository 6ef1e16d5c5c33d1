// Every Remoting consumer gives its leases the same slot function. An arrow per consumer was
// inlined where Leases calls it (per lease and per settle: leaseAll, ack, #finish), and each new
// consumer's arrow threw that optimized code away ("wrong call target", docs/bench-profiles.md
// §28, remoting), as the rabbitmq driver's did (§27.4).
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { fullName, startTestEmulator } from '../../test-kit/emulator.js';
import { remotingConfig } from '../../test-kit/remoting.js';
import { driver } from '../index.js';

// The real Leases, recording the slot function each consumer gives it.
const slots = vi.hoisted(() => [] as unknown[]);
vi.mock('@switchyard/core/driver', async (importOriginal) => {
  const real = await importOriginal<typeof import('@switchyard/core/driver')>();
  class Leases<K> extends real.Leases<K> {
    constructor(onExpire: (key: K) => void, slotOf?: (key: K) => { lease: unknown }) {
      slots.push(slotOf);
      super(onExpire, slotOf as never);
    }
  }
  return { ...real, Leases };
});

let emulator: RunningEmulator;
const closing: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await Promise.allSettled(closing.map((c) => c.close()));
  await emulator?.stop();
});

const quiet = () => undefined;
const context = { logger: { debug: quiet, info: quiet, warn: quiet, error: quiet }, status: quiet };

it('gives every consumer the same lease slot function', async () => {
  const { driver: _name, ...fields } = remotingConfig(emulator);
  const instance = await driver.create(driver.parseConfig(fields), context);
  closing.push(instance);
  for (let i = 0; i < 3; i++) {
    const topic = `shape-${i}`;
    emulator.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED', queues: 1 });
    const consumer = await instance.openConsumer(topic, {
      group: `g-${topic}`,
      filter: {},
      prefetch: 10,
      visibilityTimeoutMs: 60_000,
      startFrom: 'earliest',
      deadLetter: undefined,
      driverOptions: {},
    });
    await consumer.close();
  }
  expect(slots).toHaveLength(3);
  expect(typeof slots[0]).toBe('function');
  for (const slot of slots) expect(slot).toBe(slots[0]);
});
