import type { OutgoingMessage } from '@switchyard/core';

/** One claimed outbox row, as the relay publishes it. */
export interface OutboxRow {
  readonly id: string;
  readonly destination: string;
  readonly lane: string | null;
  readonly message: OutgoingMessage & { headers: Record<string, string> };
  /** Seconds since the transaction that added it, when claimed (the database's clock). */
  readonly ageSeconds: number;
  /** performance.now() when claimed: with ageSeconds, the lag at the broker's confirm. */
  readonly claimedAt: number;
}

export function toRow(raw: Record<string, unknown>): OutboxRow {
  const message: OutboxRow['message'] = {
    id: raw.message_id as string,
    body: raw.body as Uint8Array,
    contentType: raw.content_type as string,
    headers: (raw.headers ?? {}) as Record<string, string>,
  };
  if (raw.key !== null) message.key = raw.key as string;
  if (raw.keys !== null) message.keys = raw.keys as string[];
  if (raw.tags !== null) message.tags = raw.tags as string[];
  if (raw.routing_key !== null) message.routingKey = raw.routing_key as string;
  if (raw.ordering_key !== null) message.orderingKey = raw.ordering_key as string;
  // bigserial arrives as a string: ids past 2^53 stay exact.
  return {
    id: String(raw.id),
    destination: raw.destination as string,
    lane: raw.lane as string | null,
    message,
    ageSeconds: Number(raw.age ?? 0),
    claimedAt: performance.now(),
  };
}
