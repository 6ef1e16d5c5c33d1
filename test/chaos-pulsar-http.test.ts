// Chaos: the emulator fails 10% of every API action with InternalError and resets another 10% of
// connections without a reply, while 5,000 messages go through the pulsar-http driver. Nothing may
// be lost; duplicates (allowed: at-least-once) are counted and reported.

import { connect } from '@switchyard/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PulsarHttpEnv, startPulsarHttpEnv } from './pulsar-http-support.js';

const TOTAL = 5_000;

describe('chaos: pulsar-http under injected API errors and connection resets', () => {
  let env: PulsarHttpEnv;
  beforeAll(async () => {
    // A lost ReceiveMessage reply leaves messages leased on the subscription: only the topic's ack
    // timeout brings them back (TDMQ's minimum is 60 s; the emulator's default is shortened here).
    env = await startPulsarHttpEnv({ ackTimeoutMs: 3_000 });
  });
  afterAll(() => env.close());

  // Alone the run takes 11–15 s; in CI beside other suites 43 s, and once over 60 s (2026-12-07),
  // as each lost reply costs its request a whole requestTimeoutMs: the budget is for a loaded
  // machine, and the run stops early once every message is in.
  it(`delivers all ${TOTAL} messages with 10% errors, 10% resets and 5% lost replies on every action`, {
    timeout: 180_000,
  }, async () => {
    const started = Date.now();
    const retries = { send: 0, receive: 0, ack: 0 };
    const logger = {
      debug() {},
      info() {},
      error() {},
      warn(_fields: unknown, message?: string) {
        if (message?.startsWith('send failed')) retries.send++;
        else if (message?.startsWith('receive failed')) retries.receive++;
        else if (message?.startsWith('ack failed')) retries.ack++;
      },
    };
    // A lost reply costs an attempt its whole request timeout: the default (30 s, the send's whole
    // deadline) would leave no time to retry it, so the send would fail TIMEOUT (never lost). Twenty sends queue
    // behind eight in flight: a deadline that fits a loaded machine (the run checks loss, not speed).
    const broker = await connect(
      env.config({
        receiveWaitMs: 200,
        maxConcurrency: 48,
        requestTimeoutMs: 5_000,
        retry: { deadlineMs: 120_000 },
        logger,
      }),
    );
    // Topology first, without faults: the run measures messaging.
    const consumer = await broker.consumer('chaos', { group: 'chaos', prefetch: 200, concurrency: 64 });
    const producer = await broker.producer('chaos', { maxInFlight: 8 });
    env.emulator.faults.setRules([
      { protocol: 'api', action: '*', errorRate: 0.1, resetRate: 0.1, lostReplyRate: 0.05 },
    ]);

    const seen = new Map<string, number>();
    let received = 0;
    const done = new AbortController();
    const run = consumer.run(
      (m) => {
        received++;
        seen.set(m.text(), (seen.get(m.text()) ?? 0) + 1);
        if (seen.size === TOTAL) done.abort();
      },
      { signal: done.signal },
    );
    const bodies = Array.from({ length: TOTAL }, (_, i) => `chaos-${i}`);
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < TOTAL; i += 250) sends.push(producer.send(bodies.slice(i, i + 250)));
    await Promise.all(sends);
    const sentMs = Date.now() - started;
    // Stops a run that would never end (a lost message): what is missing then fails the test below.
    const timer = setTimeout(() => done.abort(), 120_000);
    await run;
    clearTimeout(timer);
    env.emulator.faults.clear();
    await broker.close();

    const lost = bodies.filter((b) => !seen.has(b));
    const duplicates = received - seen.size;
    console.log(
      `chaos pulsar-http: sent ${TOTAL} (all confirmed in ${sentMs} ms), received ${received}, unique ${seen.size}, duplicates ${duplicates}, lost ${lost.length}, total ${Date.now() - started} ms; retried batches: send ${retries.send}, receive ${retries.receive}, ack ${retries.ack}`,
    );
    // The faults really happened on every path.
    expect(retries.send).toBeGreaterThan(0);
    expect(retries.receive).toBeGreaterThan(0);
    expect(retries.ack).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(seen.size).toBe(TOTAL);
  });
});
