// Chaos for the RocketMQ driver, bounded: 5,000 messages through the emulator's gRPC proxy while
// it fails a share of SendMessage / ReceiveMessage / AckMessage / ChangeInvisibleDuration calls
// with UNAVAILABLE, resets the HTTP/2 connection under some receives (killing whatever else is in
// flight on it, sends included), leaves some acks unanswered until their deadline (their leases
// run out, so those messages come again: counted duplicates) and adds latency. The portable layer retries what the driver
// marks retryable; a lost ack only means a redelivery, a send whose reply was lost may be stored
// twice. Nothing may be lost; duplicates are counted and reported.

import type { Broker } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTo, fullName, startTestEmulator, teardown } from '../packages/rocketmq/test-kit/emulator.js';

const TOTAL = 5_000;
let emulator: RunningEmulator;
const brokers: Broker[] = [];

beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 42 });
});

afterAll(async () => {
  await teardown(emulator, brokers);
});

it(`loses nothing of ${TOTAL} messages under injected gRPC faults`, { timeout: 60_000 }, async () => {
  const engine = emulator.engines.rocketmq;
  engine.createTopic(fullName('chaos'), { type: 'MIXED' });
  const broker = await connectTo(emulator, { retry: { initialDelayMs: 10, maxDelayMs: 200 } });
  brokers.push(broker);
  const consumer = await broker.consumer('chaos', {
    group: 'chaos-g',
    prefetch: 128,
    visibilityTimeoutMs: 2_000,
  });
  const producer = await broker.producer('chaos', { maxInFlight: 8 });

  // Count what the injector actually did, so the test proves the faults happened.
  const injected = new Map<string, number>();
  const decide = emulator.faults.decide.bind(emulator.faults);
  emulator.faults.decide = (protocol, action) => {
    const decision = decide(protocol, action);
    if (decision.kind !== 'none')
      injected.set(`${action} ${decision.kind}`, (injected.get(`${action} ${decision.kind}`) ?? 0) + 1);
    return decision;
  };
  // Faults start once both clients are up: startup has its own (tested) timeout path.
  emulator.faults.setRules([
    {
      protocol: 'rocketmq',
      action: 'SendMessage',
      errorRate: 0.05,
      lostReplyRate: 0.03,
      latencyMs: 1,
      latencyJitterMs: 4,
    },
    { protocol: 'rocketmq', action: 'ReceiveMessage', errorRate: 0.1, resetRate: 0.02, latencyJitterMs: 20 },
    {
      protocol: 'rocketmq',
      action: 'AckMessage',
      errorRate: 0.05,
      hangRate: 0.01,
      lostReplyRate: 0.03,
      latencyJitterMs: 5,
    },
    { protocol: 'rocketmq', action: 'ChangeInvisibleDuration', errorRate: 0.05 },
  ]);

  const seen = new Map<string, number>();
  const stop = new AbortController();
  const run = consumer.run(
    (m) => {
      const body = m.text();
      seen.set(body, (seen.get(body) ?? 0) + 1);
      if (seen.size === TOTAL) stop.abort();
    },
    { signal: stop.signal, concurrency: 16 },
  );

  const started = Date.now();
  for (let i = 0; i < TOTAL; i += 250) {
    await producer.send(Array.from({ length: 250 }, (_, j) => ({ body: `m-${i + j}` })));
  }
  const sentMs = Date.now() - started;
  const timer = setTimeout(() => stop.abort(), 45_000);
  await run;
  clearTimeout(timer);
  emulator.faults.clear();

  const stored = engine.messages(fullName('chaos')).length;
  const duplicates = [...seen.values()].reduce((n, c) => n + (c - 1), 0);
  const missing = Array.from({ length: TOTAL }, (_, i) => `m-${i}`).filter((b) => !seen.has(b));
  console.info(
    `rocketmq chaos: sent ${TOTAL} in ${sentMs} ms, stored ${stored} (${stored - TOTAL} duplicate sends), received ${seen.size} unique, ${duplicates} duplicate deliveries, ${missing.length} missing, total ${Date.now() - started} ms; injected ${JSON.stringify(Object.fromEntries(injected))}`,
  );
  expect(missing).toEqual([]);
  expect(stored).toBeGreaterThanOrEqual(TOTAL);
  for (const fault of [
    'SendMessage error',
    'ReceiveMessage error',
    'ReceiveMessage reset',
    'AckMessage error',
  ])
    expect(injected.get(fault) ?? 0, fault).toBeGreaterThan(0);
});
