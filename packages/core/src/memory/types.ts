import type { Outgoing } from '../message-types.js';

/** A message as the memory broker stores it; shared by every subscription it is delivered to. */
export type StoredMessage = Omit<Outgoing, 'delayMs'>;

/** One message in one subscription. */
export interface Entry {
  readonly message: StoredMessage;
  /** Unique per entry: the `minimal` profile's broker-assigned identity for attempt counting. */
  readonly seq: number;
  /** Deliveries so far. */
  attempts: number;
  /** Current delivery's lease; 0 when not in flight. Stale acks carry an old lease. */
  lease: number;
  /** Due time of the current delay or visibility deadline. */
  dueAt: number;
  /** The current deadline is in the heap (extended, or an unusual visibility), not in lease order. */
  irregular: boolean;
}

/** What a receiver gets: the entry and the lease that settles this delivery. */
export interface Lease extends Leased {
  readonly handle: Entry;
}

/**
 * What a subscription keeps of each delivery it handed out: the handle is undefined once the
 * delivery was settled (a memory delivery drops its entry then: delivery.ts).
 */
export interface Leased {
  readonly handle: Entry | undefined;
  readonly lease: number;
}
