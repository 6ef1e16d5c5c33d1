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
