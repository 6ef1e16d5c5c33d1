import { type Capabilities, defineCapabilities } from '@switchyard/core/driver';
import type { RabbitConfig } from './config.js';
import { maxDelayMs } from './delay.js';

const DEFAULT_LEVELS = 30;

/**
 * What one driver instance can do; it depends on the config (queue type, exchange type, whether
 * the account may declare), so it is computed per instance and frozen.
 */
export function rabbitCapabilities(
  config: Pick<RabbitConfig, 'queueType' | 'exchangeType' | 'topology' | 'delayLevels' | 'maxMessageBytes'>,
): Readonly<Capabilities> {
  const quorum = config.queueType === 'quorum';
  // Delay queues and their bindings must be declared: an account that may only check topology
  // cannot have them, so delayed sends are refused and nack delays are held by the portable layer.
  const canDelay = config.topology === 'declare';
  return defineCapabilities({
    headers: 'native',
    binaryBodies: 'native',
    delayedSend: canDelay ? 'native' : false,
    maxDelayMs: canDelay ? maxDelayMs(config.delayLevels) : 7 * 24 * 3_600_000,
    nack: 'native', // basic.nack with requeue
    nackDelay: canDelay ? 'native' : 'emulated',
    // Ack deadlines are leases the driver keeps per delivery (RabbitMQ 3.x has no per-consumer
    // ack timeout): on expiry the driver requeues the delivery; extend() pushes the lease out.
    extend: true,
    visibilityTimeout: true,
    // Quorum queues count deliveries (x-delivery-count) and dead-letter at x-delivery-limit;
    // classic queues only flag `redelivered`, so the count travels with the message (a redelivered
    // message is republished with it) and the portable layer dead-letters.
    deadLetter: quorum ? 'native' : 'emulated',
    deliveryAttempt: quorum ? 'native' : 'carried',
    // Requeued and competing deliveries break per-key order on a shared queue.
    orderingKeys: false,
    tagFilter: false,
    // Topic exchanges match `*` and `#`; direct ones match exactly (patterns are refused at
    // consumer open); fanout ignores routing keys.
    routingKeyFilter: config.exchangeType !== 'fanout',
    maxTagsPerMessage: 0,
    maxKeysPerMessage: 1, // the x-switchyard-key header
    batchSend: true,
    // Large enough that the Producer's default 4 batches in flight keep ~50k publishes unconfirmed,
    // so a large send is pipelined on the confirm channel much like a raw amqplib loop.
    maxBatchSize: 12_500,
    maxBatchBytes: Number.POSITIVE_INFINITY, // publishes are pipelined frames, not one request
    fanOut: true,
    startFrom: false,
    maxMessageBytes: config.maxMessageBytes,
    // Direct reply-to (amq.rabbitmq.reply-to): reply_to and correlation_id are AMQP properties.
    requestReply: 'native',
  });
}

/** The default configuration's capabilities (topic exchange, classic queues, declaring account). */
export const rabbitmqCapabilities: Readonly<Capabilities> = rabbitCapabilities({
  queueType: 'classic',
  exchangeType: 'topic',
  topology: 'declare',
  delayLevels: DEFAULT_LEVELS,
  maxMessageBytes: 16 * 1024 * 1024,
});

/** Quorum queues: broker-counted attempts and native dead-lettering. */
export const rabbitmqQuorumCapabilities: Readonly<Capabilities> = rabbitCapabilities({
  queueType: 'quorum',
  exchangeType: 'topic',
  topology: 'declare',
  delayLevels: DEFAULT_LEVELS,
  maxMessageBytes: 16 * 1024 * 1024,
});
