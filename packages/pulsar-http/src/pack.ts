import {
  decodeEnvelope,
  type EnvelopeFields,
  MessageTooLargeError,
  type Outgoing,
  splitBatches,
} from '@switchyard/core/driver';
import { MAX_PAYLOAD_BYTES } from './capabilities.js';
import { encodePayload } from './codec.js';
import { DRIVER } from './errors.js';

// Opt-in packing (envelope mode, `pack` > 1): several envelopes travel in one Pulsar message, so
// sends and acks cost one request per pack instead of one per message. The Pulsar message is
// acknowledged once every message in it is settled; a consumer that dies before that gets the
// whole pack again (at-least-once, like Pulsar's own batches without batch-index acks).

const MARKER = '{"_switchyard_pack":1,"m":[';
const END = ']}';

export interface Packed {
  readonly payload: string;
  /** Indexes (into the sendBatch input) of the messages in this pack, in order. */
  readonly members: readonly number[];
}

/**
 * Groups messages into packs of at most `max` messages and MAX_PAYLOAD_BYTES each. A message
 * that cannot be encoded (too large even alone) gets its error instead of a pack.
 */
export function packMessages(
  messages: readonly Outgoing[],
  max: number,
): { packs: Packed[]; errors: Map<number, Error> } {
  const errors = new Map<number, Error>();
  const room = MAX_PAYLOAD_BYTES - MARKER.length - END.length;
  const encoded: Array<{ index: number; envelope: string; size: number }> = [];
  messages.forEach((message, index) => {
    let envelope: string;
    try {
      envelope = encodePayload(message, 'envelope');
    } catch (error) {
      errors.set(index, error as Error);
      return;
    }
    const size = Buffer.byteLength(envelope, 'utf8') + 1; // with its comma
    if (size > room) {
      errors.set(
        index,
        new MessageTooLargeError(
          `message ${message.id} does not fit a ${MAX_PAYLOAD_BYTES}-byte payload with its pack header`,
          {
            driver: DRIVER,
            details: { limit: MAX_PAYLOAD_BYTES },
          },
        ),
      );
      return;
    }
    encoded.push({ index, envelope, size });
  });
  const packs = splitBatches(encoded, { maxCount: max, maxBytes: room }, (e) => e.size).map((chunk) => ({
    payload: `${MARKER}${chunk.map((e) => e.envelope).join(',')}${END}`,
    members: chunk.map((e) => e.index),
  }));
  return { packs, errors };
}

/** The envelopes of a pack, or undefined when the payload is not one. */
export function unpack(payload: string, messageId: string): EnvelopeFields[] | undefined {
  if (!payload.startsWith(MARKER)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const list = (parsed as { m?: unknown }).m;
  if (!Array.isArray(list)) return undefined;
  return list.map((item, i) => decodeEnvelope(JSON.stringify(item), `${messageId}/${i}`));
}
