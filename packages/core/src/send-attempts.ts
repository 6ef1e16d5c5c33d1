// The producer's send of one batch: attempts against the driver, per-message outcomes (receipt,
// retry, reject), backoff between attempts, and giving up at the retry policy's deadline or
// attempt limit. Producer decides which batches go when; this decides how one is retried.

import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { DriverProducer } from './driver.js';
import { errorCode, isRetryable, TimeoutError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Outgoing, Receipt } from './message-types.js';
import type { Batch, Segment, SendGroup } from './send-queue.js';

export interface AttemptContext {
  readonly driver: DriverProducer;
  readonly driverName: string;
  readonly destination: string;
  readonly retry: BackoffPolicy;
  readonly logger: Logger;
  /** Aborted when the producer's close() runs out of time: retries stop. */
  readonly closing: AbortSignal;
  /** A message of the batch was confirmed before the rest (the driver reported it at its confirm). */
  readonly confirmed: () => void;
}

/**
 * Sends `batch`, retrying what failed retryably, until every message has its outcome. Resolves
 * to how many messages the driver reported confirmed before their attempt ended.
 */
export async function sendAttempts(
  ctx: AttemptContext,
  batch: Batch,
  started: number,
  signal: AbortSignal,
): Promise<number> {
  const policy = ctx.retry;
  let remaining = batch;
  const early = { count: 0 };
  for (let attempt = 1; remaining.messages.length > 0; attempt++) {
    let results: Array<Receipt | Error>;
    try {
      const report = receiptReporter(remaining.segments, ctx, early);
      results = await ctx.driver.sendBatch(remaining.messages, signal, report);
    } catch (error) {
      results = remaining.messages.map(() => error as Error);
    }
    // Out of time: what the abort cut short (a driver may call it CLOSED) is a timeout too.
    const timedOut = signal.aborted && !ctx.closing.aborted;
    // Made at the first retryable failure: a batch that went through allocates no retry lists.
    let retry: Segment[] | undefined;
    let retryMessages: Outgoing[] | undefined;
    let lastError: unknown;
    let k = 0;
    for (const { group, first, count } of remaining.segments) {
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
          if (retry === undefined || retryMessages === undefined) {
            retry = [];
            retryMessages = [];
          }
          retry.push({ group, first: index, count: 1 });
          retryMessages.push(remaining.messages[k]!);
          lastError = result;
        } else {
          group.reject(toSwitchyardError(result, ctx.driverName));
        }
      }
    }
    if (retry === undefined || retryMessages === undefined) return early.count;
    const delay = backoffDelay(policy, attempt);
    const elapsed = Date.now() - started;
    // Out of attempts: the last error is the answer. Out of time: TIMEOUT, with it as the cause.
    const exhausted = !timedOut && (attempt >= policy.maxAttempts || ctx.closing.aborted);
    if (exhausted || timedOut || elapsed + delay > policy.deadlineMs) {
      const error = exhausted
        ? toSwitchyardError(lastError, ctx.driverName)
        : new TimeoutError(
            `send to "${ctx.destination}" gave up after ${attempt} attempts in ${elapsed} ms: ${(lastError as Error).message}`,
            { driver: ctx.driverName, cause: lastError },
          );
      for (const { group } of retry) group.reject(error);
      return early.count;
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
    if (ctx.closing.aborted) {
      for (const { group } of retry) group.reject(toSwitchyardError(lastError, ctx.driverName));
      return early.count;
    }
    remaining = { messages: retryMessages, segments: retry, queuedAt: remaining.queuedAt };
  }
  return early.count;
}

/**
 * The driver's per-message confirm report for one attempt: message `k` of the batch settles its
 * own send()'s slot at once, so a send resolves at its confirm, not at the batch's last one (a
 * batch of 250 single sends would otherwise hold 249 callers until the slowest confirm).
 */
function receiptReporter(
  segments: readonly Segment[],
  ctx: AttemptContext,
  early: { count: number },
): (k: number, receipt: Receipt) => void {
  const confirm = (group: SendGroup, index: number, receipt: Receipt) => {
    if (group.has(index)) return;
    group.resolve(index, receipt);
    early.count++;
    ctx.confirmed();
  };
  if (segments.length === 1) {
    const { group, first } = segments[0]!;
    return (k, receipt) => confirm(group, first + k, receipt);
  }
  // Where each segment starts in the batch; confirms mostly come in order, so a cursor walks on.
  const starts = new Int32Array(segments.length);
  for (let i = 1; i < segments.length; i++) starts[i] = starts[i - 1]! + segments[i - 1]!.count;
  let at = 0;
  return (k, receipt) => {
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
    const { group, first } = segments[at]!;
    confirm(group, first + k - starts[at]!, receipt);
  };
}
