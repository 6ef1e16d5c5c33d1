/**
 * Visibility leases a driver keeps itself, for a broker that has none of its own for this purpose
 * (RabbitMQ holds an unacked delivery forever; the Pulsar HTTP API's ack timeout is per topic).
 * One timer per delivery; when it fires the lease is over first and then `onExpire` runs, so a
 * settle racing the expiry sees `end()` return false and knows the delivery already went back.
 * Timers are unref'd: a lease never keeps a process alive.
 */
export class Leases<K> {
  readonly #timers = new Map<K, NodeJS.Timeout>();
  readonly #onExpire: (key: K) => void;

  constructor(onExpire: (key: K) => void) {
    this.#onExpire = onExpire;
  }

  /** Starts (or restarts) the lease of `key` for `ms`. */
  lease(key: K, ms: number): void {
    clearTimeout(this.#timers.get(key));
    const timer = setTimeout(() => {
      if (this.#timers.get(key) !== timer) return;
      this.#timers.delete(key);
      this.#onExpire(key);
    }, ms);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Pushes a live lease out to `ms` from now; false when there is none (settled or expired). */
  extend(key: K, ms: number): boolean {
    if (!this.#timers.has(key)) return false;
    this.lease(key, ms);
    return true;
  }

  /** Ends the lease (the delivery was settled); true when it was still running. */
  end(key: K): boolean {
    const timer = this.#timers.get(key);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#timers.delete(key);
    return true;
  }

  has(key: K): boolean {
    return this.#timers.has(key);
  }

  /** Ends every lease without calling back (the channel or consumer is gone). */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  get size(): number {
    return this.#timers.size;
  }
}
