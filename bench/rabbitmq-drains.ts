// The two consume sides the RabbitMQ profiles drain with: the expert raw amqplib consumer and
// Switchyard's run(), shared by bench/profile-rabbitmq-consume.ts (real broker) and
// bench/profile-rabbitmq-inproc.ts (in-process stand-in).

import type { Consumer } from '@switchyard/core';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { readFramesWhole } from '../packages/rabbitmq/src/frame-reader.js';

/**
 * The expert raw consumer: prefetch `prefetch`, one `multiple` ack per prefetch / 2 deliveries,
 * until `n` arrived; opens and closes its own connection. `wholeFrames`: read frames through the
 * rabbitmq driver's frame reader instead of amqplib's.
 */
export async function drainRawExpert(
  url: string,
  queue: string,
  n: number,
  prefetch: number,
  wholeFrames = false,
): Promise<void> {
  const connection = await amqp.connect(url, { noDelay: true });
  if (wholeFrames) readFramesWhole((connection as unknown as { connection: unknown }).connection);
  const channel = await connection.createChannel();
  await channel.prefetch(prefetch);
  let seen = 0;
  let unacked = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (m) => {
      if (m === null) return;
      seen++;
      if (++unacked >= prefetch / 2 || seen === n) {
        channel.ack(m, true);
        unacked = 0;
      }
      if (seen === n) resolve();
    });
  });
  await channel.close();
  await connection.close();
}

/** run() with a handler that counts, as the bench's Switchyard side consumes, until `n` were handled. */
export async function runUntil(consumer: Consumer, n: number): Promise<void> {
  const stop = new AbortController();
  let seen = 0;
  await consumer.run(
    () => {
      if (++seen === n) stop.abort();
    },
    { signal: stop.signal },
  );
}

/** The profiles' queue: a durable topic exchange `name` and its classic queue `${name}.bench` bound to '#'. */
export interface BenchQueue {
  readonly admin: ChannelModel;
  /** The confirm channel that declared them; raw fills publish on it. */
  readonly setup: ConfirmChannel;
  readonly queue: string;
  /** Deletes the queue and the exchange and closes the admin connection. */
  drop(): Promise<void>;
}

export async function benchQueue(url: string, name: string): Promise<BenchQueue> {
  const admin = await amqp.connect(url, { noDelay: true });
  const setup = await admin.createConfirmChannel();
  const queue = `${name}.bench`;
  await setup.assertExchange(name, 'topic', { durable: true });
  await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await setup.bindQueue(queue, name, '#');
  return {
    admin,
    setup,
    queue,
    async drop() {
      await setup.deleteQueue(queue);
      await setup.deleteExchange(name);
      await admin.close();
    },
  };
}

/** Publishes `n` persistent copies of `body` to exchange `name` with raw amqplib, confirmed per 1,000. */
export async function fillRaw(setup: ConfirmChannel, name: string, body: Buffer, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1_000) {
    for (let k = i; k < Math.min(n, i + 1_000); k++)
      setup.publish(name, '', body, {
        persistent: true,
        messageId: `r-${k}`,
        contentType: 'application/octet-stream',
      });
    await setup.waitForConfirms();
  }
}
