import { randomUUID } from 'node:crypto';
import { anchorShape, type Delivery, type Outgoing } from '@switchyard/core/driver';
import type { Channel, ConsumeMessage, MessageProperties, Options } from 'amqplib';
import type { Handle } from './ack-window.js';
import { isDelayHeader } from './delay.js';

// Switchyard messages are plain AMQP messages: the body is the raw payload, id / content type /
// timestamp / correlation travel in AMQP properties, headers in the headers table. So a plain
// AMQP client reads a Switchyard message as it is, and a plain message is consumed as it is.

/** The portable `key`, in a header because AMQP has no business-key property. */
export const KEY_HEADER = 'x-switchyard-key';
/**
 * Deliveries a message had before this copy was published (a delayed nack, or the checkpoint copy
 * of a redelivered message on a classic queue), so the count travels with the message.
 */
export const ATTEMPTS_HEADER = 'x-switchyard-attempts';
/**
 * Where a republished copy first came from: the copy goes through the default exchange (routing
 * key = queue name), and these keep the routing key the message was sent with.
 */
export const ORIGIN_EXCHANGE_HEADER = 'x-switchyard-exchange';
export const ORIGIN_ROUTING_KEY_HEADER = 'x-switchyard-routing-key';
/** Headers the driver itself writes; consumers see them as fields, never as message headers. */
const DRIVER_HEADERS = new Set([ATTEMPTS_HEADER, ORIGIN_EXCHANGE_HEADER, ORIGIN_ROUTING_KEY_HEADER]);
/** Headers that map to AMQP properties in both directions. */
const PROPERTY_HEADERS = { 'correlation-id': 'correlationId', 'reply-to': 'replyTo' } as const;
/** Broker bookkeeping a republished copy must not carry (dead-letter cycle detection). */
const BROKER_HEADERS = /^x-(death|first-death-|last-death-|delivery-count)/;

/**
 * The headers table of a message with no headers of its own (most): one shared, frozen object.
 * amqplib encodes `Object.create(options.headers)` for every publish, and a fresh object made a
 * prototype costs V8 a map of its own for it each time (≈ 440 B and ≈ 0.5 µs per publish, measured
 * on amqplib's Args.publish + encode); a shared one keeps its prototype map. Same bytes on the wire:
 * an empty table either way.
 */
const NO_PUBLISH_HEADERS: Readonly<Record<string, unknown>> = Object.freeze({});

export function publishOptions(message: Outgoing, persistent: boolean, mandatory: boolean): Options.Publish {
  const options: Options.Publish = {
    messageId: message.id,
    contentType: message.contentType,
    timestamp: Math.floor(message.publishedAt / 1000),
    persistent,
    mandatory,
    headers: NO_PUBLISH_HEADERS,
  };
  // for...in, not Object.entries: most messages have no headers, and this runs per message.
  let headers: Record<string, unknown> | undefined;
  const source = message.headers;
  for (const name in source) {
    const value = source[name];
    const property = PROPERTY_HEADERS[name as keyof typeof PROPERTY_HEADERS];
    if (property !== undefined) options[property] = value;
    else {
      headers ??= {};
      headers[name] = value;
    }
  }
  if (message.key !== undefined) {
    headers ??= {};
    headers[KEY_HEADER] = message.key;
  }
  if (headers !== undefined) options.headers = headers;
  return options;
}

/** Options to republish a received message unchanged but for the given extra headers. */
export function republishOptions(message: ConsumeMessage, extra: Record<string, unknown>): Options.Publish {
  const p = message.properties;
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(p.headers ?? {})) {
    if (!BROKER_HEADERS.test(name) && !isDelayHeader(name)) headers[name] = value;
  }
  const options: Options.Publish = { headers: { ...headers, ...extra }, mandatory: true };
  for (const field of [
    'contentType',
    'contentEncoding',
    'deliveryMode',
    'priority',
    'correlationId',
    'replyTo',
    'messageId',
    'timestamp',
    'type',
    'userId',
    'appId',
  ] as const) {
    const value = p[field];
    if (value !== undefined && value !== null) (options as Record<string, unknown>)[field] = value;
  }
  return options;
}

/**
 * How a delivery's attempt is known: `native`, the broker counts (quorum `x-delivery-count`);
 * `carried`, the count travels in ATTEMPTS_HEADER and a redelivered copy is republished with it
 * before it is handed out (classic queues, see consumer.ts), so a delivery that reaches toDelivery
 * is a first delivery of its copy.
 */
export type AttemptMode = 'native' | 'carried';

/** Deliveries before this copy, as carried in ATTEMPTS_HEADER (0 when absent or not a count). */
export function carriedAttempts(message: ConsumeMessage): number {
  const value = message.properties.headers?.[ATTEMPTS_HEADER];
  if (value === undefined || value === null) return 0;
  const n = Number(headerText(value));
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

const NO_TAGS: readonly string[] = Object.freeze([]);
/**
 * The headers of every delivery that has none of the sender's (most): one frozen object rather than
 * an empty one per delivery.
 */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** What a delivery reads from its AMQP properties and headers, parsed on first read (see AmqpDelivery). */
interface Parsed {
  readonly id: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly routingKey: string | undefined;
}

/**
 * A delivery and its settle handle in one object (`handle` is the delivery itself): which channel
 * it came on, whether it is settled, its carried count. One object per delivery where there were
 * three (handle, Delivery, headers): the consume path's garbage is what V8's GC helper threads pay
 * for per message (docs/bench-profiles.md 19.2). What never varies (tags, ordering key) or is the
 * native message's (body, content type, timestamp) is read through the prototype, and id, headers,
 * key and routing key are parsed from the native properties when first read, into one object: the
 * portable layer and most handlers read none of them, so a delivery is 7 fields (80 B) where it
 * was 12 (120 B), and the per-delivery walk over the headers is gone from the consume path.
 */
export class AmqpDelivery implements Delivery, Handle {
  readonly deliveryAttempt: number;
  readonly native: ConsumeMessage;
  /** The channel it came on; undefined for a reply (no-ack, never settled). */
  readonly channel: Channel | undefined;
  previous: number;
  settled = false;
  acking = false;
  /** Its visibility lease (core's Leases keeps it here, not in a Map entry per delivery). */
  lease: object | undefined = undefined;
  #parsed: Parsed | undefined = undefined;

  /**
   * `previous`: deliveries counted before this one (the carried count, one more for a redelivery
   * its consumer could not checkpoint).
   */
  constructor(message: ConsumeMessage, channel: Channel | undefined, mode: AttemptMode, previous: number) {
    this.deliveryAttempt = previous + (mode === 'native' ? brokerCount(message) : 0) + 1;
    this.native = message;
    this.channel = channel;
    this.previous = previous;
  }

  get id(): string {
    return AmqpDelivery.#parse(this).id;
  }

  get headers(): Readonly<Record<string, string>> {
    return AmqpDelivery.#parse(this).headers;
  }

  get key(): string | undefined {
    return AmqpDelivery.#parse(this).key;
  }

  get routingKey(): string | undefined {
    return AmqpDelivery.#parse(this).routingKey;
  }

  get contentType(): string | undefined {
    const type = this.native.properties.contentType;
    return typeof type === 'string' ? type : undefined;
  }

  get publishedAt(): number | undefined {
    const at = this.native.properties.timestamp;
    return typeof at === 'number' ? at * 1000 : undefined;
  }

  get body(): Uint8Array {
    return this.native.content;
  }

  get tags(): readonly string[] {
    return NO_TAGS;
  }

  get orderingKey(): undefined {
    return undefined;
  }

  /** The delivery is its own settle handle. */
  get handle(): this {
    return this;
  }

  get message(): ConsumeMessage {
    return this.native;
  }

  // Static: a private instance method gives every instance a brand field (8 B per delivery).
  static #parse(delivery: AmqpDelivery): Parsed {
    delivery.#parsed ??= parse(delivery.native);
    return delivery.#parsed;
  }
}

/** `x-delivery-count` (quorum queues): deliveries before this one, as the broker counts them. */
function brokerCount(message: ConsumeMessage): number {
  return Number(message.properties.headers?.['x-delivery-count']) || 0;
}

function parse(message: ConsumeMessage): Parsed {
  const p: MessageProperties = message.properties;
  let headers: Record<string, string> | undefined;
  let key: string | undefined;
  let originKey: string | undefined;
  // for...in, not Object.entries: an entries array and a [name, value] array per header.
  const source = p.headers;
  for (const name in source) {
    const value: unknown = source[name];
    if (name === KEY_HEADER) key = headerText(value);
    else if (name === ORIGIN_ROUTING_KEY_HEADER) originKey = headerText(value);
    else if (name === 'x-delivery-count' || DRIVER_HEADERS.has(name)) continue;
    // x-death and friends are the broker's dead-letter bookkeeping (the delay queues add them):
    // not the sender's headers, and a portable copy carrying them as text would confuse the
    // broker's cycle detection. `message.unwrap()` still shows them.
    else if (BROKER_HEADERS.test(name) || isDelayHeader(name)) continue;
    else if (value !== undefined && value !== null) {
      headers ??= {};
      headers[name] = headerText(value);
    }
  }
  if (typeof p.correlationId === 'string') {
    headers ??= {};
    headers['correlation-id'] = p.correlationId;
  }
  if (typeof p.replyTo === 'string') {
    headers ??= {};
    headers['reply-to'] = p.replyTo;
  }
  return {
    // A message without a message_id gets a handle of its own, unique per delivery and not stable
    // across redeliveries: anything derived from the content would be one id for two messages
    // with the same body (and attempts are never counted per id anyway).
    id: typeof p.messageId === 'string' && p.messageId !== '' ? p.messageId : `amqp-${randomUUID()}`,
    headers: headers ?? NO_HEADERS,
    key,
    // An empty routing key is none, as on the original.
    routingKey: originKey === undefined || originKey === '' ? routingKeyOf(message) : originKey,
  };
}

/** See AmqpDelivery; `previous` defaults to the carried count. */
export function toDelivery(
  message: ConsumeMessage,
  channel: Channel | undefined,
  mode: AttemptMode,
  previous = carriedAttempts(message),
): AmqpDelivery {
  return new AmqpDelivery(message, channel, mode, previous);
}

/** The routing key the message was sent with; the default exchange routes by queue name, which is none. */
function routingKeyOf(message: ConsumeMessage): string | undefined {
  const { exchange, routingKey } = message.fields;
  return exchange === '' || routingKey === '' ? undefined : routingKey;
}

/**
 * Headers that keep where a message was first published, for a copy republished through the
 * default exchange; a copy of a copy keeps the first origin (its own headers already carry it).
 */
export function originHeaders(message: ConsumeMessage): Record<string, string> {
  const { exchange, routingKey } = message.fields;
  if (exchange === '' || message.properties.headers?.[ORIGIN_ROUTING_KEY_HEADER] !== undefined) return {};
  return { [ORIGIN_EXCHANGE_HEADER]: exchange, [ORIGIN_ROUTING_KEY_HEADER]: routingKey };
}

function headerText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

// One delivery kept for good, of no message (carried mode: no header is read): a consumer between
// bursts holds none, and a mark-compact would collect the class's map and throw away the whole
// per-delivery path's optimized code (core's shape-anchor.ts; docs/bench-profiles.md §28).
// Its message is of amqplib's own literal's shape (acceptMessage's { fields, properties, content }):
// another shape there would widen the `native` field's type, and code reading a delivery's message
// would check that message's map where it now knows it.
anchorShape(
  new AmqpDelivery(
    { fields: null, properties: null, content: null } as unknown as ConsumeMessage,
    undefined,
    'carried',
    0,
  ),
);
