// The driver's per-delivery and per-batch classes outlive their bursts: code optimized for them stays
// optimized through full GCs that find none alive (core's shape-anchor.ts). Without an anchor, V8
// collected the class's map at such a GC and threw the code away ("weak objects"), and the
// consume or publish path compiled again at the next burst (docs/bench-profiles.md §28).

import type { Channel, ConsumeMessage } from 'amqplib';
import { expect, it } from 'vitest';
import { sameMap, staysOptimized } from '../../core/test-kit/v8-natives.js';
import { EarlyReceipts } from './producer.js';
import { AmqpDelivery } from './properties.js';
import { PendingConfirms } from './publisher.js';

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
