import { isAborted, onAbortOnce } from './aborted.js';

/** One wait() in progress: its resolve (also in the waiter set), when it times out, its signal. */
interface TimedWait {
  readonly resolve: () => void;
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
}

/**
 * Callbacks waiting for "something changed". A waiter that gives up (a timed-out receive) removes
 * itself, so an idle consumer polled for hours does not pile up closures.
 *
 * wait() makes no timer and no abort listener per call: a consumer waits once per receive, which
 * at 64 KiB and up is once per message. One timer serves every wait (it is left running when a
 * wait is woken, and re-armed when it fires while waits remain), and one listener per signal
 * stays on the signal last waited with. Between waits the timer is unref'd, so it keeps the
 * process alive only while a wait is pending, as a timer per wait did.
 */
export class Waiters {
  #waiters = new Set<() => void>();
  /** The set emptied by the last wakeAll(), reused by the next one (a new set per wake showed). */
  #spare: Set<() => void> | undefined;
  /** The waits in progress, in the order they began. */
  #timed: TimedWait[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (performance.now()); Infinity when it is not armed. */
  #timerAt = Number.POSITIVE_INFINITY;
  /** Signals that carry #onAbort; the last one waited with keeps it between waits. */
  readonly #listening = new Set<AbortSignal>();
  #lastSignal: AbortSignal | undefined;
  readonly #onTimer = (): void => this.#expire();
  readonly #onAbort = (event: Event): void => this.#aborted(event.target as AbortSignal);

  /** Adds a waiter; returns the function that removes it again. */
  add(waiter: () => void): () => void {
    this.#waiters.add(waiter);
    return () => this.#waiters.delete(waiter);
  }

  /** Calls and removes every waiter. */
  wakeAll(): void {
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    // Waiters added while these are called wait for the next wakeAll; a wakeAll from one of them
    // finds no spare (taken here) and makes a set.
    this.#waiters = this.#spare ?? new Set();
    this.#spare = undefined;
    if (this.#timed.length > 0) this.#settled([]);
    for (const waiter of waiters) waiter();
    waiters.clear();
    this.#spare = waiters;
  }

  /** Resolves on the next wakeAll(), after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (isAborted(signal)) return Promise.resolve();
    return new Promise((resolve) => this.#begin(resolve, ms, signal));
  }

  #begin(resolve: () => void, ms: number, signal: AbortSignal | undefined): void {
    const deadline = performance.now() + ms;
    this.#waiters.add(resolve);
    this.#timed.push({ resolve, deadline, signal });
    if (signal !== undefined) {
      this.#lastSignal = signal;
      if (!this.#listening.has(signal)) {
        this.#listening.add(signal);
        onAbortOnce(signal, this.#onAbort);
      }
    }
    if (deadline < this.#timerAt) this.#arm(ms, deadline);
    else this.#timer?.ref();
  }

  #arm(ms: number, deadline: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onTimer, ms);
    this.#timerAt = deadline;
  }

  /** The timer fired: ends the waits whose time is up and re-arms for the next one, if any. */
  #expire(): void {
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const ended = this.#timed.filter((w) => w.deadline <= now);
    const remaining = this.#timed.filter((w) => w.deadline > now);
    this.#settled(remaining);
    for (const w of ended) this.#end(w);
  }

  /** A signal aborted: ends the waits that it was given to. */
  #aborted(signal: AbortSignal): void {
    this.#listening.delete(signal);
    if (this.#lastSignal === signal) this.#lastSignal = undefined;
    const ended = this.#timed.filter((w) => w.signal === signal);
    this.#settled(this.#timed.filter((w) => w.signal !== signal));
    for (const w of ended) this.#end(w);
  }

  #end(wait: TimedWait): void {
    if (this.#waiters.delete(wait.resolve)) wait.resolve();
  }

  /**
   * `remaining` are the waits still in progress: the timer is re-armed for the first of them (or
   * unref'd when there are none), and listeners no wait needs are removed, but the last signal's.
   */
  #settled(remaining: TimedWait[]): void {
    this.#timed = remaining;
    if (remaining.length === 0) {
      this.#timer?.unref();
    } else if (this.#timerAt === Number.POSITIVE_INFINITY) {
      let next = Number.POSITIVE_INFINITY;
      for (const w of remaining) if (w.deadline < next) next = w.deadline;
      this.#arm(Math.max(1, Math.ceil(next - performance.now())), next);
    }
    if (this.#listening.size > (this.#lastSignal === undefined ? 0 : 1)) {
      for (const signal of this.#listening) {
        if (signal === this.#lastSignal || remaining.some((w) => w.signal === signal)) continue;
        this.#listening.delete(signal);
        signal.removeEventListener('abort', this.#onAbort);
      }
    }
  }
}
