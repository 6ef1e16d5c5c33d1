// The driver contract. A driver translates one broker's wire into these few calls and nothing
// more: validation, encoding, batching, retries, backoff, prefetch, concurrency, ordering lanes,
// delivery-attempt counting, dead-letter and nack-delay emulation, draining and error wrapping all
// belong to the portable layer (Broker, Producer, Consumer), which is the only caller of a driver.
//
// Errors: every method rejects only with a SwitchyardError whose `code` is the portable meaning and
// whose `retryable` is true exactly when calling again with the same arguments may succeed. Drivers
// do not retry retryable failures themselves (the portable layer does, with backoff), except where
// a broker protocol requires it inside one call (e.g. AMQP reconnect before a publish is confirmed).
// No error message may contain a secret.
//
// Concurrency: the portable layer calls a producer's sendBatch concurrently (several batches in
// flight). On a consumer, receiveBatch never overlaps itself; ack, nack, extend and deadLetter may
// run concurrently with each other, with themselves and with receiveBatch (acks are coalesced per
// tick, and a flush may start while the previous one is still waiting for the broker). One
// delivery is settled by at most one call at a time; a failed call may be repeated with the same
// deliveries (retry), so settling must be idempotent. close() comes last on each object: the
// portable layer waits for its own calls to settle first.

import type { Capabilities } from './capabilities.js';
import type { Logger } from './logger.js';
import type { Delivery, Outgoing, Receipt } from './message-types.js';
import type { StatusEvent } from './status.js';

export interface DriverFilter {
  /** Deliver only messages carrying at least one of these tags. */
  readonly tags?: readonly string[];
  /** Deliver only messages whose routing key matches one of these patterns (`*` one word, `#` zero or more). */
  readonly routingKeys?: readonly string[];
}

export interface DriverProducerOptions {
  /** Free-form, driver-specific options the user passed (validated by the driver). */
  readonly driverOptions: Readonly<Record<string, unknown>>;
}

export interface DriverConsumerOptions {
  /** Consumer group / subscription name; consumers in one group compete, groups fan out. */
  readonly group: string;
  readonly filter: DriverFilter;
  /** Most deliveries the portable layer holds at once; a push driver may buffer at most this many. */
  readonly prefetch: number;
  /** Ack deadline for a delivery, in ms; undefined leaves the broker's default. */
  readonly visibilityTimeoutMs: number | undefined;
  /** Where a new group starts. */
  readonly startFrom: 'earliest' | 'latest' | Date | undefined;
  /**
   * Present only when capabilities.deadLetter is 'native': the broker moves a message to
   * `destination` once it has been delivered `maxDeliveries` times without an ack.
   */
  readonly deadLetter: { readonly maxDeliveries: number; readonly destination: string } | undefined;
  readonly driverOptions: Readonly<Record<string, unknown>>;
  /**
   * For a driver that keeps visibility leases itself over a broker that cannot nack (Leases,
   * capabilities.nack 'emulated'): call it when a delivery's lease runs out unsettled. The portable
   * layer gives the message back the way a nack does (requeueCopy, then ack), joining a nack of the
   * same delivery already under way, so one delivery is never copied twice. Absent when a driver
   * is used without the portable layer: the broker's own timeout then returns the message.
   */
  readonly leaseExpired?: (delivery: Delivery) => void;
}

/** One copy for DriverConsumer.requeueCopy. */
export interface RequeueCopy {
  readonly delivery: Delivery;
  /**
   * Deliveries of the message so far that the copy carries: the driver writes it in a header of
   * its own and, on receipt, reports deliveryAttempt = this + the broker's count of the copy (1 on
   * its first delivery). The portable layer computes it: the delivery's attempt for a nack, one
   * less for a delivery no handler saw.
   */
  readonly attempts: number;
}

/**
 * When a close must be over: an absolute time in Date.now() ms, absent when the caller gave no
 * timeout (the driver then bounds its waits on the broker itself). A deadline rather than an
 * AbortSignal because a close is a sequence of waits (in-flight work, a cancel, a channel, the
 * connection) and each must be sized by the time that is left: a number passes down the layers
 * unchanged, takes part in Math.min with the driver's own bounds, and needs no listener or timer
 * until a wait uses it, where a signal only tells "now" when it is already too late to use the rest.
 * Past the deadline a driver stops waiting for the broker and drops what it holds so that nothing
 * is lost: what is unacked returns to the broker with its channel or connection, and a send not
 * confirmed is reported failed (retryable), never sent. A past deadline means "close at once".
 */
export interface DriverCloseOptions {
  readonly deadline?: number;
}

export interface DriverProducer {
  /**
   * Sends messages, at most capabilities.maxBatchSize at once and at most maxBatchBytes of them as
   * outgoingBytes measures (one larger message may come alone), and resolves only after the broker
   * has accepted them durably (confirmed). The result has one entry per message, in order: a
   * Receipt, or the SwitchyardError for that message when a batch partly failed (only retryable
   * errors are retried by the portable layer). A rejection means no message of the batch is known
   * to be accepted. May be called concurrently. `signal` aborts when the producer closes or the
   * send's deadline passes (its reason is then a TIMEOUT error): stop waiting (reconnects,
   * flow control, confirms) and return what is known, an error for every message not confirmed —
   * never a receipt for one that is not.
   *
   * `confirmed` (optional to call): a driver whose confirms come one by one may report each
   * message's receipt the moment the broker confirmed it (`index` into `messages`), so that send
   * resolves without waiting for the rest of the batch. The returned array still holds every
   * outcome, that receipt included; a message reported here must not get an error there.
   */
  sendBatch(
    messages: readonly Outgoing[],
    signal?: AbortSignal,
    confirmed?: (index: number, receipt: Receipt) => void,
  ): Promise<Array<Receipt | Error>>;
  /**
   * Sends requests whose replies must come back to `inbox`, where the broker needs them sent the
   * inbox's way (RabbitMQ direct reply-to: published on the channel that consumes the replies).
   * Same promises as sendBatch. Absent: requests go through sendBatch like any message.
   */
  sendRequests?(
    messages: readonly Outgoing[],
    inbox: DriverReplyInbox,
    signal?: AbortSignal,
  ): Promise<Array<Receipt | Error>>;
  /** Native producer object (escape hatch). */
  readonly native: unknown;
  /** Releases resources; called once, after every sendBatch has settled. */
  close(options?: DriverCloseOptions): Promise<void>;
}

export interface DriverConsumer {
  /**
   * Returns up to `max` deliveries, waiting up to `waitMs` for the first one (long poll), and
   * returns an empty array when none came in time. Must return promptly (well under a second)
   * when `signal` aborts, with whatever it has. Never called concurrently with itself.
   */
  receiveBatch(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]>;
  /**
   * A push driver's fast path, present together with takeReady (optional). Where the broker pushes
   * deliveries into a buffer of the driver's (AMQP basic.consume, MQTT), a receive cycle per socket
   * read (a promise, a wait and its wake-up) costs as much as the deliveries it carries at a few
   * per read. The portable layer calls onReady once, when it starts taking deliveries, and from
   * then on never calls receiveBatch: the driver calls `ready` (synchronously, cheap to call per
   * delivery) whenever a delivery lands in its buffer and when it stops for good, and the portable
   * layer then takes what it has room for with takeReady, in a microtask after the call.
   */
  onReady?(ready: () => void): void;
  /**
   * Up to `max` buffered deliveries, taken now, without waiting (empty when none is buffered).
   * With nothing buffered, throws the error that stopped the consumer for good (never a retryable
   * one: a push driver recovers its subscription by itself). Present exactly with onReady.
   */
  takeReady?(max: number): Delivery[];
  /**
   * Acknowledges deliveries. Acking a delivery twice, or a delivery whose lease has already
   * expired, must not fail: drivers suppress those errors (the message may come again). May run
   * concurrently with itself and with receiveBatch, nack, extend and deadLetter.
   */
  ack(deliveries: readonly Delivery[]): Promise<void>;
  /**
   * Returns deliveries for redelivery, after `delayMs` where capabilities.nackDelay is 'native'.
   * Only called when capabilities.nack is 'native' (an 'emulated' nack goes through requeueCopy),
   * and never with a delay when the driver has requeueCopy. The message must come back on the
   * source it came from, where every consumer of the group (Switchyard or not) can receive it. May
   * run concurrently like ack.
   */
  nack(deliveries: readonly Delivery[], delayMs?: number): Promise<void>;
  /**
   * Gives back deliveries no handler or caller saw (buffered when the consumer stopped), without
   * counting an attempt where the driver carries the count with the message. Only called when
   * capabilities.nack is 'native'; when absent the portable layer nacks them (by a copy that
   * carries one attempt less where nack is 'emulated').
   */
  release?(deliveries: readonly Delivery[]): Promise<void>;
  /**
   * Publishes, for each item, a copy of its delivery to the source the delivery came from (where
   * every consumer of the group, Switchyard or not, can receive it), with the message's id, body,
   * headers, key and tags and its `attempts` in the driver's own header, visible no earlier than
   * `delayMs` from now when given. Resolves once the broker confirmed the copies: one entry per
   * item, `true` or that copy's error (a delivery that cannot be copied, e.g. a foreign body format
   * the copy would change, gets an UnsupportedError: it is then left to its visibility timeout and
   * the nack resolves, as where the broker has no nack). It ends the delivery's driver-kept lease and
   * never acks the original: the portable layer acks it after a confirmed copy, or on failure
   * nacks it (nack 'native') or leaves it to its visibility timeout (nack 'emulated').
   *
   * Required when capabilities.nack is 'emulated'; a driver whose broker nacks but cannot delay a
   * nack may offer it too, and then gets every nack with a delay this way (and only those). The portable layer
   * calls it at most once at a time per delivery.
   */
  requeueCopy?(copies: readonly RequeueCopy[], delayMs?: number): Promise<Array<true | Error>>;
  /** Keeps a delivery invisible for `ms` more. Present only when capabilities.extend is true. */
  extend?(delivery: Delivery, ms: number): Promise<void>;
  /**
   * Moves deliveries to the broker's dead-letter destination with a reason, when the broker can
   * (RocketMQ ForwardMessageToDeadLetterQueue, the memory driver). When absent the portable layer
   * publishes to the configured dead-letter destination and then acks.
   */
  deadLetter?(deliveries: readonly Delivery[], reason: string, destination: string): Promise<void>;
  /**
   * Messages waiting for this consumer's group (not yet delivered), where the broker exposes it
   * cheaply; feeds the consumer-lag gauge. Absent (or undefined) when the flavour cannot tell.
   */
  backlog?(): number | undefined | Promise<number | undefined>;
  /** Native consumer object (escape hatch). */
  readonly native: unknown;
  /**
   * Stops receiving. Deliveries not yet settled may be returned to the broker (as a nack without
   * penalty where possible). Called once, after the portable layer has flushed its acks.
   */
  close(options?: DriverCloseOptions): Promise<void>;
}

/**
 * Where replies to this process's requests arrive (request-reply). The portable layer opens one
 * per broker on the first request and closes it with the broker; correlation, timeouts and late
 * replies are its business, the inbox only carries replies.
 */
export interface DriverReplyInbox {
  /** What a request carries as its reply address (the `reply-to` header): responders send there. */
  readonly address: string;
  /** Native object (the channel, the private destination's consumer). */
  readonly native: unknown;
  /** Stops receiving and removes what the inbox created (a private destination). Called once. */
  close(options?: DriverCloseOptions): Promise<void>;
}

/** What a health probe found, for `broker.health()`'s details (never a secret). */
export type ProbeDetails = Readonly<Record<string, string | number | boolean>>;

/** Counts for one destination as the broker reports them; a count the flavour cannot tell is absent. */
export interface DestinationStats {
  readonly name: string;
  /** Messages waiting to be delivered. */
  readonly ready?: number;
  /** Delivered and not yet acked. */
  readonly inFlight?: number;
  /** Consumers attached now. */
  readonly consumers?: number;
  /** Per consumer group, where the flavour keeps one backlog per group (fan-out). */
  readonly groups?: Readonly<Record<string, { readonly ready?: number; readonly inFlight?: number }>>;
}

/**
 * A message as `DriverAdmin.peek` read it: what a delivery would carry, with nothing to settle.
 * `deliveryAttempt` is the attempt its next delivery will be (1: never delivered), when known.
 */
export type PeekedMessage = Omit<Delivery, 'handle' | 'attemptKey'>;

/**
 * Optional management calls for tools (the `switchyard list/stats/purge/peek` commands), each
 * present only where the flavour offers it through the protocol or API the driver already speaks.
 * Absent means "not on this flavour"; callers check before calling. `source` and `group` name what
 * openConsumer would read (a driver maps them to its queue or subscription). Errors as for the
 * other methods (NOT_FOUND for a missing destination or group).
 */
export interface DriverAdmin {
  /**
   * Why the calls absent here are not on this flavour, for tools to add to their "not on this
   * flavour" (a protocol without management calls says so here rather than leaving them to guess).
   */
  readonly unsupportedReason?: string;
  /** Destinations the credentials can see, by name. */
  list?(): Promise<Array<{ readonly name: string; readonly kind: 'queue' | 'topic' }>>;
  /** Counts for what a consumer of `source` in `group` reads (all groups where `group` is undefined and the flavour can). */
  stats?(source: string, group: string | undefined): Promise<DestinationStats>;
  /** Removes every message waiting for `group` on `source`; resolves with how many, when the broker says. */
  purge?(source: string, group: string | undefined): Promise<number | undefined>;
  /**
   * What purge does: 'delete' (the default; the messages are gone) or 'skip' (the group's position
   * moves past them; the broker keeps them for other groups and for replay).
   */
  readonly purgeEffect?: 'delete' | 'skip';
  /**
   * Up to `max` of the messages a consumer of `source` in `group` would get next, read without
   * taking them: no lease, no redelivered flag, no delivery attempt counted, no position moved.
   * Only where the protocol has such a read (a get-and-requeue is not one: it marks and reorders).
   */
  peek?(
    source: string,
    group: string | undefined,
    options: { readonly max: number },
  ): Promise<PeekedMessage[]>;
}

export interface Driver {
  /** 'memory' | 'rabbitmq' | 'cmq' | 'rocketmq' | 'pulsar-http' | 'pulsar' */
  readonly name: string;
  readonly capabilities: Readonly<Capabilities>;
  /** Management calls the flavour has; absent when it has none. */
  readonly admin?: DriverAdmin;
  /**
   * Opens a producer for a destination (short name or full native name). Opening does not have to
   * check that the destination exists: sending to a missing one rejects with NOT_FOUND.
   */
  openProducer(destination: string, options: DriverProducerOptions): Promise<DriverProducer>;
  /** Opens a consumer of a source; a missing source rejects here or on receive with NOT_FOUND. */
  openConsumer(source: string, options: DriverConsumerOptions): Promise<DriverConsumer>;
  /**
   * Opens this process's reply inbox; `onReply` gets each message sent to its address, already
   * settled (a reply is never redelivered: one nobody waits for any more is dropped). Present
   * exactly when capabilities.requestReply is set: 'native' when the broker has reply addresses of
   * its own (RabbitMQ direct reply-to), 'emulated' when the driver creates a private destination
   * per inbox and deletes it on close.
   */
  openReplyInbox?(onReply: (delivery: Delivery) => void): Promise<DriverReplyInbox>;
  /**
   * Opens a producer that sends to a reply address (a request's `reply-to`), when such an address
   * is not a destination openProducer takes (RabbitMQ: a queue through the default exchange, and
   * direct reply-to's pseudo-queue). Absent: openProducer(address).
   */
  openReplyProducer?(address: string): Promise<DriverProducer>;
  /**
   * A cheap round trip that shows the broker answers now (a channel open, a list call), for
   * `broker.health()`: resolves with details, or rejects with the SwitchyardError that says why
   * not. Must give up promptly when `signal` aborts (the health deadline). Absent: health follows
   * the connection status events.
   */
  probe?(signal: AbortSignal): Promise<ProbeDetails | undefined>;
  /** Native client object (connection, SDK client). */
  readonly native: unknown;
  /** Closes the connection; called after every producer and consumer is closed. */
  close(options?: DriverCloseOptions): Promise<void>;
}

/** Given to a driver factory: where to report connection status and log. */
export interface DriverContext {
  readonly logger: Logger;
  status(event: StatusEvent): void;
}

/**
 * What a driver package exports (as `driver`) so that `connect()` can load it by scheme or name.
 */
export interface DriverModule<Config = unknown> {
  readonly name: string;
  /** URL schemes it serves, e.g. ['amqp', 'amqps']. */
  readonly schemes: readonly string[];
  /** The capabilities a default configuration has, for docs and conformance gating. */
  readonly defaultCapabilities: Readonly<Capabilities>;
  /** Parses and validates a URL into this driver's config; throws ConfigError naming the bad part. */
  fromUrl(url: URL): Config;
  /** Validates a config object; throws ConfigError naming the bad field and what is allowed. */
  parseConfig(input: unknown): Config;
  create(config: Config, context: DriverContext): Promise<Driver>;
  /**
   * Set when no driver of this module has management calls (DriverAdmin) at all: why, so tools
   * say "not on this flavour" before connecting (or loading a native client it would need).
   */
  readonly adminUnsupportedReason?: string;
}
