import {
  decodeEnvelope,
  type EnvelopeFields,
  encodeEnvelope,
  MessageTooLargeError,
  type Outgoing,
  utf8,
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
  let payload: string;
  if (mode === 'raw') {
    // Buffer keeps a leading BOM that TextDecoder would strip: byte for byte.
    payload = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString(
      'utf8',
    );
  } else {
    payload = envelopePayload(message);
  }
  const bytes = Buffer.byteLength(payload, 'utf8');
  if (bytes > MAX_PAYLOAD_BYTES) {
    throw new MessageTooLargeError(
      `message ${message.id} is ${bytes} bytes on the wire${mode === 'envelope' ? ' (in its envelope)' : ''}; TDMQ Pulsar over HTTP accepts at most ${MAX_PAYLOAD_BYTES} bytes per payload`,
      { driver: DRIVER, details: { size: bytes, limit: MAX_PAYLOAD_BYTES } },
    );
  }
  return payload;
}

/**
 * The message in Switchyard's envelope, `#`-free so it can never be mistaken for the `###` batch
 * separator. A text body whose JSON escaping grows it beyond base64's 4/3 (quotes, backslashes,
 * control characters, `#` written `\u0023`: up to 6×) travels base64 when that is what makes it
 * fit; it reads back as the same bytes with the same content type, so `maxMessageBytes` holds for
 * every body.
 */
export function envelopePayload(message: Outgoing): string {
  const payload = escapeHashes(encodeEnvelope(message));
  if (Buffer.byteLength(payload, 'utf8') <= MAX_PAYLOAD_BYTES) return payload;
  const envelope = JSON.parse(payload) as { b?: string; b64?: string };
  if (envelope.b === undefined) return payload;
  const b64 = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength).toString(
    'base64',
  );
  const smaller = escapeHashes(JSON.stringify({ ...envelope, b: undefined, b64 }));
  return Buffer.byteLength(smaller, 'utf8') < Buffer.byteLength(payload, 'utf8') ? smaller : payload;
}

/** Reads a payload back. Envelope mode still accepts raw payloads from other producers. */
export function decodePayload(payload: string, messageId: string, mode: BodyMode): EnvelopeFields {
  if (mode === 'envelope') return decodeEnvelope(payload, messageId);
  return {
    id: messageId,
    body: utf8(payload),
    contentType: undefined,
    headers: {},
    key: undefined,
    tags: [],
    routingKey: undefined,
    orderingKey: undefined,
    publishedAt: undefined,
  };
}
