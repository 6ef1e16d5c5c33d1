import {
  InternalError,
  isNetworkErrorCode,
  NotFoundError,
  SwitchyardError,
  TimeoutError,
  UnauthenticatedError,
  UnavailableError,
} from '@switchyard/core/driver';

const DRIVER = 'outbox';

/**
 * A typed error for a PostgreSQL failure during `what`, so a caller can branch on `code` and
 * `retryable` without knowing pg's error shapes (SQLSTATE classes, Node socket codes, pg's own
 * plain-message errors).
 */
export function storeError(error: unknown, what: string, table: string): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const options = { driver: DRIVER, cause: error };
  if (code === '42P01') {
    return new NotFoundError(
      `outbox table "${table}" does not exist (${what}); run ensureOutboxSchema(pool) once before adding or relaying`,
      options,
    );
  }
  if (code === '28P01' || code === '28000') {
    return new UnauthenticatedError(`outbox store refused the credentials (${what}): ${message}`, options);
  }
  if (/timeout/i.test(message) && /connect/i.test(message)) {
    return new TimeoutError(
      `outbox store (PostgreSQL) did not accept a connection in time (${what}): ${message}; check that it runs and is reachable, or raise the pool's connectionTimeoutMillis`,
      { ...options, retryable: true },
    );
  }
  const sqlClass = typeof code === 'string' && code.length === 5 ? code.slice(0, 2) : '';
  if (
    isNetworkErrorCode(code) ||
    sqlClass === '08' || // connection exception
    sqlClass === '57' || // operator intervention: shutdown, crash recovery
    code === '40001' || // serialization failure: run again
    code === '40P01' || // deadlock detected: run again
    /Connection terminated|Client has encountered a connection error/i.test(message)
  ) {
    return new UnavailableError(
      `outbox store (PostgreSQL) unavailable (${what}): ${message}; the relay retries by itself, check that the server runs and the pool's host and port`,
      options,
    );
  }
  return new InternalError(`outbox store failed (${what}): ${message}`, options);
}
