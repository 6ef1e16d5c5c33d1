/**
 * Callbacks waiting for "something changed". A waiter that gives up (a timed-out receive) removes
 * itself, so an idle consumer polled for hours does not pile up closures.
 */
export class Waiters {
  #waiters = new Set<() => void>();

  /** Adds a waiter; returns the function that removes it again. */
  add(waiter: () => void): () => void {
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }

  /** Calls and removes every waiter. */
  wakeAll(): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter();
  }

  /** Resolves on the next wakeAll(), after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        remove();
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      const remove = this.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
