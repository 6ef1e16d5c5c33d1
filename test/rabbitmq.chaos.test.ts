// Chaos: 10,000 messages through a producer and two competing consumers while the broker
// force-closes every connection on the broker (`rabbitmqctl close_all_connections --global`) three times. Nothing may be
// lost; duplicates are allowed (at-least-once) but bounded by what can be in flight at a cut;
// consumers must resume by themselves; the status events must show each outage.
//
// The file name puts it in the `chaos` Vitest project, which runs after every other test, one file
// at a time, so cutting every connection on the broker disturbs no other test.

import { connect, type StatusEvent } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestVhost, rabbitmqctl, type TestVhost } from './rabbitmq-helpers.js';

const TOTAL = 10_000;
const PREFETCH = 50;
const BATCH = 100;
const CUTS = [2_000, 5_000, 8_000];

let test: TestVhost;
beforeAll(async () => {
  test = await createTestVhost('chaos');
});
afterAll(async () => {
  await test?.cleanup();
});

it('loses nothing through three forced disconnects, and consumers resume by themselves', {
  timeout: 60_000,
}, async () => {
  const url = `${test.url}?unavailableTimeoutMs=20000`;
  const events: StatusEvent[] = [];
  const producerBroker = await connect(url);
  const consumerBroker = await connect(url);
  producerBroker.onStatus((e) => events.push(e));
  consumerBroker.onStatus((e) => events.push(e));

  const consumers = await Promise.all([
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: PREFETCH }),
    consumerBroker.consumer('chaos', { group: 'workers', prefetch: PREFETCH }),
  ]);
  const producer = await producerBroker.producer('chaos', { maxBatchSize: BATCH, maxInFlight: 4 });

  const seen = new Map<string, number>();
  let received = 0;
  let allSeen: () => void = () => {};
  const complete = new Promise<void>((resolve) => (allSeen = resolve));
  const stop = new AbortController();
  const runs = consumers.map((c) =>
    c.run(
      async (m) => {
        // Handlers take a moment, so unacked deliveries are out when a cut comes.
        await new Promise((r) => setTimeout(r, 1));
        const n = (seen.get(m.text()) ?? 0) + 1;
        seen.set(m.text(), n);
        received++;
        if (seen.size === TOTAL) allSeen();
      },
      { signal: stop.signal, concurrency: 8 },
    ),
  );

  // The producer paces itself so the run spans the cuts; every send must eventually be confirmed.
  let sent = 0;
  const sends: Array<Promise<unknown>> = [];
  const producing = (async () => {
    for (let i = 0; i < TOTAL; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, TOTAL - i) }, (_, j) => ({ body: `m-${i + j}` }));
      sends.push(producer.send(batch).then(() => (sent += batch.length)));
      await new Promise((r) => setTimeout(r, 40));
    }
    await Promise.all(sends);
  })();

  const cutsDone: number[] = [];
  for (const threshold of CUTS) {
    const deadline = Date.now() + 30_000;
    while (seen.size < threshold && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await rabbitmqctl('close_all_connections', '--global', 'chaos');
    cutsDone.push(seen.size);
  }

  await producing;
  const timeout = setTimeout(() => allSeen(), 30_000);
  await complete;
  clearTimeout(timeout);
  stop.abort();
  await Promise.all(runs);
  await Promise.all([consumerBroker.close({ timeoutMs: 5_000 }), producerBroker.close()]);

  const missing = Array.from({ length: TOTAL }, (_, i) => `m-${i}`).filter((b) => !seen.has(b));
  const duplicates = received - seen.size;
  // At each cut at most: every unacked delivery of both consumers (prefetch each) plus every
  // unconfirmed publish (maxInFlight batches) can come twice.
  const bound = CUTS.length * (2 * PREFETCH + 4 * BATCH);
  console.info(
    `chaos: sent ${sent}, received ${received}, unique ${seen.size}, duplicates ${duplicates} (bound ${bound}), cuts at ${cutsDone.join('/')}`,
  );
  expect(missing).toEqual([]);
  expect(sent).toBe(TOTAL);
  expect(duplicates).toBeLessThanOrEqual(bound);
  // Every cut happened while messages were still flowing.
  expect(cutsDone.every((n) => n < TOTAL)).toBe(true);
  const reconnecting = events.filter((e) => e.type === 'reconnecting' && e.attempt === 1).length;
  const connected = events.filter((e) => e.type === 'connected').length;
  // Two connections, three cuts each.
  expect(reconnecting).toBeGreaterThanOrEqual(2 * CUTS.length);
  expect(connected).toBeGreaterThanOrEqual(2 * CUTS.length);
  expect(events.at(-1)?.type).toBe('closed');
});
