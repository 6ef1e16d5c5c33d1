// The Remoting view of the shared RocketMQ store: 4.x clients address messages by (topic, queue
// id, queue offset) and by commit-log offset, while the engine keeps one log per topic. This index
// gives each visible message a queue and a queue offset in the order it became visible, as a 4.x
// broker's consume queues do: a delayed message or a half transaction enters its queue when it is
// delivered or committed, not when it was stored. The commit-log offset is the engine's `seq`
// (global and monotonic). The index is derived, never persisted: it is rebuilt from the log.

import { tagsHashCode } from '@switchyard/rocketmq-remoting';
import type { RocketMqEngine } from '../rocketmq/engine.js';
import type { StoredMessage } from '../rocketmq/model.js';

export interface QueueEntry {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly message: StoredMessage;
}

interface TopicIndex {
  /** The engine's log array this index was built from; a new array (delete, restore) rebuilds. */
  log: readonly StoredMessage[];
  scanned: number;
  readonly queues: QueueEntry[][];
  /** Stored but not yet visible (delayed or an open transaction), by log offset. */
  readonly pending: Map<number, StoredMessage>;
}

export class QueueIndex {
  private readonly topics = new Map<string, TopicIndex>();
  private readonly bySeq = new Map<number, QueueEntry>();

  /** Stops the engine telling this index about dropped topics (close()). */
  private readonly unsubscribe: () => void;

  constructor(private readonly engine: RocketMqEngine) {
    // A deleted topic's index (its log and every message, bodies included) and its entries in
    // `bySeq` would otherwise stay until the same name was looked up again, and the `bySeq`
    // entries for good: nothing can reach them once the log is gone.
    this.unsubscribe = engine.onTopicDropped((topic) => {
      if (topic !== undefined) this.forget(topic);
      else {
        this.topics.clear();
        this.bySeq.clear();
      }
    });
  }

  /**
   * The broker in front of the engine stopped: the engine (which may outlive it, and serve a
   * restarted broker) no longer holds this index and every message it indexed through its listener.
   */
  close(): void {
    this.unsubscribe();
    this.topics.clear();
    this.bySeq.clear();
  }

  /** Messages indexed by commit-log offset, over every topic (diagnostics and tests). */
  get indexedMessages(): number {
    return this.bySeq.size;
  }

  /** Queues the route advertises for a topic (the engine's `queues`). */
  queueCount(topic: string): number {
    return this.engine.getTopic(topic)?.queues ?? 0;
  }

  /** The entries of one queue, brought up to date first. */
  queue(topic: string, queueId: number): readonly QueueEntry[] {
    return this.refresh(topic)?.queues[queueId] ?? [];
  }

  /** Next offset to be written in the queue (GET_MAX_OFFSET). */
  maxOffset(topic: string, queueId: number): number {
    return this.queue(topic, queueId).length;
  }

  /** Messages stored in the topic that are not visible yet (delayed, or an open transaction). */
  pendingCount(topic: string): number {
    return this.refresh(topic)?.pending.size ?? 0;
  }

  /** When the earliest pending message of the topic becomes visible (Infinity if none). */
  nextVisibleAt(topic: string): number {
    const index = this.refresh(topic);
    let next = Number.POSITIVE_INFINITY;
    for (const m of index?.pending.values() ?? []) {
      if (m.deliveryTimestamp !== undefined) next = Math.min(next, m.deliveryTimestamp);
    }
    return next;
  }

  /** A message by commit-log offset, wherever it is (CONSUMER_SEND_MSG_BACK). */
  byCommitLogOffset(seq: number): QueueEntry | undefined {
    const hit = this.bySeq.get(seq);
    if (hit !== undefined && this.engine.messages(hit.topic)[hit.message.offset] === hit.message) return hit;
    for (const t of this.engine.listTopics()) this.refresh(t.name);
    return this.bySeq.get(seq);
  }

  /** The queue offset whose store time is closest to `timestamp` (SEARCH_OFFSET_BY_TIMESTAMP). */
  searchByTimestamp(topic: string, queueId: number, timestamp: number): number {
    const entries = this.queue(topic, queueId);
    let best = 0;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const e of entries) {
      const distance = Math.abs(visibleAt(e.message) - timestamp);
      if (distance < bestDistance) {
        best = e.queueOffset;
        bestDistance = distance;
      }
    }
    return best;
  }

  private refresh(topic: string): TopicIndex | undefined {
    const info = this.engine.getTopic(topic);
    if (info === undefined) {
      this.forget(topic);
      return undefined;
    }
    const log = this.engine.messages(topic);
    let index = this.topics.get(topic);
    if (index === undefined || index.log !== log || index.scanned > log.length) {
      this.forget(topic);
      index = { log, scanned: 0, queues: [], pending: new Map() };
      this.topics.set(topic, index);
    }
    while (index.queues.length < info.queues) index.queues.push([]);
    const now = this.engine.clock.now();
    // Pending ones first: they became visible before anything stored after the last refresh.
    const due = [...index.pending.values()]
      .filter((m) => state(m, now) === 'visible')
      .sort((a, b) => visibleAt(a) - visibleAt(b) || a.seq - b.seq);
    for (const m of due) {
      index.pending.delete(m.offset);
      this.admit(topic, index, m);
    }
    for (const m of index.pending.values()) if (state(m, now) === 'dropped') index.pending.delete(m.offset);
    for (; index.scanned < log.length; index.scanned++) {
      const m = log[index.scanned]!;
      const s = state(m, now);
      if (s === 'visible') this.admit(topic, index, m);
      else if (s === 'pending') index.pending.set(m.offset, m);
    }
    return index;
  }

  /** Drops a topic's index and its messages' commit-log entries: O(its entries), once per topic. */
  private forget(topic: string): void {
    const index = this.topics.get(topic);
    if (index === undefined) return;
    this.topics.delete(topic);
    for (const queue of index.queues) {
      for (const entry of queue)
        if (this.bySeq.get(entry.message.seq) === entry) this.bySeq.delete(entry.message.seq);
    }
  }

  private admit(topic: string, index: TopicIndex, m: StoredMessage): void {
    const n = Math.max(1, index.queues.length);
    const wanted =
      m.queueId ?? (m.messageGroup !== undefined ? tagsHashCode(m.messageGroup) >>> 0 : m.offset);
    const queueId = wanted % n;
    const queue = index.queues[queueId] ?? [];
    index.queues[queueId] = queue;
    const entry: QueueEntry = { topic, queueId, queueOffset: queue.length, message: m };
    queue.push(entry);
    this.bySeq.set(m.seq, entry);
  }
}

function visibleAt(m: StoredMessage): number {
  return Math.max(m.storeTimestamp, m.deliveryTimestamp ?? 0);
}

function state(m: StoredMessage, now: number): 'visible' | 'pending' | 'dropped' {
  if (m.tx === 'rolledback') return 'dropped';
  if (m.tx === 'prepared') return 'pending';
  if (m.deliveryTimestamp !== undefined && m.deliveryTimestamp > now) return 'pending';
  return 'visible';
}
