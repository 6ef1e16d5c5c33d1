// What this driver can do, decided by the configured topic type: RocketMQ 5 topics have one
// message type, and the server refuses a message of another type (40014). A DELAY topic takes
// delivery timestamps, a FIFO topic message groups; MIXED (4.x-created topics, the emulator's
// auto-created ones) takes both, but ordering is only kept by FIFO consumer groups, which belong
// with FIFO topics, so only `FIFO` declares ordering keys.

import { type Capabilities, defineCapabilities } from '@switchyard/core/driver';
import type { TopicType } from './config.js';

/** The proxy refuses invisible durations over 12 h; CID carries nack delays and extends. */
export const MAX_INVISIBLE_MS = 12 * 3_600_000;
/** SendMessage carries one message; a batch becomes this many concurrent sends at most. */
export const MAX_BATCH = 32;

export function rocketmqCapabilities(
  options: { topicType?: TopicType; maxMessageBytes?: number; replyTopics?: unknown } = {},
): Readonly<Capabilities> {
  const type = options.topicType ?? 'MIXED';
  return defineCapabilities({
    headers: 'native', // user properties
    binaryBodies: 'native',
    delayedSend: type === 'DELAY' || type === 'MIXED' ? 'native' : false,
    // Delivery timestamps go to 24 h ahead, but a nack delay is an invisible duration (≤ 12 h).
    maxDelayMs: MAX_INVISIBLE_MS,
    nack: 'native', // ChangeInvisibleDuration(0)
    nackDelay: 'native', // ChangeInvisibleDuration(delay)
    extend: true, // ChangeInvisibleDuration(ms)
    visibilityTimeout: true, // receive(invisibleDuration)
    // The broker's own dead-lettering goes to %DLQ%<group> after the GROUP's server-side max
    // attempts, which a client can neither set nor name; the portable maxDeliveries/deadLetter
    // (to a named destination, with reason headers) is therefore done by the portable layer.
    deadLetter: 'emulated',
    deliveryAttempt: 'native', // system_properties.delivery_attempt
    orderingKeys: type === 'FIFO',
    tagFilter: true,
    routingKeyFilter: false,
    maxTagsPerMessage: 1,
    maxKeysPerMessage: 32, // KEYS, every one indexed
    batchSend: false,
    maxBatchSize: MAX_BATCH,
    maxBatchBytes: Number.POSITIVE_INFINITY, // one message per SendMessage
    fanOut: true, // every consumer group gets every message
    startFrom: false, // a group's start offset is server configuration
    maxMessageBytes: options.maxMessageBytes ?? 4_128_768,
    // A private reply topic per process, made and removed by the configured replyTopics hooks
    // (the data plane cannot create topics); reply-to and correlation-id are user properties.
    requestReply: options.replyTopics === undefined ? false : 'emulated',
  });
}

/** Remoting batches: the Java client's default batch cap is 4 MiB; the portable measure leaves room for headers. */
export const REMOTING_MAX_BATCH_BYTES = 3 * 1024 * 1024;

/**
 * The Remoting (4.x) transport. The broker counts deliveries (reconsumeTimes) and moves a message
 * to %DLQ%<group> after maxReconsumeTimes send-backs. That is the only destination it has, so
 * dead-lettering is 'native' only when the config asks for it (`deadLetter: 'native'`): a
 * consumer's maxDeliveries then becomes its send-backs' maxReconsumeTimes (maxDeliveries − 1) and
 * its dead-letter destination must be %DLQ%<group>. Otherwise ('emulated', the default) the
 * portable layer copies the message, with reason headers, to whatever destination the user named.
 * Nack delays are delay levels (the next one at or above the wish), visibility is a lease the
 * driver keeps (an expired one is sent back like a nack), and ordering keys pick one queue per key.
 */
export function remotingCapabilities(
  options: { maxMessageBytes?: number; deadLetter?: 'native' | 'emulated'; replyTopics?: unknown } = {},
): Readonly<Capabilities> {
  return defineCapabilities({
    headers: 'native',
    binaryBodies: 'native',
    delayedSend: 'native',
    // Level 18 is two hours. TDMQ's __STARTDELIVERTIME would go to 40 days on send, but a nack
    // delay is always a level, and one limit covers both.
    maxDelayMs: 7_200_000,
    nack: 'native', // CONSUMER_SEND_MSG_BACK
    nackDelay: 'native', // its delay level
    extend: true,
    visibilityTimeout: true,
    deadLetter: options.deadLetter ?? 'emulated',
    // reconsumeTimes + 1; a process killed in its handler sends nothing back and is not counted:
    // only a consumer's attemptStore bounds a crash loop (Delivery.attemptKey, the stored position).
    deliveryAttempt: 'native',
    orderingKeys: true,
    tagFilter: true,
    routingKeyFilter: false,
    maxTagsPerMessage: 1,
    maxKeysPerMessage: 32,
    batchSend: true, // SEND_BATCH_MESSAGE
    maxBatchSize: MAX_BATCH,
    maxBatchBytes: REMOTING_MAX_BATCH_BYTES,
    fanOut: true,
    startFrom: true, // consumeFromWhere for a group with no committed offset
    maxMessageBytes: options.maxMessageBytes ?? 4_194_304,
    // As over gRPC: a private reply topic per process through the replyTopics hooks.
    requestReply: options.replyTopics === undefined ? false : 'emulated',
  });
}
