// The two consume sides the RabbitMQ profiles drain with: the expert raw amqplib consumer and
// Switchyard's run(), shared by bench/profile-rabbitmq-consume.ts (real broker) and
// bench/profile-rabbitmq-inproc.ts (in-process stand-in).

import type { Consumer } from '@switchyard/core';
import amqp from 'amqplib';
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
