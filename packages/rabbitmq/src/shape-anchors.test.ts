// The driver's per-delivery and per-batch classes outlive their bursts: code optimized for them stays
// optimized through full GCs that find none alive (core's shape-anchor.ts). Without an anchor, V8
// collected the class's map at such a GC and threw the code away ("weak objects"), and the
// consume or publish path compiled again at the next burst (docs/bench-profiles.md §28).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Channel, ConsumeMessage } from 'amqplib';
import { expect, it } from 'vitest';
import { EarlyReceipts } from './producer.js';
import { AmqpDelivery } from './properties.js';
import { PendingConfirms } from './publisher.js';

setFlagsFromString('--allow-natives-syntax');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const optimize = new Function(
  'f',
  '%PrepareFunctionForOptimization(f); f(); f(); %OptimizeFunctionOnNextCall(f); f();',
) as (f: () => unknown) => void;
const turbofanned = new Function('f', 'return %ActiveTierIsTurbofan(f)') as (f: () => unknown) => boolean;
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;

/** `make` (made per test, so no other code shares its feedback) stays TurboFan through full GCs. */
function staysOptimized(make: () => unknown): void {
  optimize(make);
  expect(turbofanned(make)).toBe(true);
  // Maps that optimized code uses are kept a couple of GCs after their last use: more than that.
  for (let i = 0; i < 6; i++) gc();
  expect(turbofanned(make)).toBe(true);
}

// As amqplib hands them: fields, properties with headers, the body.
const message = (): ConsumeMessage =>
  ({
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', consumerTag: 'c' },
    properties: { headers: { 'x-delivery-count': 1 }, messageId: 'm', contentType: 'text/plain' },
    content: Buffer.from('x'),
  }) as unknown as ConsumeMessage;
const channel = {} as Channel;

/** A delivery as the consumer leaves it (made in a function of its own: not alive during the test's GCs). */
function settled(): AmqpDelivery {
  const delivery = new AmqpDelivery(message(), channel, 'native', 2);
  delivery.settled = delivery.acking = true;
  delivery.lease = {};
  void delivery.id;
  return delivery;
}

it('keeps code made for deliveries optimized with none alive', () => {
  // The anchor's map is a settled, leased delivery's (what the consumer writes moves it to none other).
  expect(sameMap(new AmqpDelivery(message(), undefined, 'carried', 0), settled())).toBe(true);
  const make = new Function('D', 'm', 'c', 'return () => new D(m, c, "native", 0).deliveryAttempt;')(
    AmqpDelivery,
    message(),
    channel,
  ) as () => number;
  staysOptimized(make);
});

it("keeps code made for a publish batch's confirms optimized with none alive", () => {
  expect(sameMap(new PendingConfirms(0, undefined), new PendingConfirms(3, { confirmed() {} }))).toBe(true);
  // Handed through an array so the object escapes (a wholly inlined one is not made at all), then let go.
  const make = new Function(
    'P',
    'h',
    'return () => { h[0] = new P(2, undefined); const n = h[0].open; h[0] = undefined; return n; };',
  )(PendingConfirms, []) as () => number;
  staysOptimized(make);
});

it('keeps code made for early receipts optimized with none alive', () => {
  const ignore = (): void => {};
  expect(sameMap(new EarlyReceipts([], undefined, ignore), new EarlyReceipts([], [0, 1], ignore))).toBe(true);
  const make = new Function('E', 'f', 'return () => new E([], undefined, f).receipts;')(
    EarlyReceipts,
    ignore,
  ) as () => unknown;
  staysOptimized(make);
});
