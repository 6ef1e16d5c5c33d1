import { UnavailableError } from '@switchyard/core';

/**
 * A store's native failure as the portable, retryable error, naming the store and what to check.
 * `role`: 'dedup' (a handler's message is not acked) or 'attempt' (a receive is given back).
 */
export function storeUnavailable(
  store: string,
  where: string,
  cause: unknown,
  role: 'dedup' | 'attempt' = 'dedup',
): UnavailableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const then =
    role === 'dedup'
      ? 'The message was not acked and will be redelivered'
      : 'The messages of this receive go back to the broker unhandled and come again';
  return new UnavailableError(
    `the ${store} ${role} store at ${where} did not answer (${reason}); check that the server is up and reachable. ${then}`,
    { cause },
  );
}
