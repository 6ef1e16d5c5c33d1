// One rocketmq-client Producer per portable producer. It is created with its topic declared, so
// startup fetches the route (a missing topic is NOT_FOUND at open) and waits for the server's
// publishing settings (max body size, message-type validation) before the first send.

import { ClosedError, type DriverProducer, type Outgoing, type Receipt } from '@switchyard/core/driver';
import { Producer } from 'rocketmq-client-nodejs';
import type { ClientFactory } from './client-options.js';
import type { TopicType } from './config.js';
import { DRIVER, mapError } from './errors.js';
import { shutdownQuietly, startWithin } from './lifecycle.js';
import { toMessageOptions } from './messages.js';

export async function openRocketProducer(
  topic: string,
  clients: ClientFactory,
  topicType: TopicType,
): Promise<DriverProducer> {
  // The client's own send retries (immediate, up to 3) would hide failures from the portable
  // layer, which owns retries with backoff: one attempt per send here.
  const producer = new Producer({ ...clients.base(), topics: [topic], maxAttempts: 1 });
  await startWithin(producer, clients.startupTimeoutMs, `producer for "${topic}"`);
  let closed = false;

  const sendOne = async (message: Outgoing): Promise<Receipt | Error> => {
    try {
      const receipt = await clients.retryRefused(() =>
        producer.send(toMessageOptions(topic, message, topicType)),
      );
      return { messageId: receipt.messageId };
    } catch (error) {
      return mapError(error, `send to "${topic}"`);
    }
  };

  return {
    native: producer,
    async sendBatch(messages) {
      if (closed) throw new ClosedError('rocketmq producer is closed', { driver: DRIVER });
      // SendMessage carries one message per call in this client: a batch is sent concurrently,
      // each message confirmed on its own, and a failure is reported in its slot.
      const results = await Promise.all(messages.map(sendOne));
      const errors = results.filter((r): r is Error => r instanceof Error);
      // All failed for the same reason (missing topic, bad credentials): one rejection says so.
      if (errors.length === results.length && errors.length > 0) throw errors[0];
      return results;
    },
    async close() {
      if (closed) return;
      closed = true;
      await shutdownQuietly(producer);
    },
  };
}
