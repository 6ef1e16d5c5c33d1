// Bodies on the CMQ wire are text. Raw mode sends the body's UTF-8 text byte for byte (what other
// CMQ producers and consumers expect); envelope mode wraps body, headers, key and tags in core's
// JSON envelope so binary bodies and metadata survive.

import {
  type Delivery,
  decodeEnvelope,
  decodeText,
  encodeCopyEnvelope,
  encodeEnvelope,
  InvalidArgumentError,
  isUtf8,
  type Outgoing,
  plainTextDelivery,
} from '@switchyard/core/driver';
import { DRIVER } from './errors.js';

export type BodyMode = 'raw' | 'envelope';

/**
 * Envelope header of a requeued copy: deliveries before this copy existed. CMQ's dequeueCount
 * restarts on the copy, so deliveryAttempt = dequeueCount + this. Never shown to handlers.
 */
export const REQUEUED_ATTEMPTS = 'x-switchyard-cmq-attempts';

/** One received CMQ message (BatchReceiveMessage msgInfoList item), the native delivery. */
export interface CmqMessage {
  readonly msgId: string;
  readonly receiptHandle: string;
  readonly msgBody: string;
  readonly enqueueTime: number;
  readonly firstDequeueTime: number;
  readonly nextVisibleTime: number;
  readonly dequeueCount: number;
  /** The queue it was received from (added by the driver). */
  readonly queueName: string;
}

/**
 * The text to send for a message; throws for what this mode cannot carry. An envelope is checked
 * against `maxBytes` here (a raw body by the caller, which measures every text).
 */
export function encodeText(message: Outgoing, mode: BodyMode, maxBytes: number): string {
  if (mode === 'envelope') return encodeEnvelope(message, { maxBytes, driver: DRIVER });
  // The caller's string is valid UTF-8 as it stands; decodeText drops a leading BOM, so a text
  // starting with one still goes through it, to keep what goes on the wire.
  const text = message.text;
  if (text !== undefined && text.charCodeAt(0) !== 0xfeff) return text;
  // The portable layer refuses headers and keys in raw mode (capabilities headers,
  // maxKeysPerMessage); bytes are refused here too, for callers of the driver itself.
  if (!isUtf8(message.body)) {
    throw new InvalidArgumentError(
      'CMQ raw mode carries UTF-8 text only; use bodyMode "envelope" for bytes',
      {
        driver: DRIVER,
      },
    );
  }
  return decodeText(message.body);
}

/**
 * Whether a delivery read in envelope mode came in an envelope. A plain body from another
 * producer has no content type (decodeEnvelope's fallback), while an envelope always has one.
 */
export function cameInEnvelope(delivery: Delivery): boolean {
  return delivery.contentType !== undefined;
}

/** The envelope of a requeued copy of a delivery (same id, body and metadata, `attempts` carried). */
export function requeueText(delivery: Delivery, attempts: number, maxBytes: number): string {
  return encodeCopyEnvelope(
    delivery,
    { [REQUEUED_ATTEMPTS]: String(attempts) },
    { maxBytes, driver: DRIVER },
  );
}

export function toDelivery(native: CmqMessage, mode: BodyMode): Delivery {
  if (mode === 'envelope') {
    const fields = decodeEnvelope(native.msgBody, native.msgId);
    const carried = fields.headers[REQUEUED_ATTEMPTS];
    let headers = fields.headers;
    if (carried !== undefined) {
      const { [REQUEUED_ATTEMPTS]: _, ...rest } = fields.headers;
      headers = rest;
    }
    // Assigned onto the decoded envelope's own fresh object, not spread into a new literal:
    // properties added after a spread take V8's slow path (≈ 2.8 µs per delivery on Node 20,
    // 0.11 µs assigned; docs/bench-profiles.md §17), and a spread would read a lazy body.
    return Object.assign(fields, {
      headers,
      publishedAt: fields.publishedAt ?? native.enqueueTime * 1000,
      deliveryAttempt: native.dequeueCount + (carried === undefined ? 0 : Number(carried) || 0),
      native,
      handle: native.receiptHandle,
    });
  }
  // Core's one object literal (no copy, the body of a long text left to its first reader).
  return plainTextDelivery(
    native.msgId,
    native.msgBody,
    native.enqueueTime * 1000,
    native.dequeueCount,
    undefined,
    native,
    native.receiptHandle,
  );
}
