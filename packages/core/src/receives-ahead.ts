// Receives kept on the wire across receiveBatch calls, as an expert's receive loops keep them: on a
// backlog, the batch a call hands on is followed at once by receives that fetch the next ones while
// the handlers run, and a later call hands on what they brought. Drivers whose broker serves one
// receive request per call (CMQ's BatchReceiveMessage, RocketMQ's SimpleConsumer.receive) use it;
// each says how a receive is issued, how many may be on the wire, what keeps a backlog going, and
// how its receiveBatch waits. What it keeps:
// - what receives brought and no call has handed on yet (the buffer), handed on in arrival order;
// - the messages those on the wire asked for, and how many are on the wire;
// - the first failure, which only a call that finds nothing else reports (messages clear it: the
//   next receive retries what failed);
// - the wake-up of a call waiting for a receive to come back.
// The bound: what is on the wire plus what is buffered never passes the room a call gives, so the
// portable layer's prefetch bounds everything a driver asked the broker for (docs/bench-profiles.md
// §20.4). Per message there is no work beyond moving it into the buffer and out in a batch.

import { isAborted, offAbort, onAbortOnce } from './aborted.js';

/** How a driver's receives go out ahead: how many, how each is issued, and what keeps a backlog going. */
export interface ReceivesAheadOptions<T> {
  /** Most receives on the wire at once (the expert's receive loops: CMQ 4, RocketMQ 2). */
  readonly maxReceives: number;
  /** Most receives one refill() sends: a free place each (CMQ), or one per batch handed on (RocketMQ). */
  readonly perRefill: number;
  /** Most messages one receive asks for (the broker's batch limit). */
  readonly perReceive: number;
  /** Issues one receive of up to `count` messages; `signal` is the one refill() or send() was given. */
  readonly receive: (count: number, signal: AbortSignal | undefined) => Promise<T[]>;
  /**
   * Whether a backlog remains after a receive that asked for `asked` brought `got`; `was` is the
   * current state. Receives go out ahead only on a backlog.
   */
  readonly backlog: (was: boolean, got: number, asked: number) => boolean;
  /** What of a receive's messages may be handed on now (a KeyHold keeps the rest); all by default. */
  readonly admit?: (got: T[]) => T[];
}

/**
 * Receives a driver keeps on the wire across `receiveBatch` calls, with what they brought, their
 * first failure and the wake-up of a waiting call; never more than the room a call gives (see the
 * top of this file).
 */
export class ReceivesAhead<T> {
  readonly #options: ReceivesAheadOptions<T>;
  /** Whether receives go out ahead (see the backlog option); a driver may set it for a receive of its own. */
  backlog = false;
  /** What came back that no call has handed on yet. */
  #ready: T[] = [];
  /** Messages asked for by the receives on the wire. */
  #requested = 0;
  /** Receives on the wire. */
  #receives = 0;
  /** The first failure of a receive, reported by a call that has nothing else (takeFailure). */
  #failure: unknown;
  /** Wakes the call waiting in arrival() (a chain when a second call waits meanwhile). */
  #wake: (() => void) | undefined;
  /** Ends quiet(): every receive came back. */
  #quiet: (() => void) | undefined;
  #closed = false;

  constructor(options: ReceivesAheadOptions<T>) {
    this.#options = options;
  }

  /** Messages waiting to be handed on. */
  get buffered(): number {
    return this.#ready.length;
  }

  /** Messages the receives on the wire asked for. */
  get requested(): number {
    return this.#requested;
  }

  /** Receives on the wire. */
  get receives(): number {
    return this.#receives;
  }

  /** Whether a receive failed since messages were last handed on. */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Up to `max` of the buffered messages, in the order they came, or undefined when none are. The
   * whole buffer when it fits (a receive's own array when it landed with nothing waiting: no copy).
   * Messages came, so a failure of another receive is not reported (the next receive retries it).
   */
  take(max: number): T[] | undefined {
    const ready = this.#ready;
    if (ready.length === 0) return undefined;
    this.#failure = undefined;
    if (ready.length > max) return ready.splice(0, max);
    this.#ready = [];
    return ready;
  }

  /** The first failure since messages were last handed on (undefined if none), cleared. */
  takeFailure(): unknown {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }

  /**
   * On a backlog, receives of up to perReceive, up to maxReceives on the wire and perRefill now.
   * `room` is what the caller may still take: what is on the wire and buffered stays within it.
   * None after close() or once `signal` aborted.
   */
  refill(room: number, signal?: AbortSignal): void {
    const { maxReceives, perRefill, perReceive } = this.#options;
    let left = room - this.#requested - this.#ready.length;
    for (let sent = 0; this.backlog && sent < perRefill && this.#receives < maxReceives && left > 0; sent++) {
      if (this.#closed || isAborted(signal)) return;
      const count = Math.min(perReceive, left);
      left -= count;
      this.send(count, signal);
    }
  }

  /** One receive of up to `count` on the wire; what it brings lands in the buffer. */
  send(count: number, signal?: AbortSignal): void {
    this.#requested += count;
    this.#receives++;
    this.#options.receive(count, signal).then(
      (got) => this.#land(got, count),
      (error: unknown) => {
        this.#failure ??= error;
        this.backlog = false;
        this.#landed(count);
      },
    );
  }

  #land(got: T[], count: number): void {
    const admitted = this.#options.admit?.(got) ?? got;
    // The receive's own array when nothing waits (no copy, no growth of an empty one).
    if (this.#ready.length === 0) this.#ready = admitted;
    else for (let i = 0; i < admitted.length; i++) this.#ready.push(admitted[i]!);
    this.backlog = this.#options.backlog(this.backlog, got.length, count);
    this.#landed(count);
  }

  #landed(count: number): void {
    this.#requested -= count;
    this.#receives--;
    this.wake();
    if (this.#receives === 0) this.#quiet?.();
  }

  /** Adds a message to hand on (one a KeyHold released); wake() a waiting call if it should see it. */
  put(item: T): void {
    this.#ready.push(item);
  }

  /** Ends the wait of a call in arrival() (a receive came back, or messages became ready elsewhere). */
  wake(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * Resolves true when a receive comes back or wake() is called, false when `waitMs` passes first
   * (−1: the next turn of the event loop; Infinity: no limit) or `signal` aborts. A second call
   * waiting meanwhile is woken too.
   */
  arrival(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (isAborted(signal)) return resolve(false);
      const before = this.#wake;
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      const end = (woken: boolean): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (immediate !== undefined) clearImmediate(immediate);
        if (signal !== undefined) offAbort(signal, gaveUp);
        resolve(woken);
      };
      const woke = (): void => {
        before?.();
        end(true);
      };
      // This wait ends alone: one that began before it keeps waiting.
      const gaveUp = (): void => {
        if (this.#wake === woke) this.#wake = before;
        end(false);
      };
      this.#wake = woke;
      if (waitMs < 0) immediate = setImmediate(gaveUp);
      else if (waitMs !== Number.POSITIVE_INFINITY) timer = setTimeout(gaveUp, waitMs);
      if (signal !== undefined) onAbortOnce(signal, gaveUp);
    });
  }

  /** No receive goes out any more (the consumer closes); those on the wire still land. */
  close(): void {
    this.#closed = true;
  }

  /** Resolves when no receive is on the wire, or after `ms` (a close hands back what they bring). */
  async quiet(ms: number): Promise<void> {
    if (this.#receives === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#quiet = resolve;
      timer = setTimeout(resolve, ms);
    });
    clearTimeout(timer);
    this.#quiet = undefined;
  }

  /** Everything buffered, taken (on close, to hand back to the broker). */
  drain(): T[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }
}
