import { Deque } from './deque.js';

/** Leases of one length, in the order they were made: their deadlines never decrease. */
interface Queue<K> {
  readonly ms: number;
  readonly keys: Deque<K>;
  readonly dues: Deque<number>;
}

/**
 * Visibility leases a driver keeps itself, for a broker that has none of its own for this purpose
 * (RabbitMQ holds an unacked delivery forever; the Pulsar HTTP API's ack timeout is per topic).
 * When a lease runs out it is over first and then `onExpire` runs, so a settle racing the expiry
 * sees `end()` return false and knows the delivery already went back.
 *
 * One timer for all leases, armed for the earliest deadline, rather than a timer (and a closure)
 * per delivery: leases of one length run out in the order they were made, so each length keeps a
 * FIFO queue of (key, deadline), and a lease ended or restarted leaves a stale pair there that is
 * skipped. Pairs ended in lease order leave from the front at once; others are compacted away
 * before they outnumber the live leases. The timer is unref'd: a lease never keeps a process alive.
 */
export class Leases<K> {
  /** Each live lease's deadline (performance.now() ms): a pair in a queue is live when it matches. */
  readonly #due = new Map<K, number>();
  /** One queue per lease length in use (usually one: the visibility timeout). */
  #queues: Array<Queue<K>> = [];
  /** Pairs in the queues, live and stale. */
  #queued = 0;
  readonly #onExpire: (key: K) => void;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** Counts clear() calls: an expiry callback that clears stops the expiry pass under way. */
  #generation = 0;

  constructor(onExpire: (key: K) => void) {
    this.#onExpire = onExpire;
  }

  /** Starts (or restarts) the lease of `key` for `ms`. */
  lease(key: K, ms: number): void {
    const due = performance.now() + ms;
    this.#due.set(key, due);
    let queue: Queue<K> | undefined;
    for (const q of this.#queues) if (q.ms === ms) queue = q;
    if (queue === undefined) {
      queue = { ms, keys: new Deque<K>(), dues: new Deque<number>() };
      this.#queues.push(queue);
    }
    queue.keys.push(key);
    queue.dues.push(due);
    // A restarted lease leaves its old pair stale.
    if (++this.#queued > 2 * this.#due.size + 64) this.#compact();
    if (due < this.#timerAt) this.#arm(due);
  }

  /** Pushes a live lease out to `ms` from now; false when there is none (settled or expired). */
  extend(key: K, ms: number): boolean {
    if (!this.#due.has(key)) return false;
    this.lease(key, ms);
    return true;
  }

  /** Ends the lease (the delivery was settled); true when it was still running. */
  end(key: K): boolean {
    if (!this.#due.delete(key)) return false;
    for (const queue of this.#queues) this.#dropStaleFront(queue);
    if (this.#queued > 2 * this.#due.size + 64) this.#compact();
    return true;
  }

  has(key: K): boolean {
    return this.#due.has(key);
  }

  /** Ends every lease without calling back (the channel or consumer is gone). */
  clear(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#due.clear();
    this.#queues = [];
    this.#queued = 0;
  }

  get size(): number {
    return this.#due.size;
  }

  #live(key: K, due: number): boolean {
    return this.#due.get(key) === due;
  }

  #dropStaleFront(queue: Queue<K>): void {
    while (queue.keys.length > 0 && !this.#live(queue.keys.peek()!, queue.dues.peek()!)) {
      queue.keys.shift();
      queue.dues.shift();
      this.#queued--;
    }
  }

  #compact(): void {
    for (const queue of this.#queues) {
      const keys = queue.keys.drain();
      const dues = queue.dues.drain();
      for (let i = 0; i < keys.length; i++) {
        if (!this.#live(keys[i]!, dues[i]!)) continue;
        queue.keys.push(keys[i]!);
        queue.dues.push(dues[i]!);
      }
    }
    this.#queues = this.#queues.filter((queue) => queue.keys.length > 0);
    this.#queued = this.#due.size;
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
    // In deadline order across lengths. A callback may end or restart other leases (their pairs
    // turn stale) or add new ones (due after now): each pair is looked at when it reaches a front.
    for (;;) {
      let earliest: Queue<K> | undefined;
      for (const queue of this.#queues) {
        this.#dropStaleFront(queue);
        if (queue.keys.length > 0 && (earliest === undefined || queue.dues.peek()! < earliest.dues.peek()!))
          earliest = queue;
      }
      if (earliest === undefined || earliest.dues.peek()! > now) break;
      const key = earliest.keys.shift()!;
      earliest.dues.shift();
      this.#queued--;
      this.#due.delete(key);
      this.#onExpire(key);
      if (this.#generation !== generation) return;
    }
    this.#queues = this.#queues.filter((queue) => queue.keys.length > 0);
    let next = Number.POSITIVE_INFINITY;
    for (const queue of this.#queues) next = Math.min(next, queue.dues.peek()!);
    if (next < this.#timerAt) this.#arm(next);
  };
}
