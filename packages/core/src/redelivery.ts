// How a consumer gives messages back to the broker: by the driver's nack, by its release for
// messages no handler saw, by copy where the broker cannot nack (or not with a delay), and after a
// delay the broker cannot wait itself. Which of these applies follows from the capabilities; the
// consumer only says what happened to the message.

import type { AckBatcher } from './ack-batcher.js';
import { type BackoffPolicy, retry } from './backoff.js';
import type { Capabilities } from './capabilities.js';
import { DELAYED_NACK_MARGIN_MS } from './consumer-settings.js';
import { CopyNacks } from './copy-nack.js';
import type { DriverConsumer } from './driver.js';
import { toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Message } from './message.js';
import type { Delivery } from './message-types.js';

export interface RedeliveryOptions {
  readonly driver: DriverConsumer;
  readonly driverName: string;
  readonly capabilities: Capabilities;
  readonly source: string;
  readonly transportRetry: BackoffPolicy;
  readonly acks: AckBatcher;
  readonly logger: Logger;
  /** A message that waited for a delayed nack has gone back (or failed to): it no longer counts. */
  delayedSent(message: Message): void;
  /** Reports a settle call that failed; the broker will redeliver the message. */
  settleFailed(what: string, error: unknown): void;
}

export class Redelivery {
  readonly #o: RedeliveryOptions;
  /** Nacks by copy, where the driver copies (requeueCopy): its broker cannot nack, or not with a delay. */
  readonly #copies: CopyNacks | undefined;
  /** Nacks with a delay the broker cannot do itself, waiting to be sent. */
  readonly #delayed = new Map<Message, NodeJS.Timeout>();

  constructor(options: RedeliveryOptions) {
    this.#o = options;
    const { driver, capabilities, logger } = options;
    this.#copies =
      driver.requeueCopy === undefined
        ? undefined
        : new CopyNacks(driver, {
            transport: (operation) => this.transport(operation),
            ack: (delivery) => options.acks.add(delivery),
            ...(capabilities.nack === 'native'
              ? { nack: (delivery) => this.transport(() => driver.nack([delivery])) }
              : {}),
            fellBack: (_, error) =>
              logger.warn(
                { source: options.source, error: (error as Error).message },
                'nack by copy failed; the message was nacked without its delay',
              ),
          });
  }

  /** Runs a driver call with the retry of retryable transport errors; failures come out typed. */
  transport<T>(operation: () => Promise<T>): Promise<T> {
    return retry(operation, this.#o.transportRetry).catch((error: unknown) => {
      throw toSwitchyardError(error, this.#o.driverName);
    });
  }

  /**
   * Gives a delivery back for redelivery (after `delayMs`): by the driver's nack, or by copy where
   * that nack cannot do it (nack 'emulated', or a delay on a driver that copies delayed nacks).
   * Without nack the broker redelivers once the visibility timeout expires (capability "nack").
   */
  redeliver(delivery: Delivery, attempts: number, delayMs?: number): Promise<void> {
    const { nack } = this.#o.capabilities;
    const delayed = delayMs !== undefined && delayMs > 0;
    if (this.#copies !== undefined && (nack === 'emulated' || delayed))
      return this.#copies.give(delivery, attempts, delayMs);
    if (nack === false) return Promise.resolve();
    return this.transport(() => this.#o.driver.nack([delivery], delayMs));
  }

  /**
   * Gives a message back to the broker: one no handler saw (`unseen`) through the driver's release
   * where it has one, so it is not counted as a delivery attempt; others by nack. Never rejects.
   */
  async giveBack(message: Message, unseen: boolean): Promise<void> {
    const { nack } = this.#o.capabilities;
    if (nack === false) return;
    const { driver } = this.#o;
    const { delivery } = message;
    let back: Promise<void>;
    if (nack === 'emulated' && this.#copies !== undefined) {
      // A copy of a message no handler saw carries one attempt less: this delivery does not count.
      back = this.#copies.give(delivery, unseen ? message.deliveryAttempt - 1 : message.deliveryAttempt);
    } else if (unseen && driver.release !== undefined) back = driver.release([delivery]);
    else back = driver.nack([delivery]);
    await back.catch((e: unknown) => this.#o.settleFailed('nack', e));
  }

  /**
   * Holds `message` for `delayMs`, then gives it back. Meanwhile it stays invisible to other
   * consumers where the broker can extend its lease, so it is not redelivered early.
   */
  delay(message: Message, delayMs: number): Promise<void> {
    const { driver, capabilities } = this.#o;
    const extended =
      capabilities.extend && driver.extend !== undefined
        ? driver.extend(message.delivery, delayMs + DELAYED_NACK_MARGIN_MS).catch(() => {})
        : Promise.resolve();
    const timer = setTimeout(() => void this.sendDelayed(message), delayMs);
    this.#delayed.set(message, timer);
    return extended;
  }

  /** Sends a delayed nack now (its timer fired, or the consumer is closing). */
  async sendDelayed(message: Message): Promise<void> {
    const timer = this.#delayed.get(message);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#delayed.delete(message);
    try {
      await this.redeliver(message.delivery, message.deliveryAttempt);
    } catch (error) {
      this.#o.settleFailed('nack', error);
    } finally {
      this.#o.delayedSent(message);
    }
  }

  /** Sends every delayed nack still waiting, at once. */
  sendAllDelayed(): Promise<void>[] {
    return [...this.#delayed.keys()].map((message) => this.sendDelayed(message));
  }

  /** Resolves once every copy under way is acked or failed, or after `ms`. */
  async idle(ms: number): Promise<void> {
    await this.#copies?.idle(ms);
  }
}
