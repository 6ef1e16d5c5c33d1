// Moving a message to its consumer's dead-letter destination: natively where the driver can
// (DriverConsumer.deadLetter), otherwise as a copy sent through a producer on the same broker
// followed by an ack of the original. A move that fails gives the message back, so it is not lost.

import type { AckBatcher } from './ack-batcher.js';
import type { Capabilities } from './capabilities.js';
import { DEAD_LETTER_LEASE_MS } from './consumer-settings.js';
import { deadLetterCopy } from './dead-letter.js';
import type { DriverConsumer } from './driver.js';
import { toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Producer } from './producer.js';
import type { Redelivery } from './redelivery.js';
import type { ConsumerTelemetry } from './telemetry/telemetry.js';

export interface DeadLetterMoveOptions {
  readonly driver: DriverConsumer;
  readonly driverName: string;
  readonly capabilities: Capabilities;
  readonly source: string;
  readonly group: string;
  readonly acks: AckBatcher;
  readonly redelivery: Redelivery;
  readonly logger: Logger;
  readonly telemetry: ConsumerTelemetry | undefined;
  /** Opens (once, lazily) a producer on the same broker for emulated dead-lettering. */
  openProducer(destination: string): Promise<Producer>;
}

export class DeadLetterMove {
  readonly #o: DeadLetterMoveOptions;
  #producer: Promise<Producer> | undefined;

  constructor(options: DeadLetterMoveOptions) {
    this.#o = options;
  }

  /** Moves `message` to `destination`; on failure gives it back and rejects with a typed error. */
  async move(message: Message, reason: string, destination: string): Promise<void> {
    const { driver, capabilities, telemetry } = this.#o;
    try {
      // Moving a message is two broker calls (copy, then ack). If its lease ran out in between,
      // the ack would come too late, the message would return and be dead-lettered again: keep
      // it invisible for the move first, where the broker can.
      if (capabilities.extend && driver.extend !== undefined) {
        await driver.extend(message.delivery, DEAD_LETTER_LEASE_MS).catch(() => {});
      }
      if (driver.deadLetter !== undefined) {
        await this.#o.redelivery.transport(() => driver.deadLetter!([message.delivery], reason, destination));
      } else {
        this.#producer ??= this.#o.openProducer(destination);
        const producer = await this.#producer;
        const copy = deadLetterCopy(message, reason, this.#o.source, this.#o.group, capabilities);
        // Traced: the copy's send span continues the message's trace.
        await (telemetry === undefined
          ? producer.send(copy)
          : telemetry.inContext(message, () => producer.send(copy)));
        await this.#o.acks.add(message.delivery);
      }
      telemetry?.settled(message, 'dead-lettered');
      this.#o.logger.warn(
        { source: this.#o.source, id: message.id, destination, reason },
        'message dead-lettered',
      );
    } catch (error) {
      telemetry?.settled(message, 'released');
      telemetry?.error('dead-letter', error);
      // Not moved: give it back so it is not lost, and report why.
      await this.#o.redelivery.redeliver(message.delivery, message.deliveryAttempt).catch(() => {});
      throw toSwitchyardError(error, this.#o.driverName);
    }
  }

  /** Closes the dead-letter producer, if one was opened, within what `left()` says is left. */
  async close(left: () => number): Promise<void> {
    if (this.#producer !== undefined)
      await (await this.#producer.catch(() => undefined))?.close({ timeoutMs: left() });
  }
}
