// The push path of the intake (DriverConsumer.onReady/takeReady): a push driver's deliveries are
// taken as they land, with no receive cycle, within the intake's bound, and a driver that stops for
// good says why through takeReady.

import { createHook } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { type PushConsumerProbe, pushMemory } from '../test-kit/push-memory.js';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import { PermissionDeniedError } from './errors.js';
import { registerDriver } from './registry.js';

const probes: PushConsumerProbe[] = [];
registerDriver(pushMemory('push-memory', probes));

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
  probes.length = 0;
});

async function open(): Promise<Broker> {
  const broker = await connect({ driver: 'push-memory', name: `push-${randomUUID()}` });
  brokers.push(broker);
  return broker;
}

async function send(broker: Broker, source: string, n: number): Promise<void> {
  const producer = await broker.producer(source);
  await producer.send(Array.from({ length: n }, (_, i) => ({ body: `m${i}` })));
  await producer.close();
}

it('run() handles every delivery of a push driver without ever calling receiveBatch', async () => {
  const broker = await open();
  await send(broker, 'q', 50);
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 8 });
  const seen: string[] = [];
  const stop = new AbortController();
  let all!: () => void;
  const done = new Promise<void>((resolve) => (all = resolve));
  const run = consumer.run(
    (m) => {
      seen.push(m.text());
      if (seen.length === 50) all();
    },
    { signal: stop.signal },
  );
  await done;
  stop.abort();
  await run;
  await consumer.close();
  expect(seen.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`).sort());
  expect(probes[0]!.receiveCalls).toBe(0);
  expect(probes[0]!.largestTake).toBeLessThanOrEqual(8);
});

it('takes what a push driver holds beyond the intake bound once room comes back (no new arrival needed)', async () => {
  const broker = await open();
  await send(broker, 'q', 6);
  // maxPerSecond 1 with concurrency 1 bounds the intake at 2 while the driver holds up to 10.
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 10, maxPerSecond: 1, concurrency: 1 });
  const probe = probes[0]!;
  await probe.pushed(6);
  const got: string[] = [];
  while (got.length < 6) {
    const batch = await consumer.receive({ max: 10, waitMs: 10_000 });
    expect(batch.length).toBeGreaterThan(0);
    expect(batch.length).toBeLessThanOrEqual(2);
    for (const m of batch) got.push(m.text());
    // Every arrival came before this receive: only the acks' room can bring the rest.
    await Promise.all(batch.map((m) => m.ack()));
  }
  expect(got.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  expect(probe.largestTake).toBeLessThanOrEqual(2);
  await consumer.close();
});

it('pause() leaves pushed deliveries in the driver, and resume() takes them', async () => {
  const broker = await open();
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 10 });
  const probe = probes[0]!;
  consumer.pause();
  await send(broker, 'q', 3);
  await probe.pushed(3);
  // The take queued by the last arrival has run (a macrotask later) and took nothing.
  await new Promise<void>((resolve) => setImmediate(resolve));
  expect(probe.buffered).toBe(3);
  consumer.resume();
  const batch = await consumer.receive({ max: 10, waitMs: 10_000 });
  expect(batch.map((m) => m.text()).sort()).toEqual(['m0', 'm1', 'm2']);
  await Promise.all(batch.map((m) => m.ack()));
  await consumer.close();
});

it("a push driver's fatal error ends receiving with that error", async () => {
  const broker = await open();
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 10 });
  const denied = new PermissionDeniedError('access to queue "q" was revoked; grant it again and reopen');
  probes[0]!.fail(denied);
  await expect(consumer.receive({ max: 1, waitMs: 10_000 })).rejects.toBe(denied);
  await consumer.close();
});

it('a push take is queued without an async resource of its own (queueMicrotask made one per take)', async () => {
  const broker = await open();
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 8 });
  let microtasks = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Microtask') microtasks++;
    },
  }).enable();
  const got: string[] = [];
  try {
    // Nothing is acked meanwhile (the ack batcher queues its sends on its own).
    await send(broker, 'q', 5);
    while (got.length < 5)
      got.push(...(await consumer.receive({ max: 5, waitMs: 5_000 })).map((m) => m.text()));
  } finally {
    hook.disable();
  }
  expect(got.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
  expect(microtasks).toBe(0);
  await consumer.close();
});
