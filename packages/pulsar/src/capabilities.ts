// What native Pulsar can do depends on the subscription type the consumers use, because the broker
// treats the types differently: only the multi-consumer dispatchers (Shared, Key_Shared) hold
// delayed messages and count redeliveries (so only they can dead-letter by count), and only
// Key_Shared, Failover and Exclusive keep one key's messages on one consumer, in order.

import { type Capabilities, defineCapabilities } from '@switchyard/core/driver';
import { DEFAULT_MAX_MESSAGE_BYTES } from './config.js';
import type { SubscriptionType } from './native-api.js';

/**
 * TDMQ Pulsar accepts delays of up to 10 days; a stock broker has no limit unless
 * `delayedDeliveryMaxDelayInMillis` is set. Nack delays are held in memory by the portable layer.
 */
export const MAX_DELAY_MS = 10 * 24 * 3_600_000;
/** Messages per driver send call when batching is off (sent concurrently on one producer). */
export const UNBATCHED_MAX_BATCH = 100;

export interface CapabilityOptions {
  readonly subscriptionType?: SubscriptionType;
  readonly batching?: boolean;
  readonly batchingMaxMessages?: number;
  readonly maxMessageBytes?: number;
}

export function isMultiConsumer(type: SubscriptionType): boolean {
  return type === 'Shared' || type === 'KeyShared';
}

export function pulsarCapabilities(options: CapabilityOptions = {}): Readonly<Capabilities> {
  const type = options.subscriptionType ?? 'Shared';
  const batching = options.batching ?? true;
  const multi = isMultiConsumer(type);
  return defineCapabilities({
    headers: 'native', // message properties
    binaryBodies: 'native',
    // deliverAfter: Exclusive and Failover subscriptions get delayed messages at once.
    delayedSend: multi ? 'native' : false,
    maxDelayMs: MAX_DELAY_MS,
    nack: 'native', // negativeAcknowledge, redelivered after nackRedeliveryMs
    // The client's redelivery delay is one value per consumer (nAckRedeliverTimeoutMs), not per
    // nack, so a per-message delay is held by the portable layer and then nacked.
    nackDelay: 'emulated',
    extend: false, // no per-message ack deadline to push
    visibilityTimeout: true, // ackTimeoutMs (at least 10 s)
    // deadLetterPolicy: the client moves a message to the dead-letter topic by its redelivery
    // count, which the broker keeps for Shared and Key_Shared only.
    deadLetter: multi ? 'native' : 'emulated',
    deliveryAttempt: multi ? 'native' : 'process', // getRedeliveryCount() + 1, else per MessageId
    orderingKeys: type !== 'Shared',
    tagFilter: false,
    routingKeyFilter: false,
    maxTagsPerMessage: 0,
    maxKeysPerMessage: 1, // the partition key
    batchSend: batching,
    maxBatchSize: batching ? (options.batchingMaxMessages ?? 1_000) : UNBATCHED_MAX_BATCH,
    maxBatchBytes: Number.POSITIVE_INFINITY, // handed to the client one by one; it cuts its own batches
    fanOut: true, // one subscription per group
    startFrom: true, // subscriptionInitialPosition for a new subscription
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });
}
