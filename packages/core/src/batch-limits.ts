// Batch limits by count and bytes, cut in one place (gocloud's pubsub/batcher declares both limits
// once and splits centrally). The Producer cuts its queue with these; a driver whose wire encoding
// grows messages (CMQ envelopes) or that must keep request-wide parameters apart (one CMQ
// delaySeconds or tag set per request) cuts its encoded items again with the same function.

import type { Outgoing } from './message-types.js';

export interface BatchLimits {
  /** Most items in one batch. */
  readonly maxCount: number;
  /** Most bytes in one batch; an item larger than this alone still goes, alone. */
  readonly maxBytes: number;
}

/**
 * The portable size of a message: its body and every string that travels with it (header names
 * and values, keys, tags, routing and ordering keys), as UTF-8. What a driver adds on the wire
 * (envelope JSON, base64, AMQP framing) is not counted: a driver that encodes larger splits again.
 */
export function outgoingBytes(message: Outgoing): number {
  let bytes = message.bodyBytes ?? message.body.byteLength;
  for (const name in message.headers) bytes += utf8Bytes(name) + utf8Bytes(message.headers[name]!);
  // Indexed loops: measured once per message sent to a byte-limited driver (the Producer's batch
  // cut), where an array iterator per loop was a builtin call each (§26.3).
  const { keys, tags } = message;
  if (keys !== undefined) for (let i = 0; i < keys.length; i++) bytes += utf8Bytes(keys[i]!);
  else if (message.key !== undefined) bytes += utf8Bytes(message.key);
  for (let i = 0; i < tags.length; i++) bytes += utf8Bytes(tags[i]!);
  if (message.routingKey !== undefined) bytes += utf8Bytes(message.routingKey);
  if (message.orderingKey !== undefined) bytes += utf8Bytes(message.orderingKey);
  return bytes;
}

/**
 * Where the batch that starts at `start` ends (exclusive): at most `maxCount` items and, unless
 * the first item alone is larger, at most `maxBytes`. Always takes at least one item, so a batch
 * never stalls on a message larger than the limit (the broker's per-message check answers it).
 */
export function batchEnd<T>(
  items: readonly T[],
  start: number,
  limits: BatchLimits,
  bytesOf: (item: T) => number,
): number {
  const last = Math.min(items.length, start + limits.maxCount);
  if (limits.maxBytes === Number.POSITIVE_INFINITY) return last;
  let end = start;
  let bytes = 0;
  while (end < last) {
    const size = bytesOf(items[end]!);
    if (end > start && bytes + size > limits.maxBytes) break;
    bytes += size;
    end++;
  }
  return end;
}

/**
 * Cuts `items` into batches within `limits`. With `keyOf`, items with different keys never share
 * a batch (request-wide parameters such as one delay per request); groups keep first-seen order
 * and items keep their order within a group.
 */
export function splitBatches<T>(
  items: readonly T[],
  limits: BatchLimits,
  bytesOf: (item: T) => number,
  keyOf?: (item: T) => string,
): T[][] {
  const groups = new Map<string, T[]>();
  if (keyOf === undefined) groups.set('', [...items]);
  else
    for (const item of items) {
      const key = keyOf(item);
      const group = groups.get(key);
      if (group === undefined) groups.set(key, [item]);
      else group.push(item);
    }
  const out: T[][] = [];
  for (const group of groups.values()) {
    for (let start = 0; start < group.length; ) {
      const end = batchEnd(group, start, limits, bytesOf);
      out.push(group.slice(start, end));
      start = end;
    }
  }
  return out;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
