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
      const done = waitEnd(this.#waiters, resolve, signal, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/**
 * The end of one wait (woken, timed out or aborted), with its timer. Made here rather than as a
 * named closure in wait(): run from source (tsx, as the benches are), each named closure costs an
 * Object.defineProperty of its name and a properties store, and a consumer waits once per receive.
 */
function waitEnd(
  waiters: Set<() => void>,
  resolve: () => void,
  signal: AbortSignal | undefined,
  ms: number,
): () => void {
  // A member, not a const: a closure assigned to a name is named (and so renamed) by tsx.
  const wait: { end: () => void; timer: NodeJS.Timeout | undefined } = { end: resolve, timer: undefined };
  wait.end = () => {
    clearTimeout(wait.timer);
    waiters.delete(wait.end);
    signal?.removeEventListener('abort', wait.end);
    resolve();
  };
  wait.timer = setTimeout(wait.end, ms);
  return wait.end;
}
