// The callback the consumer gives amqplib's basic.consume (real broker, 127.0.0.1:5672). It is the
// consumer's one #onMessage method bound to the channel, not an arrow made per channel: V8 keeps an
// arrow's optimized code only while that arrow lives, so every consumer opened after the previous
// one was collected compiled the per-message path again (docs/bench-profiles.md, the rabbitmq
// consume phases' TurboFan compiles). Deliveries still reach the consumer through it.

import type { DriverConsumer } from '@switchyard/core/driver';
import type { Channel } from 'amqplib';
import { expect, it } from 'vitest';
import { consumerOptions, driverFixture } from '../test-kit/driver-fixture.js';

/** What amqplib calls per delivery for the consumer on `channel` (its one registered consumer). */
function registeredCallback(channel: Channel): (...args: unknown[]) => unknown {
  const consumers = (channel as unknown as { consumers: Map<string, (...args: unknown[]) => unknown> })
    .consumers;
  expect(consumers.size).toBe(1);
  return [...consumers.values()][0]!;
}

it('registers one shared method, bound per channel, and delivers through it', async () => {
  const { name, setup, instance, close } = await driverFixture('consume-callback');
  const options = consumerOptions(10);
  const opened: DriverConsumer[] = [];
  try {
    opened.push(await instance.openConsumer(name, options), await instance.openConsumer(name, options));
    const [first, second] = opened.map((c) => registeredCallback(c.native as Channel));
    // Two channels, two callbacks, each a bound function of the same method (an arrow is named '').
    expect(first).not.toBe(second);
    expect(first!.name).toBe('bound #onMessage');
    expect(second!.name).toBe('bound #onMessage');

    setup.publish(name, 'k', Buffer.from('hello'));
    await setup.waitForConfirms();
    const got: string[] = [];
    const ready = new Promise<void>((resolve) => {
      for (const consumer of opened) consumer.onReady!(resolve);
    });
    await ready;
    for (const consumer of opened) {
      const deliveries = consumer.takeReady!(10);
      for (const d of deliveries) got.push(Buffer.from(d.body).toString());
      await consumer.ack(deliveries);
    }
    expect(got).toEqual(['hello']);
  } finally {
    for (const consumer of opened) await consumer.close();
    await close(opened.map((c) => (c as unknown as { queue: string }).queue));
  }
});
