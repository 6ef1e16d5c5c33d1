// Structural types of the few node-postgres calls the outbox makes: pg's Pool, PoolClient and
// Client satisfy them, so the package imports no database client and the user's own pool (and its
// version of pg) is the one that runs.

export interface SqlResult {
  readonly rows: Record<string, unknown>[];
  readonly rowCount: number | null;
}

/** A pg `PoolClient` (inside the caller's transaction), `Client` or `Pool`. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<SqlResult>;
}

/** A connection checked out of a pool (pg `PoolClient`). */
export interface PooledClient extends Queryable {
  release(error?: Error | boolean): void;
  /** pg emits 'error' on a checked-out client whose connection dies between queries. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  off?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A pg `Pool`: the relay takes one connection per claim and gives it back. */
export interface PoolLike extends Queryable {
  connect(): Promise<PooledClient>;
}
