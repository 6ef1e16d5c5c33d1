import { pendingCountSql } from './claim-sql.js';
import { tableName } from './schema.js';
import type { Queryable } from './sql-client.js';
import { storeError } from './store-errors.js';

/** Rows not yet published: the relay's backlog, for a gauge or a readiness check. */
export async function pendingCount(db: Queryable, options: { table?: string } = {}): Promise<number> {
  const table = tableName(options.table);
  try {
    const { rows } = await db.query(pendingCountSql(table));
    return Number(rows[0]?.pending ?? 0);
  } catch (error) {
    throw storeError(error, 'counting pending rows', table);
  }
}
