// Chaos: the emulator answers 10% of every CMQ action with a server error and resets the
// connection on another 10%. 5,000 messages go through the portable producer and consumer; none
// may be lost. Duplicates are allowed (at-least-once: a reset after the broker acted, an ack that
// never arrived) and are counted and printed.

import type { RunningEmulator } from '@switchyard/emulator';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectTo, startTestEmulator } from '../test-kit/emulator.js';
import type { CmqNative } from './driver.js';

const TOTAL = 5_000;

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startTestEmulator({ seed: 7 });
  // Short visibility: a message whose receive reply was lost comes back quickly.
  emulator.engines.cmq.createQueue('chaos-q', { visibilityTimeout: 2 });
});
afterAll(() => emulator.stop());

it(`${TOTAL} messages through 10% errors, 10% connection resets and 5% lost replies on every action: nothing lost`, {
  timeout: 60_000,
}, async () => {
  emulator.faults.setRules([
    { protocol: 'cmq', action: '*', errorRate: 0.1, resetRate: 0.1, lostReplyRate: 0.05 },
  ]);
  // Count what the injector decided, per kind and action, to prove the faults hit every action.
  const injected = new Map<string, number>();
  const decide = emulator.faults.decide.bind(emulator.faults);
  emulator.faults.decide = (protocol, action) => {
    const decision = decide(protocol, action);
    if (decision.kind !== 'none')
      injected.set(`${decision.kind}:${action}`, (injected.get(`${decision.kind}:${action}`) ?? 0) + 1);
    return decision;
  };
  const broker = await connectTo(emulator, { maxConnections: 16 });
  const started = Date.now();
  try {
    const producer = await broker.producer('chaos-q', { maxInFlight: 16 });
    const consumer = await broker.consumer('chaos-q', { prefetch: 64, pollWaitMs: 1_000 });
    const seen = new Map<string, number>();
    let deliveries = 0;
    const done = new AbortController();
    const deadline = setTimeout(() => done.abort(), 50_000);
    const running = consumer.run(
      (m) => {
        deliveries++;
        const body = m.text();
        seen.set(body, (seen.get(body) ?? 0) + 1);
        if (seen.size === TOTAL) done.abort();
      },
      { signal: done.signal, concurrency: 32 },
    );
    const sends = await Promise.allSettled(Array.from({ length: TOTAL }, (_, i) => producer.send(`m-${i}`)));
    const failedSends = sends.filter((s) => s.status === 'rejected').length;
    await running;
    clearTimeout(deadline);
    const missing = Array.from({ length: TOTAL }, (_, i) => `m-${i}`).filter((b) => !seen.has(b));
    const duplicates = deliveries - seen.size;
    const requests = broker.unwrap<CmqNative>().http.requests;
    console.log(
      `[cmq chaos] sent ${TOTAL} (failed sends ${failedSends}), received ${seen.size} distinct, ` +
        `${deliveries} deliveries, ${duplicates} duplicates, ${missing.length} lost, ` +
        `${requests} HTTP requests, ${Date.now() - started} ms; injected ${JSON.stringify(Object.fromEntries(injected))}`,
    );
    expect(failedSends).toBe(0);
    expect(missing).toEqual([]);
    expect(seen.size).toBe(TOTAL);
    // Faults really hit sends, receives and deletes.
    for (const kind of ['error', 'reset'])
      for (const action of ['BatchSendMessage', 'BatchReceiveMessage', 'BatchDeleteMessage'])
        expect(injected.get(`${kind}:${action}`) ?? 0, `${kind}:${action}`).toBeGreaterThan(0);
  } finally {
    emulator.faults.clear();
    await broker.close({ timeoutMs: 5_000 });
  }
});
