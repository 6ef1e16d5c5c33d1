// The error a call that waits rejects with when its caller's AbortSignal aborts. CLOSED (given up
// by the caller, not retryable), with the signal's reason as the cause — or the reason itself when
// it is already a SwitchyardError, so a caller's own typed reason comes back unchanged.

import { ClosedError, SwitchyardError } from './errors.js';

export function abortedError(
  signal: AbortSignal,
  message: string,
  driver: string,
  details?: Readonly<Record<string, unknown>>,
): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof SwitchyardError) return reason;
  return new ClosedError(message, { driver, cause: reason, details: { aborted: true, ...details } });
}

/**
 * `signal?.aborted`, read at this one site for every signal in the process. Node 20 gives each
 * AbortSignal a hidden class of its own (no two share a map), so a hot function that reads
 * `.aborted` itself sees a new map with every new consumer's signal: V8 deoptimises it and
 * recompiles it (20-60 ms of compiler-thread CPU for a driver's receiveBatch, per consumer opened,
 * docs/bench-profiles.md §18). Read here, and made megamorphic at load (below), the load is
 * generic from the start wherever it is inlined, and no new signal deoptimises its caller.
 */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** `signal.addEventListener('abort', listener, { once: true })` at one shared site, as isAborted. */
export function onAbortOnce(signal: AbortSignal, listener: (event: Event) => void): void {
  signal.addEventListener('abort', listener, ONCE);
}

/** `signal.removeEventListener('abort', listener)` at one shared site, as isAborted. */
export function offAbort(signal: AbortSignal, listener: (event: Event) => void): void {
  signal.removeEventListener('abort', listener);
}

const ONCE = { once: true } as const;

// Past V8's polymorphic limit (4 maps) on sites whose feedback is allocated (after the first few
// calls): 16 signals, each of its own map, ≈ 50 µs once per process.
for (let i = 0; i < 16; i++) {
  const signal = new AbortController().signal;
  isAborted(signal);
  onAbortOnce(signal, ignore);
  offAbort(signal, ignore);
}

function ignore(): void {}
