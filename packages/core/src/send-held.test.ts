// What a send() keeps while it waits for its confirm: 1,000 concurrent sends wait across a round
// trip, so each object a waiting send holds is kept 1,000 times, and copied at every scavenge in
// it (docs/bench-profiles.md §26.3; bench/profile-send-layers.ts `held` counts them all).
import { getHeapSnapshot, queryObjects } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { faultyMemory } from '../test-kit/faulty-memory.js';
import { gc } from '../test-kit/v8-natives.js';
import { connect } from './connect.js';
import { UnavailableError } from './errors.js';
import { memoryCapabilities } from './memory/driver.js';
import { prepareOutgoing } from './outgoing.js';
import { registerDriver } from './registry.js';
import { SendGroup } from './send-queue.js';

const SENDS = 1_000;
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('a waiting send()', () => {
  it('keeps one function: its promise’s resolve, not its reject too', async () => {
    const releases: Array<() => void> = [];
    let holding = true;
    registerDriver(
      faultyMemory('held-sends', {
        // Every batch waits here, as for a broker's confirm, until the count is taken.
        afterSend: async () => {
          if (holding) await new Promise<void>((release) => releases.push(release));
        },
      }),
    );
    const broker = await connect({ driver: 'held-sends', name: `held-sends-${process.pid}` });
    try {
      const producer = await broker.producer('t');
      // Warm: the send path's own functions (compiled code, feedback) are made before counting.
      holding = false;
      await producer.send('warm');
      holding = true;
      gc();
      const idle = queryObjects(Function, { format: 'count' }) as number;
      const waiting: Promise<unknown>[] = [];
      for (let i = 0; i < SENDS; i++) waiting.push(producer.send('x'));
      await turn();
      await turn();
      gc();
      const held = (queryObjects(Function, { format: 'count' }) as number) - idle;
      // 2,000 and more while each kept its promise's resolve and reject.
      expect(held).toBeLessThan(SENDS * 1.5);
      expect(held).toBeGreaterThanOrEqual(SENDS);
      holding = false;
      for (const release of releases) release();
      await Promise.all(waiting);
    } finally {
      holding = false;
      for (const release of releases) release();
      await broker.close();
    }
  });

  it('is a SendGroup of 80 B: its message, queue place, receipt, count, resolve and extras', async () => {
    const message = prepareOutgoing('x', memoryCapabilities, 'memory');
    const groups = Array.from({ length: 16 }, () => new SendGroup(message, () => {}, undefined));
    const chunks: string[] = [];
    for await (const chunk of getHeapSnapshot()) chunks.push(String(chunk));
    const snapshot = JSON.parse(chunks.join('')) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    const fields = snapshot.snapshot.meta.node_fields;
    const [type, name, size] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
      number,
      number,
      number,
    ];
    const object = snapshot.snapshot.meta.node_types[0].indexOf('object');
    const sizes = new Set<number>();
    for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
      if (snapshot.nodes[i + type] === object && snapshot.strings[snapshot.nodes[i + name]!] === 'SendGroup')
        sizes.add(snapshot.nodes[i + size]!);
    }
    // 120 B while it kept its promise's reject, its state, signal, listener and observation in
    // fields of their own and its queuedAt (its message's publishedAt) besides.
    expect([...sizes]).toEqual([80]);
    expect(groups[0]!.queuedAt).toBe(message.publishedAt);
  });

  it('rejects with its error, and the rejection is the caller’s to handle alone', async () => {
    registerDriver(
      faultyMemory('rejecting-sends', {
        beforeSend() {
          throw new UnavailableError('refused', { driver: 'rejecting-sends', retryable: false });
        },
      }),
    );
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const broker = await connect({ driver: 'rejecting-sends', name: `rejecting-sends-${process.pid}` });
    try {
      const producer = await broker.producer('t');
      const sends = [producer.send('a'), producer.send('b'), producer.send(['c', 'd'])];
      for (const send of sends)
        await expect(send).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'refused' });
      await turn();
      await turn();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await broker.close();
    }
  });
});
