// Chaos tier, Pulsar over the Tencent Cloud HTTP API: 5,000 messages while the emulator injects the
// tier's faults on every API action: 10% errors, 10% connection resets before serving and 5% after
// (lost replies), 10% latency spikes (test/chaos-support.ts). Nothing may be lost; duplicates
// (at-least-once) are counted. The run records its row in docs/reliability.md.

import { connect } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { faultSummary, runUnderFaults, tierRow } from './chaos-support.js';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';
import { recordChaos } from './reliability-report.js';

const TOTAL = 5_000;
let env: PulsarHttpEnv;
beforeAll(async () => {
  // A lost ReceiveMessage reply leaves messages leased on the subscription: only the topic's ack
  // timeout brings them back (TDMQ's minimum is 60 s; the emulator's default is shortened here).
  env = await startPulsarHttpEnv({ ackTimeoutMs: 3_000 });
});
afterAll(() => env.close());

it(`${TOTAL} messages under 10% errors, resets and latency spikes on every API action`, {
  timeout: 80_000,
}, async () => {
  // A lost reply costs an attempt its whole request timeout; the default (30 s) is the send's whole
  // deadline and would leave no time to retry it. Twenty sends queue behind eight in flight, so each gets a
  // deadline that fits a loaded machine: the run checks that nothing is lost, not how fast.
  const broker = await connect(
    env.config({
      receiveWaitMs: 200,
      maxConcurrency: 48,
      requestTimeoutMs: 5_000,
      retry: { deadlineMs: 120_000 },
    }),
  );
  try {
    const consumer = await broker.consumer('chaos', { group: 'chaos', prefetch: 200 });
    const producer = await broker.producer('chaos', { maxInFlight: 8 });
    const run = await runUnderFaults({
      emulator: env.emulator,
      protocols: ['api'],
      producer,
      consumer,
      total: TOTAL,
      sendBatch: 250,
      concurrency: 64,
      timeoutMs: 55_000,
    });
    console.info(`[chaos pulsar-http] ${JSON.stringify({ ...run, injected: faultSummary(run) })}`);
    await recordChaos(tierRow('pulsar-http', run, 'raw mode, ack timeout 3 s'));
    expect(run.sent).toBe(TOTAL);
    expect(run.lost).toBe(0);
    for (const action of ['SendBatchMessages', 'ReceiveMessage', 'AcknowledgeMessage'])
      for (const kind of ['error', 'reset', 'spike'])
        expect(run.injected[`api:${action}:${kind}`] ?? 0, `${action} ${kind}`).toBeGreaterThan(0);
  } finally {
    await broker.close({ timeoutMs: 5_000 });
  }
});
