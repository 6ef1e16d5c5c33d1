// The consumer-lag gauge's source on RabbitMQ: the group queue's ready-message count, read by a
// passive check on a short-lived channel (a missing queue must not kill the consuming channel).

import { silentLogger } from '@switchyard/core';
import { driver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { describe, expect, it } from 'vitest';

const BROKER = 'amqp://guest:guest@127.0.0.1:5672';

describe('rabbitmq consumer backlog', () => {
  it('counts the ready messages of the group queue', async () => {
    const instance = await driver.create(driver.fromUrl(new URL(BROKER)), {
      logger: silentLogger,
      status: () => {},
    });
    const source = `backlog-${process.pid}-${Date.now()}`;
    const consumer = await instance.openConsumer(source, {
      group: 'g',
      filter: {},
      prefetch: 1,
      visibilityTimeoutMs: undefined,
      startFrom: undefined,
      deadLetter: undefined,
      driverOptions: {},
    });
    const admin = await amqp.connect(BROKER);
    const channel = await admin.createConfirmChannel();
    for (const body of ['a', 'b', 'c', 'd']) channel.publish(source, '', Buffer.from(body));
    await channel.waitForConfirms();
    // One delivery sits unacked under prefetch 1; the other three are ready.
    const deadline = Date.now() + 5_000;
    let backlog = await consumer.backlog?.();
    while (backlog !== 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      backlog = await consumer.backlog?.();
    }
    expect(backlog).toBe(3);
    await consumer.close();
    expect(await consumer.backlog?.()).toBeUndefined();
    await channel.deleteQueue(`${source}.g`);
    await channel.deleteExchange(source);
    await admin.close();
    await instance.close();
  });
});
