import { InvalidArgumentError } from '@switchyard/core/driver';
import type { Queryable } from './sql-client.js';
import { storeError } from './store-errors.js';

export const DEFAULT_TABLE = 'switchyard_outbox';

/** Where the table lives: a plain or schema-qualified name, never quoted input from elsewhere. */
export function tableName(name: string | undefined): string {
  const table = name ?? DEFAULT_TABLE;
  if (!/^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$/.test(table)) {
    throw new InvalidArgumentError(
      `outbox table name "${table}" is not a plain identifier; use lower-case letters, digits and _ (optionally schema.table)`,
    );
  }
  return table;
}

/**
 * The outbox table. `lane` is the ordering key (else the message key): rows of one lane are
 * published one after another in id order; rows with no lane in any order. The partial indexes
 * cover only pending rows, so sent rows kept for audit cost the relay nothing.
 */
export function schemaSql(table: string): string {
  const index = table.replace('.', '_');
  return `
CREATE TABLE IF NOT EXISTS ${table} (
  id bigserial PRIMARY KEY,
  destination text NOT NULL,
  message_id text NOT NULL,
  body bytea NOT NULL,
  content_type text NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  key text,
  keys jsonb,
  tags jsonb,
  routing_key text,
  ordering_key text,
  lane text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error text
);
CREATE INDEX IF NOT EXISTS ${index}_pending ON ${table} (id) WHERE sent_at IS NULL;
CREATE INDEX IF NOT EXISTS ${index}_pending_lane ON ${table} (lane, id) WHERE sent_at IS NULL AND lane IS NOT NULL;
`;
}

/**
 * Creates the outbox table and its indexes when missing (idempotent: run it at deploy or start).
 * Concurrent first runs may race on CREATE, so a unique-violation on the catalog is retried once.
 */
export async function ensureOutboxSchema(db: Queryable, options: { table?: string } = {}): Promise<void> {
  const table = tableName(options.table);
  const sql = schemaSql(table);
  try {
    await db.query(sql).catch((error: unknown) => {
      if ((error as { code?: unknown }).code === '23505') return db.query(sql);
      throw error;
    });
  } catch (error) {
    throw storeError(error, 'creating the schema', table);
  }
}
