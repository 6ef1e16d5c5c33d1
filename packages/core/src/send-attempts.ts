// The producer's send of one batch: attempts against the driver, per-message outcomes (receipt,
// retry, reject), backoff between attempts, and giving up at the retry policy's deadline or
// attempt limit. Producer decides which batches go when; this decides how one is retried.

import { type BackoffPolicy, backoffDelay, sleep } from './backoff.js';
import type { DriverProducer } from './driver.js';
import { errorCode, isRetryable, TimeoutError, toSwitchyardError } from './errors.js';
import type { Logger } from './logger.js';
import type { Outgoing, Receipt } from './message-types.js';
import type { Batch, Segment } from './send-queue.js';

export interface AttemptContext {
  readonly driver: DriverProducer;
  readonly driverName: string;
  readonly destination: string;
  readonly retry: BackoffPolicy;
  readonly logger: Logger;
  /** Aborted when the producer's close() runs out of time: retries stop. */
  readonly closing: AbortSignal;
}

/** Sends `batch`, retrying what failed retryably, until every message has its outcome. */
export async function sendAttempts(
  ctx: AttemptContext,
  batch: Batch,
  started: number,
  signal: AbortSignal,
): Promise<void> {
  const policy = ctx.retry;
  let remaining = batch;
  for (let attempt = 1; remaining.messages.length > 0; attempt++) {
    let results: Array<Receipt | Error>;
    try {
      results = await ctx.driver.sendBatch(remaining.messages, signal);
    } catch (error) {
      results = remaining.messages.map(() => error as Error);
    }
    // Out of time: what the abort cut short (a driver may call it CLOSED) is a timeout too.
    const timedOut = signal.aborted && !ctx.closing.aborted;
    const retry: Segment[] = [];
    const retryMessages: Outgoing[] = [];
    let lastError: unknown;
    let k = 0;
    for (const { group, first, count } of remaining.segments) {
      for (let index = first; index < first + count; index++, k++) {
        const result = results[k];
        if (result === undefined) {
          group.reject(
            toSwitchyardError(new Error('driver returned fewer results than messages'), ctx.driverName),
          );
        } else if (!(result instanceof Error)) {
          group.resolve(index, result);
        } else if (group.aborted) {
          // Its caller gave up (signal): no retry. The send already said this one's fate is unknown.
        } else if (isRetryable(result) || (timedOut && errorCode(result) === 'CLOSED')) {
          retry.push({ group, first: index, count: 1 });
          retryMessages.push(remaining.messages[k]!);
          lastError = result;
        } else {
          group.reject(toSwitchyardError(result, ctx.driverName));
        }
      }
    }
    if (retry.length === 0) return;
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
      return;
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
      return;
    }
    remaining = { messages: retryMessages, segments: retry, queuedAt: remaining.queuedAt };
  }
}
