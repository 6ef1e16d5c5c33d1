import { ClosedError, isRetryable, TimeoutError } from './errors.js';

export interface BackoffPolicy {
  /** First delay, ms. */
  readonly initialDelayMs: number;
  /** Cap on one delay, ms. */
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** Tries in all, including the first; Infinity to keep going until the deadline. */
  readonly maxAttempts: number;
  /** Give up after this long in all, ms. */
  readonly deadlineMs: number;
}

export const defaultRetryPolicy: BackoffPolicy = Object.freeze({
  initialDelayMs: 50,
  maxDelayMs: 5_000,
  multiplier: 2,
  maxAttempts: Infinity,
  deadlineMs: 30_000,
});

/** Full-jitter exponential backoff (AWS architecture blog): spreads retries of many clients apart. */
export function backoffDelay(
  policy: Pick<BackoffPolicy, 'initialDelayMs' | 'maxDelayMs' | 'multiplier'>,
  attempt: number,
): number {
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.initialDelayMs * policy.multiplier ** Math.max(0, attempt - 1),
  );
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** Resolves after `ms`, or rejects with CLOSED when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new ClosedError('operation aborted');
}

/**
 * Runs `operation` until it succeeds, a non-retryable error occurs, attempts run out or the
 * deadline passes (then the last error is thrown, or a TIMEOUT if it was retryable).
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  policy: BackoffPolicy,
  options: {
    signal?: AbortSignal;
    onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  } = {},
): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetryable(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(policy, attempt);
      const elapsed = Date.now() - started;
      if (attempt >= policy.maxAttempts) throw error;
      if (elapsed + delay > policy.deadlineMs) {
        throw new TimeoutError(
          `gave up after ${attempt} attempts in ${elapsed} ms: ${(error as Error).message}`,
          {
            cause: error,
            ...(typeof (error as { driver?: unknown }).driver === 'string'
              ? { driver: (error as { driver: string }).driver }
              : {}),
          },
        );
      }
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}
