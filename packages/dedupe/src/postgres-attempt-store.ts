// The consumer option attemptStore in PostgreSQL: a delivery count per key that every consumer
// process of a group shares (see redis-attempt-store.ts), committed before the receive's messages
// reach a handler.

import type { AttemptStore } from '@switchyard/core';
import type pg from 'pg';
import { attemptTtl } from './attempt-ttl.js';
import { type PostgresPoolOptions, postgresPool } from './clients.js';
import { checkTable, postgresError } from './postgres-store.js';

/** Where a PostgresAttemptStore keeps its counts, and for how long. */
export interface PostgresAttemptStoreOptions extends PostgresPoolOptions {
  /** The table (default `switchyard_attempts`), optionally schema-qualified. */
  readonly table?: string;
  /** How long a count outlives its last increment (default 7 days; see DEFAULT_ATTEMPT_TTL_MS). */
  readonly ttlMs?: number;
}

/** The table's migration, also run by `ensureSchema()`. An expired row counts as absent. */
export function attemptsMigration(table = 'switchyard_attempts'): string {
  checkTable(table);
  return `CREATE TABLE IF NOT EXISTS ${table} (
  key text PRIMARY KEY,
  count integer NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${table.replace('.', '_')}_expires_at ON ${table} (expires_at);`;
}

/**
 * Delivery counts in PostgreSQL: one upsert per receive (an expired row starts over at 1), its
 * keys locked in sorted order so consumers counting overlapping batches never deadlock. Times are
 * the server's. `prune()` deletes expired rows.
 */
export class PostgresAttemptStore implements AttemptStore {
  readonly pool: pg.Pool;
  readonly table: string;
  readonly #owned: boolean;
  readonly #ttlMs: number;
  readonly #where: string;

  constructor(options: PostgresAttemptStoreOptions = {}) {
    this.table = options.table ?? 'switchyard_attempts';
    checkTable(this.table);
    this.#ttlMs = attemptTtl(options.ttlMs);
    ({ pool: this.pool, owned: this.#owned, where: this.#where } = postgresPool(options));
  }

  /** Creates the table and its index when missing (the same SQL as `attemptsMigration()`). */
  async ensureSchema(): Promise<void> {
    await this.#query(attemptsMigration(this.table));
  }

  async increment(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    // A key twice in one batch is added to twice in one row (an upsert may touch a row only once).
    const times = new Map<string, number>();
    for (const key of keys) times.set(key, (times.get(key) ?? 0) + 1);
    const unique = [...times.keys()].sort();
    const t = this.table;
    const result = await this.#query(
      `INSERT INTO ${t} (key, count, expires_at)
       SELECT k.key, k.n, clock_timestamp() + $3 * interval '1 millisecond'
       FROM unnest($1::text[], $2::int[]) AS k(key, n) ORDER BY k.key
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN ${t}.expires_at <= clock_timestamp() THEN EXCLUDED.count
                      ELSE ${t}.count + EXCLUDED.count END,
         expires_at = EXCLUDED.expires_at
       RETURNING key, count`,
      [unique, unique.map((key) => times.get(key)!), this.#ttlMs],
    );
    const total = new Map<string, number>();
    for (const row of result.rows as Array<{ key: string; count: number }>) total.set(row.key, row.count);
    // Each occurrence gets its own count: the last one the row's total, earlier ones one less each.
    const left = new Map(times);
    return keys.map((key) => {
      const after = left.get(key)! - 1;
      left.set(key, after);
      return total.get(key)! - after;
    });
  }

  async forget(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#query(`DELETE FROM ${this.table} WHERE key = ANY($1::text[])`, [[...keys]]);
  }

  /** Deletes expired rows; run it now and then (an increment restarts an expired row in any case). */
  async prune(): Promise<number> {
    return (
      (await this.#query(`DELETE FROM ${this.table} WHERE expires_at <= clock_timestamp()`)).rowCount ?? 0
    );
  }

  /** Closes the pool the store made; one you passed stays open. */
  async close(): Promise<void> {
    if (this.#owned) await this.pool.end();
  }

  async #query(sql: string, values?: unknown[]): Promise<pg.QueryResult> {
    try {
      return await this.pool.query(sql, values);
    } catch (error) {
      throw postgresError(error, this.#where, this.table, 'attempt');
    }
  }
}
