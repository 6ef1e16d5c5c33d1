import { setMaxListeners } from 'node:events';
import { isAborted } from './aborted.js';
import { TimeoutError } from './errors.js';

const MAX_TIMER_MS = 2 ** 31 - 1;
/** The most a shared signal may abort after a send's own deadline. */
const MAX_SLACK_MS = 100;
/** A signal shared by sends whose deadlines lie past what setTimeout can hold: it never times out. */
const NEVER = Number.POSITIVE_INFINITY;

/**
 * One shared signal; `users` counts the sends holding it, whose wait its timer keeps alive. While
 * held it belongs to one producer (`owner`), whose close may abort it; idle, any producer of the
 * broker may take it.
 */
export interface DeadlineBucket {
  readonly signal: AbortSignal;
  readonly controller: AbortController;
  readonly timer: NodeJS.Timeout | undefined;
  /** When its timer aborts it (epoch ms), or NEVER. */
  readonly end: number;
  /** The rounding its end was made with (1–100 ms; 0 for NEVER): which idle list it may join. */
  readonly slack: number;
  users: number;
  /**
   * Its signal has aborted: set just before it does, so a hot path reads this one-shape field, not
   * the signal's `aborted` getter (each AbortSignal has a map of its own, so that read is a
   * megamorphic load and a getter call per send; docs/bench-profiles.md §23.2).
   */
  aborted: boolean;
  /** The producer whose sends hold it; undefined while idle. */
  owner: DeadlineSignals | undefined;
  /** Its neighbours in its owner's held list, or in the broker's idle list (never both at once). */
  prev: DeadlineBucket | undefined;
  next: DeadlineBucket | undefined;
  /** It is in an idle list (the one of its slack). */
  idle: boolean;
}

/**
 * A doubly linked list through the buckets' own `prev`/`next` fields: linking and unlinking
 * allocate nothing, which a Set's add and delete per send would (a rehash every few).
 */
class BucketList {
  head: DeadlineBucket | undefined;

  push(bucket: DeadlineBucket): void {
    bucket.prev = undefined;
    bucket.next = this.head;
    if (this.head !== undefined) this.head.prev = bucket;
    this.head = bucket;
  }

  remove(bucket: DeadlineBucket): void {
    if (bucket.prev !== undefined) bucket.prev.next = bucket.next;
    else if (this.head === bucket) this.head = bucket.next;
    if (bucket.next !== undefined) bucket.next.prev = bucket.prev;
    bucket.prev = undefined;
    bucket.next = undefined;
  }
}

/** A window's idle buckets: those of the newest end opened with one rounding (one slack). */
class IdleList extends BucketList {
  keepEnd = Number.NEGATIVE_INFINITY;
}

/**
 * A broker's deadline buckets, shared by its producers (each a DeadlineSignals). A producer
 * sending now and then (one of 1,000 destinations) found its own last bucket's window long past at
 * each send and opened one per send — an AbortController, its signal (a map of its own), a
 * listeners map and a timer, ≈ 1.8 KB (docs/bench-profiles.md §28): here a bucket a send released
 * is kept idle for the next send of any producer whose deadline falls in the same window.
 *
 * Only idle buckets of the newest window are kept, per rounding (slack: every send with 6.4 s or
 * more left has 100 ms, so sends with the default 30 s deadline have one list, and a producer with
 * 1 s deadlines does not evict their window): an older one is dropped, its timer cleared, once no
 * send holds it, so at most as many are kept as sends were in flight at once — not one controller
 * per send for the whole deadline (30 s), long enough to be promoted.
 */
export class SharedDeadlines {
  readonly #driver: string;
  /** Idle buckets by their slack (index 0: NEVER), made when a slack is first used. */
  readonly #idle: Array<IdleList | undefined> = new Array(MAX_SLACK_MS + 1).fill(undefined);
  #kept = 0;
  #producers = 0;

  constructor(driver: string) {
    this.#driver = driver;
  }

  /** Buckets kept (each a controller and, but for NEVER, a timer): held or idle. */
  get kept(): number {
    return this.#kept;
  }

  /** @internal A producer's DeadlineSignals joined. */
  joined(): void {
    this.#producers++;
  }

  /** @internal A producer's DeadlineSignals closed: with none left, the idle buckets go too. */
  left(): void {
    if (--this.#producers === 0) this.close();
  }

  /** An idle bucket of window `end` (rounded by `slack`) for `owner`, or a new one. */
  take(end: number, slack: number, now: number, owner: DeadlineSignals): DeadlineBucket {
    let list = this.#idle[slack];
    if (list === undefined) {
      list = new IdleList();
      this.#idle[slack] = list;
    }
    if (end === list.keepEnd) {
      const idle = list.head;
      if (idle !== undefined) {
        list.remove(idle);
        idle.idle = false;
        idle.owner = owner;
        return idle;
      }
    } else if (end > list.keepEnd) {
      // A new window: the previous one's idle buckets would be taken rarely, if ever.
      this.#dropAll(list);
      list.keepEnd = end;
    }
    return this.#open(end, slack, now, owner);
  }

  /** No send holds `bucket` any more: idle for the next send in its window, or dropped. */
  released(bucket: DeadlineBucket): void {
    bucket.owner = undefined;
    const list = this.#idle[bucket.slack];
    if (list === undefined || bucket.end !== list.keepEnd) {
      this.#drop(bucket);
      return;
    }
    bucket.timer?.unref();
    bucket.idle = true;
    list.push(bucket);
  }

  /** `bucket` aborted with its owner's close: it is no longer kept. */
  aborted(bucket: DeadlineBucket): void {
    clearTimeout(bucket.timer);
    this.#kept--;
  }

  /** Drops every idle bucket's timer (the broker, or its last producer, closed). */
  close(): void {
    for (const list of this.#idle) if (list !== undefined) this.#dropAll(list);
  }

  #dropAll(list: BucketList): void {
    for (let bucket = list.head; bucket !== undefined; ) {
      const next = bucket.next;
      bucket.prev = undefined;
      bucket.next = undefined;
      bucket.idle = false;
      this.#drop(bucket);
      bucket = next;
    }
    list.head = undefined;
  }

  #drop(bucket: DeadlineBucket): void {
    clearTimeout(bucket.timer);
    this.#kept--;
  }

  /** Its timer fired: the signal aborts with TIMEOUT, wherever the bucket was. */
  #expire(bucket: DeadlineBucket): void {
    if (bucket.aborted) return;
    if (bucket.idle) {
      this.#idle[bucket.slack]!.remove(bucket);
      bucket.idle = false;
    } else bucket.owner?.expired(bucket);
    this.#kept--;
    bucket.aborted = true;
    bucket.controller.abort(new TimeoutError('the send reached its deadline', { driver: this.#driver }));
  }

  #open(end: number, slack: number, now: number, owner: DeadlineSignals): DeadlineBucket {
    const controller = new AbortController();
    // A driver may hand one send's signal to every request it pipelines for the batch (Pulsar over
    // HTTP: up to 64), and here several batches share it: many listeners are normal, not a leak.
    setMaxListeners(0, controller.signal);
    const bucket: DeadlineBucket = {
      signal: controller.signal,
      controller,
      timer: undefined,
      end,
      slack,
      users: 0,
      aborted: false,
      owner,
      prev: undefined,
      next: undefined,
      idle: false,
    };
    if (end !== NEVER) {
      // A bucket outlives the sends that used it; with none left its timer must not hold the process.
      (bucket as { timer: NodeJS.Timeout }).timer = setTimeout(
        () => this.#expire(bucket),
        Math.max(0, end - now),
      ).unref();
    }
    this.#kept++;
    return bucket;
  }
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
 * than 100 ms, so a signal may abort that much after the send's deadline, never before. The
 * buckets come from the broker's SharedDeadlines: a bucket is held by one producer's sends at a
 * time (so its close aborts its own sends only), and an idle one is taken by any producer's next
 * send in its window. One listener on the parent serves every bucket the producer holds.
 */
export class DeadlineSignals {
  readonly #parent: AbortSignal;
  readonly #shared: SharedDeadlines;
  /** The buckets this producer's sends hold. */
  readonly #held = new BucketList();
  /** The bucket taken last: the next send shares it while held and in its window. */
  #current: DeadlineBucket | undefined;
  #listening = false;
  #closed = false;

  constructor(parent: AbortSignal, driver: string, shared = new SharedDeadlines(driver)) {
    this.#parent = parent;
    this.#shared = shared;
    shared.joined();
  }

  /** Buckets the broker keeps (each a controller and a timer): those held plus the newest window's idle ones. */
  get kept(): number {
    return this.#shared.kept;
  }

  /**
   * The signal for a send that must end by `deadline` (epoch ms); `release` it when the send settled.
   * `now`: the caller's clock read of this moment, when it has one.
   */
  acquire(deadline: number, now = Date.now()): DeadlineBucket {
    const left = deadline - now;
    const slack = Math.min(MAX_SLACK_MS, Math.max(1, Math.floor(left / 64)));
    // setTimeout fires at once for a delay past 2^31 - 1 ms (~24.8 days): no timer for those.
    const never = left > MAX_TIMER_MS;
    const end = never ? NEVER : Math.ceil(deadline / slack) * slack;
    let bucket = this.#current;
    // Shared only while this producer's sends hold it: idle, it may since be another's.
    if (
      bucket === undefined ||
      bucket.end !== end ||
      bucket.users === 0 ||
      bucket.owner !== this ||
      bucket.aborted
    ) {
      if (isAborted(this.#parent)) return this.#abortedBucket(end);
      bucket = this.#shared.take(end, never ? 0 : slack, now, this);
      this.#held.push(bucket);
      this.#current = bucket;
      if (!this.#listening) {
        this.#listening = true;
        this.#parent.addEventListener('abort', this.#abortAll, { once: true });
      }
    }
    // While a send waits on it, the timer must keep the process alive, as a timer of its own would.
    if (bucket.users++ === 0) bucket.timer?.ref();
    return bucket;
  }

  release(bucket: DeadlineBucket): void {
    if (--bucket.users !== 0 || bucket.aborted) return;
    this.#held.remove(bucket);
    this.#shared.released(bucket);
  }

  /** @internal `bucket`, held by this producer's sends, reached its deadline. */
  expired(bucket: DeadlineBucket): void {
    this.#held.remove(bucket);
  }

  /** The producer closed with nothing in flight: its buckets were released; the broker's may go. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#current = undefined;
    this.#shared.left();
  }

  /** Aborts the signals this producer's sends hold with the parent's reason (its close gave up). */
  #abortAll = (): void => {
    const reason = this.#parent.reason;
    for (let bucket = this.#held.head; bucket !== undefined; ) {
      const next = bucket.next;
      bucket.prev = undefined;
      bucket.next = undefined;
      bucket.aborted = true;
      this.#shared.aborted(bucket);
      bucket.controller.abort(reason);
      bucket = next;
    }
    this.#held.head = undefined;
    this.#current = undefined;
  };

  /** A send after the close gave up: its signal is aborted already, as the close's. */
  #abortedBucket(end: number): DeadlineBucket {
    const controller = new AbortController();
    controller.abort(this.#parent.reason);
    return {
      signal: controller.signal,
      controller,
      timer: undefined,
      end,
      slack: 0,
      users: 1,
      aborted: true,
      owner: undefined,
      prev: undefined,
      next: undefined,
      idle: false,
    };
  }
}
