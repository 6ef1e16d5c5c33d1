// The pull pump's receive cycle: the driver's answer is taken by a `then` with the same two bound
// functions every cycle, not by an async function's await (a reaction, two resolving closures and
// their context per receive, living through the wait; docs/bench-profiles.md §28).

import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { memoryWrapped } from '../test-kit/memory-wrapped.js';
import type { Broker } from './broker.js';
import { connect } from './connect.js';
import type { DriverConsumer } from './driver.js';
import { registerDriver } from './registry.js';

/** The handlers each receiveBatch answer was taken with, in order. */
const taken: [unknown, unknown][] = [];

// A native promise whose own `then` records its handlers: `await` on a native promise never calls
// it (it chains internally), an explicit `then` does.
registerDriver(
  memoryWrapped('then-memory', (inner) => ({
    name: 'then-memory',
    capabilities: inner.capabilities,
    native: inner.native,
    close: (options) => inner.close(options),
    openProducer: (destination, options) => inner.openProducer(destination, options),
    async openConsumer(source, options): Promise<DriverConsumer> {
      const consumer = await inner.openConsumer(source, options);
      const receive = consumer.receiveBatch.bind(consumer);
      (consumer as { receiveBatch: DriverConsumer['receiveBatch'] }).receiveBatch = (max, waitMs, signal) => {
        const answer = receive(max, waitMs, signal);
        Object.defineProperty(answer, 'then', {
          value(this: Promise<unknown>, onFulfilled: unknown, onRejected: unknown) {
            taken.push([onFulfilled, onRejected]);
            return Promise.prototype.then.call(this, onFulfilled as never, onRejected as never);
          },
        });
        return answer;
      };
      return consumer;
    },
  })),
);

const brokers: Broker[] = [];
afterEach(async () => {
  await Promise.all(brokers.splice(0).map((b) => b.close({ timeoutMs: 2_000 })));
  taken.length = 0;
});

it('takes every receive answer with the same two functions (no await, no closure per receive cycle)', async () => {
  const broker = await connect({ driver: 'then-memory', name: `then-${randomUUID()}` });
  brokers.push(broker);
  const producer = await broker.producer('q');
  const consumer = await broker.consumer('q', { group: 'g', prefetch: 10 });
  const got: string[] = [];
  for (let round = 0; round < 3; round++) {
    await producer.send([{ body: `a${round}` }, { body: `b${round}` }]);
    while (got.length < 2 * (round + 1)) {
      const batch = await consumer.receive({ max: 10, waitMs: 5_000 });
      for (const m of batch) got.push(m.text());
      await Promise.all(batch.map((m) => m.ack()));
    }
  }
  await consumer.close();
  expect(got.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
  // One cycle per send at least, plus the one under way when the consumer closed.
  expect(taken.length).toBeGreaterThanOrEqual(4);
  for (const [onFulfilled, onRejected] of taken) {
    expect(onFulfilled).toBe(taken[0]![0]);
    expect(onRejected).toBe(taken[0]![1]);
  }
  expect(typeof taken[0]![0]).toBe('function');
  expect(typeof taken[0]![1]).toBe('function');
});
