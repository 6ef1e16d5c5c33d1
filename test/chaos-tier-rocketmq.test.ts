// Chaos tier, RocketMQ 5 over gRPC: 5,000 messages while the emulator injects the tier's faults on
// every RPC the client makes (QueryRoute, Heartbeat, SendMessage, ReceiveMessage, AckMessage,
// ChangeInvisibleDuration, Telemetry, ...): 10% UNAVAILABLE, 10% HTTP/2 connection resets before
// serving and 5% after (lost replies), 10% latency spikes (test/chaos-support.ts). Nothing may be
// lost; duplicates (at-least-once) are counted. The run records its row in docs/reliability.md.

import type { Broker } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTo, fullName, startTestEmulator, teardown } from '../packages/rocketmq/test-kit/emulator.js';
import { faultSummary, runUnderFaults, tierRow } from './chaos-support.js';
import { recordChaos } from './reliability-report.js';

const TOTAL = 5_000;
let emulator: RunningEmulator;
const brokers: Broker[] = [];
beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 42 });
});
afterAll(() => teardown(emulator, brokers));

it(`${TOTAL} messages under 10% errors, resets and latency spikes on every RPC`, {
  timeout: 80_000,
}, async () => {
  emulator.engines.rocketmq.createTopic(fullName('chaos'), { type: 'MIXED' });
  const broker = await connectTo(emulator, { retry: { initialDelayMs: 10, maxDelayMs: 200 } });
  brokers.push(broker);
  const consumer = await broker.consumer('chaos', {
    group: 'chaos-g',
    prefetch: 128,
    visibilityTimeoutMs: 2_000,
  });
  const producer = await broker.producer('chaos', { maxInFlight: 8 });
  const run = await runUnderFaults({
    emulator,
    protocols: ['rocketmq'],
    producer,
    consumer,
    total: TOTAL,
    sendBatch: 250,
    concurrency: 16,
    timeoutMs: 55_000,
  });
  console.info(`[chaos rocketmq] ${JSON.stringify({ ...run, injected: faultSummary(run) })}`);
  await recordChaos(tierRow('rocketmq', run, 'MIXED topic, invisible time 2 s'));
  expect(run.sent).toBe(TOTAL);
  expect(run.lost).toBe(0);
  for (const action of ['SendMessage', 'ReceiveMessage', 'AckMessage'])
    for (const kind of ['error', 'reset', 'spike'])
      expect(run.injected[`rocketmq:${action}:${kind}`] ?? 0, `${action} ${kind}`).toBeGreaterThan(0);
});
