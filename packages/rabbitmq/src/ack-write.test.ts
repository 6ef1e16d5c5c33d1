// writeSoon on the real broker (127.0.0.1:5672): a multiple-ack handed over in the check phase (where
// core's AckBatcher calls ack()) reaches the socket in that loop iteration, not after the next one's
// socket reads (amqplib's muxer flushes at a setImmediate, which Node runs an iteration later when it
// is queued from inside the check phase).

import type { Socket } from 'node:net';
import type { Delivery } from '@switchyard/core/driver';
import type { Channel } from 'amqplib';
import { expect, it } from 'vitest';
import { consumerOptions, driverFixture } from '../test-kit/driver-fixture.js';

const PREFETCH = 200;

it('writes a multiple-ack made in the check phase before an immediate queued after it runs', async () => {
  const { name, setup, instance, close } = await driverFixture('ack-write');
  let queue: string | undefined;
  try {
    const consumer = await instance.openConsumer(name, consumerOptions(PREFETCH));
    queue = (consumer as unknown as { queue: string }).queue;
    // Half the prefetch: the count at which the driver's multiple-ack goes out at once.
    const count = PREFETCH / 2;
    for (let i = 0; i < count; i++) setup.publish(name, 'k', Buffer.from(`m-${i}`));
    await setup.waitForConfirms();
    const batch: Delivery[] = [];
    while (batch.length < count) batch.push(...(await consumer.receiveBatch(count - batch.length, 5_000)));

    const channel = consumer.native as Channel;
    const socket = (channel as unknown as { connection: { stream: Socket } }).connection.stream;
    let writes = 0;
    const write = socket.write;
    socket.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
      writes++;
      return write.apply(this, args);
    } as Socket['write'];
    const seen = await new Promise<number>((resolve) => {
      setImmediate(() => {
        void consumer.ack(batch);
        setImmediate(() => resolve(writes));
      });
    });
    socket.write = write;
    // Without writeSoon the muxer's own immediate, queued after this one, writes it: 0 here.
    expect(seen).toBeGreaterThan(0);
    await consumer.close();
    // All acked: nothing comes back to the queue.
    const { messageCount } = await setup.checkQueue(queue);
    expect(messageCount).toBe(0);
  } finally {
    await close([queue]);
  }
});
