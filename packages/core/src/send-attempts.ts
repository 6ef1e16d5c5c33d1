// The producer's send of one batch: attempts against the driver, per-message outcomes (receipt,
// retry, reject), backoff between attempts, and giving up at the retry policy's deadline or
// attempt limit. Producer decides which batches go when; this decides how one is retried.

import { isAborted } from './aborted.js';
import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { DeadlineBucket, DeadlineSignals } from './deadline-signal.js';
import type { DriverProducer } from './driver.js';
import { errorCode, isRetryable, TimeoutError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Outgoing, Receipt } from './message-types.js';
import type { Batch, Segment } from './send-queue.js';
import { anchorShape } from './shape-anchor.js';

export interface AttemptContext {
  readonly driver: DriverProducer;
  readonly driverName: string;
  readonly destination: string;
  readonly retry: BackoffPolicy;
  /** `retry.deadlineMs`, read on every batch: a field of this one object, not of the policy's (see Producer #maxInFlight). */
  readonly deadlineMs: number;
  readonly logger: Logger;
  /** Aborted when the producer's close() runs out of time: retries stop. */
  readonly closing: AbortSignal;
  /** The signals handed to the driver, shared per deadline bucket. */
  readonly deadlines: DeadlineSignals;
  /** The producer's count of messages in flight, which each batch's attempts report to. */
  readonly window: SendWindow;
}

/**
 * A producer's messages in batches in flight (`handed`), and how many of them the driver already
 * reported confirmed (`confirmedEarly`). One class for every producer, its reports made by its
 * methods: they were closures made per producer, and an optimised sendAttempts that had seen the
 * first producer's was thrown away ("wrong call target") when a second producer's batches came
 * (docs/bench-profiles.md §19.1, §20.2).
 */
export class SendWindow {
  handed = 0;
  confirmedEarly = 0;
  /** Called after each early confirm (the producer refills its window). */
  readonly #onConfirm: () => void;

  constructor(onConfirm: () => void) {
    this.#onConfirm = onConfirm;
  }

  /** A message of a batch was confirmed before the rest (the driver reported it at its confirm). */
  confirmed(): void {
    this.confirmedEarly++;
    this.#onConfirm();
  }

  /**
   * The batch of `size` messages has every outcome (or sendAttempts failed); `early` of them the
   * driver reported confirmed before their attempt ended. Called once per batch, synchronously.
   */
  settled(size: number, early: number): void {
    this.handed -= size;
    this.confirmedEarly -= early;
  }
}

/**
 * Sends `batch`, retrying what failed retryably, until every message has its outcome, under one
 * deadline signal (from the batch's queuedAt; `now`: the caller's clock read of this moment, when
 * it has one), and reports the batch settled. Never rejects.
 *
 * One async function per batch, with the work between awaits in plain functions: an async
 * function's frame is kept on the heap with every local it has, so each local here is bytes
 * allocated per batch, which for a lone send is per send (docs/bench-profiles.md §19.1).
 */
export async function sendAttempts(ctx: AttemptContext, batch: Batch, now?: number): Promise<void> {
  const started = batch.queuedAt;
  // The driver's signal also aborts at the deadline, so one attempt cannot outlive the send.
  const deadline = ctx.deadlines.acquire(started + ctx.deadlineMs, now);
  let confirms = new Confirms(ctx, batch.segments, undefined);
  let remaining: Batch = batch;
  try {
    for (let attempt = 1; remaining.messages.length > 0; attempt++) {
      let results: Array<Receipt | Error>;
      try {
        results = await ctx.driver.sendBatch(remaining.messages, deadline.signal, confirms.report);
      } catch (error) {
        results = remaining.messages.map(() => error as Error);
      }
      const retry = settleAttempt(ctx, remaining, results, deadline);
      if (retry === undefined || !(await retried(ctx, retry, attempt, started))) return;
      remaining = retry;
      confirms = new Confirms(ctx, retry.segments, confirms);
    }
  } catch {
    // Nothing here throws but a caller's hook (a telemetry observation): the batch still ends.
  } finally {
    ctx.deadlines.release(deadline);
    ctx.window.settled(batch.messages.length, confirms.total);
    release(batch);
    if (remaining !== batch) release(remaining);
  }
}

/**
 * An ended batch lets go of its sends: its segments array is emptied. Something in the old
 * generation still reaches the batch's Confirms (and through it this array) after the batch ended
 * — not the Batch object, this function's locals or the `report` handed to the driver: cutting each
 * changed nothing — so its SendGroups, each with its prepared messages and its receipts, survived
 * every scavenge until the next mark-compact: on the memory driver's batched row every message
 * sent reached the old generation (272 of 280 B per message reaching it; 33 with this;
 * docs/bench-profiles.md §20.1).
 */
function release(batch: Batch): void {
  const segments = batch.segments as Segment[];
  // A lone send's batch has one segment: pop() is a builtin's fast path, where writing `length`
  // calls into the runtime (an accessor store: ≈ 400 instructions per send, §23.2).
  if (segments.length === 1) segments.pop();
  else segments.length = 0;
}

/** What an attempt left to retry: made at its first retryable failure, so a batch that went through makes none. */
interface Retry extends Batch {
  readonly segments: Segment[];
  readonly messages: Outgoing[];
  lastError: unknown;
  /** The attempt ran out of time: the signal aborted at the deadline, not at close. */
  readonly timedOut: boolean;
}

/** Settles each message of `batch` by its result; returns what is to be retried, if anything. */
function settleAttempt(
  ctx: AttemptContext,
  batch: Batch,
  results: ReadonlyArray<Receipt | Error>,
  deadline: DeadlineBucket,
): Retry | undefined {
  // Out of time: what the abort cut short (a driver may call it CLOSED) is a timeout too.
  const timedOut = deadline.aborted && !isAborted(ctx.closing);
  let retry: Retry | undefined;
  let k = 0;
  const { segments } = batch;
  for (let s = 0; s < segments.length; s++) {
    const { group, first, count } = segments[s]!;
    for (let index = first; index < first + count; index++, k++) {
      const result = results[k];
      // Reported as confirmed while the batch was in flight: that send has its receipt.
      if (group.has(index)) continue;
      if (result === undefined) {
        group.reject(
          toSwitchyardError(new Error('driver returned fewer results than messages'), ctx.driverName),
        );
      } else if (!(result instanceof Error)) {
        group.resolve(index, result);
      } else if (group.aborted) {
        // Its caller gave up (signal): no retry. The send already said this one's fate is unknown.
      } else if (isRetryable(result) || (timedOut && errorCode(result) === 'CLOSED')) {
        retry ??= { messages: [], segments: [], queuedAt: batch.queuedAt, lastError: undefined, timedOut };
        retry.segments.push({ group, first: index, count: 1 });
        retry.messages.push(batch.messages[k]!);
        retry.lastError = result;
      } else {
        group.reject(toSwitchyardError(result, ctx.driverName));
      }
    }
  }
  return retry;
}

/**
 * After an attempt left `retry`: true when it is to be sent again (after the backoff, waited
 * here); false when the send gave up, its messages rejected.
 */
async function retried(
  ctx: AttemptContext,
  retry: Retry,
  attempt: number,
  started: number,
): Promise<boolean> {
  const policy = ctx.retry;
  const { lastError, timedOut } = retry;
  const delay = backoffDelay(policy, attempt);
  const elapsed = Date.now() - started;
  // Out of attempts: the last error is the answer. Out of time: TIMEOUT, with it as the cause.
  const exhausted = !timedOut && (attempt >= policy.maxAttempts || isAborted(ctx.closing));
  if (exhausted || timedOut || elapsed + delay > policy.deadlineMs) {
    const error = exhausted
      ? toSwitchyardError(lastError, ctx.driverName)
      : new TimeoutError(
          `send to "${ctx.destination}" gave up after ${attempt} attempts in ${elapsed} ms: ${(lastError as Error).message}`,
          { driver: ctx.driverName, cause: lastError },
        );
    for (const { group } of retry.segments) group.reject(error);
    return false;
  }
  ctx.logger.warn(
    {
      destination: ctx.destination,
      attempt,
      delayMs: delay,
      code: (lastError as { code?: string }).code,
    },
    'send failed; retrying',
  );
  await sleep(delay, ctx.closing).catch(() => {});
  if (isAborted(ctx.closing)) {
    for (const { group } of retry.segments) group.reject(toSwitchyardError(lastError, ctx.driverName));
    return false;
  }
  return true;
}

/**
 * The driver's per-message confirm report for a batch's attempts (`report`): message `k` of the
 * attempt settles its own send()'s slot at once, so a send resolves at its confirm, not at the
 * batch's last one (a batch of 250 single sends would otherwise hold 249 callers until the slowest
 * confirm). One object and one closure per attempt, so a confirm an earlier attempt's driver call
 * reports late still finds its own message.
 */
export class Confirms {
  readonly #ctx: AttemptContext;
  readonly #segments: readonly Segment[];
  /** The batch's earlier attempt, whose early confirms count too. */
  readonly #previous: Confirms | undefined;
  /** Where each segment starts in the attempt, with more than one segment. */
  readonly #starts: Int32Array | undefined;
  /** Confirms mostly come in order: a cursor into `#starts` walks on. */
  #at = 0;
  /** Messages settled by their confirm before their attempt ended. */
  early = 0;
  readonly report: (k: number, receipt: Receipt) => void;

  constructor(ctx: AttemptContext, segments: readonly Segment[], previous: Confirms | undefined) {
    this.#ctx = ctx;
    this.#segments = segments;
    this.#previous = previous;
    this.#starts = segments.length === 1 ? undefined : startsOf(segments);
    this.report = (k, receipt) => this.#confirm(k, receipt);
  }

  /** Early confirms over the batch's attempts. */
  get total(): number {
    return this.early + (this.#previous?.total ?? 0);
  }

  #confirm(k: number, receipt: Receipt): void {
    const segments = this.#segments;
    // The batch ended (release emptied this): every message already has its outcome, and a
    // confirm a driver reports that late (a broker confirming after the deadline) changes none.
    if (segments.length === 0) return;
    let segment: Segment;
    let index: number;
    const starts = this.#starts;
    if (starts === undefined) {
      segment = segments[0]!;
      index = segment.first + k;
    } else {
      let at = this.#at;
      if (k < starts[at]!) {
        // Out of order: binary search below the cursor (starts[lo] <= k < starts[hi]).
        let lo = 0;
        let hi = at;
        while (hi - lo > 1) {
          const mid = (lo + hi) >>> 1;
          if (starts[mid]! <= k) lo = mid;
          else hi = mid;
        }
        at = lo;
      }
      while (at + 1 < starts.length && starts[at + 1]! <= k) at++;
      this.#at = at;
      segment = segments[at]!;
      index = segment.first + k - starts[at]!;
    }
    const { group } = segment;
    if (group.has(index)) return;
    group.resolve(index, receipt);
    this.early++;
    this.#ctx.window.confirmed();
  }
}

function startsOf(segments: readonly Segment[]): Int32Array {
  const starts = new Int32Array(segments.length);
  for (let i = 1; i < segments.length; i++) starts[i] = starts[i - 1]! + segments[i - 1]!.count;
  return starts;
}

// One attempt's confirms kept for good (no user data, no segments): between bursts none is alive,
// and a mark-compact would collect the class's map and the attempt path's code with it
// (shape-anchor.ts).
anchorShape(new Confirms({} as AttemptContext, [], undefined));
