-- @switchyard/dedupe: the delivery counts of the PostgreSQL attempt store (table
-- switchyard_attempts, the default), the consumer option attemptStore. The same SQL as
-- attemptsMigration() and store.ensureSchema(); apply it with your migration tool when the
-- service's database user may not create tables.
CREATE TABLE IF NOT EXISTS switchyard_attempts (
  key text PRIMARY KEY,
  count integer NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS switchyard_attempts_expires_at ON switchyard_attempts (expires_at);
