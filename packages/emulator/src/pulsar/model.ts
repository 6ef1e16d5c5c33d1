// The Pulsar state the emulator keeps: clusters → namespaces (TDMQ "environments") → topics →
// partitions (append-only entry logs) and subscriptions (one cursor per partition).

export interface Entry {
  readonly entryId: number;
  /** Topic-wide publish order, so a receive across partitions hands out the oldest messages first. */
  readonly seq: number;
  readonly publishTime: number;
  readonly payload: string;
  readonly bytes: number;
}

export interface PartitionLog {
  /** -1 for a non-partitioned topic, else 0..n-1. */
  readonly index: number;
  readonly ledgerId: number;
  nextEntryId: number;
  /** Contiguous by entryId; retention only ever trims the front. */
  entries: Entry[];
  /** Payload bytes of `entries`, kept so size-based retention needs no scan while under its limit. */
  totalBytes: number;
}

/**
 * A shared-subscription cursor on one partition. Every entry below `markDelete` is acknowledged; in
 * [markDelete, readPos) an entry is acked (in `acked`), in flight until a deadline (in `inflight`,
 * clock ms), or due for redelivery (neither). Entries from `readPos` on were never dispatched.
 */
export interface Cursor {
  markDelete: number;
  readPos: number;
  acked: Set<number>;
  inflight: Map<number, number>;
}

export interface Subscription {
  readonly name: string;
  readonly createdAt: number;
  updatedAt: number;
  remark: string;
  cursors: Cursor[];
  deleted: boolean;
}

export interface Topic {
  readonly clusterId: string;
  readonly namespace: string;
  readonly name: string;
  readonly partitioned: boolean;
  /** As requested at creation (1 for a non-partitioned topic). */
  readonly partitions: number;
  readonly pulsarTopicType: number;
  readonly topicType: number;
  remark: string;
  msgTtlSec: number | undefined;
  ackTimeoutSec: number | undefined;
  readonly createdAt: number;
  updatedAt: number;
  parts: PartitionLog[];
  subs: Map<string, Subscription>;
  /** Round-robin partition choice for sends (Pulsar's default router for keyless messages). */
  rr: number;
  deleted: boolean;
}

export interface RetentionPolicy {
  readonly timeInMinutes: number;
  readonly sizeInMB: number;
}

export interface Namespace {
  readonly clusterId: string;
  readonly name: string;
  msgTtlSec: number;
  retention: RetentionPolicy | undefined;
  remark: string;
  readonly createdAt: number;
  updatedAt: number;
  topics: Map<string, Topic>;
}

export interface Cluster {
  readonly id: string;
  readonly name: string;
  remark: string;
  readonly createdAt: number;
  namespaces: Map<string, Namespace>;
}

export function firstEntryId(p: PartitionLog): number {
  return p.entries[0]?.entryId ?? p.nextEntryId;
}

export function entryAt(p: PartitionLog, entryId: number): Entry | undefined {
  const first = p.entries[0];
  if (!first) return undefined;
  return p.entries[entryId - first.entryId];
}

export function newCursor(position: number): Cursor {
  return { markDelete: position, readPos: position, acked: new Set(), inflight: new Map() };
}

/** Folds contiguous acks into markDelete and drops bookkeeping for entries retention has removed. */
export function settleCursor(c: Cursor, p: PartitionLog): void {
  const first = firstEntryId(p);
  if (c.markDelete < first) {
    for (let id = c.markDelete; id < first; id++) {
      c.acked.delete(id);
      c.inflight.delete(id);
    }
    c.markDelete = first;
    if (c.readPos < first) c.readPos = first;
  }
  while (c.markDelete < c.readPos && c.acked.has(c.markDelete)) {
    c.acked.delete(c.markDelete);
    c.markDelete++;
  }
}

/** Entries not yet acknowledged on this partition (dispatched or not). */
export function backlogOf(c: Cursor, p: PartitionLog): number {
  return Math.max(0, p.nextEntryId - c.markDelete - c.acked.size);
}
