import type { Body } from './body.js';

/** A message as a service sends it. Only `body` is required. */
export interface OutgoingMessage {
  /**
   * Bytes are sent as they are, not copied: they must not change until the send settles (a retry
   * reads them again, and a driver may write them to the socket late — RabbitMQ's large bodies,
   * even after a failed send; see its README).
   */
  body: Body;
  /** Recorded with the message; defaults from the body's type (text, bytes, JSON). */
  contentType?: string;
  /** String headers; natively where the broker has them, in an envelope otherwise. */
  headers?: Record<string, string>;
  /** Business key (RocketMQ keys, Pulsar key, a deduplication key for migrations). */
  key?: string;
  /**
   * Every business key, for brokers that index several (RocketMQ). `key` is the first; give
   * either, or both with `key === keys[0]`. Drivers with one key per message carry `keys[0]`.
   */
  keys?: readonly string[];
  /** Tags consumers can filter by (RocketMQ tag, CMQ msgTag). */
  tags?: readonly string[];
  /** Routing key (AMQP routing key, CMQ routingKey) matched by consumers' `routingKeys`. */
  routingKey?: string;
  /** Messages with the same ordering key are delivered in send order where the broker can. */
  orderingKey?: string;
  /** Deliver no earlier than this many ms from now. */
  delayMs?: number;
  /** Client-chosen message id; one is generated when absent. */
  id?: string;
}

/** A message ready for a driver: validated, encoded, with an id and a timestamp. */
export interface Outgoing {
  readonly id: string;
  readonly body: Uint8Array;
  /**
   * `body.byteLength`, measured without reading `body` (whose bytes a text body encodes only when
   * first read). Absent for Outgoing built by hand (then read `body.byteLength`).
   */
  readonly bodyBytes?: number;
  /**
   * `body` as the string the caller gave (text, or JSON as serialised), when it was well-formed:
   * exactly `body`'s UTF-8 decoding, so a driver that sends text need not decode (or check) the
   * bytes. Absent for bytes, and for Outgoing built by hand.
   */
  readonly text?: string | undefined;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  /** All keys, `key` first; absent (or `[key]`) when the message has at most one. */
  readonly keys?: readonly string[];
  readonly tags: readonly string[];
  readonly routingKey: string | undefined;
  readonly orderingKey: string | undefined;
  readonly delayMs: number | undefined;
  /** Epoch ms at which the producer accepted it. */
  readonly publishedAt: number;
}

/** What the broker accepted. */
export interface Receipt {
  /** The broker's id for the message where it assigns one, otherwise the client id. */
  readonly messageId: string;
}

/** One delivery of one message, from a driver to the portable layer. */
export interface Delivery {
  readonly id: string;
  readonly body: Uint8Array;
  /** The body as the text it came as, where the wire carries text (CMQ, Pulsar over HTTP). */
  readonly text?: string | undefined;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  /** All keys where the broker carries several (RocketMQ), `key` first; absent means `[key]`. */
  readonly keys?: readonly string[];
  readonly tags: readonly string[];
  readonly routingKey: string | undefined;
  readonly orderingKey: string | undefined;
  /**
   * Deliveries of this message so far, 1 for the first: counted by the broker, or carried with the
   * message itself (a copy with a count header) so that it survives restarts. Undefined when the
   * driver can tell neither; the portable layer then counts per `attemptKey`.
   */
  readonly deliveryAttempt: number | undefined;
  /**
   * The broker's own identity for this message, unique to it within the source and the same on
   * every redelivery (a Pulsar MessageID, a RocketMQ queue position): the portable layer counts
   * deliveries per key in this process when `deliveryAttempt` is undefined, and, with a consumer's
   * `attemptStore`, in that durable store for every delivery that has one (attempt =
   * `deliveryAttempt` − 1 + the store's count). Never a sender-chosen id, which distinct messages
   * may share. With neither, every delivery counts as the first.
   */
  readonly attemptKey?: string | undefined;
  /** Epoch ms the producer sent it, when known. */
  readonly publishedAt: number | undefined;
  /** The native message object (escape hatch). */
  readonly native: unknown;
  /** Driver-private handle used to settle this delivery (receipt handle, delivery tag, ...). */
  readonly handle: unknown;
}
