// The driver's per-batch class outlives its bursts: code optimized for it stays optimized through
// full GCs that find no batch alive (core's shape-anchor.ts). Without the anchor, V8 collected the
// class's hidden class at such a GC and threw away the code built on it ("weak objects": sendBatch
// after every Switchyard publish phase of the bench), and the next burst compiled it again
// (docs/bench-profiles.md, mqtt).

import { EventEmitter } from 'node:events';
import type { Receipt } from '@switchyard/core/driver';
import type { MqttClient } from 'mqtt';
import { expect, it } from 'vitest';
import { sameMap, staysOptimized } from '../../core/test-kit/v8-natives.js';
import { watchClient } from './client-watch.js';
import { type MqttProducer, PendingPublishes, settledBatch } from './producer.js';

/** A batch as sendBatch makes and settles one: watched on a client, each message confirmed. */
function realBatch(): PendingPublishes {
  const client = Object.assign(new EventEmitter(), { connected: true, reconnecting: false });
  const producer = {
    mapError: (e: unknown) => e,
    outcome: () => ({ messageId: 'm' }),
  } as unknown as MqttProducer;
  const batch = new PendingPublishes(producer, 2, 'publish to "t"', (_i: number, _r: Receipt) => {});
  batch.resolve = () => {};
  batch.watch(new AbortController().signal, watchClient(client as unknown as MqttClient), true, 30_000);
  batch.settle(0, { messageId: 'a' });
  batch.settle(1, { messageId: 'b' });
  return batch;
}

it('keeps code made for a publish batch optimized with none alive', () => {
  // The anchor's hidden class is a real batch's after its life (what sendBatch writes moves it to no other).
  expect(sameMap(settledBatch(), realBatch())).toBe(true);
  // Handed through an array so the object escapes (a wholly inlined one is not made at all), then let go.
  const make = new Function(
    'P',
    'p',
    'h',
    'return () => { h[0] = new P(p, 2, "w", undefined); const n = h[0].left; h[0] = undefined; return n; };',
  )(PendingPublishes, {}, []) as () => number;
  staysOptimized(make);
});
