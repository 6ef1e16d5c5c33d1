/** Thrown by `within` when the time ran out; callers map it to their own error. */
export class DeadlinePassed extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'DeadlinePassed';
  }
}

/**
 * Settles as `work` does, or rejects with DeadlinePassed after `ms`. The broker may never answer
 * (a blocked connection is not read, a dead socket is not noticed until the heartbeat), so every
 * wait on it gets one of these; `work` itself keeps running and its late result is dropped.
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T> {
  if (!Number.isFinite(ms)) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlinePassed(Math.max(0, ms))), Math.max(0, ms));
  });
  // A late rejection of `work` must not become an unhandled rejection.
  work.catch(() => {});
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Settles as `work` does, or rejects with the signal's reason once it aborts (the send's deadline
 * or the producer's close); `work` itself keeps running, shared with others, and its late result
 * is dropped here.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => {});
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** Whether a send's signal aborted because its deadline passed (not because the producer closes). */
export function deadlineReached(signal: AbortSignal | undefined): boolean {
  const reason: unknown = signal?.aborted ? signal.reason : undefined;
  return (reason as { code?: unknown } | undefined)?.code === 'TIMEOUT';
}
