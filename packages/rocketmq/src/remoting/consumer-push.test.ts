// The Remoting consumer's push mode (onReady / takeReady, which core uses in place of a
// receiveBatch cycle per batch), the driver alone against the emulator: `ready` when a pull lands,
// takes of up to `max` that leave the rest buffered, and a pull failure retrying cannot fix
// reported by the take that finds the buffer empty — also right after the take that emptied it.
import { outgoing } from '@switchyard/conformance/outgoing';
import type { DriverConsumer } from '@switchyard/core/driver';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../../test-kit/emulator.js';
import { remotingConfig } from '../../test-kit/remoting.js';
import { driver } from '../index.js';

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

async function open(topic: string, messages: number): Promise<DriverConsumer> {
  emulator.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED', queues: 1 });
  const { driver: _name, ...fields } = remotingConfig(emulator);
  const config = driver.parseConfig(fields);
  const instance = await driver.create(config, context);
  closing.push(instance);
  const producer = await instance.openProducer(topic, { driverOptions: {} });
  await producer.sendBatch(
    Array.from({ length: messages }, (_, i) =>
      outgoing({ id: `${topic}-${i}`, body: new TextEncoder().encode(`m${i}`) }),
    ),
  );
  return instance.openConsumer(topic, {
    group: `g-${topic}`,
    filter: {},
    prefetch: 10,
    visibilityTimeoutMs: 60_000,
    startFrom: 'earliest',
    deadLetter: undefined,
    driverOptions: {},
  });
}

/** Resolves on the next `ready` call after it is asked for. */
function readyCalls(consumer: DriverConsumer) {
  let calls = 0;
  let next: (() => void) | undefined;
  consumer.onReady!(() => {
    calls++;
    next?.();
  });
  return {
    get calls() {
      return calls;
    },
    next: () => new Promise<void>((resolve) => (next = resolve)),
  };
}

describe('rocketmq remoting consumer, push mode', () => {
  it('calls ready when a pull lands; a take of max leaves the rest buffered for the next', async () => {
    const consumer = await open('push-takes', 3);
    const ready = readyCalls(consumer);
    if (ready.calls === 0) await ready.next();
    const first = consumer.takeReady!(2);
    const rest = consumer.takeReady!(10);
    const text = (d: { body: Uint8Array }) => new TextDecoder().decode(d.body);
    expect([...first, ...rest].map(text)).toEqual(['m0', 'm1', 'm2']);
    expect(first).toHaveLength(2);
    expect(consumer.takeReady!(10)).toEqual([]);
    await consumer.ack([...first, ...rest]);
    await consumer.close();
    expect(() => consumer.takeReady!(10)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('reports a failure retrying cannot fix once the buffer is empty, calling ready again as the last buffered ones go', async () => {
    const consumer = await open('push-failure', 2);
    const ready = readyCalls(consumer);
    if (ready.calls === 0) await ready.next();
    // The topic goes while the two pulled messages wait in the buffer: the next pull fails for good.
    const failed = ready.next();
    emulator.engines.rocketmq.deleteTopic(fullName('push-failure'));
    await failed;
    const before = ready.calls;
    const last = consumer.takeReady!(10);
    expect(last).toHaveLength(2);
    // Said at once, not at the pull loop's next retry: the failure stands with nothing buffered.
    expect(ready.calls).toBe(before + 1);
    let failure: unknown;
    try {
      consumer.takeReady!(10);
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({ retryable: false });
    await consumer.close();
  });
});
