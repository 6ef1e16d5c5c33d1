import { UnavailableError } from '@switchyard/core';

/** A store's native failure as the portable, retryable error, naming the store and what to check. */
export function storeUnavailable(store: string, where: string, cause: unknown): UnavailableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new UnavailableError(
    `the ${store} dedup store at ${where} did not answer (${reason}); check that the server is up and reachable. The message was not acked and will be redelivered`,
    { cause },
  );
}
