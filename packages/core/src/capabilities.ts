import { UnsupportedError } from './errors.js';

/**
 * What a driver can do, declared once per broker instance. The same frozen object gates runtime
 * behaviour (an unsupported request throws UnsupportedError), gates the conformance scenarios and
 * generates the capability table in the docs, so the three can never drift apart.
 */
export interface Capabilities {
  /** How headers travel: as broker properties, inside a JSON envelope, or not at all. */
  readonly headers: 'native' | 'envelope' | 'none';
  /** Bytes that are not UTF-8 text: carried as-is, base64 in an envelope, or refused. */
  readonly binaryBodies: 'native' | 'envelope' | false;
  /** `delayMs` on send. */
  readonly delayedSend: 'native' | false;
  /** Longest delay the broker accepts on send or nack, in ms. */
  readonly maxDelayMs: number;
  /**
   * `nack()` redelivers: by the broker ('native'); by a copy of the message published back to the
   * source it came from, carrying its attempt count, then an ack of the original ('emulated': the
   * copy goes to the back of the source and gets a new broker id); or not at all (false: the
   * message only returns after the visibility timeout).
   */
  readonly nack: 'native' | 'emulated' | false;
  /** `nack({ delayMs })`: by the broker, or held by the portable layer then nacked. */
  readonly nackDelay: 'native' | 'emulated' | false;
  /** `extend(ms)`: push the visibility / ack deadline further out. */
  readonly extend: boolean;
  /** An un-acked message reappears after a visibility / ack timeout the consumer sets. */
  readonly visibilityTimeout: boolean;
  /** Dead-lettering after `maxDeliveries`: by the broker, or by the portable layer. */
  readonly deadLetter: 'native' | 'emulated';
  /**
   * `deliveryAttempt`: counted by the broker ('native'); carried with the message, which a
   * redelivery republishes with its count, so it survives restarts ('carried'); or counted in this
   * process per broker-assigned message id, so it resets on restart ('process').
   */
  readonly deliveryAttempt: 'native' | 'carried' | 'process';
  /** Messages with one `orderingKey` are delivered in send order (FIFO per key). */
  readonly orderingKeys: boolean;
  /** Consumers filter by message tags. */
  readonly tagFilter: boolean;
  /** Consumers filter by routing key patterns with `*` and `#`. */
  readonly routingKeyFilter: boolean;
  /** Tags one message may carry. */
  readonly maxTagsPerMessage: number;
  /** Business keys (`key`, `keys`) one message may carry; more are refused, never dropped. */
  readonly maxKeysPerMessage: number;
  /** Several messages per broker request. */
  readonly batchSend: boolean;
  /** Largest batch the driver sends in one request. */
  readonly maxBatchSize: number;
  /**
   * Most bytes of messages in one send batch, measured portably (body plus headers, keys, tags,
   * routing and ordering keys; see outgoingBytes); `Infinity` when only the count limits a batch.
   * The Producer cuts batches by count and by these bytes.
   */
  readonly maxBatchBytes: number;
  /** Separate consumer groups each receive every message. */
  readonly fanOut: boolean;
  /** `startFrom` ('earliest' | 'latest' | a Date) for a new group. */
  readonly startFrom: boolean;
  /** Largest body (after any envelope) the broker accepts, in bytes. */
  readonly maxMessageBytes: number;
  /**
   * `producer.request()` and `broker.reply()`: over the broker's own reply addresses ('native',
   * RabbitMQ direct reply-to), over a private reply destination the driver creates per process and
   * deletes on close ('emulated'), or not at all (false or absent).
   */
  readonly requestReply?: 'native' | 'emulated' | false;
}

export type Feature = keyof Capabilities;

export function defineCapabilities(c: Capabilities): Readonly<Capabilities> {
  // Every field written into one literal, in one order: one hidden class for every driver instance
  // of every driver, for as long as the process runs. A spread copy (`{ ...c }`) got a hidden class
  // of its own per call once V8's clone cache for it was warm, so each broker a process connected (a
  // CLI bridge run, a service reconnecting) had capabilities of a new shape: optimized code reading
  // them (`prepareOutgoing`'s size check, for one) was thrown away ("wrong map") and the reads grew
  // polymorphic with every broker (docs/bench-profiles.md, the bridge).
  const copy: { -readonly [K in keyof Capabilities]: Capabilities[K] } = {
    headers: c.headers,
    binaryBodies: c.binaryBodies,
    delayedSend: c.delayedSend,
    maxDelayMs: c.maxDelayMs,
    nack: c.nack,
    nackDelay: c.nackDelay,
    extend: c.extend,
    visibilityTimeout: c.visibilityTimeout,
    deadLetter: c.deadLetter,
    deliveryAttempt: c.deliveryAttempt,
    orderingKeys: c.orderingKeys,
    tagFilter: c.tagFilter,
    routingKeyFilter: c.routingKeyFilter,
    maxTagsPerMessage: c.maxTagsPerMessage,
    maxKeysPerMessage: c.maxKeysPerMessage,
    batchSend: c.batchSend,
    maxBatchSize: c.maxBatchSize,
    maxBatchBytes: c.maxBatchBytes,
    fanOut: c.fanOut,
    startFrom: c.startFrom,
    maxMessageBytes: c.maxMessageBytes,
  };
  // Absent stays absent (a field written as undefined would be a key of its own to a spread or
  // Object.keys): two hidden classes in all, not one per broker.
  if (c.requestReply !== undefined) copy.requestReply = c.requestReply;
  return Object.freeze(copy);
}

/** Documentation of every capability, in table order; the docs generator reads this. */
export const capabilityDescriptions: Readonly<Record<Feature, string>> = Object.freeze({
  headers: 'Message headers',
  binaryBodies: 'Binary (non-UTF-8) bodies',
  delayedSend: 'Delay on send (`delayMs`)',
  maxDelayMs: 'Longest delay',
  nack: 'Nack redelivers',
  nackDelay: 'Nack with delay',
  extend: 'Extend visibility (`extend(ms)`)',
  visibilityTimeout: 'Redelivery after visibility / ack timeout',
  deadLetter: 'Dead letter after `maxDeliveries`',
  deliveryAttempt: '`deliveryAttempt` count',
  orderingKeys: 'FIFO per `orderingKey`',
  tagFilter: 'Tag filters',
  routingKeyFilter: 'Routing-key filters (`*`, `#`)',
  maxTagsPerMessage: 'Tags per message',
  maxKeysPerMessage: 'Keys per message (`key`, `keys`)',
  batchSend: 'Batch send',
  maxBatchSize: 'Largest send batch',
  maxBatchBytes: 'Largest send batch in bytes',
  fanOut: 'Fan-out across groups',
  startFrom: '`startFrom` for a new group',
  maxMessageBytes: 'Largest message',
  requestReply: 'Request-reply (`producer.request`)',
});

/** Throws UnsupportedError naming the feature and the driver when a capability is missing. */
export function requireCapability(
  capabilities: Capabilities,
  feature: Feature,
  driver: string,
  what: string = capabilityDescriptions[feature],
): void {
  const value = capabilities[feature];
  if (value === undefined || value === false || value === 'none' || value === 0) {
    throw new UnsupportedError(
      `${what} is not supported by the ${driver} driver (capability "${feature}"); check broker.capabilities before using it`,
      { driver, details: { feature } },
    );
  }
}
