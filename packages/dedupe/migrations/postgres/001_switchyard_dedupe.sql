-- @switchyard/dedupe: the claims and done marks of the PostgreSQL dedup store (table
-- switchyard_dedupe, the default). The same SQL as dedupeMigration() and store.ensureSchema(); apply
-- it with your migration tool when the service's database user may not create tables.
CREATE TABLE IF NOT EXISTS switchyard_dedupe (
  key text PRIMARY KEY,
  token text,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS switchyard_dedupe_expires_at ON switchyard_dedupe (expires_at);
