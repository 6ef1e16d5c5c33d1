import { sleep } from './backoff.js';
import type {
  DriverCloseOptions,
  DriverConsumer,
  DriverConsumerOptions,
  DriverReplyInbox,
} from './driver.js';
import type { Logger } from './logger.js';
import type { Delivery } from './message-types.js';

export interface PolledReplyInboxOptions {
  /** The private destination's name: what requests carry as their reply address. */
  readonly address: string;
  /** A consumer of that destination, opened by the driver as for any source. */
  readonly consumer: DriverConsumer;
  readonly onReply: (delivery: Delivery) => void;
  /** Deletes the private destination; called once, on close, after the consumer closed. */
  readonly remove: () => Promise<void>;
  readonly logger: Logger;
  /** Long-poll wait per receive (default 1 s: close waits at most this long for the last poll). */
  readonly pollWaitMs?: number;
}

/**
 * How a driver opens the consumer of its private reply destination: no filter, no lease, no
 * dead-letter (a reply that fails is dropped, not retried), a small prefetch. `startFrom` is
 * 'earliest' where the flavour has it, since the destination is new and private: everything in it
 * is a reply to this process.
 */
export function replyConsumerOptions(
  group: string,
  startFrom: DriverConsumerOptions['startFrom'] = 'earliest',
): DriverConsumerOptions {
  return {
    group,
    filter: {},
    prefetch: 32,
    visibilityTimeoutMs: undefined,
    startFrom,
    deadLetter: undefined,
    driverOptions: {},
  };
}

/**
 * An emulated reply inbox: a private destination a driver created for this process, drained by a
 * receive loop that acks each reply before handing it on (a reply is taken at most once; one
 * nobody waits for is dropped by the portable layer). For flavours without reply addresses of their
 * own (CMQ, Pulsar over HTTP, RocketMQ, memory): the driver creates and deletes, this polls.
 */
export class PolledReplyInbox implements DriverReplyInbox {
  readonly address: string;
  readonly #options: PolledReplyInboxOptions;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  #closing: Promise<void> | undefined;

  constructor(options: PolledReplyInboxOptions) {
    this.address = options.address;
    this.#options = options;
    this.#loop = this.#poll();
  }

  get native(): unknown {
    return this.#options.consumer.native;
  }

  close(options?: DriverCloseOptions): Promise<void> {
    this.#closing ??= (async () => {
      this.#stop.abort();
      await this.#loop;
      const { consumer, remove, logger } = this.#options;
      await consumer
        .close(options)
        .catch((error: unknown) => logger.warn({ error }, 'reply inbox: close failed'));
      await remove().catch((error: unknown) =>
        logger.warn({ error, address: this.address }, 'reply inbox: could not delete its destination'),
      );
    })();
    return this.#closing;
  }

  async #poll(): Promise<void> {
    const { consumer, onReply, logger } = this.#options;
    const wait = this.#options.pollWaitMs ?? 1_000;
    const signal = this.#stop.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const deliveries = await consumer.receiveBatch(32, wait, signal);
        if (deliveries.length > 0) {
          // Acked first: a reply handed on is done with, whatever its waiter does with it.
          await consumer.ack(deliveries);
          for (const delivery of deliveries) onReply(delivery);
        }
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        failures++;
        logger.warn({ error, address: this.address }, 'reply inbox: receive failed; trying again');
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)), signal).catch(() => {});
      }
    }
  }
}
