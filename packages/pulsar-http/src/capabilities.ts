import { type Capabilities, defineCapabilities } from '@switchyard/core';

/** The API refuses payloads above 1 MiB (FailedOperation.MaxMessageSizeError). */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/**
 * The portable layer holds a nack delay in memory while the server's ack timeout keeps running
 * (TDMQ: at least 60 s per topic); a longer hold would let the server redeliver the message too.
 */
const MAX_NACK_DELAY_MS = 30_000;

// What TDMQ Pulsar over HTTP can do, shared by both body modes. Everything the API lacks is either
// emulated by the portable layer ('emulated') or refused (false), never dropped silently.
const common = {
  delayedSend: false, // SendMessages has no delivery-time field
  maxDelayMs: MAX_NACK_DELAY_MS,
  nack: true, // emulated by the driver: a copy goes to the group's retry topic, the original is acked
  nackDelay: 'emulated',
  extend: false, // no API to push an HTTP consumer's ack deadline
  // The API's ack timeout is per topic (≥ 60 s); a consumer's own timeout is kept by the driver,
  // which returns an expired delivery through the retry topic (see consumer.ts).
  visibilityTimeout: true,
  deadLetter: 'emulated',
  deliveryAttempt: 'process', // per Pulsar MessageID in this process; resets on restart
  orderingKeys: false, // shared subscription over round-robin partitions
  tagFilter: false,
  routingKeyFilter: false,
  maxTagsPerMessage: 0,
  batchSend: false, // one payload per request, even with SendBatchMessages
  maxBatchSize: 64, // messages per driver call, sent as pipelined requests
  fanOut: true, // one subscription per group
  startFrom: true, // SubInitialPosition, or a reset by timestamp on a new subscription
} as const;

/** Raw mode: the payload is the body, byte for byte, as text; nothing else travels. */
export const rawCapabilities: Readonly<Capabilities> = defineCapabilities({
  ...common,
  headers: 'none',
  binaryBodies: false,
  maxMessageBytes: MAX_PAYLOAD_BYTES,
});

/**
 * Envelope mode: headers, key, content type and binary bodies travel in Switchyard's JSON
 * envelope. The body limit leaves room for base64 (4/3) and the envelope fields; the driver still
 * checks the encoded payload against the API's 1 MiB before sending.
 */
export const envelopeCapabilities: Readonly<Capabilities> = defineCapabilities({
  ...common,
  headers: 'envelope',
  binaryBodies: 'envelope',
  maxMessageBytes: 768 * 1024,
});

/** Envelope mode with packing: several messages per request, so batch sends are native. */
export function packedCapabilities(pack: number): Readonly<Capabilities> {
  return defineCapabilities({ ...envelopeCapabilities, batchSend: true, maxBatchSize: pack });
}
