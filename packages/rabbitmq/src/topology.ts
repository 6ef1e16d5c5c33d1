import { type DriverFilter, UnsupportedError } from '@switchyard/core';
import type { Channel } from 'amqplib';
import type { RabbitConfig } from './config.js';
import { DRIVER } from './errors.js';

// The portable model on AMQP: a destination is an exchange (producers publish to it with the
// message's routing key); a consumer group is a queue bound to that exchange with the group's
// routing-key filter. So groups fan out (one queue each) and consumers of one group compete (one
// queue, several consumers). A producer may also target a queue directly (default exchange).

type TopologyConfig = Pick<
  RabbitConfig,
  'exchangeType' | 'queueType' | 'topology' | 'queueName' | 'queueExpiresMs' | 'persistent'
>;

export interface ConsumerTopology {
  readonly exchange: string;
  readonly queue: string;
  /** Binding keys; empty when the queue is consumed as is (no binding). */
  readonly bindingKeys: readonly string[];
  readonly deadLetter: { readonly maxDeliveries: number; readonly exchange: string } | undefined;
}

export function queueName(template: string, source: string, group: string): string {
  return template.replaceAll('{source}', source).replaceAll('{group}', group);
}

/** Binding keys for a consumer: its routing-key filter, or "everything" for the exchange type. */
export function bindingKeys(exchangeType: RabbitConfig['exchangeType'], filter: DriverFilter): string[] {
  const keys = filter.routingKeys ?? [];
  if (keys.length === 0) return [exchangeType === 'topic' ? '#' : ''];
  if (exchangeType === 'fanout') return [''];
  if (exchangeType === 'direct') {
    const pattern = keys.find((k) => k.includes('*') || k.includes('#'));
    if (pattern !== undefined) {
      throw new UnsupportedError(
        `routing-key pattern "${pattern}" needs a topic exchange; the rabbitmq driver is configured with direct exchanges, which match keys exactly`,
        { driver: DRIVER, details: { feature: 'routingKeyFilter' } },
      );
    }
  }
  return [...new Set(keys)];
}

export function queueArguments(
  config: TopologyConfig,
  deadLetter: ConsumerTopology['deadLetter'],
): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': config.queueType };
  if (config.queueExpiresMs !== undefined) args['x-expires'] = config.queueExpiresMs;
  if (deadLetter !== undefined) {
    args['x-dead-letter-exchange'] = deadLetter.exchange;
    // The broker dead-letters once a message has been returned more than the limit: the
    // maxDeliveries-th delivery is the last one.
    args['x-delivery-limit'] = deadLetter.maxDeliveries - 1;
  }
  return args;
}

/** Declares (or, for an account that may not, checks) the exchange of a destination. */
export async function prepareExchange(
  channel: Channel,
  config: TopologyConfig,
  exchange: string,
): Promise<void> {
  if (config.topology === 'declare')
    await channel.assertExchange(exchange, config.exchangeType, { durable: true });
  else await channel.checkExchange(exchange);
}

export async function prepareQueue(channel: Channel, config: TopologyConfig, queue: string): Promise<void> {
  if (config.topology === 'declare')
    await channel.assertQueue(queue, { durable: true, arguments: queueArguments(config, undefined) });
  else await channel.checkQueue(queue);
}

/** Exchange, dead-letter exchange, queue and bindings of a consumer group. */
export async function prepareConsumer(
  channel: Channel,
  config: TopologyConfig,
  t: ConsumerTopology,
): Promise<void> {
  if (config.topology === 'declare') {
    if (t.bindingKeys.length > 0)
      await channel.assertExchange(t.exchange, config.exchangeType, { durable: true });
    if (t.deadLetter !== undefined)
      await channel.assertExchange(t.deadLetter.exchange, config.exchangeType, { durable: true });
    await channel.assertQueue(t.queue, { durable: true, arguments: queueArguments(config, t.deadLetter) });
  } else {
    if (t.bindingKeys.length > 0) await channel.checkExchange(t.exchange);
    await channel.checkQueue(t.queue);
  }
  // Binding needs no configure permission, so it is done in both modes (and is idempotent).
  for (const key of t.bindingKeys) await channel.bindQueue(t.queue, t.exchange, key);
}
