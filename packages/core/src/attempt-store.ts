// The durable delivery count a consumer group shares across processes, for brokers that report
// no count a crash cannot reset (Pulsar over the HTTP API, RocketMQ 4.x Remoting): the contract a
// store implements (@switchyard/dedupe has Redis and PostgreSQL ones), and how a consumer uses it.

import type { Delivery } from './message-types.js';

/**
 * Counts deliveries per key, durably and shared by every consumer process of a group, so a message
 * that crashes its process (OOM, native crash, SIGKILL) is still dead-lettered after
 * `maxDeliveries`. Pass one as the consumer option `attemptStore`.
 *
 * Keys are opaque strings the consumer builds from the source, the group and the broker's own
 * identity of the stored message (never a sender-chosen id).
 */
export interface AttemptStore {
  /**
   * Adds one to each key's count (a new key starts at 1) and resolves with the new counts, in the
   * order of `keys`, only once they are durable: the consumer hands the messages to handlers after
   * that. One round trip per call (a consumer calls it once per receive). Each key expires some time
   * after its last increment (the store's TTL), so keys nobody forgets do not grow without bound.
   * Rejecting fails the receive: its messages go back to the broker, unhandled.
   */
  increment(keys: readonly string[]): Promise<number[]>;
  /** Drops the keys' counts (after an ack or a dead-letter move). A failure only leaves them to expire. */
  forget(keys: readonly string[]): Promise<void>;
}

/** A delivery's store key: source, group and the broker identity, so groups count apart. */
export function attemptStoreKey(source: string, group: string, attemptKey: string): string {
  return `${encodeURIComponent(source)}/${encodeURIComponent(group)}/${attemptKey}`;
}

/**
 * Each delivery's attempt from the store: carried − 1 + the store's count for its position. The
 * carried count (`deliveryAttempt`, from the broker or a retry copy) keeps earlier positions'
 * attempts; the store counts handouts of this position, which a crash does not reset. Undefined for a
 * delivery without an `attemptKey` (it keeps the driver's count).
 */
export async function countAttempts(
  store: AttemptStore,
  deliveries: readonly Delivery[],
  source: string,
  group: string,
): Promise<(number | undefined)[]> {
  const keys: string[] = [];
  for (const d of deliveries) {
    if (d.attemptKey !== undefined) keys.push(attemptStoreKey(source, group, d.attemptKey));
  }
  if (keys.length === 0) return deliveries.map(() => undefined);
  const counts = await store.increment(keys);
  if (!Array.isArray(counts) || counts.length !== keys.length || !counts.every(isCount)) {
    throw new TypeError(
      `attemptStore.increment returned ${describe(counts)} for ${keys.length} keys; it must resolve with one whole number ≥ 1 per key, in order`,
    );
  }
  let next = 0;
  return deliveries.map((d) =>
    d.attemptKey === undefined ? undefined : (d.deliveryAttempt ?? 1) - 1 + counts[next++]!,
  );
}

/** True when `value` has the two methods of an AttemptStore (the consumer option's check). */
export function isAttemptStore(value: unknown): value is AttemptStore {
  const v = value as Partial<AttemptStore> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.increment === 'function' && typeof v.forget === 'function'
  );
}

function isCount(n: unknown): boolean {
  return Number.isInteger(n) && (n as number) >= 1;
}

function describe(value: unknown): string {
  return Array.isArray(value) ? `an array of ${value.length}` : typeof value;
}
