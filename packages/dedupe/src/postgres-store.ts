import { randomUUID } from 'node:crypto';
import { InternalError, InvalidArgumentError, NotFoundError, type SwitchyardError } from '@switchyard/core';
import type pg from 'pg';
import { type PostgresPoolOptions, postgresPool } from './clients.js';
import { BUSY, type Claim, type DedupeStore, DONE } from './store.js';
import { storeUnavailable } from './unavailable.js';

export interface PostgresDedupeStoreOptions extends PostgresPoolOptions {
  /** The table (default `switchyard_dedupe`), optionally schema-qualified. */
  readonly table?: string;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/;

/**
 * The table's migration, also run by `ensureSchema()`. A row is a claim (token set, lease in
 * expires_at) or done (token null, window in expires_at); an expired row counts as absent.
 */
export function dedupeMigration(table = 'switchyard_dedupe'): string {
  checkTable(table);
  return `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  token text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table.replace('.', '_')}_expires_at ON ${table} (expires_at);`;
}

export function checkTable(table: string): void {
  if (!TABLE_NAME.test(table))
    throw new InvalidArgumentError(
      `table name ${JSON.stringify(table)} is not a plain identifier (letters, digits, _; optionally schema.table)`,
    );
}

/**
 * A dedup store in PostgreSQL. Times are the server's (now()), so processes with skewed clocks
 * agree on leases. `transactional()` (see transactional.ts) goes further: the handler's writes and
 * the done mark commit in one transaction.
 */
export class PostgresDedupeStore implements DedupeStore {
  readonly pool: pg.Pool;
  readonly table: string;
  readonly #owned: boolean;
  readonly #where: string;

  constructor(options: PostgresDedupeStoreOptions = {}) {
    this.table = options.table ?? 'switchyard_dedupe';
    checkTable(this.table);
    ({ pool: this.pool, owned: this.#owned, where: this.#where } = postgresPool(options));
  }

  /** Creates the table and its index when missing (the same SQL as `dedupeMigration()`). */
  async ensureSchema(): Promise<void> {
    await this.#query(dedupeMigration(this.table));
  }

  async claim(key: string, leaseMs: number): Promise<Claim> {
    const token = randomUUID();
    const claimed = await this.#query(
      `INSERT INTO ${this.table} (key, token, expires_at)
       VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, expires_at = EXCLUDED.expires_at
       WHERE ${this.table}.expires_at <= clock_timestamp()
       RETURNING 1`,
      [key, token, leaseMs],
    );
    if (claimed.rowCount === 1) return { status: 'claimed', token };
    const row = await this.#query(`SELECT token FROM ${this.table} WHERE key = $1`, [key]);
    // Gone between the two statements: its lease ran out just now; the next delivery claims it.
    return row.rows[0]?.token === null ? DONE : BUSY;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const result = await this.#query(
      `UPDATE ${this.table} SET expires_at = clock_timestamp() + $3 * interval '1 millisecond'
       WHERE key = $1 AND token = $2 AND expires_at > clock_timestamp()`,
      [key, token, leaseMs],
    );
    return result.rowCount === 1;
  }

  async commit(key: string, _token: string, windowMs: number): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.table} (key, token, expires_at)
       VALUES ($1, NULL, clock_timestamp() + $2 * interval '1 millisecond')
       ON CONFLICT (key) DO UPDATE SET token = NULL, expires_at = EXCLUDED.expires_at`,
      [key, windowMs],
    );
  }

  async release(key: string, token: string): Promise<void> {
    await this.#query(`DELETE FROM ${this.table} WHERE key = $1 AND token = $2`, [key, token]);
  }

  /** Deletes expired rows; run it now and then (a claim reuses an expired row in any case). */
  async prune(): Promise<number> {
    return (
      (await this.#query(`DELETE FROM ${this.table} WHERE expires_at <= clock_timestamp()`)).rowCount ?? 0
    );
  }

  async close(): Promise<void> {
    if (this.#owned) await this.pool.end();
  }

  get where(): string {
    return this.#where;
  }

  async #query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, values);
    } catch (error) {
      throw postgresError(error, this.#where, this.table);
    }
  }
}

/**
 * Connection trouble (no SQLSTATE: the socket; classes 08, 53, 57, 58: connection, resources,
 * shutdown, system) is UNAVAILABLE and retryable; a missing table says how to create it; anything
 * else is a bug here, not worth redelivering for.
 */
export function postgresError(
  error: unknown,
  where: string,
  table: string,
  role: 'dedup' | 'attempt' = 'dedup',
): SwitchyardError {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code) || /^(08|53|57|58)/.test(code))
    return storeUnavailable('PostgreSQL', where, error, role);
  if (code === '42P01')
    return new NotFoundError(
      `the ${role} table ${table} does not exist in ${where}; run store.ensureSchema() or apply ${role === 'dedup' ? 'dedupeMigration' : 'attemptsMigration'}() once`,
      { cause: error },
    );
  return new InternalError(`the PostgreSQL ${role} store at ${where} failed (SQLSTATE ${code})`, {
    cause: error,
  });
}
