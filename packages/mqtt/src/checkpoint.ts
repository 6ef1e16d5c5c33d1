import { CopyNacks, type Delivery, type DriverConsumer, type Logger } from '@switchyard/core/driver';

// An MQTT broker resends an unacknowledged QoS 1 message only when a session resumes, marked DUP
// (MQTT 5 §4.3.2; Mosquitto 2.0 sets it for members of shared subscriptions too), and the message
// carries no count of its own. A DUP this process never handed out was given to an earlier
// connection of the session that ended without acknowledging it: a consumer killed or crashed, or
// one that kept its session at close. Handed out as it is, it would count as a first delivery
// after every restart, and a message that crashes its consumer would loop forever. So, as RabbitMQ
// classic queues do with `redelivered`, it is checkpointed instead: a copy carrying its count + 1
// (x-switchyard-attempts) goes to its topic for the group, the original is acknowledged, and the
// copy is handed out when it arrives; the portable layer dead-letters it, before any handler, once
// the count passes maxDeliveries. Core's CopyNacks keeps the order (the copy confirmed, then the
// ack) and one copy per delivery.

export interface CheckpointOptions {
  readonly logger: Logger;
  /** Hands a delivery out counted here when no copy could carry its count. */
  readonly handOut: (delivery: Delivery) => void;
}

export class Checkpoints {
  readonly #copies: CopyNacks;
  readonly #options: CheckpointOptions;
  /** Checkpoints under way, by packet id (close hands none of them back a second time). */
  readonly #pending = new Map<number, Promise<void>>();

  constructor(consumer: DriverConsumer, options: CheckpointOptions) {
    this.#options = options;
    this.#copies = new CopyNacks(consumer, {
      transport: (operation) => operation(),
      ack: (delivery) => consumer.ack([delivery]),
      fellBack: () => {}, // no nack step: a failed copy is handled below
    });
  }

  /** Replaces a resent delivery by a copy that says it was delivered once more. */
  checkpoint(messageId: number, delivery: Delivery): void {
    // The driver's deliveries always carry a count: the copy says this one was delivered too.
    const attempts = delivery.deliveryAttempt ?? 1;
    const work = this.#copies
      .give(delivery, attempts)
      .catch((error: unknown) => {
        // No copy (no permission to publish on the topic, a broker refusing it): the delivery is
        // handed out with its count + 1, which then lasts only as long as this process.
        this.#options.logger.warn(
          { topic: (delivery.native as { topic?: string }).topic, error: String(error) },
          'mqtt: could not republish a resent message with its attempt count; handing it out counted in this process only',
        );
        this.#options.handOut({ ...delivery, deliveryAttempt: attempts + 1 });
      })
      .finally(() => this.#pending.delete(messageId));
    this.#pending.set(messageId, work);
  }

  has(messageId: number): boolean {
    return this.#pending.has(messageId);
  }

  /** Every checkpoint under way, settled or failed. */
  async idle(): Promise<void> {
    await Promise.all(this.#pending.values());
  }
}
