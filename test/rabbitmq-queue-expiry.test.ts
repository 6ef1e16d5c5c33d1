// `queueExpiresMs` on the real broker: a consumer group's queue carries `x-expires`, so a
// short-lived group (a demo run, a temporary bridge) does not leave a durable queue behind.

import { connect } from '@switchyard/core';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672';

async function queueExists(name: string): Promise<boolean> {
  const admin = await amqp.connect(BROKER);
  // A passive check of a missing queue closes its channel: use a throwaway one.
  const channel = await admin.createChannel();
  channel.on('error', () => {});
  try {
    await channel.checkQueue(name);
    return true;
  } catch {
    return false;
  } finally {
    await admin.close();
  }
}

describe('rabbitmq queueExpiresMs', () => {
  it('declares group queues with x-expires; the broker deletes the idle queue', async () => {
    const source = `expiry-${process.pid}-${Date.now()}`;
    const broker = await connect(`${BROKER}?queueExpiresMs=1000`);
    const consumer = await broker.consumer(source, { group: 'g' });
    const producer = await broker.producer(source);
    await producer.send({ body: 'kept while consumed' });
    const [message] = await consumer.receive({ max: 1, waitMs: 5_000 });
    expect(message?.text()).toBe('kept while consumed');
    await message?.ack();
    expect(await queueExists(`${source}.g`)).toBe(true);
    await broker.close();
    // x-expires counts from the last use; a passive declare is a use (it renews the lease), so
    // poll less often than the expiry.
    const deadline = Date.now() + 15_000;
    let exists = true;
    while (exists && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2_500));
      exists = await queueExists(`${source}.g`);
    }
    expect(exists).toBe(false);
    const admin = await amqp.connect(BROKER);
    await (await admin.createChannel()).deleteExchange(source);
    await admin.close();
  }, 30_000);
});
