// The dispatch loop behind Consumer.run(): up to `concurrency` handlers at once, and with `ordered`
// at most one per ordering key, the key's later messages waiting in its lane in arrival order.
// The consumer supplies the messages and settles them; this file only decides what runs when.

import type { SwitchyardError } from './errors.js';
import type { Message } from './message.js';

export type Handler = (message: Message) => unknown;

/** What the loop needs from its consumer. */
export interface RunHost {
  /** The next buffered message, handed out; undefined when none is buffered. */
  take(): Message | undefined;
  /** Why consuming stopped for good, if it did: run() rejects with it. */
  fatal(): SwitchyardError | undefined;
  /** True once the consumer is closing: run() resolves when its handlers finish. */
  stopping(): boolean;
  /** Calls `wake` once when a message arrives or the consumer stops. */
  onWake(wake: () => void): void;
  /** Calls the handler (inside the message's trace where telemetry is on). */
  invoke(handler: Handler, message: Message): unknown;
  /** A handler starts on `message`. */
  started(message: Message): void;
  /** A handler finished `message`: settles it (ack, or nack / dead-letter when it failed). */
  finished(message: Message, error: unknown, failed: boolean): void;
  /** Gives back a message taken for a lane but never started. */
  giveBack(message: Message): void;
  /** run() is active; `stop` ends it (close() calls it). */
  begun(stop: () => void): void;
  /** run() is over (resolving or rejecting right after). */
  ended(): void;
}

/** Resolves when `signal` aborts or the consumer stops, once running handlers finish. */
export function runHandlers(
  host: RunHost,
  handler: Handler,
  concurrency: number,
  ordered: boolean,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let active = 0;
    let stopped = false;
    let dispatching = false;
    let waiting = false;
    let failure: SwitchyardError | undefined;
    // Messages whose ordering key is busy wait in their lane; a finished lane's next message
    // goes to `ready` so the dispatch loop (not recursion) starts it.
    const lanes = new Map<string, Message[]>();
    const ready: Array<[Message, string]> = [];

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
      // Lane-queued messages were taken but never started: give them back.
      for (const [, queued] of lanes) for (const message of queued) host.giveBack(message);
      for (const [message] of ready) host.giveBack(message);
      lanes.clear();
      ready.length = 0;
      finish();
    };
    const start = (message: Message, key: string | undefined) => {
      active++;
      host.started(message);
      let result: unknown;
      try {
        result = host.invoke(handler, message);
      } catch (error) {
        done(message, key, error, true);
        return;
      }
      if (
        result !== null &&
        typeof result === 'object' &&
        typeof (result as PromiseLike<unknown>).then === 'function'
      ) {
        (result as PromiseLike<unknown>).then(
          () => done(message, key, undefined, false),
          (error: unknown) => done(message, key, error, true),
        );
      } else {
        done(message, key, undefined, false);
      }
    };
    const done = (message: Message, key: string | undefined, error: unknown, failed: boolean) => {
      host.finished(message, error, failed);
      active--;
      if (key !== undefined) {
        const lane = lanes.get(key);
        const next = lane?.shift();
        if (next !== undefined) ready.push([next, key]);
        else lanes.delete(key);
      }
      if (stopped) finish();
      else dispatch();
    };
    const dispatch = () => {
      if (dispatching || stopped) return;
      dispatching = true;
      try {
        while (!stopped && active < concurrency) {
          const laneNext = ready.shift();
          if (laneNext !== undefined) {
            start(laneNext[0], laneNext[1]);
            continue;
          }
          const message = host.take();
          if (message === undefined) {
            const fatal = host.fatal();
            if (fatal !== undefined) {
              failure = fatal;
              stop();
            } else if (host.stopping()) {
              stop();
            } else if (!waiting) {
              waiting = true;
              host.onWake(() => {
                waiting = false;
                dispatch();
              });
            }
            return;
          }
          const key = ordered ? message.orderingKey : undefined;
          if (key !== undefined) {
            const lane = lanes.get(key);
            if (lane !== undefined) {
              lane.push(message);
              continue;
            }
            lanes.set(key, []);
          }
          start(message, key);
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
    host.begun(stop);
    dispatch();
  });
}
