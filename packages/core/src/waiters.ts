import { isAborted, offAbort, onAbortOnce } from './aborted.js';
import { openPromise, takeReject, takeResolve } from './open-promise.js';

/** What waitFor() calls when its wait ends: an object's method, so a wait needs no closure. */
export interface Woken {
  woken(): void;
}

/**
 * One wait in progress: what ends it (a promise's resolve, or a Woken), when it times out, its
 * signal. A node of its Waiters' list of waits, or of its free list once its wait has ended
 * (cleared then, so it holds no promise, caller or signal between waits).
 */
class TimedWait {
  resolve: (() => void) | undefined = undefined;
  target: Woken | undefined = undefined;
  deadline = 0;
  signal: AbortSignal | undefined = undefined;
  next: TimedWait | undefined = undefined;
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
 *
 * A wait makes its promise (with its resolving functions) and nothing else, and waitFor() not even
 * that: its record is a reused node and a wake allocates nothing. A consumer among 1,000 destinations that get ≈ 10
 * messages per receive cycle waits twice per cycle (its receive() here, the memory driver's pump
 * in its subscription), and a record, a fresh array of waits per wake, the executor's closure
 * and a Set entry (whose clear() makes a new table) per wait were ≈ 150 B per message there
 * (docs/bench-profiles.md §28.6–28.7).
 */
export class Waiters {
  /** add()'s callbacks (not the waits of wait() and waitFor(): they are the list from #first). */
  #waiters = new Set<() => void>();
  /** The set emptied by the last wakeAll(), reused by the next one (a new set per wake showed). */
  #spare: Set<() => void> | undefined;
  /** The waits in progress, in the order they began (a list through their `next`). */
  #first: TimedWait | undefined;
  #last: TimedWait | undefined;
  /** Nodes of waits that ended, for the next waits. */
  #free: TimedWait | undefined;
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

  /**
   * Ends every wait (waitFor()'s targets are called here, first) and calls and removes every
   * add()ed waiter.
   */
  wakeAll(): void {
    if (this.#first !== undefined) this.#endWhere(ALL, undefined);
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    // Waiters added while these are called wait for the next wakeAll; a wakeAll from one of them
    // finds no spare (taken here) and makes a set.
    this.#waiters = this.#spare ?? new Set();
    this.#spare = undefined;
    for (const waiter of waiters) waiter();
    waiters.clear();
    this.#spare = waiters;
  }

  /** Resolves on the next wakeAll(), after `ms`, or when `signal` aborts, whichever is first. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (isAborted(signal)) return Promise.resolve();
    const promise = openPromise<void>();
    const resolve = takeResolve<void>();
    takeReject(); // a wait never rejects; not kept
    this.#begin(resolve, undefined, ms, signal);
    return promise;
  }

  /**
   * As wait(), but calls `target.woken()` when the wait ends, with no promise: for a caller that
   * settles its own (a receive() that waits). `signal` must not have aborted. It is called
   * synchronously from wakeAll(), the timer or the abort, after the waits that ended have left.
   */
  waitFor(target: Woken, ms: number, signal?: AbortSignal): void {
    this.#begin(undefined, target, ms, signal);
  }

  #begin(
    resolve: (() => void) | undefined,
    target: Woken | undefined,
    ms: number,
    signal: AbortSignal | undefined,
  ): void {
    const deadline = performance.now() + ms;
    let wait = this.#free;
    if (wait === undefined) wait = new TimedWait();
    else this.#free = wait.next;
    wait.next = undefined;
    wait.resolve = resolve;
    wait.target = target;
    wait.deadline = deadline;
    wait.signal = signal;
    if (this.#last === undefined) this.#first = wait;
    else this.#last.next = wait;
    this.#last = wait;
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
    this.#endWhere(DUE, performance.now());
  }

  /** A signal aborted: ends the waits that it was given to. */
  #aborted(signal: AbortSignal): void {
    this.#listening.delete(signal);
    if (this.#lastSignal === signal) this.#lastSignal = undefined;
    this.#endWhere(SIGNALLED, signal);
  }

  /**
   * Ends the waits `ends(wait, arg)` picks and keeps the others in their order; re-arms the timer
   * for the first wait left (or unrefs it when none is) and removes listeners no wait needs but
   * the last signal's; then ends the picked ones, in the order they began. Their nodes go to the
   * free list one by one as they are ended, so a wait begun from a Woken takes none not yet ended.
   */
  #endWhere(ends: (wait: TimedWait, arg: unknown) => boolean, arg: unknown): void {
    let ended: TimedWait | undefined;
    let endedLast: TimedWait | undefined;
    let kept: TimedWait | undefined;
    let next = Number.POSITIVE_INFINITY;
    for (let wait = this.#first; wait !== undefined; ) {
      const following = wait.next;
      wait.next = undefined;
      if (ends(wait, arg)) {
        if (endedLast === undefined) ended = wait;
        else endedLast.next = wait;
        endedLast = wait;
      } else {
        if (kept === undefined) this.#first = wait;
        else kept.next = wait;
        kept = wait;
        if (wait.deadline < next) next = wait.deadline;
      }
      wait = following;
    }
    if (kept === undefined) this.#first = undefined;
    this.#last = kept;
    if (kept === undefined) {
      this.#timer?.unref();
    } else if (this.#timerAt === Number.POSITIVE_INFINITY) {
      this.#arm(Math.max(1, Math.ceil(next - performance.now())), next);
    }
    if (this.#listening.size > (this.#lastSignal === undefined ? 0 : 1)) {
      for (const signal of this.#listening) {
        if (signal === this.#lastSignal || this.#waitsOn(signal)) continue;
        this.#listening.delete(signal);
        offAbort(signal, this.#onAbort);
      }
    }
    while (ended !== undefined) {
      const wait = ended;
      ended = wait.next;
      const { resolve, target } = wait;
      wait.resolve = undefined;
      wait.target = undefined;
      wait.signal = undefined;
      wait.next = this.#free;
      this.#free = wait;
      if (resolve !== undefined) resolve();
      else target!.woken();
    }
  }

  #waitsOn(signal: AbortSignal): boolean {
    for (let wait = this.#first; wait !== undefined; wait = wait.next)
      if (wait.signal === signal) return true;
    return false;
  }
}

// What #endWhere ends: module functions, not a closure per call.
const ALL = (): boolean => true;
const DUE = (wait: TimedWait, now: unknown): boolean => wait.deadline <= (now as number);
const SIGNALLED = (wait: TimedWait, signal: unknown): boolean => wait.signal === signal;
