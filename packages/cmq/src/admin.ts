// Management for the CLI through the Cloud API 3.0 calls the driver already makes: queues and
// topics by name (DescribeCmqQueues / DescribeCmqTopics), a queue's counts
// (DescribeCmqQueueDetail: ActiveMsgNum ready, InactiveMsgNum in flight) and ClearCmqQueue.
// `source` + `group` name the queue a consumer reads: the queue itself (queue model) or the
// group's subscription queue on the topic (topic model).

import type { DriverAdmin } from '@switchyard/core/driver';
import type { CmqConfig } from './config.js';
import type { CmqManagement } from './management.js';
import { groupQueueName } from './names.js';

export function cmqAdmin(management: CmqManagement, config: CmqConfig): DriverAdmin {
  const queueOf = (source: string, group: string | undefined) =>
    config.model === 'queue' ? source : groupQueueName(source, group ?? 'default');
  return {
    unsupportedReason:
      'CMQ has no action that reads a message without receiving it (ReceiveMessage starts its visibility timeout and counts a dequeue)',
    async list() {
      const [queues, topics] = await Promise.all([
        management.listNames('queue'),
        management.listNames('topic'),
      ]);
      return [
        ...queues.map((name) => ({ name, kind: 'queue' as const })),
        ...topics.map((name) => ({ name, kind: 'topic' as const })),
      ];
    },
    async stats(source, group) {
      const queue = queueOf(source, group);
      const detail = (await management.describeQueue(queue)) as
        | { ActiveMsgNum?: number; InactiveMsgNum?: number }
        | undefined;
      return {
        name: queue,
        ...(typeof detail?.ActiveMsgNum === 'number' ? { ready: detail.ActiveMsgNum } : {}),
        ...(typeof detail?.InactiveMsgNum === 'number' ? { inFlight: detail.InactiveMsgNum } : {}),
      };
    },
    async purge(source, group) {
      await management.clearQueue(queueOf(source, group));
      return undefined; // ClearCmqQueue does not say how many
    },
  };
}
