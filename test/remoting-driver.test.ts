// The RocketMQ driver's Remoting transport against the emulator's Remoting name server + broker:
// what the conformance suite does not cover (native DLQ, broker-side offsets, rebalancing, ACL).
import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

let emulator: RunningEmulator;
const brokers: Broker[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(async () => {
  await Promise.allSettled(brokers.map((b) => b.close({ timeoutMs: 5_000 })));
  await emulator?.stop();
});

async function open(extra: Parameters<typeof remotingConfig>[1] = {}): Promise<Broker> {
  const broker = await connect(remotingConfig(emulator, extra));
  brokers.push(broker);
  return broker;
}

describe('rocketmq remoting transport', () => {
  it('sends and receives with tags, keys and headers', async () => {
    emulator.engines.rocketmq.createTopic(fullName('smoke'), { type: 'MIXED', queues: 2 });
    const broker = await open();
    const consumer = await broker.consumer('smoke', { group: 'g-smoke' });
    const producer = await broker.producer('smoke');
    await producer.send({ body: 'hello', tags: ['TagA'], keys: ['k1', 'k2'], headers: { tenant: 'acme' } });
    const [m] = await consumer.receive({ max: 1, waitMs: 10_000 });
    expect(m?.text()).toBe('hello');
    expect(m?.tags).toEqual(['TagA']);
    expect(m?.keys).toEqual(['k1', 'k2']);
    expect(m?.headers.tenant).toBe('acme');
    expect(m?.deliveryAttempt).toBe(1);
    await m?.ack();
  });
});
