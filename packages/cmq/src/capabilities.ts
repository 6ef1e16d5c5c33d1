// What the cmq driver does, per model and body mode. Why each value is what it is:
// - headers / binaryBodies: CMQ carries one text body; only the envelope mode adds metadata/bytes.
// - delayedSend native on queues (delaySeconds, whole seconds, rounded up so never early); topics
//   have no delay on publish.
// - extend false: CMQ has no ChangeMessageVisibility.
// - nack: with nackMode 'visibility' (default) false — an un-acked message comes back only when the
//   queue's visibility timeout ends. With nackMode 'requeue' (envelope bodies) 'emulated' and nackDelay
//   native: a copy is re-sent to the consumer's queue with delaySeconds, then the original is
//   deleted. Costs: the copy goes to the back of the queue (reordering), gets a new CMQ msgId
//   (the envelope keeps the Switchyard id and carries the delivery count), and if the delete fails
//   after the copy was sent the original also returns (a duplicate).
// - visibilityTimeout: a queue attribute (whole seconds). The driver sets it only through the
//   management API, so it is available with manageTopology, and applies to the whole queue.
// - deadLetter: native when the driver creates queues with a CMQ dead-letter policy
//   (deadLetter: 'native' + manageTopology), otherwise emulated by the portable layer.
// - deliveryAttempt native: CMQ's dequeueCount.
// - tag and routing-key filters on topics of that filterType; fan-out only in the topic model.

import {
  type BatchLimits,
  type Capabilities,
  defineCapabilities,
  envelopeBodyLimit,
} from '@switchyard/core/driver';

/** Bodies per BatchSendMessage / BatchPublishMessage. */
export const MAX_BATCH_COUNT = 16;
/** Bytes of bodies (as sent, after any envelope) per batch request. */
export const MAX_BATCH_BYTES = 1_048_576;
export const REQUEST_LIMITS: BatchLimits = { maxCount: MAX_BATCH_COUNT, maxBytes: MAX_BATCH_BYTES };

export interface CapabilityInputs {
  readonly model: 'queue' | 'topic';
  readonly topicFilter: 'tag' | 'routing';
  readonly bodyMode: 'raw' | 'envelope';
  readonly manageTopology: boolean;
  readonly deadLetter: 'emulated' | 'native';
  readonly nackMode: 'visibility' | 'requeue';
  /** The queue's or topic's limit (maxMsgSize): what a raw body may be. */
  readonly maxMessageBytes: number;
}

/**
 * The largest body an envelope carries within the queue's limit `limit`, whatever its bytes are:
 * room for the envelope's metadata (id, content type, headers with a dead-letter reason, key, tags)
 * is kept back, 4 KiB or a quarter of a small limit, and the rest holds base64 (46,080 of 65,536).
 */
export function envelopeMessageBytes(limit: number): number {
  return envelopeBodyLimit(limit, Math.min(4_096, limit / 4));
}

/** delaySeconds upper bound (the Go SDK's validation; the server's own limit is undocumented). */
export const MAX_DELAY_SECONDS = 6_048_000;
export const MAX_TAGS = 5;

export function cmqCapabilities(c: CapabilityInputs): Readonly<Capabilities> {
  const envelope = c.bodyMode === 'envelope';
  const topic = c.model === 'topic';
  const requeue = c.nackMode === 'requeue';
  return defineCapabilities({
    headers: envelope ? 'envelope' : 'none',
    binaryBodies: envelope ? 'envelope' : false,
    delayedSend: topic ? false : 'native',
    maxDelayMs: topic && !requeue ? 0 : MAX_DELAY_SECONDS * 1000,
    nack: requeue ? 'emulated' : false,
    nackDelay: requeue ? 'native' : false,
    extend: false,
    visibilityTimeout: c.manageTopology,
    deadLetter: c.deadLetter === 'native' && c.manageTopology ? 'native' : 'emulated',
    deliveryAttempt: 'native',
    orderingKeys: false,
    tagFilter: topic && c.topicFilter === 'tag',
    routingKeyFilter: topic && c.topicFilter === 'routing',
    maxTagsPerMessage: topic && c.topicFilter === 'tag' ? MAX_TAGS : 0,
    maxKeysPerMessage: envelope ? 1 : 0, // the envelope's "k"; a raw body carries none
    batchSend: true,
    maxBatchSize: MAX_BATCH_COUNT,
    // The portable measure of a raw body is its wire size; an envelope is larger, so the driver
    // cuts encoded batches again by the same limits (and by delaySeconds / tags / routing key).
    maxBatchBytes: MAX_BATCH_BYTES,
    fanOut: topic,
    startFrom: false,
    maxMessageBytes: envelope ? envelopeMessageBytes(c.maxMessageBytes) : c.maxMessageBytes,
    // A private reply queue per process, created and deleted through the Cloud API; the reply
    // address and correlation id travel as envelope headers (a raw body has nowhere to carry them).
    requestReply: envelope && c.manageTopology ? 'emulated' : false,
  });
}

/** The default configuration: queue model, raw bodies, no topology management. */
export const defaultCmqCapabilities = cmqCapabilities({
  model: 'queue',
  topicFilter: 'tag',
  bodyMode: 'raw',
  manageTopology: false,
  deadLetter: 'emulated',
  nackMode: 'visibility',
  maxMessageBytes: 65_536,
});
