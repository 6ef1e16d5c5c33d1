// The Remoting consumer's push mode (onReady / takeReady, which core uses in place of a
// receiveBatch cycle per batch), the driver alone against the emulator: `ready` when a pull lands,
// takes of up to `max` that leave the rest buffered, and a pull failure retrying cannot fix
// reported by the take that finds the buffer empty — also right after the take that emptied it.
// And `prefetch` as the bound on what the consumer holds over all its queues: pulled and not
// settled, whether buffered or taken.
import { outgoing } from '@switchyard/conformance/outgoing';
import type { Delivery, DriverConsumer } from '@switchyard/core/driver';
import type { RunningEmulator } from '@switchyard/emulator';
import { RequestCode, ResponseCode } from '@switchyard/rocketmq-remoting';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { fullName, startTestEmulator } from '../../test-kit/emulator.js';
import { remotingConfig } from '../../test-kit/remoting.js';
import { driver } from '../index.js';
import { ConnectionPool } from './pool.js';

// The real Leases, recording the slot function each consumer gives it (the last test).
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

async function open(topic: string, messages: number, queues = 1, prefetch = 10): Promise<DriverConsumer> {
  emulator.engines.rocketmq.createTopic(fullName(topic), { type: 'MIXED', queues });
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
    prefetch,
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

/**
 * Messages the consumers' pulls bring over the wire (no tag filter: each successful reply carries
 * nextBeginOffset − queueOffset of them), read off the real pool's calls as they pass.
 */
function countPulled() {
  const counter = { messages: 0, replies: [] as Promise<unknown>[] };
  const call = ConnectionPool.prototype.call;
  const spy = vi.spyOn(ConnectionPool.prototype, 'call').mockImplementation(function (
    this: ConnectionPool,
    ...args: Parameters<ConnectionPool['call']>
  ) {
    const out = call.apply(this, args);
    if (args[1] === RequestCode.PULL_MESSAGE) {
      const from = Number((args[2] as { queueOffset: number }).queueOffset);
      const counted = out.then((reply) => {
        if (reply.code === ResponseCode.SUCCESS)
          counter.messages += Number(reply.extFields.nextBeginOffset) - from;
      });
      counter.replies.push(counted.catch(() => undefined));
    }
    return out;
  });
  return { counter, restore: () => spy.mockRestore() };
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

describe('rocketmq remoting consumer, prefetch', () => {
  it('holds at most prefetch pulled and unsettled over all its queues, and pulls on as they are settled', async () => {
    const prefetch = 5;
    const total = 32;
    const pulled = countPulled();
    onTestFinished(pulled.restore);
    // Eight messages on each of four queues: every queue's first pull finds more than prefetch.
    const consumer = await open('prefetch-bound', total, 4, prefetch);
    const ready = readyCalls(consumer);
    if (ready.calls === 0) await ready.next();
    const received = new Set<string>();
    const unsettled: Delivery[] = [];
    let most = 0;
    const takeAll = () => {
      for (const d of consumer.takeReady!(total)) {
        received.add(d.id);
        unsettled.push(d);
      }
      most = Math.max(most, unsettled.length);
    };
    takeAll();
    // The queues' first pulls land one by one: take until prefetch is reached (the bound holds
    // at every take, checked through `most`).
    while (unsettled.length < prefetch) {
      await ready.next();
      takeAll();
    }
    while (received.size < total) {
      // Each settle makes room for one more: the consumer pulls it, and nothing beyond.
      const arrived = ready.next();
      await consumer.ack(unsettled.splice(0, 1));
      await arrived;
      takeAll();
    }
    expect(most).toBe(prefetch);
    expect(received.size).toBe(total);
    await consumer.ack(unsettled);
    await consumer.close();
    await Promise.all(pulled.counter.replies);
    // No pull brought more than there was room for: nothing came over the wire twice.
    expect(pulled.counter.messages).toBe(total);
  });
});

// Every consumer gives its leases the same slot function. An arrow per consumer was inlined where
// Leases calls it (per lease and per settle: leaseAll, ack, #finish), and each new consumer's arrow
// threw that optimized code away ("wrong call target", docs/bench-profiles.md §28, remoting), as
// the rabbitmq driver's did (§27.4).
it('gives every consumer the same lease slot function', async () => {
  const before = slots.length;
  for (let i = 0; i < 3; i++) closing.push(await open(`slot-${i}`, 0));
  const mine = slots.slice(before);
  expect(mine).toHaveLength(3);
  expect(typeof mine[0]).toBe('function');
  for (const slot of mine) expect(slot).toBe(mine[0]);
});
