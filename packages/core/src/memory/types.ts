/** A message as the memory broker stores it; shared by every subscription it is delivered to. */
export interface StoredMessage {
  readonly id: string;
  readonly body: Uint8Array;
  readonly contentType: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly tags: readonly string[];
  readonly routingKey: string | undefined;
  readonly orderingKey: string | undefined;
  readonly publishedAt: number;
}

/** One message in one subscription. */
export interface Entry {
  readonly message: StoredMessage;
  /** Deliveries so far. */
  attempts: number;
  /** Current delivery's lease; 0 when not in flight. Stale acks carry an old lease. */
  lease: number;
  /** Due time of the current delay or visibility deadline. */
  dueAt: number;
}

/** What a receiver gets: the entry and the lease that settles this delivery. */
export interface Lease {
  readonly entry: Entry;
  readonly lease: number;
}
