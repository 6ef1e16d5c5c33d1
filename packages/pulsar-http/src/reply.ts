// Request-reply on TDMQ Pulsar over HTTP: the API has no reply addresses, so each process gets a
// private reply topic (created through the management API, deleted on close) with one
// subscription; requests carry its full `cluster/namespace/topic` path in their envelope's
// `reply-to` header, so a responder configured for another namespace still finds it.

import { randomBytes } from 'node:crypto';
import {
  type Delivery,
  type DriverConsumer,
  type DriverReplyInbox,
  type Logger,
  PolledReplyInbox,
  type ProbeDetails,
} from '@switchyard/core/driver';
import type { Api } from './client.js';
import type { TopicName } from './naming.js';

export const REPLY_SUBSCRIPTION = 'switchyard-reply';

export interface ReplyInboxParts {
  readonly api: Api;
  readonly qualify: (name: string) => TopicName;
  /** Creates the topic and the subscription (Topology.ensureSubscription). */
  readonly ensure: (topic: TopicName) => Promise<void>;
  /** Opens a consumer of the reply topic's subscription, as for any source. */
  readonly consume: (path: string) => Promise<DriverConsumer>;
  readonly logger: Logger;
}

export async function openPulsarHttpReplyInbox(
  parts: ReplyInboxParts,
  onReply: (delivery: Delivery) => void,
): Promise<DriverReplyInbox> {
  const topic = parts.qualify(`sy-reply-${randomBytes(12).toString('hex')}`);
  await parts.ensure(topic);
  const consumer = await parts.consume(topic.path);
  return new PolledReplyInbox({
    address: topic.path,
    consumer,
    onReply,
    remove: async () => {
      await parts.api.call('DeleteTopics', {
        ClusterId: topic.clusterId,
        EnvironmentId: topic.environmentId,
        TopicSets: [{ EnvironmentId: topic.environmentId, TopicName: topic.topicName }],
        Force: true,
      });
    },
    logger: parts.logger,
  });
}

/** One cheap API round trip (DescribeClusters, one entry): the endpoint answers and takes the signature. */
export async function probePulsarHttp(api: Api, signal: AbortSignal): Promise<ProbeDetails> {
  await api.direct('DescribeClusters', { Limit: 1 }, signal);
  return { api: 'answered' };
}
