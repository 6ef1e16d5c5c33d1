// gRPC ↔ Remoting through the emulator's shared store, as on a RocketMQ 5 broker serving both
// protocols: what the gRPC transport sends the Remoting transport consumes, and the reverse, with
// body, tag, keys and user properties intact.

import { type Broker, connect } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullName, startTestEmulator, testConfig } from '../packages/rocketmq/test-kit/emulator.js';
import { remotingConfig } from '../packages/rocketmq/test-kit/remoting.js';

let emulator: RunningEmulator;
let grpc: Broker;
let remoting: Broker;

beforeAll(async () => {
  emulator = await startTestEmulator();
  grpc = await connect(testConfig(emulator));
  remoting = await connect(remotingConfig(emulator));
});
afterAll(async () => {
  await Promise.allSettled([grpc?.close({ timeoutMs: 5_000 }), remoting?.close({ timeoutMs: 5_000 })]);
  await emulator?.stop();
});

const message = {
  body: 'across protocols',
  tags: ['TagX'],
  keys: ['k-1', 'k-2'],
  headers: { tenant: 'acme' },
};

describe('gRPC and Remoting share one store', () => {
  it.each([
    ['gRPC', 'Remoting', 'g2r'],
    ['Remoting', 'gRPC', 'r2g'],
  ] as const)('a message sent over %s is consumed over %s', async (from, _to, name) => {
    const [sender, receiver] = from === 'gRPC' ? [grpc, remoting] : [remoting, grpc];
    emulator.engines.rocketmq.createTopic(fullName(`interop-${name}`), { type: 'MIXED', queues: 2 });
    const consumer = await receiver.consumer(`interop-${name}`, { group: name, filter: { tags: ['TagX'] } });
    const receipt = await (await sender.producer(`interop-${name}`)).send(message);
    const [m] = await consumer.receive({ max: 1, waitMs: 10_000 });
    expect(m?.id).toBe(receipt.messageId);
    expect(m?.text()).toBe('across protocols');
    expect(m?.tags).toEqual(['TagX']);
    expect(m?.keys).toEqual(['k-1', 'k-2']);
    expect(m?.headers).toEqual({ tenant: 'acme' });
    expect(m?.deliveryAttempt).toBe(1);
    await m?.ack();
  });
});
