import {
  decodeEnvelope,
  type EnvelopeFields,
  type EnvelopeLimit,
  encodeEnvelope,
  MessageTooLargeError,
  type Outgoing,
  plainTextFields,
} from '@switchyard/core/driver';
import { escapeHashes } from './batch-split.js';
import { MAX_PAYLOAD_BYTES } from './capabilities.js';
import { DRIVER } from './errors.js';

export type BodyMode = 'raw' | 'envelope';

/**
 * The payload string for one message, checked against the API's limit before any request.
 * Raw mode sends the body text as is (the portable layer already refused non-UTF-8 bodies,
 * headers and keys: capabilities binaryBodies, headers and maxKeysPerMessage).
 */
export function encodePayload(message: Outgoing, mode: BodyMode): string {
  if (mode === 'envelope') return encodeEnvelope(message, ENVELOPE_LIMIT);
  // The caller's string is the body's decoding as it stands (a leading BOM kept), so no decode or
  // measure is needed. Otherwise Buffer, which keeps a leading BOM that TextDecoder would strip.
  const payload =
    message.text ??
    Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString('utf8');
  const bytes =
    message.text !== undefined && message.bodyBytes !== undefined
      ? message.bodyBytes
      : Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new MessageTooLargeError(
      `message ${message.id} is ${bytes} bytes on the wire; TDMQ Pulsar over HTTP accepts at most ${MAX_PAYLOAD_BYTES} bytes per payload`,
      { driver: DRIVER, details: { size: bytes, limit: MAX_PAYLOAD_BYTES } },
    );
  }
  return payload;
}

/**
 * Envelopes within the API's payload limit, `#`-free so they can never be mistaken for the `###`
 * batch separator (core falls back to base64 where escaping grows a text body too much, so
 * `maxMessageBytes` holds for every body).
 */
export const ENVELOPE_LIMIT: EnvelopeLimit = {
  maxBytes: MAX_PAYLOAD_BYTES,
  transform: escapeHashes,
  driver: DRIVER,
};

/** Reads a payload back. Envelope mode still accepts raw payloads from other producers. */
export function decodePayload(payload: string, messageId: string, mode: BodyMode): EnvelopeFields {
  if (mode === 'envelope') return decodeEnvelope(payload, messageId);
  return plainTextFields(messageId, payload);
}
