// A pulled message as the portable layer sees it, and its settling state, in one object (the
// delivery is its own handle), as the RabbitMQ driver's AmqpDelivery is. A 256 B receive made
// four objects per message here — the Delivery literal of 16 fields, its handle, a Uint8Array
// view of the body and the attemptKey string — and walked every message's properties for
// headers, though the portable layer and most handlers read none of them
// (docs/bench-profiles.md §23.4, §26.4). Now one object of ten fields: what the consumer's
// settling and ordering need (queue, address, attempt, ordering key, settled, lease) is kept,
// the rest is read from the stored message when first asked for.

import { anchorShape, type Delivery, impliedContentType } from '@switchyard/core/driver';
import { MessageConst, type StoredMessage } from '@switchyard/rocketmq-remoting';
import { CONTENT_TYPE_PROPERTY } from '../messages.js';

/** Shared by every delivery without keys, a tag or headers (frozen: the portable layer only reads them). */
const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** What a delivery reads from its properties, parsed on first read of any of them. */
interface Parsed {
  readonly headers: Readonly<Record<string, string>>;
  readonly keys: readonly string[];
  readonly tags: readonly string[];
}

export class RemotingDelivery implements Delivery {
  readonly native: StoredMessage;
  /** Key of the queue it was pulled from (see queueKey). */
  readonly queue: string;
  /** Broker master address it came from: send-back goes there. */
  readonly address: string;
  /** The broker counts: reconsumeTimes is 0 on the first delivery and grows with each send-back. */
  readonly deliveryAttempt: number;
  /** Read by the consumer's KeyHold at admission and at every settle, so kept rather than looked up. */
  readonly orderingKey: string | undefined;
  /** Acked, sent back or dead-lettered: settling it again does nothing. */
  settled = false;
  /** The consumer's visibility lease, kept here rather than in a Map entry per delivery (core's Leases). */
  lease: object | undefined = undefined;
  /** False for a broadcasting member: no attemptKey. */
  readonly #shared: boolean;
  /** Undefined until the body is first read (or inflated up front: a compressed message). */
  #body: Uint8Array | undefined;
  #parsed: Parsed | undefined = undefined;

  /**
   * `shared`: the group shares the message (clustering), so its stored position is the key an
   * attemptStore counts; broadcasting members each get every message and count apart (no key).
   * `body`: the body already inflated (a compressed message), else read from `message` when asked.
   */
  constructor(
    message: StoredMessage,
    queue: string,
    address: string,
    shared: boolean,
    deliveryAttempt = message.reconsumeTimes + 1,
    body?: Uint8Array,
  ) {
    this.native = message;
    this.queue = queue;
    this.address = address;
    this.deliveryAttempt = deliveryAttempt;
    this.orderingKey = message.properties[MessageConst.SHARDING_KEY] || undefined;
    this.#shared = shared;
    this.#body = body;
  }

  get id(): string {
    return this.native.properties[MessageConst.UNIQ_KEY] ?? this.native.msgId ?? '';
  }

  get body(): Uint8Array {
    if (this.#body !== undefined) return this.#body;
    const raw = this.native.body;
    // A plain Uint8Array, as every driver gives the portable layer, over the stored bytes.
    const view = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    this.#body = view;
    return view;
  }

  get contentType(): string {
    return this.native.properties[CONTENT_TYPE_PROPERTY] ?? impliedContentType(this.body);
  }

  get headers(): Readonly<Record<string, string>> {
    return RemotingDelivery.#parse(this).headers;
  }

  get key(): string | undefined {
    return RemotingDelivery.#parse(this).keys[0];
  }

  get keys(): readonly string[] {
    return RemotingDelivery.#parse(this).keys;
  }

  get tags(): readonly string[] {
    return RemotingDelivery.#parse(this).tags;
  }

  get routingKey(): undefined {
    return undefined;
  }

  /**
   * Where the message is stored (topic@broker@queue and offset): a process killed in its handler
   * sends nothing back, so only a consumer's attemptStore, counting handouts of this position,
   * sees those crashes; a send-back stores a new position, carrying reconsumeTimes.
   */
  get attemptKey(): string | undefined {
    return this.#shared ? `${this.queue}/${this.native.queueOffset}` : undefined;
  }

  get publishedAt(): number {
    return this.native.bornTimestamp;
  }

  /** The delivery is its own settle handle. */
  get handle(): this {
    return this;
  }

  get message(): StoredMessage {
    return this.native;
  }

  /** A broadcasting member's own redelivery: a new delivery (settled apart), one attempt more. */
  again(): RemotingDelivery {
    return new RemotingDelivery(
      this.native,
      this.queue,
      this.address,
      this.#shared,
      this.deliveryAttempt + 1,
      this.#body,
    );
  }

  // Static: a private instance method gives every instance a brand field (8 B per delivery).
  static #parse(delivery: RemotingDelivery): Parsed {
    delivery.#parsed ??= parse(delivery.native.properties);
    return delivery.#parsed;
  }
}

// A delivery kept for good, so the class's hidden class outlives the pulls that use it: when none
// was alive at a mark-compact, the whole receive path compiled again (core's shape-anchor.ts).
anchorShape(
  new RemotingDelivery({ properties: {}, reconsumeTimes: 0 } as unknown as StoredMessage, '', '', false),
);

/** Properties the protocol or a broker owns: never user headers, in either direction. */
export const SYSTEM_PROPERTIES: ReadonlySet<string> = new Set<string>([
  ...Object.values(MessageConst),
  'TIMER_DELIVER_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELAY_MS',
  'TIMER_OUT_MS',
  'TIMER_ENQUEUE_MS',
  'TIMER_DEQUEUE_MS',
  'TIMER_ROLL_TIMES',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'REPLY_TO_CLIENT',
  'CORRELATION_ID',
  'MSG_TYPE',
  'BORNHOST',
  '__BORNHOST',
  'DELIVERY_ATTEMPT',
]);

function parse(p: Record<string, string>): Parsed {
  // for…in over the decoded object (a plain literal): no entries array and no pair per property;
  // a message without user properties shares one empty object.
  let headers: Record<string, string> | undefined;
  for (const name in p) {
    // The content type first: a property name compared by reference, before a Set lookup.
    if (name === CONTENT_TYPE_PROPERTY || SYSTEM_PROPERTIES.has(name)) continue;
    headers ??= {};
    headers[name] = p[name] as string;
  }
  const keyList = p[MessageConst.KEYS];
  const tag = p[MessageConst.TAGS];
  return {
    headers: headers ?? NO_HEADERS,
    keys: keyList === undefined ? NO_STRINGS : keyList.split(' ').filter((k) => k !== ''),
    tags: tag ? [tag] : NO_STRINGS,
  };
}
