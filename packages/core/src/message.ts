import { decodeText } from './body.js';
import { InvalidArgumentError } from './errors.js';
import { type Arrival, HELD_AT, HELD_IN } from './handed-out.js';
import type { Delivery } from './message-types.js';
import { anchorShape } from './shape-anchor.js';

/** How a consumer settles a message; implemented by Consumer. */
export interface Settler {
  ack(message: Message): Promise<void>;
  nack(message: Message, delayMs: number | undefined): Promise<void>;
  extend(message: Message, ms: number): Promise<void>;
  deadLetter(message: Message, reason: string): Promise<void>;
}

const NO_KEYS: readonly string[] = Object.freeze([]);

export type MessageState = 'pending' | 'acked' | 'nacked' | 'dead-lettered';

/**
 * Message.publishedAt's Date, made on first read and kept here rather than in a field of every
 * message: most handlers never ask, and a message is made per delivery.
 */
const publishedDates = new WeakMap<Message, Date>();

/**
 * A received message. Settling is idempotent: the first of ack / nack / deadLetter wins, and
 * every later call returns the first call's promise (a harmless no-op, never an exception).
 */
export class Message {
  /** 1 on the first delivery. */
  readonly deliveryAttempt: number;
  /** @internal */
  readonly delivery: Delivery;
  readonly #settler: Settler;
  #state: MessageState = 'pending';
  #settled: Promise<void> | undefined;
  /** @internal Where its consumer holds it, while it does (handed-out.ts). */
  [HELD_IN]: Arrival | undefined = undefined;
  /** @internal */
  [HELD_AT] = 0;

  // The message's fields are read through from the delivery rather than copied: a message is made
  // for every delivery, and half its size was copies.
  constructor(delivery: Delivery, deliveryAttempt: number, settler: Settler) {
    this.delivery = delivery;
    this.#settler = settler;
    this.deliveryAttempt = deliveryAttempt;
  }

  get id(): string {
    return this.delivery.id;
  }

  get body(): Uint8Array {
    return this.delivery.body;
  }

  get contentType(): string | undefined {
    return this.delivery.contentType;
  }

  get headers(): Readonly<Record<string, string>> {
    return this.delivery.headers;
  }

  get key(): string | undefined {
    return this.delivery.key;
  }

  /** Every key of the message (RocketMQ carries several), `key` first; [] when it has none. */
  get keys(): readonly string[] {
    const { keys, key } = this.delivery;
    return keys ?? (key === undefined ? NO_KEYS : [key]);
  }

  get tags(): readonly string[] {
    return this.delivery.tags;
  }

  get routingKey(): string | undefined {
    return this.delivery.routingKey;
  }

  get orderingKey(): string | undefined {
    return this.delivery.orderingKey;
  }

  /** When the producer sent it, where the broker says. Made on first read: most handlers never ask. */
  get publishedAt(): Date | undefined {
    const at = this.delivery.publishedAt;
    if (at === undefined) return undefined;
    let date = publishedDates.get(this);
    if (date === undefined) {
      date = new Date(at);
      publishedDates.set(this, date);
    }
    return date;
  }

  get state(): MessageState {
    return this.#state;
  }

  text(): string {
    // A text wire's string is the body's decoding as it stands, unless it starts with a BOM
    // (decoding drops it) or holds a lone surrogate (encoding replaces it).
    const text = this.delivery.text;
    if (text !== undefined && text.charCodeAt(0) !== 0xfeff && text.isWellFormed()) return text;
    return decodeText(this.body);
  }

  json<T = unknown>(): T {
    try {
      return JSON.parse(this.text()) as T;
    } catch (cause) {
      throw new InvalidArgumentError(`message ${this.id} body is not JSON: ${(cause as Error).message}`, {
        cause,
      });
    }
  }

  /** The native message (amqplib ConsumeMessage, CMQ JSON item, RocketMQ MessageView, ...). */
  unwrap<T = unknown>(): T {
    return this.delivery.native as T;
  }

  ack(): Promise<void> {
    return Message.#settle(this, 'acked', undefined);
  }

  /** Gives the message back for redelivery, after `delayMs` where the broker (or emulation) can. */
  nack(options: { delayMs?: number } = {}): Promise<void> {
    const { delayMs } = options;
    if (delayMs !== undefined && (!Number.isInteger(delayMs) || delayMs < 0)) {
      return Promise.reject(
        new InvalidArgumentError(`nack delayMs must be a whole number of ms ≥ 0, got ${delayMs}`),
      );
    }
    return Message.#settle(this, 'nacked', delayMs);
  }

  /** Keeps the message invisible to other consumers for `ms` more. A no-op once settled. */
  extend(ms: number): Promise<void> {
    if (!Number.isInteger(ms) || ms <= 0) {
      return Promise.reject(
        new InvalidArgumentError(`extend ms must be a whole number of ms > 0, got ${ms}`),
      );
    }
    if (this.#state !== 'pending') return Promise.resolve();
    try {
      return this.#settler.extend(this, ms);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Moves the message to the consumer's dead-letter destination, recording `reason`. */
  deadLetter(reason: string): Promise<void> {
    return Message.#settle(this, 'dead-lettered', reason);
  }

  /**
   * `arg`: the nack's delay or the dead-letter reason (no closure per settlement: acks are the hot
   * path). Static: a private instance method gives every instance a brand field (8 bytes per message).
   */
  static #settle(
    message: Message,
    state: Exclude<MessageState, 'pending'>,
    arg: number | string | undefined,
  ): Promise<void> {
    if (message.#settled !== undefined) return message.#settled;
    // Settlers throw synchronously when the request itself is invalid (an unsupported nack delay,
    // no dead-letter destination): the message then stays pending and can still be settled.
    let promise: Promise<void>;
    try {
      const settler = message.#settler;
      if (state === 'acked') promise = settler.ack(message);
      else if (state === 'nacked') promise = settler.nack(message, arg as number | undefined);
      else promise = settler.deadLetter(message, arg as string);
    } catch (error) {
      return Promise.reject(error);
    }
    message.#state = state;
    message.#settled = promise;
    return promise;
  }
}

// A message kept for good, never handed out, so the class's hidden class outlives the bursts that
// use it: when none was alive at a mark-compact, every consumer's path compiled again (shape-anchor.ts).
anchorShape(new Message({} as Delivery, 1, {} as Settler));
