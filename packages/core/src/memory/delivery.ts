// The memory driver's deliveries: the stored message's fields, the entry and the lease that settle
// it. The entry is dropped once the delivery is settled, because a received batch can outlive its
// use: a caller whose receive() waited long (one destination among a thousand) gets the batch through a promise that is in the old generation by then, and what the
// batch reaches stays alive through every scavenge until the next mark-compact, each message
// copied twice on the way (docs/bench-profiles.md §20.1 link (b), §28). What a settled message
// still reaches is what that costs.

import type { Delivery } from '../message-types.js';
import type { Entry, StoredMessage } from './types.js';

/** A delivery settles by its entry and the lease it was taken under (a stale lease is ignored). */
export interface MemoryDelivery extends Delivery {
  /** The entry to settle; undefined once this delivery was settled (nothing settles it again). */
  readonly handle: Entry | undefined;
  readonly lease: number;
}

/**
 * One shape for every delivery (keys absent, not omitted), so the portable layer's reads stay
 * monomorphic. A class, like the receipts and the store's entries: objects made by `new` are never
 * pretenured (StoredEntry in subscription.ts says why that matters). Its fields are own fields,
 * copies of the stored message's: deliveries are spread (`{ ...delivery, deliveryAttempt }` by
 * drivers and wrappers that read a count back), and a copy must still read and settle as one.
 */
export class EntryDelivery implements MemoryDelivery {
  readonly id: string;
  readonly body: Uint8Array;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly keys: readonly string[] | undefined;
  readonly tags: readonly string[];
  readonly routingKey: string | undefined;
  readonly orderingKey: string | undefined;
  readonly deliveryAttempt: number | undefined;
  /** The broker counts attempts where it says so; otherwise the entry's number is its identity. */
  readonly attemptKey: string | undefined;
  readonly publishedAt: number | undefined;
  readonly native: StoredMessage;
  /**
   * The entry to settle, until this delivery is settled (settled()): then undefined, so that a
   * settled message something still reaches keeps neither the store's entry nor its deadline.
   * Settling it again is ignored, as a stale lease always was.
   */
  handle: Entry | undefined;
  readonly lease: number;

  constructor(entry: Entry, lease: number, countsAttempts: boolean) {
    const m = entry.message;
    this.id = m.id;
    this.body = m.body;
    this.contentType = m.contentType;
    this.headers = m.headers;
    this.key = m.key;
    this.keys = m.keys;
    this.tags = m.tags;
    this.routingKey = m.routingKey;
    this.orderingKey = m.orderingKey;
    this.deliveryAttempt = countsAttempts ? entry.attempts : undefined;
    this.attemptKey = countsAttempts ? undefined : `m${entry.seq}`;
    this.publishedAt = m.publishedAt;
    this.native = m;
    this.handle = entry;
    this.lease = lease;
  }
}

/**
 * Called by the consumer as it acks, nacks or dead-letters `d`: the delivery (or a spread copy of
 * one) stops holding the entry. A function, not a method: a copy has no prototype of ours.
 */
export function settled(d: { handle: Entry | undefined }): void {
  d.handle = undefined;
}
