// The dispatch loop behind Consumer.run() and Consumer.runBatch(): up to `concurrency` handler
// calls at once, each on one message (run) or on a batch of up to `max` messages gathered for at
// most `waitMs` (runBatch). With `ordered`, at most one message per ordering key is being handled
// or gathered at a time, the key's later messages waiting in its lane in arrival order. Before a
// call starts the consumer may hold it back (paused, rate limit). The consumer supplies the
// messages and settles them; this file only decides what runs when.

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
  /** Calls the handler on `messages` (one for run()); returns its result or promise. */
  invoke(messages: Message[]): unknown;
  /** A handler starts on `message`. */
  started(message: Message): void;
  /** A call finished: settles its messages from `result`, or as failed with `error`. */
  finished(messages: Message[], result: unknown, error: unknown, failed: boolean): void;
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
  /** Most messages per call (1 for run()). */
  readonly max: number;
  /** How long a call with fewer than `max` messages waits for more, from its first, in ms. */
  readonly waitMs: number;
}

/** Resolves when `signal` aborts or the consumer stops, once running calls finish. */
export function runHandlers(host: RunHost, options: RunOptions): Promise<void> {
  const { concurrency, ordered, signal, max, waitMs } = options;
  return new Promise<void>((resolve, reject) => {
    let active = 0;
    let stopped = false;
    let dispatching = false;
    let waiting = false;
    let failure: SwitchyardError | undefined;
    // One timer at a time: the end of a batch's wait for company, or the rate limit's next permit.
    let timer: NodeJS.Timeout | undefined;
    // Messages whose ordering key is busy wait in their lane; a finished lane's next message goes
    // to `ready` so the dispatch loop (not recursion) takes it.
    const lanes = new Map<string, Message[]>();
    const ready: Message[] = [];
    // The call being gathered (NONE while empty: a call's array is made for its first message, at
    // its size for run()'s calls of one), and when its first message came.
    let forming: Message[] = NONE;
    let formingSince = 0;
    // run()'s one-message call arrays, reused once their call is done (run()'s host keeps none:
    // it reads the message and lets go), rather than one array per message.
    const spare: Message[][] = [];

    const keyOf = (message: Message) => (ordered ? message.orderingKey : undefined);
    // dispatch() runs this on every wake: clearTimeout(undefined) still costs ~90 ns, so skip it.
    const clearTimer = () => {
      if (timer === undefined) return;
      clearTimeout(timer);
      timer = undefined;
    };
    const release = () => {
      // Heads first, then what waited behind them. A key whose head goes back unstarted is free
      // again; one whose head is running stays busy (an empty lane) until it finishes.
      const freed = new Set<string>();
      for (const message of [...ready, ...forming]) {
        host.giveBack(message);
        const key = keyOf(message);
        if (key !== undefined) freed.add(key);
      }
      for (const [key, queued] of lanes) {
        for (const message of queued) host.giveBack(message);
        if (freed.has(key)) lanes.delete(key);
        else lanes.set(key, []);
      }
      ready.length = 0;
      forming = NONE;
      clearTimer();
    };
    const finish = () => {
      if (!stopped || active > 0) return;
      host.ended();
      signal?.removeEventListener('abort', stop);
      if (failure !== undefined) reject(failure);
      else resolve();
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      release();
      lanes.clear();
      finish();
    };
    const start = (messages: Message[]) => {
      active++;
      // Indexed loops here and in done(): an iterator object per call showed in run()'s allocations.
      for (let i = 0; i < messages.length; i++) host.started(messages[i]!);
      let result: unknown;
      try {
        result = host.invoke(messages);
      } catch (error) {
        done(messages, undefined, error, true);
        return;
      }
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      ) {
        (result as PromiseLike<unknown>).then(
          (value) => done(messages, value, undefined, false),
          (error: unknown) => done(messages, undefined, error, true),
        );
      } else {
        done(messages, result, undefined, false);
      }
    };
    const done = (messages: Message[], result: unknown, error: unknown, failed: boolean) => {
      host.finished(messages, result, error, failed);
      active--;
      for (let i = 0; ordered && i < messages.length; i++) {
        const key = messages[i]!.orderingKey;
        if (key === undefined) continue;
        const lane = lanes.get(key);
        const next = lane?.shift();
        if (next !== undefined) ready.push(next);
        else lanes.delete(key);
      }
      if (max === 1 && spare.length < concurrency) {
        // Not length = 0: that drops the array's backing store, and the next use grows a new one.
        (messages as Array<Message | undefined>)[0] = undefined;
        spare.push(messages);
      }
      if (stopped) finish();
      else dispatch();
    };
    /** The next message whose key is free (others go to their lane); undefined when none. */
    const next = (): Message | undefined => {
      const laneNext = ready.shift();
      if (laneNext !== undefined) return laneNext;
      for (;;) {
        const message = host.take();
        if (message === undefined) return undefined;
        const key = keyOf(message);
        if (key === undefined) return message;
        const lane = lanes.get(key);
        if (lane === undefined) {
          lanes.set(key, []);
          return message;
        }
        lane.push(message);
      }
    };
    // One wake callback for the loop's life, not a closure per sleep.
    const woken = () => {
      waiting = false;
      dispatch();
    };
    const sleepUntilWake = () => {
      if (waiting) return;
      waiting = true;
      host.onWake(woken);
    };
    const dispatch = () => {
      if (dispatching || stopped) return;
      dispatching = true;
      clearTimer();
      try {
        while (!stopped && active < concurrency) {
          if (forming.length < max) {
            const message = next();
            if (message !== undefined) {
              if (forming.length > 0) forming.push(message);
              else {
                const reused = spare.pop();
                if (reused === undefined) forming = [message];
                else {
                  reused[0] = message;
                  forming = reused;
                }
                if (max > 1) formingSince = Date.now();
              }
              continue;
            }
          }
          if (forming.length === 0) {
            const fatal = host.fatal();
            if (fatal !== undefined) {
              failure = fatal;
              stop();
            } else if (host.stopping()) stop();
            else sleepUntilWake();
            return;
          }
          if (forming.length < max) {
            const left = formingSince + waitMs - Date.now();
            if (left > 0) {
              timer = setTimeout(dispatch, left);
              sleepUntilWake();
              return;
            }
          }
          const wait = host.admit(forming.length);
          if (wait > 0) {
            if (wait !== Number.POSITIVE_INFINITY) timer = setTimeout(dispatch, wait);
            sleepUntilWake();
            return;
          }
          const call = forming;
          forming = NONE;
          start(call);
        }
      } finally {
        dispatching = false;
      }
    };
    if (signal?.aborted) {
      stopped = true;
      finish();
      return;
    }
    signal?.addEventListener('abort', stop, { once: true });
    host.begun({ stop, release });
    dispatch();
  });
}
