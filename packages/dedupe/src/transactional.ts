import type { Handler, Message } from '@switchyard/core';
import type pg from 'pg';
import { DEFAULT_BUSY_DELAY_MS, DEFAULT_WINDOW_MS, nackLater } from './idempotent.js';
import { checkedKey } from './key.js';
import { type PostgresDedupeStore, postgresError } from './postgres-store.js';

export type TransactionalHandler = (message: Message, client: pg.PoolClient) => unknown;

export interface TransactionalOptions {
  readonly store: PostgresDedupeStore;
  readonly key?: (message: Message) => string;
  readonly windowMs?: number;
  /**
   * How long a copy waits for the transaction of another consumer that holds its key before it is
   * nacked with `busyDelayMs` (default 2 s).
   */
  readonly lockWaitMs?: number;
  readonly busyDelayMs?: number;
}

/**
 * Exactly-once effects in PostgreSQL: the handler gets a client inside a transaction that also
 * writes the key's done mark, and core acks only after COMMIT. The claim is the uncommitted row's
 * lock, so a process that dies mid-handler loses its connection, PostgreSQL rolls back, and the
 * redelivery is handled; a copy handled by a committed transaction is acked unhandled; a copy
 * racing a live transaction waits for it (up to `lockWaitMs`) and sees its outcome. Write the
 * effect with `client`, nothing else: it is what makes the mark and the effect one.
 */
export function transactional(handler: TransactionalHandler, options: TransactionalOptions): Handler {
  const { store } = options;
  const keyOf = checkedKey(options.key);
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS;
  const lockWaitMs = options.lockWaitMs ?? 2_000;
  const busyDelayMs = options.busyDelayMs ?? DEFAULT_BUSY_DELAY_MS;
  const where = store.where;
  return async (message) => {
    const key = keyOf(message);
    let client: pg.PoolClient;
    try {
      client = await store.pool.connect();
    } catch (error) {
      throw postgresError(error, where, store.table);
    }
    let open = false;
    let broken = false;
    try {
      let claimed: boolean;
      try {
        await client.query('BEGIN');
        open = true;
        await client.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockWaitMs))}`);
        const result = await client.query(
          `INSERT INTO ${store.table} (key, token, expires_at)
           VALUES ($1, NULL, clock_timestamp() + $2 * interval '1 millisecond')
           ON CONFLICT (key) DO UPDATE SET token = NULL, expires_at = EXCLUDED.expires_at
           WHERE ${store.table}.expires_at <= clock_timestamp()
           RETURNING 1`,
          [key, windowMs],
        );
        claimed = result.rowCount === 1;
      } catch (error) {
        // 55P03: another consumer's transaction still holds the key.
        if ((error as { code?: unknown }).code === '55P03') {
          await client.query('ROLLBACK').catch(() => {});
          open = false;
          return nackLater(message, busyDelayMs);
        }
        broken = true;
        throw postgresError(error, where, store.table);
      }
      if (!claimed) return;
      await handler(message, client);
      if (message.state === 'nacked' || message.state === 'dead-lettered') return;
      try {
        await client.query('COMMIT');
        open = false;
      } catch (error) {
        broken = true;
        throw postgresError(error, where, store.table);
      }
    } finally {
      if (open) await client.query('ROLLBACK').catch(() => (broken = true));
      // A client whose connection failed is discarded, not returned to the pool.
      client.release(broken ? true : undefined);
    }
  };
}
