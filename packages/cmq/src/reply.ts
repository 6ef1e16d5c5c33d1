// Request-reply on CMQ: CMQ has no reply addresses of its own, so each process gets a private reply
// queue (created through the Cloud API, deleted on close) whose name requests carry in their
// envelope's `reply-to` header; responders send to it as to any queue.

import { randomBytes } from 'node:crypto';
import {
  type Delivery,
  type DriverReplyInbox,
  type Logger,
  PolledReplyInbox,
  type ProbeDetails,
} from '@switchyard/core/driver';
import type { CmqConfig } from './config.js';
import type { CmqHttpClient } from './http-client.js';
import type { CmqManagement } from './management.js';
import { QueueConsumer } from './queue-model.js';

/** Letters first, then letters, digits and `-` (CMQ names); unique per process and inbox. */
function replyQueueName(): string {
  return `sy-reply-${randomBytes(12).toString('hex')}`;
}

export async function openCmqReplyInbox(
  http: CmqHttpClient,
  management: CmqManagement,
  config: CmqConfig,
  onReply: (delivery: Delivery) => void,
  logger: Logger,
): Promise<DriverReplyInbox> {
  const queue = replyQueueName();
  await management.ensureQueue(queue, {
    visibilityTimeoutSeconds: Math.ceil(config.visibilityTimeoutMs / 1000),
    maxMsgSize: config.maxMessageBytes,
  });
  const consumer = new QueueConsumer(http, queue, {
    bodyMode: config.bodyMode,
    nackMode: config.nackMode,
    maxMessageBytes: config.maxMessageBytes,
  });
  return new PolledReplyInbox({
    address: queue,
    consumer,
    onReply,
    remove: () => management.deleteQueue(queue),
    logger,
    // CMQ long polls are whole seconds; a short one keeps close() prompt.
    pollWaitMs: 1_000,
  });
}

/** A data-plane round trip (ListQueue, one entry): the endpoint answers and takes the signature. */
export async function probeCmq(http: CmqHttpClient, signal: AbortSignal): Promise<ProbeDetails> {
  await http.call('ListQueue', { limit: 1 }, { signal, idempotent: true });
  return { endpoint: 'answered' };
}
