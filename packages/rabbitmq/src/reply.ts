import type {
  Delivery,
  DriverCloseOptions,
  DriverProducer,
  DriverReplyInbox,
  ProbeDetails,
  SwitchyardError,
} from '@switchyard/core/driver';
import type { Channel, ConfirmChannel } from 'amqplib';
import type { ConnectionManager } from './connection.js';
import { unavailable } from './errors.js';
import { RabbitProducer } from './producer.js';
import { toDelivery } from './properties.js';
import { Publisher, type PublishItem } from './publisher.js';
import type { Shared } from './shared.js';

/**
 * RabbitMQ's direct reply-to pseudo-queue. A request published with reply_to set to it on a channel
 * that consumes it (no-ack) gets a per-channel address the broker fills in; replies sent there go
 * straight to that consumer, with no queue to declare or delete.
 */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * The reply inbox: one confirm channel that consumes direct reply-to and on which every request
 * is published (the broker only accepts reply_to = amq.rabbitmq.reply-to from the channel that
 * consumes it). A new channel after a reconnect consumes again before it publishes; replies to
 * requests sent on the old channel are lost with it, and those requests time out.
 */
export class RabbitReplyInbox implements DriverReplyInbox {
  readonly address = DIRECT_REPLY_TO;
  readonly publisher: Publisher;

  constructor(
    manager: ConnectionManager,
    onReply: (delivery: Delivery) => void,
    onReturned: (item: PublishItem) => SwitchyardError | undefined,
  ) {
    const consume = async (channel: Channel) => {
      await channel.consume(
        DIRECT_REPLY_TO,
        (message) => {
          if (message !== null) onReply(toDelivery(message, undefined, 'native'));
        },
        { noAck: true },
      );
    };
    this.publisher = new Publisher(manager, 'publish a request', consume, onReturned);
  }

  get native(): ConfirmChannel | undefined {
    return this.publisher.channel;
  }

  async open(deadline: number): Promise<void> {
    await this.publisher.open(deadline);
  }

  async close(options?: DriverCloseOptions): Promise<void> {
    await this.publisher.close(options?.deadline);
  }
}

/**
 * A producer to one reply address: a queue (or a direct reply-to address) through the default
 * exchange, on the driver's one reply publisher. Closing it leaves the publisher to the driver.
 * Replies to direct reply-to go without the mandatory flag: RabbitMQ 3.x returns such a publish as
 * unroutable even when it delivers it, so a mandatory reply would fail after it arrived.
 */
export function replyProducer(shared: Shared, publisher: Publisher, address: string): DriverProducer {
  const direct = address.startsWith(`${DIRECT_REPLY_TO}.`);
  const settings: Shared = direct ? { ...shared, config: { ...shared.config, unroutable: 'drop' } } : shared;
  const producer = new RabbitProducer(settings, { queue: address }, publisher);
  return {
    get native() {
      return producer.native;
    },
    sendBatch: (messages, signal) => producer.sendBatch(messages, signal),
    close: async () => {},
  };
}

/**
 * The health probe: a channel opened and closed on the live connection, a round trip the broker
 * must answer. Down at once while reconnecting or blocked by a resource alarm.
 */
export async function probe(manager: ConnectionManager, deadline: number): Promise<ProbeDetails> {
  if (manager.current === undefined) throw unavailable('health probe: the connection is down, reconnecting');
  const blocked = manager.blocked;
  if (blocked !== undefined)
    throw unavailable(`health probe: the broker blocked the connection (${blocked})`);
  await manager.withChannel(deadline, 'health probe', async () => {});
  return { connection: 'open' };
}
