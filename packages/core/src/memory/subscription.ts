import { Deque } from '../deque.js';
import type { DriverFilter } from '../driver.js';
import { filterMatches } from '../patterns.js';
import { Waiters, type Woken } from '../waiters.js';
import { TimeHeap } from './heap.js';
import type { Entry, Lease, Leased, StoredMessage } from './types.js';

/** Entries made so far, process-wide: an entry's number is its broker-assigned identity. */
let entries = 0;

const toLease = (entry: Entry, lease: number): Lease => ({ handle: entry, lease });

/**
 * An entry is made by a constructor, not an object literal: V8 pretenures a literal's allocation
 * site once enough of its objects outlive a scavenge — as entries do early in a process, while the
 * young generation is still small — and never goes back, so every later entry was born in the old
 * generation and left there for a mark-compact to free (one in three fresh processes over 1,000
 * destinations stayed that way: 420–470 B per message reached the old generation instead of 19;
 * docs/bench-profiles.md §20.1). Objects made by `new` are never pretenured.
 */
class StoredEntry implements Entry {
  readonly message: StoredMessage;
  readonly seq: number;
  attempts = 0;
  lease = 0;
  dueAt: number;
  irregular = false;

  constructor(message: StoredMessage, seq: number, dueAt: number) {
    this.message = message;
    this.seq = seq;
    this.dueAt = dueAt;
  }
}

/**
 * What take() returns when nothing is deliverable, instead of a new empty array. receiveBatch waits
 * holding what take() returned: with many idle consumers those empty arrays outlived scavenges,
 * so V8 pretenured take()'s allocation site and every later result array was born in the old
 * generation; filled with young deliveries and dropped, each kept its deliveries (and their
 * entries and messages) alive through every scavenge until the next full GC, which made a
 * 1,000-destination run promote all it sent (docs/bench-profiles.md). Frozen: never written.
 */
const NOTHING = Object.freeze([]) as never[];

interface Due {
  readonly at: number;
  readonly entry: Entry;
  /** The lease this deadline belongs to (0 for a delay); a different current lease means stale. */
  readonly lease: number;
}

export interface DeadLetterPolicy {
  readonly maxDeliveries: number;
  readonly move: (entry: Entry, reason: string) => void;
}

/**
 * One consumer group's view of a topic: competing consumers share it. Models what the TDMQ
 * flavours do: visibility timeouts (an un-acked delivery comes back), nack with delay, delayed
 * messages, delivery counts, dead-lettering after N deliveries, and FIFO per ordering key — a
 * message group is locked from its message's first delivery until that message is acked or
 * dead-lettered, so later messages of the group wait even across redeliveries (RocketMQ FIFO).
 */
export class Subscription {
  readonly group: string;
  filter: DriverFilter;
  deadLetter: DeadLetterPolicy | undefined;
  /**
   * FIFO per ordering key, as RocketMQ FIFO groups hold it. Off for the `minimal` profile, which
   * claims no ordering: it hands out a key's messages together, as a plain queue would.
   */
  holdsKeys = true;
  readonly #ready = new Deque<Entry>();
  /** Entries unblocked by an ack of their group's head; served before `ready`. */
  readonly #front: Entry[] = [];
  /** Delays, and visibility deadlines that are not in lease order (see #inFlight). */
  readonly #due = new TimeHeap<Due>();
  /**
   * What take() handed out (each knows its entry and the lease it was taken under), in delivery
   * order: one queue, so a delivery costs one push and one shift here. Deliveries with the
   * subscription's usual visibility have non-decreasing deadlines in this order, so expiry scans
   * from the front and stops at the first live deadline (no per-delivery timer object). A settle
   * needs no lookup — an entry is in flight under `lease` exactly when `entry.lease === lease` — so
   * settled ones stay here until the front passes them or #compactLeased drops them.
   */
  readonly #leased = new Deque<Leased>();
  #inFlight = 0;
  #usualVisibilityMs: number | undefined;
  /**
   * Made on first use, as #blocked and #waiters: a destination without ordering keys or waiting
   * receivers holds none of them (1,000 open destinations held 1,000 of each, and every full GC
   * walks them).
   */
  #locks: Map<string, Entry> | undefined;
  #blocked: Map<string, Entry[]> | undefined;
  #waiters: Waiters | undefined;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #stale = 0;
  #nextLease = 1;
  #deleted = false;

  constructor(group: string, filter: DriverFilter) {
    this.group = group;
    this.filter = filter;
  }

  get backlog(): number {
    return this.#ready.length + this.#front.length + this.#blockedCount() + this.#delayedCount();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get deleted(): boolean {
    return this.#deleted;
  }

  matches(message: StoredMessage): boolean {
    return filterMatches(this.filter, message);
  }

  enqueue(message: StoredMessage, availableAt: number, now: number): void {
    const entry = new StoredEntry(message, ++entries, availableAt);
    if (availableAt > now) this.#schedule({ at: availableAt, entry, lease: 0 });
    else this.#makeReady(entry);
  }

  /**
   * Takes up to `max` deliverable entries and leases them for `visibilityMs`; `as` turns each into
   * what the caller hands out, so a receive builds one object per message. Nothing to take returns
   * one shared frozen empty array (NOTHING).
   */
  take(max: number, visibilityMs: number, now: number): Lease[];
  take<T extends Leased>(
    max: number,
    visibilityMs: number,
    now: number,
    as: (entry: Entry, lease: number) => T,
  ): T[];
  take<T extends Leased>(
    max: number,
    visibilityMs: number,
    now: number,
    as: (entry: Entry, lease: number) => T = toLease as never,
  ): T[] {
    this.#promoteDue(now);
    const waiting = this.#front.length + this.#ready.length;
    if (waiting === 0 || max < 1) return NOTHING;
    // Sized for what is waiting (blocked keys and dead letters may leave it shorter): no regrowth.
    const out = new Array<T>(Math.min(max, waiting));
    let taken = 0;
    while (taken < out.length) {
      const entry = this.#front.shift() ?? this.#ready.shift();
      if (entry === undefined) break;
      const key = this.holdsKeys ? entry.message.orderingKey : undefined;
      if (key !== undefined) {
        this.#locks ??= new Map();
        const owner = this.#locks.get(key);
        if (owner !== undefined && owner !== entry) {
          this.#blocked ??= new Map();
          const queue = this.#blocked.get(key);
          if (queue === undefined) this.#blocked.set(key, [entry]);
          else queue.push(entry);
          continue;
        }
        this.#locks.set(key, entry);
      }
      if (this.deadLetter !== undefined && entry.attempts >= this.deadLetter.maxDeliveries) {
        this.#finish(entry);
        this.deadLetter.move(
          entry,
          `delivered ${entry.attempts} times without an ack (maxDeliveries ${this.deadLetter.maxDeliveries})`,
        );
        continue;
      }
      entry.attempts++;
      entry.lease = this.#nextLease++;
      entry.dueAt = now + visibilityMs;
      this.#usualVisibilityMs ??= visibilityMs;
      entry.irregular = visibilityMs !== this.#usualVisibilityMs;
      this.#inFlight++;
      if (entry.irregular) this.#schedule({ at: entry.dueAt, entry, lease: entry.lease });
      // What the caller hands out is what the leased queue keeps: it knows its entry and lease.
      const leased = as(entry, entry.lease);
      this.#leased.push(leased);
      out[taken++] = leased;
    }
    if (taken === 0) return NOTHING;
    if (taken < out.length) out.length = taken;
    this.#armTimer();
    return out;
  }

  /**
   * Up to `max` entries the next takes would hand out, in their order, left where they are: no
   * lease, no attempt counted (the CLI's peek). A key's later messages wait behind its head as in
   * take; delays whose time came but no timer has promoted yet are not seen.
   */
  peek(max: number): Entry[] {
    const out: Entry[] = [];
    const seenKeys = new Set<string>();
    for (const queue of [this.#front, this.#ready]) {
      for (const entry of queue) {
        if (out.length >= max) return out;
        const key = this.holdsKeys ? entry.message.orderingKey : undefined;
        if (key !== undefined) {
          const owner = this.#locks?.get(key);
          if ((owner !== undefined && owner !== entry) || seenKeys.has(key)) continue;
          seenKeys.add(key);
        }
        out.push(entry);
      }
    }
    return out;
  }

  /** Ends every wait now (their receivers look again). */
  wakeAll(): void {
    this.#waiters?.wakeAll();
  }

  /** Waits until something may be deliverable, `ms` pass, or `signal` aborts. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    this.#waiters ??= new Waiters();
    return this.#waiters.wait(ms, signal);
  }

  /** As wait(), calling `target.woken()` (synchronously, from whatever woke it) instead. */
  waitFor(target: Woken, ms: number): void {
    this.#waiters ??= new Waiters();
    this.#waiters.waitFor(target, ms);
  }

  /** Settles a delivery for good. Stale or repeated acks are ignored (the message may come again). */
  ack(entry: Entry, lease: number): Entry | undefined {
    if (!this.#settle(entry, lease)) return undefined;
    this.#finish(entry);
    this.#compact();
    return entry;
  }

  nack(entry: Entry, lease: number, delayMs: number, now: number): void {
    if (!this.#settle(entry, lease)) return;
    entry.lease = 0;
    if (delayMs > 0) {
      entry.dueAt = now + delayMs;
      this.#schedule({ at: entry.dueAt, entry, lease: 0 });
    } else {
      this.#makeReady(entry);
    }
  }

  extend(entry: Entry, lease: number, ms: number, now: number): void {
    if (lease === 0 || entry.lease !== lease) return;
    if (entry.irregular) this.#stale++;
    entry.irregular = true;
    entry.dueAt = now + ms;
    this.#schedule({ at: entry.dueAt, entry, lease });
  }

  delete(): void {
    this.#deleted = true;
    clearTimeout(this.#timer);
    this.#wakeAll();
  }

  /** Ends the delivery under `lease` if it is still in flight; false for a stale or repeated settle. */
  #settle(entry: Entry, lease: number): boolean {
    if (lease === 0 || entry.lease !== lease) return false;
    this.#inFlight--;
    if (entry.irregular) this.#stale++;
    // Marked settled at once, so the leased queue sees it as stale (#finish may run later).
    entry.lease = 0;
    // Settled deliveries hold their message bodies: acks in delivery order leave from the front at
    // once (no timer or take may come during a burst), and out-of-order ones by compaction.
    this.#dropSettledFront();
    if (this.#leased.length > 2 * this.#inFlight + 64) this.#compactLeased();
    return true;
  }

  /** Drops settled deliveries from the leased queue when they outnumber live ones. */
  #compactLeased(): void {
    for (const leased of this.#leased.drain())
      if (leased.handle?.lease === leased.lease) this.#leased.push(leased);
  }

  #dropSettledFront(): void {
    for (let leased = this.#leased.peek(); leased !== undefined; leased = this.#leased.peek()) {
      if (leased.handle?.lease === leased.lease) return;
      this.#leased.shift();
    }
  }

  /**
   * The oldest delivery still in flight with the usual visibility, after dropping settled ones and
   * irregular ones (their deadline is in the heap) from the front.
   */
  #oldestRegular(): Entry | undefined {
    for (let leased = this.#leased.peek(); leased !== undefined; leased = this.#leased.peek()) {
      const entry = leased.handle;
      if (entry !== undefined && entry.lease === leased.lease && !entry.irregular) return entry;
      this.#leased.shift();
    }
    return undefined;
  }

  #finish(entry: Entry): void {
    entry.lease = 0;
    const key = entry.message.orderingKey;
    if (key === undefined || this.#locks?.get(key) !== entry) return;
    this.#locks.delete(key);
    const queue = this.#blocked?.get(key);
    const next = queue?.shift();
    if (queue !== undefined && queue.length === 0) this.#blocked?.delete(key);
    if (next !== undefined) {
      this.#front.push(next);
      this.#wakeAll();
    }
  }

  #makeReady(entry: Entry): void {
    const key = entry.message.orderingKey;
    // The group's head goes first: it must be redelivered before anything queued behind it.
    if (key !== undefined && this.#locks?.get(key) === entry) this.#front.push(entry);
    else this.#ready.push(entry);
    this.#wakeAll();
  }

  #promoteDue(now: number): void {
    for (let entry = this.#oldestRegular(); entry !== undefined; entry = this.#oldestRegular()) {
      if (entry.dueAt > now) break;
      // Visibility timeout: the consumer neither acked nor nacked in time.
      this.#inFlight--;
      entry.lease = 0;
      this.#makeReady(entry);
    }
    for (let due = this.#due.peek(); due !== undefined && due.at <= now; due = this.#due.peek()) {
      this.#due.pop();
      const { entry } = due;
      if (due.lease === 0) {
        if (entry.lease === 0 && entry.dueAt === due.at) this.#makeReady(entry);
      } else if (entry.lease === due.lease && entry.dueAt === due.at) {
        // Visibility timeout: the consumer neither acked nor nacked in time.
        this.#inFlight--;
        entry.lease = 0;
        this.#makeReady(entry);
      } else {
        this.#stale = Math.max(0, this.#stale - 1);
      }
    }
    this.#compact();
  }

  /** Settled deliveries leave their deadline in the heap; drop them before they dominate it. */
  #compact(): void {
    if (this.#due.size <= 1024 || this.#stale <= this.#due.size / 2) return;
    this.#due.rebuild((d) =>
      d.lease === 0
        ? d.entry.lease === 0 && d.entry.dueAt === d.at
        : d.entry.lease === d.lease && d.entry.dueAt === d.at,
    );
    this.#stale = 0;
  }

  #schedule(due: Due): void {
    this.#due.push(due);
    this.#armTimer();
  }

  /** Keeps one timer armed for the earliest due time (a delay, or the oldest lease's deadline). */
  #armTimer(): void {
    if (this.#deleted) return;
    let next = this.#due.peek()?.at ?? Infinity;
    const oldest = this.#oldestRegular();
    if (oldest !== undefined && oldest.dueAt < next) next = oldest.dueAt;
    if (next >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, next - Date.now()));
    // A pending delay or lease must not keep a finished process alive.
    this.#timer.unref();
  }

  #onTimer(): void {
    this.#timerAt = Infinity;
    this.#timer = undefined;
    this.#promoteDue(Date.now());
    this.#armTimer();
  }

  #wakeAll(): void {
    this.#waiters?.wakeAll();
  }

  #blockedCount(): number {
    let n = 0;
    if (this.#blocked !== undefined) for (const queue of this.#blocked.values()) n += queue.length;
    return n;
  }

  #delayedCount(): number {
    // Only live delays count; in-flight deadlines are not backlog.
    return this.#due.values().filter((d) => d.lease === 0 && d.entry.lease === 0 && d.entry.dueAt === d.at)
      .length;
  }
}
