// The dispatch loop behind Consumer.run() and Consumer.runBatch(): up to `concurrency` handler
// calls at once, each on one message (run) or on a batch of up to `max` messages gathered for at
// most `waitMs` (runBatch). With `ordered`, at most one message per ordering key is being handled
// or gathered at a time, the key's later messages waiting in its lane in arrival order. Before a
// call starts the consumer may hold it back (paused, rate limit). The consumer supplies the
// messages and settles them; this file only decides what runs when.
//
// A class, not closures made per call: V8 keeps optimised code and type feedback per function, and
// closures made afresh for every run() (and every consumer's host) were new call targets each time,
// so every new consumer's loop deoptimised and recompiled 12-20 functions on V8's compiler threads
// (docs/bench-profiles.md 17.1, 17.4). Methods on the prototype are one target for every loop.

import type { SwitchyardError } from './errors.js';
import type { Message } from './message.js';

export type Handler = (message: Message) => unknown;

/** The empty call being gathered; never pushed to (a call's first message makes its array). */
const NONE: Message[] = [];

/** What a running loop lets its consumer do. */
export interface RunControl {
  /** Ends the loop: messages taken but not started go back, running calls finish. */
  stop(): void;
  /** Gives back every message taken but not started (pause), and keeps running. */
  release(): void;
}

/** What the loop needs from its consumer. */
export interface RunHost {
  /** The next buffered message, handed out; undefined when none is buffered. */
  take(): Message | undefined;
  /** Why consuming stopped for good, if it did: run() rejects with it. */
  fatal(): SwitchyardError | undefined;
  /** True once the consumer is closing: run() resolves when its handlers finish. */
  stopping(): boolean;
  /** Calls `wake` once when a message arrives, the consumer resumes or it stops. */
  onWake(wake: () => void): void;
  /**
   * May a call on `count` messages start now? 0: yes (counted against the rate limit); a number
   * of ms to wait before asking again; Infinity while paused (asked again on the next wake).
   */
  admit(count: number): number;
  /** Calls the handler on `messages` (runBatch()); returns its result or promise. */
  invoke(messages: Message[]): unknown;
  /** A handler starts on `message` (runBatch(), once per message of the call). */
  started(message: Message): void;
  /** A call finished: settles its messages from `result`, or as failed with `error`. */
  finished(messages: Message[], result: unknown, error: unknown, failed: boolean): void;
  /** run(): a handler starts on `message` and is called; returns its result or promise. */
  invokeOne(message: Message): unknown;
  /** run(): the call on `message` finished: settles it from `result`, or as failed with `error`. */
  finishedOne(message: Message, result: unknown, error: unknown, failed: boolean): void;
  /** Gives back a message taken but never started. */
  giveBack(message: Message): void;
  /** The loop is active; `control` stops it or releases what it holds. */
  begun(control: RunControl): void;
  /** The loop is over (resolving or rejecting right after). */
  ended(): void;
}

export interface RunOptions {
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly signal: AbortSignal | undefined;
  /** run(): every call is on one message, passed alone (invokeOne, finishedOne), never in an array. */
  readonly single: boolean;
  /** Most messages per call (1 for run()). */
  readonly max: number;
  /** How long a call with fewer than `max` messages waits for more, from its first, in ms. */
  readonly waitMs: number;
}

/** A handler's result that settles later (a promise, or any thenable). */
function isThenable(result: unknown): result is PromiseLike<unknown> {
  return (
    result !== null &&
    typeof result === 'object' &&
    typeof (result as PromiseLike<unknown>).then === 'function'
  );
}

/** Resolves when `signal` aborts or the consumer stops, once running calls finish. */
export function runHandlers(host: RunHost, options: RunOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    new HandlerLoop(host, options, resolve, reject).begin();
  });
}

class HandlerLoop implements RunControl {
  readonly #host: RunHost;
  readonly #concurrency: number;
  readonly #ordered: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #single: boolean;
  readonly #max: number;
  readonly #waitMs: number;
  readonly #resolve: () => void;
  readonly #reject: (error: SwitchyardError) => void;
  #active = 0;
  #stopped = false;
  #dispatching = false;
  #waiting = false;
  #failure: SwitchyardError | undefined;
  /** One timer at a time: the end of a batch's wait for company, or the rate limit's next permit. */
  #timer: NodeJS.Timeout | undefined;
  /**
   * Messages whose ordering key is busy wait in their lane; a finished lane's next message goes to
   * `#ready` so the dispatch loop (not recursion) takes it.
   */
  readonly #lanes = new Map<string, Message[]>();
  readonly #ready: Message[] = [];
  /**
   * runBatch(): the call being gathered (NONE while empty: a call's array is made for its first
   * message), and when its first message came.
   */
  #forming: Message[] = NONE;
  #formingSince = 0;
  /**
   * run(): the message taken and waiting to be admitted (paused, rate limit). run()'s calls are of
   * one message and carry no array: a reused one-element array cost its bookkeeping and a write
   * barrier per message (the loop's arrays are old, the message young; docs/bench-profiles.md).
   */
  #admitting: Message | undefined;
  /** The loop's callbacks for wakes, its timer and the abort signal, made once per loop. */
  // Bound, not an arrow: V8 keeps an arrow's optimized code only while that arrow lives, so each
  // new consumer compiled its own again (every RabbitMQ consume phase of the bench); a bound
  // method runs the method's code, which outlives the loop. It is called once per wake-up (a
  // socket read's worth of deliveries), so no caller needs it inlined.
  readonly #wake = this.#woken.bind(this);
  readonly #onTimer = (): void => this.#dispatch();
  readonly #stopOnAbort = (): void => this.stop();

  constructor(
    host: RunHost,
    options: RunOptions,
    resolve: () => void,
    reject: (error: SwitchyardError) => void,
  ) {
    this.#host = host;
    this.#concurrency = options.concurrency;
    this.#ordered = options.ordered;
    this.#signal = options.signal;
    this.#single = options.single;
    this.#max = options.max;
    this.#waitMs = options.waitMs;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  begin(): void {
    const signal = this.#signal;
    if (signal?.aborted) {
      this.#stopped = true;
      this.#finish();
      return;
    }
    signal?.addEventListener('abort', this.#stopOnAbort, { once: true });
    this.#host.begun(this);
    this.#dispatch();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.release();
    this.#lanes.clear();
    this.#finish();
  }

  release(): void {
    const host = this.#host;
    // Heads first, then what waited behind them. A key whose head goes back unstarted is free
    // again; one whose head is running stays busy (an empty lane) until it finishes.
    const freed = new Set<string>();
    const admitting = this.#admitting === undefined ? [] : [this.#admitting];
    this.#admitting = undefined;
    for (const message of [...admitting, ...this.#ready, ...this.#forming]) {
      host.giveBack(message);
      const key = this.#keyOf(message);
      if (key !== undefined) freed.add(key);
    }
    for (const [key, queued] of this.#lanes) {
      for (const message of queued) host.giveBack(message);
      if (freed.has(key)) this.#lanes.delete(key);
      else this.#lanes.set(key, []);
    }
    this.#ready.length = 0;
    this.#forming = NONE;
    this.#clearTimer();
  }

  #keyOf(message: Message): string | undefined {
    return this.#ordered ? message.orderingKey : undefined;
  }

  // #dispatch() runs this on every wake: clearTimeout(undefined) still costs ~90 ns, so skip it.
  #clearTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #finish(): void {
    if (!this.#stopped || this.#active > 0) return;
    this.#host.ended();
    this.#signal?.removeEventListener('abort', this.#stopOnAbort);
    if (this.#failure !== undefined) this.#reject(this.#failure);
    else this.#resolve();
  }

  #start(messages: Message[]): void {
    const host = this.#host;
    this.#active++;
    // Indexed loops here and in #done(): an iterator object per call showed in run()'s allocations.
    for (let i = 0; i < messages.length; i++) host.started(messages[i]!);
    let result: unknown;
    try {
      result = host.invoke(messages);
    } catch (error) {
      this.#done(messages, undefined, error, true);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#done(messages, value, undefined, false),
        (error: unknown) => this.#done(messages, undefined, error, true),
      );
    } else {
      this.#done(messages, result, undefined, false);
    }
  }

  #done(messages: Message[], result: unknown, error: unknown, failed: boolean): void {
    this.#host.finished(messages, result, error, failed);
    this.#active--;
    if (this.#ordered) for (let i = 0; i < messages.length; i++) this.#keyDone(messages[i]!);
    if (this.#stopped) this.#finish();
    else this.#dispatch();
  }

  /** run()'s #start: one message, no array. */
  #startOne(message: Message): void {
    this.#active++;
    let result: unknown;
    try {
      result = this.#host.invokeOne(message);
    } catch (error) {
      this.#doneOne(message, undefined, error, true);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (value) => this.#doneOne(message, value, undefined, false),
        (error: unknown) => this.#doneOne(message, undefined, error, true),
      );
    } else {
      this.#doneOne(message, result, undefined, false);
    }
  }

  #doneOne(message: Message, result: unknown, error: unknown, failed: boolean): void {
    this.#host.finishedOne(message, result, error, failed);
    this.#active--;
    if (this.#ordered) this.#keyDone(message);
    if (this.#stopped) this.#finish();
    else this.#dispatch();
  }

  /** A call on `message` is over: its key's next waiting message is ready, or the key is free. */
  #keyDone(message: Message): void {
    const key = message.orderingKey;
    if (key === undefined) return;
    const lane = this.#lanes.get(key);
    const next = lane?.shift();
    if (next !== undefined) this.#ready.push(next);
    else this.#lanes.delete(key);
  }

  /** The next message whose key is free (others go to their lane); undefined when none. */
  #next(): Message | undefined {
    const laneNext = this.#ready.shift();
    if (laneNext !== undefined) return laneNext;
    for (;;) {
      const message = this.#host.take();
      if (message === undefined) return undefined;
      const key = this.#keyOf(message);
      if (key === undefined) return message;
      const lane = this.#lanes.get(key);
      if (lane === undefined) {
        this.#lanes.set(key, []);
        return message;
      }
      lane.push(message);
    }
  }

  #woken(): void {
    this.#waiting = false;
    this.#dispatch();
  }

  #sleepUntilWake(): void {
    if (this.#waiting) return;
    this.#waiting = true;
    this.#host.onWake(this.#wake);
  }

  #dispatch(): void {
    if (this.#dispatching || this.#stopped) return;
    this.#dispatching = true;
    this.#clearTimer();
    try {
      if (this.#single) this.#dispatchOne();
      else this.#dispatchBatches();
    } finally {
      this.#dispatching = false;
    }
  }

  /** run(): starts a call per message while there is room and the consumer admits it. */
  #dispatchOne(): void {
    const host = this.#host;
    while (!this.#stopped && this.#active < this.#concurrency) {
      let message = this.#admitting;
      if (message === undefined) {
        message = this.#next();
        if (message === undefined) {
          this.#idle();
          return;
        }
      } else this.#admitting = undefined;
      const wait = host.admit(1);
      if (wait > 0) {
        this.#admitting = message;
        this.#sleepFor(wait);
        return;
      }
      this.#startOne(message);
    }
  }

  /** runBatch(): gathers calls of up to `max` messages and starts them as run()'s are. */
  #dispatchBatches(): void {
    const host = this.#host;
    const max = this.#max;
    while (!this.#stopped && this.#active < this.#concurrency) {
      let forming = this.#forming;
      if (forming.length < max) {
        const message = this.#next();
        if (message !== undefined) {
          if (forming.length > 0) forming.push(message);
          else {
            forming = [message];
            this.#forming = forming;
            this.#formingSince = Date.now();
          }
          continue;
        }
      }
      if (forming.length === 0) {
        this.#idle();
        return;
      }
      if (forming.length < max) {
        const left = this.#formingSince + this.#waitMs - Date.now();
        if (left > 0) {
          this.#timer = setTimeout(this.#onTimer, left);
          this.#sleepUntilWake();
          return;
        }
      }
      const wait = host.admit(forming.length);
      if (wait > 0) {
        this.#sleepFor(wait);
        return;
      }
      this.#forming = NONE;
      this.#start(forming);
    }
  }

  /** Nothing to start: the loop ends if the consumer failed or is stopping, else waits for a wake. */
  #idle(): void {
    const host = this.#host;
    const fatal = host.fatal();
    if (fatal !== undefined) {
      this.#failure = fatal;
      this.stop();
    } else if (host.stopping()) this.stop();
    else this.#sleepUntilWake();
  }

  /** Not admitted: asks again after `wait` ms (Infinity: paused, on the next wake). */
  #sleepFor(wait: number): void {
    if (wait !== Number.POSITIVE_INFINITY) this.#timer = setTimeout(this.#onTimer, wait);
    this.#sleepUntilWake();
  }
}
