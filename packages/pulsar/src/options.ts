// Portable options → pulsar-client configuration objects. Pure functions, so the whole mapping
// (names, subscription type, initial position, ack timeout, dead-letter policy, batching) is
// unit-tested without the native client.

import {
  type DriverConsumerOptions,
  InvalidArgumentError,
  parseWithSchema,
  UnsupportedError,
} from '@switchyard/core/driver';
import { z } from 'zod';
import { isMultiConsumer } from './capabilities.js';
import { type PulsarConfig, SUBSCRIPTION_TYPES } from './config.js';
import { DRIVER } from './errors.js';
import { qualifyTopic } from './naming.js';
import type {
  ClientConfig,
  ConsumerConfig,
  ProducerConfig,
  PulsarModule,
  SubscriptionType,
} from './native-api.js';

/** The client refuses ack timeouts under 10 s (other than 0, off). */
export const MIN_ACK_TIMEOUT_MS = 10_000;

export function clientConfig(config: PulsarConfig, pulsar: PulsarModule): ClientConfig {
  const out: ClientConfig = {
    serviceUrl: config.serviceUrl,
    operationTimeoutSeconds: config.operationTimeoutSeconds,
    connectionTimeoutMs: config.connectionTimeoutMs,
  };
  // The token is handed to the native side only; the JS authentication object does not keep it.
  if (config.token !== undefined)
    out.authentication = new pulsar.AuthenticationToken({ token: config.token.reveal() });
  if (config.tlsTrustCertsFilePath !== undefined) out.tlsTrustCertsFilePath = config.tlsTrustCertsFilePath;
  if (config.tlsValidateHostname !== undefined) out.tlsValidateHostname = config.tlsValidateHostname;
  if (config.tlsAllowInsecureConnection !== undefined)
    out.tlsAllowInsecureConnection = config.tlsAllowInsecureConnection;
  if (config.listenerName !== undefined) out.listenerName = config.listenerName;
  return out;
}

export function producerConfig(topic: string, config: PulsarConfig): ProducerConfig {
  return {
    topic,
    sendTimeoutMs: config.sendTimeoutMs,
    // Blocking would stall Node's event loop inside send(); a full queue is a retryable error.
    blockIfQueueFull: false,
    maxPendingMessages: config.maxPendingMessages,
    batchingEnabled: config.batching,
    batchingMaxPublishDelayMs: config.batchingMaxPublishDelayMs,
    batchingMaxMessages: config.batchingMaxMessages,
    // Key_Shared dispatches a batch by its first message's key: batch per key so none is misrouted.
    batchingType: config.subscriptionType === 'KeyShared' ? 'KeyBasedBatching' : 'DefaultBatching',
  };
}

const consumerDriverOptions = z.strictObject({
  /** Another subscription type for this consumer, with the same capabilities as the broker's. */
  subscriptionType: z.enum(SUBSCRIPTION_TYPES).optional(),
  consumerName: z.string().min(1).max(256).optional(),
});

/** The subscription type a consumer may use instead of the broker's without breaking its capabilities. */
export function compatibleSubscriptionType(configured: SubscriptionType, wanted: SubscriptionType): boolean {
  if (isMultiConsumer(configured) !== isMultiConsumer(wanted)) return false;
  // A broker that declared ordering keys must keep them; Shared → KeyShared only adds ordering.
  return configured === 'Shared' || wanted !== 'Shared';
}

export function consumerConfig(
  topic: string,
  options: DriverConsumerOptions,
  config: PulsarConfig,
): ConsumerConfig {
  const extra = parseWithSchema(
    consumerDriverOptions,
    options.driverOptions,
    'driverOptions',
    InvalidArgumentError,
  );
  const subscriptionType = extra.subscriptionType ?? config.subscriptionType;
  if (!compatibleSubscriptionType(config.subscriptionType, subscriptionType)) {
    throw new InvalidArgumentError(
      `driverOptions.subscriptionType ${subscriptionType} does not keep the capabilities of this broker's ` +
        `subscriptionType ${config.subscriptionType}; set subscriptionType in the broker config instead`,
      { driver: DRIVER, details: { field: 'driverOptions.subscriptionType' } },
    );
  }
  const out: ConsumerConfig = {
    topic,
    subscription: options.group,
    subscriptionType,
    subscriptionInitialPosition: initialPosition(options.startFrom),
    ackTimeoutMs: ackTimeout(options.visibilityTimeoutMs),
    nAckRedeliverTimeoutMs: config.nackRedeliveryMs,
    receiverQueueSize: Math.max(1, Math.min(options.prefetch, 50_000)),
  };
  if (extra.consumerName !== undefined) out.consumerName = extra.consumerName;
  const deadLetter = options.deadLetter;
  // The client dead-letters a message whose redelivery count has reached maxRedeliverCount when
  // it would be redelivered again: maxDeliveries deliveries means maxDeliveries − 1 redeliveries.
  // 0 switches the policy off, so maxDeliveries 1 is left to the portable layer.
  if (deadLetter !== undefined && deadLetter.maxDeliveries > 1) {
    out.deadLetterPolicy = {
      deadLetterTopic: qualifyTopic(deadLetter.destination, config, 'deadLetter'),
      maxRedeliverCount: deadLetter.maxDeliveries - 1,
    };
  }
  return out;
}

function initialPosition(startFrom: DriverConsumerOptions['startFrom']): 'Earliest' | 'Latest' {
  if (startFrom instanceof Date) {
    throw new UnsupportedError(
      "startFrom with a Date is not supported by the pulsar driver: the client cannot tell a new subscription from an existing one, so it cannot seek only new ones; use 'earliest' or 'latest'",
      { driver: DRIVER, details: { feature: 'startFrom' } },
    );
  }
  // A new subscription starts at the end unless asked otherwise, as Pulsar's own default does.
  return startFrom === 'earliest' ? 'Earliest' : 'Latest';
}

function ackTimeout(visibilityTimeoutMs: number | undefined): number {
  if (visibilityTimeoutMs === undefined) return 0;
  if (visibilityTimeoutMs < MIN_ACK_TIMEOUT_MS) {
    throw new InvalidArgumentError(
      `visibilityTimeoutMs is ${visibilityTimeoutMs}; the pulsar driver's ack timeout is at least ${MIN_ACK_TIMEOUT_MS} ms (a client limit)`,
      { driver: DRIVER, details: { field: 'visibilityTimeoutMs', limit: MIN_ACK_TIMEOUT_MS } },
    );
  }
  return visibilityTimeoutMs;
}
