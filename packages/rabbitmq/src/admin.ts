// Management over plain AMQP (no management plugin needed): a passive queue declare reports a
// queue's ready messages and consumers, and queue.purge empties it. AMQP has no way to list
// queues or exchanges, so `list` is absent (the management HTTP API would be another protocol).

import type { DriverAdmin } from '@switchyard/core/driver';
import type { RabbitConfig } from './config.js';
import { queueName, type Scratch } from './topology.js';

/** `source` + `group` name the queue openConsumer reads: the group's queue on the exchange. */
export function rabbitAdmin(scratch: Scratch, config: RabbitConfig): DriverAdmin {
  const queueOf = (source: string, group: string | undefined) =>
    queueName(config.queueName, source, group ?? 'default');
  return {
    unsupportedReason:
      'AMQP 0-9-1 cannot list queues, and has no read that leaves a message as it was: basic.get with a requeue marks it redelivered and may reorder the queue',
    async stats(source, group) {
      const queue = queueOf(source, group);
      const ok = await scratch(`check queue "${queue}"`, (ch) => ch.checkQueue(queue));
      return { name: queue, ready: ok.messageCount, consumers: ok.consumerCount };
    },
    async purge(source, group) {
      const queue = queueOf(source, group);
      const ok = await scratch(`purge queue "${queue}"`, (ch) => ch.purgeQueue(queue));
      return ok.messageCount;
    },
  };
}
