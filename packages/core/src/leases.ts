import { Deque } from './deque.js';

/**
 * Where a key carries its own lease, instead of an entry in a Map: an object of the driver's own
 * (a delivery's handle, say) with a `lease` field that only {@link Leases} reads and writes. Give
 * the object the field, `undefined`, when it is made: a field added later changes its shape.
 */
export interface LeaseSlot {
  lease: object | undefined;
}

/**
 * Leases of one length that run out in the same whole millisecond: usually the deliveries of one
 * receive. A key is live here while its slot holds this bucket; the others in `keys` are stale.
 */
interface Bucket<K> {
  readonly at: number;
  readonly queue: Queue<K>;
  keys: K[];
  /** Keys whose slot holds this bucket. */
  live: number;
}

/** Buckets of one lease length, in the order they were made: their deadlines never decrease. */
interface Queue<K> {
  readonly ms: number;
  readonly buckets: Deque<Bucket<K>>;
  /** The last bucket, which a lease running out in the same millisecond joins. */
  tail: Bucket<K> | undefined;
}

/**
 * Visibility leases a driver keeps itself, for a broker that has none of its own for this purpose
 * (RabbitMQ holds an unacked delivery forever; the Pulsar HTTP API's ack timeout is per topic).
 * When a lease runs out it is over first and then `onExpire` runs, so a settle racing the expiry
 * sees `end()` return false and knows the delivery already went back.
 *
 * One timer for all leases, armed for the earliest deadline, rather than a timer (and a closure)
 * per delivery. A deadline is rounded up to the whole millisecond (a timer cannot fire between
 * two), and leases of one length running out in the same millisecond share a bucket: a receive's
 * batch leased one by one makes one bucket, a key array and a count. Leases of one length run out
 * in the order they were made, so each length keeps a FIFO queue of buckets. Each key records its
 * bucket, in its own {@link LeaseSlot} when the constructor is given one (a lease is then a field
 * write and an end a field clear, no Map entry per delivery), else in a Map. A lease ended or
 * restarted leaves its key in the old bucket, stale, and counts that bucket down (a restart kept in
 * the Map, at the next compaction): emptied buckets leave from the front at once, and stale keys
 * are compacted away before they outnumber the live leases. The timer is unref'd: a lease never
 * keeps a process alive.
 */
export class Leases<K> {
  /** Each key's bucket, when the keys carry no slot of their own. */
  readonly #buckets: Map<K, Bucket<K>> | undefined;
  readonly #slotOf: ((key: K) => LeaseSlot) | undefined;
  /** Live leases. */
  #size = 0;
  /** One queue per lease length in use (usually one: the visibility timeout). */
  #queues: Array<Queue<K>> = [];
  /** Keys in the buckets of the queues, live and stale. */
  #queued = 0;
  readonly #onExpire: (key: K) => void;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Counts clear() calls: an expiry callback that clears stops the expiry pass under way. */
  #generation = 0;
  /** A Map-kept lease was restarted since the last compaction: a bucket may hold a key twice. */
  #restarted = false;
  /** The bucket whose keys are running out (off its queue while their callbacks run). */
  #expiring: Bucket<K> | undefined;

  /**
   * `slotOf`: where a key keeps its lease (see {@link LeaseSlot}); one slot per key, used by this
   * Leases alone. Without it the leases are kept in a Map, and any value can be a key.
   */
  constructor(onExpire: (key: K) => void, slotOf?: (key: K) => LeaseSlot) {
    this.#onExpire = onExpire;
    this.#slotOf = slotOf;
    this.#buckets = slotOf === undefined ? new Map() : undefined;
  }

  /** Starts (or restarts) the lease of `key` for `ms`. */
  lease(key: K, ms: number): void {
    const at = Math.ceil(performance.now() + ms);
    this.#put(key, this.#bucket(ms, at));
    this.#settle(at);
  }

  /** Starts (or restarts) the lease of each key for `ms`, from one reading of the clock. */
  leaseAll(keys: readonly K[], ms: number): void {
    if (keys.length === 0) return;
    const at = Math.ceil(performance.now() + ms);
    const bucket = this.#bucket(ms, at);
    for (let i = 0; i < keys.length; i++) this.#put(keys[i] as K, bucket);
    this.#settle(at);
  }

  /** Pushes a live lease out to `ms` from now; false when there is none (settled or expired). */
  extend(key: K, ms: number): boolean {
    if (this.#get(key) === undefined) return false;
    this.lease(key, ms);
    return true;
  }

  /** Ends the lease (the delivery was settled); true when it was still running. */
  end(key: K): boolean {
    const slotOf = this.#slotOf;
    let bucket: Bucket<K> | undefined;
    if (slotOf === undefined) {
      const buckets = this.#buckets!;
      bucket = buckets.get(key);
      if (bucket === undefined) return false;
      buckets.delete(key);
    } else {
      const slot = slotOf(key);
      bucket = slot.lease as Bucket<K> | undefined;
      if (bucket === undefined) return false;
      slot.lease = undefined;
    }
    this.#size--;
    if (--bucket.live === 0) this.#dropEmptyFront(bucket.queue);
    else if (this.#queued > 2 * this.#size + 64) this.#compact();
    return true;
  }

  has(key: K): boolean {
    return this.#get(key) !== undefined;
  }

  /** Ends every lease without calling back (the channel or consumer is gone). */
  clear(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const slotOf = this.#slotOf;
    if (slotOf === undefined) this.#buckets!.clear();
    else {
      // Stale keys too: a stale key's slot is empty or holds one of these buckets.
      const clearAll = (bucket: Bucket<K>) => {
        for (const key of bucket.keys) slotOf(key).lease = undefined;
      };
      for (const queue of this.#queues) for (const bucket of queue.buckets) clearAll(bucket);
      if (this.#expiring !== undefined) clearAll(this.#expiring);
    }
    this.#expiring = undefined;
    this.#size = 0;
    this.#restarted = false;
    this.#queues = [];
    this.#queued = 0;
  }

  get size(): number {
    return this.#size;
  }

  #get(key: K): Bucket<K> | undefined {
    const slotOf = this.#slotOf;
    return slotOf === undefined ? this.#buckets!.get(key) : (slotOf(key).lease as Bucket<K> | undefined);
  }

  /** The bucket of leases of `ms` running out at `at`: the queue's last, or a new one. */
  #bucket(ms: number, at: number): Bucket<K> {
    let queue: Queue<K> | undefined;
    const queues = this.#queues;
    for (let i = 0; i < queues.length; i++) if (queues[i]!.ms === ms) queue = queues[i];
    if (queue === undefined) {
      queue = { ms, buckets: new Deque<Bucket<K>>(), tail: undefined };
      queues.push(queue);
    }
    const tail = queue.tail;
    if (tail !== undefined && tail.at === at) return tail;
    const bucket: Bucket<K> = { at, queue, keys: [], live: 0 };
    queue.buckets.push(bucket);
    queue.tail = bucket;
    return bucket;
  }

  /** Moves `key`'s lease to `bucket` (a restart leaves it stale in its old one). */
  #put(key: K, bucket: Bucket<K>): void {
    const slotOf = this.#slotOf;
    if (slotOf === undefined) {
      // One Map operation per lease: a new key grows the map. A restart replaced a bucket this
      // does not see, whose count stays high (or a second entry here) until compaction or expiry.
      const buckets = this.#buckets!;
      const size = buckets.size;
      buckets.set(key, bucket);
      if (buckets.size !== size) this.#size++;
      else this.#restarted = true;
    } else {
      const slot = slotOf(key);
      const old = slot.lease as Bucket<K> | undefined;
      if (old === bucket) return;
      slot.lease = bucket;
      if (old === undefined) this.#size++;
      // Counted into its new bucket first: a new bucket, still empty, would go with the old.
      else {
        this.#add(key, bucket);
        if (--old.live === 0) this.#dropEmptyFront(old.queue);
        return;
      }
    }
    this.#add(key, bucket);
  }

  #add(key: K, bucket: Bucket<K>): void {
    bucket.keys.push(key);
    bucket.live++;
    this.#queued++;
  }

  /** After leases were made to run out at `at`: keeps the stale keys bounded and the timer armed. */
  #settle(at: number): void {
    if (this.#queued > 2 * this.#size + 64) this.#compact();
    if (at < this.#timerAt) this.#arm(at);
  }

  /** Drops the buckets at the front of `queue` whose leases all ended. */
  #dropEmptyFront(queue: Queue<K>): void {
    const buckets = queue.buckets;
    for (let front = buckets.peek(); front !== undefined && front.live === 0; front = buckets.peek()) {
      buckets.shift();
      this.#queued -= front.keys.length;
      if (queue.tail === front) queue.tail = undefined;
    }
  }

  /** Keeps only the live keys, once each and in their order, and the buckets that still hold any. */
  #compact(): void {
    const seen = this.#restarted ? new Set<K>() : undefined;
    this.#restarted = false;
    let queued = 0;
    for (const queue of this.#queues) {
      const kept: Array<Bucket<K>> = [];
      for (const bucket of queue.buckets.drain()) {
        const keys: K[] = [];
        for (const key of bucket.keys) {
          if (this.#get(key) !== bucket || seen?.has(key)) continue;
          seen?.add(key);
          keys.push(key);
        }
        if (keys.length === 0) continue;
        bucket.keys = keys;
        bucket.live = keys.length;
        queued += keys.length;
        kept.push(bucket);
      }
      for (const bucket of kept) queue.buckets.push(bucket);
      queue.tail = kept[kept.length - 1];
    }
    this.#queues = this.#queues.filter((queue) => queue.buckets.length > 0);
    this.#queued = queued;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const generation = this.#generation;
    // In deadline order across lengths, a bucket at a time. A bucket is taken off its queue before
    // its keys run out, so a callback's new leases (due after now) go to other buckets; a callback
    // may also end or restart leases (they turn stale): each key is looked at when its turn comes.
    for (;;) {
      let earliest: Queue<K> | undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const queue of this.#queues) {
        const front = queue.buckets.peek();
        if (front !== undefined && front.at < at) {
          earliest = queue;
          at = front.at;
        }
      }
      if (earliest === undefined || at > now) break;
      const bucket = earliest.buckets.shift()!;
      if (earliest.tail === bucket) earliest.tail = undefined;
      this.#queued -= bucket.keys.length;
      this.#expiring = bucket;
      const keys = bucket.keys;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as K;
        if (this.#get(key) !== bucket) continue;
        const slotOf = this.#slotOf;
        if (slotOf === undefined) this.#buckets!.delete(key);
        else slotOf(key).lease = undefined;
        this.#size--;
        bucket.live--;
        this.#onExpire(key);
        if (this.#generation !== generation) return;
      }
      this.#expiring = undefined;
    }
    this.#queues = this.#queues.filter((queue) => queue.buckets.length > 0);
    let next = Number.POSITIVE_INFINITY;
    for (const queue of this.#queues) next = Math.min(next, queue.buckets.peek()!.at);
    if (next < this.#timerAt) this.#arm(next);
  };
}
