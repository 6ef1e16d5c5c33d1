// Splitting a driver batch into CMQ requests: at most 16 bodies per BatchSendMessage /
// BatchPublishMessage, at most 1 MiB of bodies per request, and one request per set of
// batch-wide parameters (delaySeconds for queues; tags and routing key for topics).

export const MAX_BATCH_COUNT = 16;
export const MAX_BATCH_BYTES = 1_048_576;

export interface Sized {
  /** Position in the driver batch. */
  readonly index: number;
  readonly text: string;
  readonly bytes: number;
  /** Items with different keys never share a request. */
  readonly key: string;
}

/** Groups by key (first-seen order), then cuts each group by count and total bytes. */
export function splitBatches<T extends Sized>(
  items: readonly T[],
  maxCount = MAX_BATCH_COUNT,
  maxBytes = MAX_BATCH_BYTES,
): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.key);
    if (group === undefined) groups.set(item.key, [item]);
    else group.push(item);
  }
  const out: T[][] = [];
  for (const group of groups.values()) {
    let current: T[] = [];
    let bytes = 0;
    for (const item of group) {
      if (current.length > 0 && (current.length >= maxCount || bytes + item.bytes > maxBytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += item.bytes;
    }
    if (current.length > 0) out.push(current);
  }
  return out;
}
