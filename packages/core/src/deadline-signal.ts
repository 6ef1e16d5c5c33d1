import { setMaxListeners } from 'node:events';
import { isAborted } from './aborted.js';
import { TimeoutError } from './errors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** The most a shared signal may abort after a send's own deadline. */
const MAX_SLACK_MS = 100;
/** A signal shared by sends whose deadlines lie past what setTimeout can hold: it never times out. */
const NEVER = Number.POSITIVE_INFINITY;

/** One shared signal; `users` counts the sends holding it, whose wait its timer keeps alive. */
export interface DeadlineBucket {
  readonly signal: AbortSignal;
  readonly controller: AbortController;
  readonly timer: NodeJS.Timeout | undefined;
  /** Its key in the producer's buckets. */
  readonly end: number;
  users: number;
  /**
   * Its signal has aborted: set just before it does, so a hot path reads this one-shape field, not
   * the signal's `aborted` getter (each AbortSignal has a map of its own, so that read is a
   * megamorphic load and a getter call per send; docs/bench-profiles.md §23.2).
   */
  aborted: boolean;
}

/**
 * The signals a producer hands its driver with each send: one aborts when `parent` does (the
 * producer's close gave up) or at the send's deadline, whichever is first. A driver cannot read a
 * deadline out of a signal, so this is how a driver attempt that would wait longer (a RabbitMQ
 * publish waiting for a reconnect or an unblock) learns the send has no time left. The deadline's
 * reason is a TIMEOUT SwitchyardError, so a driver can tell it from a close.
 *
 * A controller, a timer and a parent listener per batch were about half of the producer's own CPU
 * on one-at-a-time sends (docs/bench-profiles.md §1), so sends share one signal per deadline
 * bucket: its deadline is rounded up by at most 1/64 of the time the send had left, and never more
 * than 100 ms, so a signal may abort that much after the send's deadline, never before. One listener
 * on the parent serves every bucket; a bucket lives until its timer fires or the parent aborts.
 */
export class DeadlineSignals {
  readonly #parent: AbortSignal;
  readonly #driver: string;
  readonly #buckets = new Map<number, DeadlineBucket>();
  /**
   * The bucket opened last: the only one kept while no send holds it, for the next send to reuse.
   * An older one is dropped (its timer cleared) once no send holds it: a producer sending now and
   * then (one of many destinations) opened one per send and kept each, controller and timer, for
   * the whole send deadline (30 s), long enough to be promoted.
   */
  #newest: DeadlineBucket | undefined;
  #listening = false;

  constructor(parent: AbortSignal, driver: string) {
    this.#parent = parent;
    this.#driver = driver;
  }

  /** Buckets kept (each a controller and a timer): at most the newest idle one plus those in use. */
  get kept(): number {
    return this.#buckets.size;
  }

  /**
   * The signal for a send that must end by `deadline` (epoch ms); `release` it when the send settled.
   * `now`: the caller's clock read of this moment, when it has one.
   */
  acquire(deadline: number, now = Date.now()): DeadlineBucket {
    const left = deadline - now;
    const slack = Math.min(MAX_SLACK_MS, Math.max(1, Math.floor(left / 64)));
    // setTimeout fires at once for a delay past 2^31 - 1 ms (~24.8 days): no timer for those.
    const end = left > MAX_TIMER_MS ? NEVER : Math.ceil(deadline / slack) * slack;
    let bucket = this.#buckets.get(end);
    if (bucket === undefined || bucket.aborted) bucket = this.#open(end, now);
    // While a send waits on it, the timer must keep the process alive, as a timer of its own would.
    if (bucket.users++ === 0) bucket.timer?.ref();
    return bucket;
  }

  release(bucket: DeadlineBucket): void {
    if (--bucket.users !== 0) return;
    if (bucket === this.#newest) bucket.timer?.unref();
    else this.#drop(bucket);
  }

  #drop(bucket: DeadlineBucket): void {
    clearTimeout(bucket.timer);
    if (this.#buckets.get(bucket.end) === bucket) this.#buckets.delete(bucket.end);
  }

  /** Drops every bucket's timer (the producer closed with nothing in flight). */
  close(): void {
    for (const { timer } of this.#buckets.values()) clearTimeout(timer);
    this.#buckets.clear();
    this.#newest = undefined;
  }

  /** Aborts every signal still open with `reason` and clears their timers (the producer closed). */
  #abortAll = (): void => {
    const reason = this.#parent.reason;
    for (const bucket of this.#buckets.values()) {
      clearTimeout(bucket.timer);
      bucket.aborted = true;
      bucket.controller.abort(reason);
    }
    this.#buckets.clear();
    this.#newest = undefined;
  };

  #open(end: number, now: number): DeadlineBucket {
    const controller = new AbortController();
    // A driver may hand one send's signal to every request it pipelines for the batch (Pulsar over
    // HTTP: up to 64), and here several batches share it: many listeners are normal, not a leak.
    setMaxListeners(0, controller.signal);
    if (isAborted(this.#parent)) {
      controller.abort(this.#parent.reason);
      return { signal: controller.signal, controller, timer: undefined, end, users: 0, aborted: true };
    }
    const timer =
      end === NEVER
        ? undefined
        : setTimeout(
            () => {
              this.#buckets.delete(end);
              bucket.aborted = true;
              controller.abort(new TimeoutError('the send reached its deadline', { driver: this.#driver }));
            },
            Math.max(0, end - now),
          );
    // A bucket outlives the sends that used it; with none left its timer must not hold the process.
    timer?.unref();
    const bucket: DeadlineBucket = {
      signal: controller.signal,
      controller,
      timer,
      end,
      users: 0,
      aborted: false,
    };
    this.#buckets.set(end, bucket);
    const previous = this.#newest;
    this.#newest = bucket;
    if (previous !== undefined && previous.users === 0) this.#drop(previous);
    if (!this.#listening) {
      this.#listening = true;
      this.#parent.addEventListener('abort', this.#abortAll, { once: true });
    }
    return bucket;
  }
}
