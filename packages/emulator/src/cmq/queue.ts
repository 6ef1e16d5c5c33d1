// One queue's messages. Visible messages sit in `ready` (a Map keeps arrival order and deletes in
// O(1)); delayed and in-flight messages sit in a time heap and move back to `ready` when due.
// Expiry (retention, dead-letter TTL) is applied lazily whenever a message is looked at, so the
// queue needs no timers of its own and follows whatever Clock the engine was given.

import { type TimedEntry, TimeHeap } from './heap.js';
import type { QueueSettings, ReceivedMessage } from './types.js';

export interface StoredMessage {
  readonly seq: number;
  readonly msgId: string;
  readonly body: string;
  readonly enqueueAt: number;
  visibleAt: number;
  dequeueCount: number;
  firstDequeueAt: number;
  receiptHandle: string | null;
  gen: number;
  alive: boolean;
}

/** Where a message goes when it leaves the queue without being deleted. */
export type Eviction = 'expired' | 'maxReceiveCount' | 'ttl';

export interface QueueHooks {
  newReceiptHandle(): string;
  evicted(queue: CmqQueue, message: StoredMessage, why: Eviction): void;
  /** A message's stored record changed or it left the queue (for the --state journal). */
  changed(queue: CmqQueue, message: StoredMessage): void;
  /** A change the journal's per-message records cannot express (rewind archive, clear). */
  reshaped(): void;
}

export interface MessageSnapshot {
  seq: number;
  msgId: string;
  body: string;
  enqueueAt: number;
  visibleAt: number;
  dequeueCount: number;
  firstDequeueAt: number;
  receiptHandle: string | null;
}

export class CmqQueue {
  private readonly ready = new Map<number, StoredMessage>();
  private readonly due = new TimeHeap<StoredMessage>();
  private readonly live = new Map<number, StoredMessage>();
  private readonly byHandle = new Map<string, StoredMessage>();
  /** Deleted messages kept for RewindQueue, oldest first. */
  private archive: StoredMessage[] = [];
  private readonly waiters = new Set<() => void>();
  /** Receives long-polling on this queue right now (see CmqEngine.pendingPolls). */
  polls = 0;
  deleted = false;

  constructor(
    readonly queueId: string,
    readonly queueName: string,
    public settings: QueueSettings,
    readonly createAt: number,
    public modifyAt: number,
    private readonly hooks: QueueHooks,
  ) {}

  get size(): number {
    return this.live.size;
  }

  add(message: StoredMessage): void {
    this.live.set(message.seq, message);
    if (message.visibleAt > message.enqueueAt)
      this.pushDue({ at: message.visibleAt, item: message, gen: message.gen });
    else this.ready.set(message.seq, message);
    this.hooks.changed(this, message);
    if (this.waiters.size > 0) this.wake();
  }

  /** Take up to `max` visible messages, making each invisible for visibilityTimeout. */
  take(now: number, max: number): ReceivedMessage[] {
    this.promote(now);
    const out: ReceivedMessage[] = [];
    for (const message of this.ready.values()) {
      if (out.length >= max) break;
      this.ready.delete(message.seq);
      if (this.evictIfExpired(message, now)) continue;
      message.dequeueCount++;
      if (message.firstDequeueAt === 0) message.firstDequeueAt = now;
      message.visibleAt = now + this.settings.visibilityTimeout * 1000;
      message.gen++;
      if (message.receiptHandle !== null) this.byHandle.delete(message.receiptHandle);
      message.receiptHandle = this.hooks.newReceiptHandle();
      this.byHandle.set(message.receiptHandle, message);
      this.pushDue({ at: message.visibleAt, item: message, gen: message.gen });
      this.hooks.changed(this, message);
      out.push(toReceived(message));
    }
    return out;
  }

  /** True when the handle named the latest receive of a live message still inside its visibility window. */
  delete(handle: string, now: number): boolean {
    const message = this.byHandle.get(handle);
    if (message === undefined || !message.alive || message.visibleAt <= now) return false;
    this.byHandle.delete(handle);
    this.remove(message);
    if (this.settings.rewindSeconds > 0) {
      this.archive.push(message);
      this.pruneArchive(now);
      this.hooks.reshaped();
    }
    return true;
  }

  /** Make every message produced at or after `startAt` consumable again, in production order. */
  rewind(startAt: number, now: number): number {
    this.hooks.reshaped();
    this.pruneArchive(now);
    const restored = this.archive.filter((m) => m.enqueueAt >= startAt);
    this.archive = this.archive.filter((m) => m.enqueueAt < startAt);
    for (const message of restored) {
      message.alive = true;
      message.receiptHandle = null;
      this.live.set(message.seq, message);
    }
    const visible = [...this.live.values()].filter((m) => m.enqueueAt >= startAt || m.visibleAt <= now);
    visible.sort((a, b) => a.seq - b.seq);
    for (const message of visible) {
      if (message.receiptHandle !== null) this.byHandle.delete(message.receiptHandle);
      message.receiptHandle = null;
      message.visibleAt = now;
      message.gen++;
    }
    this.ready.clear();
    for (const message of visible) this.ready.set(message.seq, message);
    if (visible.length > 0) this.wake();
    return restored.length;
  }

  /** Drop every message, in flight or not, and the rewind archive. */
  clear(): number {
    this.hooks.reshaped();
    const dropped = this.live.size;
    for (const message of this.live.values()) message.alive = false;
    this.live.clear();
    this.ready.clear();
    this.byHandle.clear();
    this.due.clear();
    this.archive = [];
    return dropped;
  }

  /** Time (clock ms) when the next delayed or in-flight message becomes visible, if any. */
  nextDueAt(): number | undefined {
    return this.due.peek()?.at;
  }

  counts(now: number): {
    active: number;
    inactive: number;
    delayed: number;
    minEnqueueAt: number;
    rewindable: number;
  } {
    this.promote(now);
    let active = 0;
    let inactive = 0;
    let delayed = 0;
    let minEnqueueAt = 0;
    for (const message of [...this.live.values()]) {
      if (this.evictIfExpired(message, now)) continue;
      if (message.visibleAt <= now) active++;
      else if (message.dequeueCount > 0) inactive++;
      else delayed++;
      if (minEnqueueAt === 0 || message.enqueueAt < minEnqueueAt) minEnqueueAt = message.enqueueAt;
    }
    this.pruneArchive(now);
    return { active, inactive, delayed, minEnqueueAt, rewindable: this.archive.length };
  }

  waitForChange(): { promise: Promise<void>; cancel(): void } {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    this.waiters.add(resolve);
    return { promise, cancel: () => this.waiters.delete(resolve) };
  }

  wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  snapshot(): { live: MessageSnapshot[]; archive: MessageSnapshot[] } {
    return { live: [...this.live.values()].map(strip), archive: this.archive.map(strip) };
  }

  restore(live: readonly MessageSnapshot[], archive: readonly MessageSnapshot[]): void {
    for (const m of live) this.put(m);
    this.archive = archive.map((m) => ({ ...m, gen: 0, alive: false }));
  }

  /** The live message `seq` as the snapshot stores it, or null once it left the queue. */
  record(seq: number): MessageSnapshot | null {
    const message = this.live.get(seq);
    return message === undefined ? null : strip(message);
  }

  /** Journal replay: the live message `seq` becomes `record` (null: it left the queue). */
  replace(seq: number, record: MessageSnapshot | null): void {
    const old = this.live.get(seq);
    if (old !== undefined) {
      old.alive = false;
      this.live.delete(seq);
      this.ready.delete(seq);
      if (old.receiptHandle !== null) this.byHandle.delete(old.receiptHandle);
    }
    if (record !== null) this.put(record);
  }

  private put(m: MessageSnapshot): void {
    const message: StoredMessage = { ...m, gen: 0, alive: true };
    this.live.set(message.seq, message);
    if (message.receiptHandle !== null) this.byHandle.set(message.receiptHandle, message);
    // Due at once when visible: promote() moves it to `ready` on the next look.
    this.pushDue({ at: message.visibleAt, item: message, gen: 0 });
  }

  /** Timed entries held, stale ones included (diagnostics and tests). */
  get timedEntries(): number {
    return this.due.size;
  }

  private pushDue(entry: TimedEntry<StoredMessage>): void {
    this.due.push(entry);
    this.sweepDue();
  }

  /**
   * A deleted or re-received message leaves its old entry in `due` until its visibility time comes
   * and the queue is read again: a queue read to empty and then left kept every message it ever
   * delivered, bodies included (≈ 600 B each in the bench's CMQ rounds, docs/bench-profiles.md §27).
   * Sweep when stale entries could outnumber live messages; each sweep is paid for by the more
   * than `live.size` pushes or removals since the last one.
   */
  private sweepDue(): void {
    if (this.due.size <= 2 * this.live.size + DUE_SLACK) return;
    this.due.retain((entry) => entry.item.alive && entry.item.gen === entry.gen);
  }

  private promote(now: number): void {
    for (let top = this.due.peek(); top !== undefined && top.at <= now; top = this.due.peek()) {
      this.due.pop();
      const message = top.item;
      if (!message.alive || message.gen !== top.gen) continue;
      if (message.receiptHandle !== null) {
        this.byHandle.delete(message.receiptHandle);
        message.receiptHandle = null;
      }
      const policy = this.settings.deadLetterPolicy;
      if (
        policy?.policy === 0 &&
        policy.maxReceiveCount !== undefined &&
        message.dequeueCount >= policy.maxReceiveCount
      ) {
        this.remove(message);
        this.hooks.evicted(this, message, 'maxReceiveCount');
        continue;
      }
      this.ready.set(message.seq, message);
    }
  }

  private evictIfExpired(message: StoredMessage, now: number): boolean {
    if (message.enqueueAt + this.settings.msgRetentionSeconds * 1000 <= now) {
      this.remove(message);
      this.hooks.evicted(this, message, 'expired');
      return true;
    }
    const policy = this.settings.deadLetterPolicy;
    if (
      policy?.policy === 1 &&
      policy.maxTimeToLive !== undefined &&
      message.enqueueAt + policy.maxTimeToLive * 1000 <= now
    ) {
      this.remove(message);
      this.hooks.evicted(this, message, 'ttl');
      return true;
    }
    return false;
  }

  private remove(message: StoredMessage): void {
    message.alive = false;
    this.live.delete(message.seq);
    this.ready.delete(message.seq);
    if (message.receiptHandle !== null) this.byHandle.delete(message.receiptHandle);
    this.hooks.changed(this, message);
    this.sweepDue();
  }

  private pruneArchive(now: number): void {
    const horizon = now - this.settings.rewindSeconds * 1000;
    if (this.archive.some((m) => m.enqueueAt < horizon)) {
      this.archive = this.archive.filter((m) => m.enqueueAt >= horizon);
    }
  }
}

function strip(m: StoredMessage): MessageSnapshot {
  return {
    seq: m.seq,
    msgId: m.msgId,
    body: m.body,
    enqueueAt: m.enqueueAt,
    visibleAt: m.visibleAt,
    dequeueCount: m.dequeueCount,
    firstDequeueAt: m.firstDequeueAt,
    receiptHandle: m.receiptHandle,
  };
}

/** Stale timed entries a queue may hold beyond twice its live messages before it sweeps them. */
const DUE_SLACK = 1024;

const toSeconds = (ms: number): number => Math.floor(ms / 1000);

function toReceived(m: StoredMessage): ReceivedMessage {
  return {
    msgId: m.msgId,
    msgBody: m.body,
    receiptHandle: m.receiptHandle ?? '',
    enqueueTime: toSeconds(m.enqueueAt),
    firstDequeueTime: toSeconds(m.firstDequeueAt),
    nextVisibleTime: toSeconds(m.visibleAt),
    dequeueCount: m.dequeueCount,
  };
}
