// The callbacks a consumer hands the event loop, the microtask queue and its intake's waiters once
// per consumer (the intake's take, the ack batcher's check-phase flush, the handler loop's wake-up)
// are its methods bound to it, not arrows made per consumer: V8 keeps an arrow's optimized code
// only while that arrow lives, so each new consumer compiled its own again (the RabbitMQ consume
// phases of the bench, where every phase opens a consumer); a bound method runs the method's code.

import { randomUUID } from 'node:crypto';
import { afterEach, expect, it, vi } from 'vitest';
import { type PushConsumerProbe, pushMemory } from '../test-kit/push-memory.js';
import { connect } from './connect.js';
import { registerDriver } from './registry.js';
import { Waiters } from './waiters.js';

const probes: PushConsumerProbe[] = [];
registerDriver(pushMemory('push-memory-callbacks', probes));

afterEach(() => {
  vi.restoreAllMocks();
});

it('hands out bound methods for each of two consumers, and every message is handled', async () => {
  const names = new Set<string>();
  const record = (fn: unknown) => {
    if (typeof fn === 'function') names.add(fn.name);
  };
  const queue = globalThis.queueMicrotask;
  vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => {
    record(fn);
    queue(fn);
  });
  // The intake's take is a reaction on a settled promise (no AsyncResource per take). Patched by
  // hand, not spied: a spy's own bookkeeping calls then() and recursed into the spy.
  const then = Promise.prototype.then;
  // biome-ignore lint/suspicious/noThenProperty: wraps the real then() for this test, restored after it
  Promise.prototype.then = function (this: Promise<unknown>, onFulfilled?: unknown, onRejected?: unknown) {
    record(onFulfilled);
    return then.call(this, onFulfilled as never, onRejected as never);
  } as typeof then;
  const immediate = globalThis.setImmediate;
  vi.spyOn(globalThis, 'setImmediate').mockImplementation(((
    fn: (...args: unknown[]) => void,
    ...args: unknown[]
  ) => {
    record(fn);
    return immediate(fn, ...args);
  }) as typeof setImmediate);
  const add = Waiters.prototype.add;
  vi.spyOn(Waiters.prototype, 'add').mockImplementation(function (this: Waiters, waiter) {
    record(waiter);
    return add.call(this, waiter);
  });

  const broker = await connect({ driver: 'push-memory-callbacks', name: `callbacks-${randomUUID()}` });
  try {
    const producer = await broker.producer('q');
    await producer.send(Array.from({ length: 20 }, (_, i) => ({ body: `m${i}` })));
    await producer.close();
    const seen: string[] = [];
    for (const consumerNumber of [1, 2]) {
      const consumer = await broker.consumer('q', { group: 'g', prefetch: 4 });
      const stop = new AbortController();
      await consumer.run(
        (m) => {
          seen.push(m.text());
          if (seen.length === 10 * consumerNumber) stop.abort();
        },
        { signal: stop.signal },
      );
      await consumer.close();
    }
    expect(seen.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`).sort());
  } finally {
    await broker.close({ timeoutMs: 2_000 });
    // biome-ignore lint/suspicious/noThenProperty: the real then() back
    Promise.prototype.then = then;
  }
  expect(names).toContain('bound #takeFromDriver');
  expect(names).toContain('bound flushAll');
  expect(names).toContain('bound #woken');
  // No arrow made per consumer for these three (an arrow field is named after its field).
  for (const arrow of ['#takeReady', '#onImmediate', '#wake']) expect(names).not.toContain(arrow);
});
