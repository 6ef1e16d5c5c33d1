import { anchorShape } from '@switchyard/core/driver';

/** Tasks started one by one as slots free up; the whole group waits as one entry. */
interface Group {
  readonly count: number;
  readonly task: (index: number) => Promise<unknown>;
  /** The group's promise's settlers (set by takeSettlers as the promise is made). */
  resolve: () => void;
  reject: (error: unknown) => void;
  /** settleEach: each task's value or error by index, and the group never rejects. */
  readonly outcomes: unknown[] | undefined;
  /** The next index to start. */
  next: number;
  finished: number;
  failed: boolean;
  error: unknown;
}

/** A group's settlers before its promise gives them. */
function unset(): void {}

/** The executor of a group's promise: the group keeps its settlers. */
function takeSettlers(this: Group, resolve: () => void, reject: (error: unknown) => void): void {
  this.resolve = resolve;
  this.reject = reject;
}

/** A group of no tasks, for the task anchor (Limiter's static block). */
const IDLE_GROUP: Group = {
  count: 0,
  task: () => Promise.resolve(),
  resolve: unset,
  reject: unset,
  outcomes: undefined,
  next: 0,
  finished: 0,
  failed: false,
  error: undefined,
};

/**
 * Bounds how many requests run at once; waiters are served first come, first served.
 *
 * A batch of pipelined sends waits as one entry (`each`), not as a promise and closures per
 * request: a producer with 16 batches of 64 in flight hands this 1,024 requests at once, and state
 * kept per waiting request outlived two scavenges, was promoted and cost old-space collections
 * (docs/bench-profiles.md, Pulsar over HTTP). A request's own objects are made when it starts.
 */
export class Limiter {
  readonly #max: number;
  #active = 0;
  /** Groups with tasks not yet started, oldest first. */
  readonly #waiting: Group[] = [];

  constructor(max: number) {
    this.#max = max;
  }

  /**
   * One task within the bound. With a slot free and nobody waiting it starts at once and its own
   * promise is the answer (no group, no wrapper promise: a lone send's path); else it waits as a
   * group of one.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#waiting.length === 0 && this.#active < this.#max) {
      this.#active++;
      let running: Promise<T>;
      try {
        running = task();
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(this.#release, this.#release);
      return running;
    }
    let result: T;
    return this.each(1, async () => {
      result = await task();
    }).then(() => result);
  }

  /**
   * Takes a slot at once when one is free and nobody waits (true); the caller then calls
   * `release()` exactly once when its task ends. False: nothing taken, `run` the task instead.
   */
  tryAcquire(): boolean {
    if (this.#waiting.length !== 0 || this.#active >= this.#max) return false;
    this.#active++;
    return true;
  }

  /** Tasks running now (slots taken). */
  get active(): number {
    return this.#active;
  }

  /** Gives back a slot `tryAcquire` took: to the oldest waiting group's next task, else free. */
  release(): void {
    this.#release();
  }

  /**
   * Runs `task(0)` … `task(count - 1)`, each within the bound, started in order and after every
   * task that waited before them. Settles when all have finished: rejects with the first failure.
   */
  each(count: number, task: (index: number) => Promise<void>): Promise<void> {
    return this.#group(count, task, undefined);
  }

  /**
   * As `each`, but each task's value or error is written to `outcomes[index]` by the one reaction
   * the limiter attaches to it anyway, and the returned promise resolves when all have settled
   * (never rejects). A thrown task counts as its error.
   */
  settleEach<T>(
    count: number,
    task: (index: number) => Promise<T>,
    outcomes: Array<T | Error>,
  ): Promise<void> {
    return this.#group(count, task, outcomes);
  }

  #group(
    count: number,
    task: (index: number) => Promise<unknown>,
    outcomes: unknown[] | undefined,
  ): Promise<void> {
    if (count <= 0) return Promise.resolve();
    const group: Group = {
      count,
      task,
      resolve: unset,
      reject: unset,
      outcomes,
      next: 0,
      finished: 0,
      failed: false,
      error: undefined,
    };
    // A module-level executor bound to the group, not an arrow made per group (its optimized code
    // lived only while a group was being made; docs/bench-profiles.md §28.3).
    const done = new Promise<void>(takeSettlers.bind(group));
    try {
      // Behind earlier waiters: take no free slot they are about to be given.
      while (this.#waiting.length === 0 && this.#active < this.#max && group.next < count) {
        this.#active++;
        this.#start(group);
      }
      if (group.next < count) this.#waiting.push(group);
    } catch (error) {
      // As a throw inside the promise's executor did: the group's promise rejects.
      group.reject(error);
    }
    return done;
  }

  /**
   * A started task as its reactions need it, and those reactions: its methods, bound to it. Not
   * arrows made per task: V8 keeps an arrow's optimized code only while an arrow of that literal
   * lives, so once no task ran (between bursts, between the bench's phases) a GC dropped it and the
   * next burst compiled it again (≈ 1.5 ms of TurboFan in 2 of 5 measured 64 KiB receive phases;
   * docs/bench-profiles.md §28.3). A bound method runs the method's code, which lives with the class.
   */
  static readonly #Task = class {
    readonly limiter: Limiter;
    readonly group: Group;
    readonly index: number;

    constructor(limiter: Limiter, group: Group, index: number) {
      this.limiter = limiter;
      this.group = group;
      this.index = index;
    }

    /** The task's value: its outcome (settleEach), then its slot goes on. */
    fulfilled(value: unknown): void {
      const group = this.group;
      if (group.outcomes !== undefined) group.outcomes[this.index] = value;
      this.limiter.#finished(group);
    }

    /** The task's failure: its outcome (settleEach) or the group's first error, then its slot goes on. */
    rejected(error: unknown): void {
      const group = this.group;
      if (group.outcomes !== undefined) group.outcomes[this.index] = error;
      else if (!group.failed) {
        group.failed = true;
        group.error = error;
      }
      this.limiter.#finished(group);
    }
  };

  // `this`, not `Limiter`, in the static initializers below: tsc emits the class's own name there
  // as an alias assigned only after the class is defined (`_a = Limiter`), so the built package
  // threw "undefined is not a constructor" at load (the sources under Vitest did not).
  static {
    // One task record kept for good: its hidden class, and the code compiled against it, would
    // otherwise die at a full GC that finds no task running (core's shape-anchor.ts, §28.1).
    const idle = new this(1);
    anchorShape(new this.#Task(idle, IDLE_GROUP, 0));
  }

  /** The two methods every task's reactions run, bound to the task (for tests). */
  static readonly reactions: ReadonlyArray<(...args: never) => unknown> = [
    this.#Task.prototype.fulfilled,
    this.#Task.prototype.rejected,
  ];

  /** Starts the group's next task in a slot already counted as active. */
  #start(group: Group): void {
    const index = group.next++;
    let running: Promise<unknown>;
    try {
      running = group.task(index);
    } catch (error) {
      running = Promise.reject(error);
    }
    const task = new Limiter.#Task(this, group, index);
    running.then(task.fulfilled.bind(task), task.rejected.bind(task));
  }

  /** A task ended: its slot goes to the oldest waiting group, else it is free. */
  #finished(group: Group): void {
    if (++group.finished === group.count) {
      if (group.failed) group.reject(group.error);
      else group.resolve();
    }
    this.#release();
  }

  /** A slot is given up: it goes to the oldest waiting group's next task, else it is free. */
  readonly #release = (): void => {
    const head = this.#waiting[0];
    if (head === undefined) {
      this.#active--;
      return;
    }
    if (head.next + 1 === head.count) this.#waiting.shift();
    this.#start(head);
  };
}
