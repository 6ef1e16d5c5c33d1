import { type Capabilities, defineCapabilities, envelopeBodyLimit } from '@switchyard/core/driver';

/** The API refuses payloads above 1 MiB (FailedOperation.MaxMessageSizeError). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * Room kept in an envelope payload for everything but the body: id, content type, timestamp,
 * headers (a dead-letter copy adds up to ~1.2 KiB of them), key, a pack's header. A message whose
 * metadata is larger still fails with MESSAGE_TOO_LARGE, before any request.
 */
export const ENVELOPE_METADATA_BYTES = 16 * 1024;

/** The largest body an envelope carries whatever its bytes are (core's base64 fallback). */
export const MAX_ENVELOPE_BODY_BYTES = envelopeBodyLimit(MAX_PAYLOAD_BYTES, ENVELOPE_METADATA_BYTES);

/**
 * The portable layer holds a nack delay in memory while the server's ack timeout keeps running
 * (TDMQ: at least 60 s per topic); a longer hold would let the server redeliver the message too.
 */
const MAX_NACK_DELAY_MS = 30_000;

export type NackMode = 'ack-timeout' | 'retry-topic';

/**
 * `ack-timeout` keeps nacked messages on their subscription, for every consumer. A pack is one
 * Pulsar message for many: returned by the ack timeout it would bring back its acked members too,
 * and no plain consumer reads packs anyway, so packing defaults to the retry topic, which nacks
 * members one by one.
 */
export function defaultNackMode(pack: number): NackMode {
  return pack > 1 ? 'retry-topic' : 'ack-timeout';
}

// What every mode shares. Everything the API lacks is either emulated by the portable layer
// ('emulated') or refused (false), never dropped silently.
const common = {
  delayedSend: false, // SendMessages has no delivery-time field
  extend: false, // no API to push an HTTP consumer's ack deadline
  deadLetter: 'emulated',
  orderingKeys: false, // shared subscription over round-robin partitions
  tagFilter: false,
  routingKeyFilter: false,
  maxTagsPerMessage: 0,
  maxKeysPerMessage: 1,
  batchSend: false, // one payload per request, even with SendBatchMessages
  maxBatchSize: 64, // messages per driver call, sent as pipelined requests
  maxBatchBytes: Number.POSITIVE_INFINITY, // one payload per request (a pack is cut below)
  fanOut: true, // one subscription per group
  startFrom: true, // SubInitialPosition, or a reset by timestamp on a new subscription
} as const;

/**
 * nackMode 'ack-timeout' (default): the API has no negative ack and no per-consumer ack deadline,
 * so a nacked or un-acked message stays on its subscription and comes back when the topic's
 * AckTimeOut (TDMQ: 60 s to 1 day, per topic) expires, to whichever consumer of the subscription
 * asks first. The HTTP API reports no redelivery count, so attempts are counted per Pulsar
 * MessageID in this process: a restart, or another process, starts again at 1. In both modes only
 * a consumer's attemptStore (a durable count the group shares) bounds a crash loop.
 */
const ackTimeout = {
  ...common,
  maxDelayMs: 0,
  nack: false, // returns after the topic's ack timeout
  nackDelay: false, // a delay cannot be shorter than the ack timeout, nor longer
  visibilityTimeout: false, // the topic's AckTimeOut, set by whoever creates the topic
  deliveryAttempt: 'process',
} as const;

/**
 * nackMode 'retry-topic' (opt-in): nack copies the message in an envelope to the group's retry
 * topic and acks the original; the count travels in the copy, so it survives restarts. The
 * driver keeps a consumer's visibility timeout (expiry = nack). Main-topic messages count as a
 * first delivery, also when the topic's ack timeout returns them after a crash.
 */
const retryTopic = {
  ...common,
  maxDelayMs: MAX_NACK_DELAY_MS,
  nack: 'emulated', // by copy: the API has no negative ack
  nackDelay: 'emulated',
  visibilityTimeout: true,
  deliveryAttempt: 'carried',
} as const;

export interface CapabilityOptions {
  readonly mode: 'raw' | 'envelope';
  /** Messages per pack (1 = no packing; envelope mode only). */
  readonly pack?: number;
  readonly nackMode?: NackMode;
  /** Whether the driver may create topics (default true): request-reply's reply topic needs it. */
  readonly manageTopology?: boolean;
}

/**
 * The capabilities of one configuration. Raw mode carries the payload as it is, up to the API's
 * limit; a retry-topic copy of a raw message is an envelope, so with nackMode 'retry-topic' the
 * envelope limit holds for raw mode too (a larger body could be sent but never nacked).
 */
export function pulsarHttpCapabilities(options: CapabilityOptions): Readonly<Capabilities> {
  const pack = options.pack ?? 1;
  const nackMode = options.nackMode ?? defaultNackMode(pack);
  const base = nackMode === 'retry-topic' ? retryTopic : ackTimeout;
  if (options.mode === 'raw') {
    return defineCapabilities({
      ...base,
      headers: 'none',
      binaryBodies: false,
      maxKeysPerMessage: 0, // SendMessages carries only a text payload
      maxMessageBytes: nackMode === 'retry-topic' ? MAX_ENVELOPE_BODY_BYTES : MAX_PAYLOAD_BYTES,
    });
  }
  return defineCapabilities({
    ...base,
    headers: 'envelope',
    binaryBodies: 'envelope',
    maxKeysPerMessage: 1, // the envelope's "k"
    maxMessageBytes: MAX_ENVELOPE_BODY_BYTES,
    // A private reply topic per process (created and deleted through the API); the reply address
    // and correlation id travel as envelope headers. Raw mode has nowhere to carry them.
    requestReply: options.manageTopology === false ? false : 'emulated',
    // Packing puts several messages in one request, so batch sends are native, and one request
    // carries one payload's bytes (envelopes grow a batch: pack.ts cuts it again).
    ...(pack > 1 ? { batchSend: true, maxBatchSize: pack, maxBatchBytes: MAX_PAYLOAD_BYTES } : {}),
  });
}

/** Raw mode, default nack mode: the payload is the body, byte for byte, as text; nothing else travels. */
export const rawCapabilities: Readonly<Capabilities> = pulsarHttpCapabilities({ mode: 'raw' });

/** Envelope mode, default nack mode: headers, key, content type and binary bodies in a JSON envelope. */
export const envelopeCapabilities: Readonly<Capabilities> = pulsarHttpCapabilities({ mode: 'envelope' });

/** Envelope mode with packing, default nack mode (retry-topic). */
export function packedCapabilities(pack: number): Readonly<Capabilities> {
  return pulsarHttpCapabilities({ mode: 'envelope', pack });
}
