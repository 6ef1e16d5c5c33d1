// Chaos tier, CMQ: 5,000 messages through the queue model and 5,000 through the topic model
// (a subscription feeding the group's queue) while the emulator injects the tier's faults on
// every CMQ and Tencent Cloud API action: 10% errors, 15% connection resets (10% before the
// request is served, 5% after: lost replies), 10% latency spikes (test/chaos-support.ts). Nothing may be lost; duplicates (at-least-once) are counted. Each run
// records its row in docs/reliability.md.

import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, expect, it } from 'vitest';
import { connectTo, startTestEmulator } from '../packages/cmq/test-kit/emulator.js';
import { actionsTouched, type FaultedRun, faultSummary, runUnderFaults, tierRow } from './chaos-support.js';
import { recordChaos } from './reliability-report.js';

const TOTAL = 5_000;
// The two models run concurrently, each against its own emulator.
const emulators: RunningEmulator[] = [];
afterAll(async () => {
  await Promise.allSettled(emulators.map((e) => e.stop()));
});

function check(run: FaultedRun, dataActions: string[]): void {
  expect(run.sent).toBe(TOTAL);
  expect(run.lost).toBe(0);
  expect(run.distinct).toBe(TOTAL);
  // The faults really hit the data path: every kind on every send, receive and delete action.
  for (const action of dataActions)
    for (const kind of ['error', 'reset', 'spike'])
      expect(run.injected[`cmq:${action}:${kind}`] ?? 0, `${action} ${kind}`).toBeGreaterThan(0);
  expect(actionsTouched(run)).toEqual(expect.arrayContaining(dataActions.map((a) => `cmq:${a}`)));
}

it.concurrent(`queue model: ${TOTAL} messages under 10% errors, resets and latency spikes on every action`, {
  timeout: 80_000,
}, async () => {
  const emulator = await startTestEmulator({ seed: 7 });
  emulators.push(emulator);
  // Short visibility: a message whose receive reply was reset comes back quickly.
  emulator.engines.cmq.createQueue('chaos-q', { visibilityTimeout: 2 });
  const broker = await connectTo(emulator, { maxConnections: 16 });
  try {
    const producer = await broker.producer('chaos-q', { maxInFlight: 16 });
    const consumer = await broker.consumer('chaos-q', { prefetch: 64, pollWaitMs: 1_000 });
    const run = await runUnderFaults({
      emulator,
      protocols: ['cmq', 'api'],
      producer,
      consumer,
      total: TOTAL,
      sendBatch: 1,
      concurrency: 32,
      timeoutMs: 50_000,
    });
    console.info(`[chaos cmq queue] ${JSON.stringify({ ...run, injected: faultSummary(run) })}`);
    await recordChaos(tierRow('cmq queue', run, 'raw bodies, queue visibility 2 s'));
    check(run, ['BatchSendMessage', 'BatchReceiveMessage', 'BatchDeleteMessage']);
  } finally {
    await broker.close({ timeoutMs: 5_000 });
  }
});

it.concurrent(`topic model: ${TOTAL} messages under 10% errors, resets and latency spikes on every action`, {
  timeout: 80_000,
}, async () => {
  const emulator = await startTestEmulator({ seed: 11 });
  emulators.push(emulator);
  emulator.engines.cmq.createTopic('chaos-t', { filterType: 1 });
  const broker = await connectTo(emulator, {
    model: 'topic',
    manageTopology: true,
    visibilityTimeoutMs: 2_000,
    maxConnections: 16,
  });
  try {
    // Opening the consumer creates its queue and the topic's subscription to it (management API).
    const consumer = await broker.consumer('chaos-t', { group: 'workers', prefetch: 64, pollWaitMs: 1_000 });
    const producer = await broker.producer('chaos-t', { maxInFlight: 16 });
    const run = await runUnderFaults({
      emulator,
      protocols: ['cmq', 'api'],
      producer,
      consumer,
      total: TOTAL,
      sendBatch: 1,
      concurrency: 32,
      timeoutMs: 50_000,
    });
    console.info(`[chaos cmq topic] ${JSON.stringify({ ...run, injected: faultSummary(run) })}`);
    await recordChaos(tierRow('cmq topic', run, 'raw bodies, subscription → group queue (visibility 2 s)'));
    check(run, ['BatchPublishMessage', 'BatchReceiveMessage', 'BatchDeleteMessage']);
  } finally {
    await broker.close({ timeoutMs: 5_000 });
  }
});
