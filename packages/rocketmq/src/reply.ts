// Request-reply on RocketMQ 5 (gRPC): the protocol has no reply addresses a client can make, and
// the data plane cannot create topics or groups, so the driver asks the configured replyTopics
// hooks for a private reply topic and group per process (created on the first request, deleted on
// close) and drains it with a SimpleConsumer; requests carry its wire name in their `reply-to`
// user property, and responders send to it as to any topic.

import { randomBytes } from 'node:crypto';
import {
  type Delivery,
  type DriverConsumer,
  type DriverReplyInbox,
  type Logger,
  PolledReplyInbox,
} from '@switchyard/core/driver';
import type { ReplyTopics, RocketMqConfig } from './config.js';
import { mapError } from './errors.js';
import { qualify } from './naming.js';

export async function openRocketReplyInbox(
  config: RocketMqConfig,
  hooks: ReplyTopics,
  consume: (topic: string, group: string) => Promise<DriverConsumer>,
  onReply: (delivery: Delivery) => void,
  logger: Logger,
): Promise<DriverReplyInbox> {
  const name = `sy-reply-${randomBytes(12).toString('hex')}`;
  // The hooks get full names, whatever the naming form: they identify topic and group on the server.
  const full = qualify(name, { ...config, naming: 'full' });
  try {
    await hooks.create(full, full);
  } catch (error) {
    throw mapError(error, `replyTopics.create("${full}")`);
  }
  let consumer: DriverConsumer;
  try {
    consumer = await consume(name, name);
  } catch (error) {
    await Promise.resolve(hooks.delete(full, full)).catch(() => {});
    throw error;
  }
  return new PolledReplyInbox({
    address: qualify(name, config),
    consumer,
    onReply,
    remove: async () => {
      await hooks.delete(full, full);
    },
    logger,
    pollWaitMs: Math.min(config.longPollMs, 1_000),
  });
}
