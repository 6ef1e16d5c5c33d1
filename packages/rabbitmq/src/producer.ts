import {
  anchorShape,
  type DriverCloseOptions,
  type DriverProducer,
  type DriverReplyInbox,
  isAborted,
  type Outgoing,
  type Receipt,
  UnavailableError,
} from '@switchyard/core/driver';
import type { ConfirmChannel } from 'amqplib';
import { deadlineReached, untilAborted } from './deadline.js';
import { type DelayTarget, delayRoute, unroutableHeader } from './delay.js';
import { closedError, DRIVER } from './errors.js';
import { publishOptions } from './properties.js';
import type { ConfirmSink, Publisher, PublishItem } from './publisher.js';
import type { Shared } from './shared.js';
import { checkName } from './topology.js';

/** Sends to one exchange (with each message's routing key) or one queue (default exchange). */
export class RabbitProducer implements DriverProducer {
  readonly #shared: Shared;
  readonly #target: DelayTarget;
  readonly #publisher: Publisher;
  #closed = false;

  constructor(shared: Shared, target: DelayTarget, publisher: Publisher) {
    this.#shared = shared;
    this.#target = target;
    this.#publisher = publisher;
  }

  get native(): ConfirmChannel | undefined {
    return this.#publisher.channel;
  }

  /**
   * `signal` (the send's deadline, or the portable producer closing) ends every wait: for the
   * connection, the delay topology, an unblock, and the confirms; what is open then fails.
   * `confirmed` hears of each message the moment the broker confirms it (and, for a mandatory
   * one, did not return it), so its send resolves then and the portable producer refills its
   * window, as a windowed raw publisher does, instead of waiting for the batch's last confirm.
   */
  sendBatch(
    messages: readonly Outgoing[],
    signal?: AbortSignal,
    confirmed?: (index: number, receipt: Receipt) => void,
  ): Promise<Array<Receipt | Error>> {
    return this.#send(messages, this.#publisher, signal, confirmed);
  }

  /** Requests go out on the reply inbox's channel: direct reply-to only takes them from there. */
  sendRequests(
    messages: readonly Outgoing[],
    inbox: DriverReplyInbox,
    signal?: AbortSignal,
  ): Promise<Array<Receipt | Error>> {
    return this.#send(messages, (inbox as unknown as { readonly publisher: Publisher }).publisher, signal);
  }

  async #send(
    messages: readonly Outgoing[],
    publisher: Publisher,
    signal: AbortSignal | undefined,
    confirmed?: (index: number, receipt: Receipt) => void,
  ): Promise<Array<Receipt | Error>> {
    if (this.#closed) throw closedError('rabbitmq producer');
    const { config } = this.#shared;
    const deadline = Date.now() + config.unavailableTimeoutMs;
    if (messages.some((m) => m.delayMs !== undefined)) {
      await untilAborted(this.#shared.ensureDelay(this.#target, deadline), signal).catch((error: unknown) => {
        throw signal?.aborted ? abortedBeforeSend(signal) : error;
      });
    }
    const mandatory = config.unroutable !== 'drop';
    // AMQP short strings are bytes: a key or header name core accepts by its length in characters
    // can still be too long on the wire, which amqplib would only report as an encoding failure.
    // Most messages have neither a routing key nor headers: nothing to check, no arrays to build.
    let refused: Array<Error | undefined> | undefined;
    for (let i = 0; i < messages.length; i++) {
      const error = wireNameError(messages[i]!);
      if (error === undefined) continue;
      refused ??= new Array(messages.length);
      refused[i] = error;
    }
    // Where each item came from in `messages`; only built when some were refused.
    const positions = refused === undefined ? undefined : sendablePositions(refused);
    const sendable = positions === undefined ? messages : positions.map((i) => messages[i]!);
    const target = this.#target;
    const queue = 'queue' in target ? target.queue : undefined;
    const exchange = 'exchange' in target ? target.exchange : '';
    // Loops, not map callbacks: a closure made per batch loses its optimized code at every
    // mark-compact that finds none alive (publisher.ts, PendingConfirms), and is compiled again.
    const items = new Array<PublishItem>(sendable.length);
    for (let k = 0; k < sendable.length; k++) {
      const m = sendable[k]!;
      const options = publishOptions(m, config.persistent, mandatory);
      const routingKey = queue ?? m.routingKey ?? '';
      if (m.delayMs === undefined) {
        items[k] = { exchange, routingKey, content: toBuffer(m.body), options };
        continue;
      }
      const route = delayRoute(
        config.delayPrefix,
        m.delayMs,
        config.delayLevels,
        this.#target,
        config.delayQueueType,
      );
      options.headers = { ...options.headers, ...route.headers, ...unroutableHeader(config.unroutable) };
      // Level queues always take the message; whether the target has a queue is only known later.
      options.mandatory = false;
      items[k] = { exchange: route.exchange, routingKey, content: toBuffer(m.body), options };
    }
    // Receipts handed out at their confirm are the ones returned at the end.
    const early = confirmed === undefined ? undefined : new EarlyReceipts(messages, positions, confirmed);
    const results = items.length === 0 ? [] : await publisher.publish(items, deadline, signal, early);
    if (isAborted(signal) && !deadlineReached(signal!))
      this.#reportUnconfirmed(results.filter((r) => r !== true).length);
    const out = new Array<Receipt | Error>(messages.length);
    let next = 0;
    for (let i = 0; i < messages.length; i++) {
      const error = refused?.[i];
      if (error !== undefined) {
        out[i] = error;
        continue;
      }
      const r = results[next++]!;
      out[i] = r === true ? (early?.receipts[i] ?? { messageId: messages[i]!.id }) : r;
    }
    return out;
  }

  async close(options?: DriverCloseOptions): Promise<void> {
    this.#closed = true;
    this.#reportUnconfirmed(await this.#publisher.close(options?.deadline));
  }

  #reportUnconfirmed(unconfirmed: number): void {
    if (unconfirmed === 0) return;
    this.#shared.logger.warn(
      { unconfirmed },
      'rabbitmq producer closing: sends the broker had not confirmed were rejected (they may or may not have been stored)',
    );
  }
}

/** Nothing of the batch was written: its deadline passed, or the producer closes, first. */
function abortedBeforeSend(signal: AbortSignal): Error {
  return deadlineReached(signal)
    ? new UnavailableError(
        'rabbitmq producer: not sent: the send reached its deadline while the delay topology was being declared',
        { driver: DRIVER },
      )
    : closedError('rabbitmq producer');
}

function sendablePositions(refused: ReadonlyArray<Error | undefined>): number[] {
  const positions: number[] = [];
  for (let i = 0; i < refused.length; i++) if (refused[i] === undefined) positions.push(i);
  return positions;
}

function toBuffer(body: Uint8Array): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The message's routing key or a header name that does not fit an AMQP short string, as an error. */
function wireNameError(message: Outgoing): Error | undefined {
  if (message.routingKey === undefined && !hasKeys(message.headers)) return undefined;
  try {
    if (message.routingKey !== undefined) checkName('routing key', message.routingKey, 'routingKey');
    for (const name of Object.keys(message.headers)) checkName('header name', name, 'headers');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

function hasKeys(record: Readonly<Record<string, unknown>>): boolean {
  for (const _ in record) return true;
  return false;
}

/**
 * Answers core the moment a message is confirmed (before its batch ends), with the receipt the
 * batch then returns for it. A per-batch object rather than a closure (see the loops in #send).
 */
export class EarlyReceipts implements ConfirmSink {
  readonly receipts: Array<Receipt | undefined>;
  readonly #messages: readonly Outgoing[];
  /** Where each published item came from in `messages`; undefined when none was refused. */
  readonly #positions: readonly number[] | undefined;
  readonly #confirmed: (index: number, receipt: Receipt) => void;

  constructor(
    messages: readonly Outgoing[],
    positions: readonly number[] | undefined,
    confirmed: (index: number, receipt: Receipt) => void,
  ) {
    this.receipts = new Array<Receipt | undefined>(messages.length);
    this.#messages = messages;
    this.#positions = positions;
    this.#confirmed = confirmed;
  }

  confirmed(k: number): void {
    const i = this.#positions === undefined ? k : this.#positions[k]!;
    const receipt: Receipt = { messageId: this.#messages[i]!.id };
    this.receipts[i] = receipt;
    this.#confirmed(i, receipt);
  }
}

// One kept for good (no messages), as PendingConfirms in publisher.ts: its map outlives the bursts.
anchorShape(new EarlyReceipts([], undefined, () => {}));
