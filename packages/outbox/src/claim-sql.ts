// The relay's queries. A row is claimable when it is the oldest pending row of its lane (or has no
// lane): relays lock such heads with SKIP LOCKED, so two relays never hold one lane, and a lane's
// next row becomes a head only when the transaction that published its predecessor commits
// `sent_at`. Under READ COMMITTED, a head another relay marked sent between our snapshot and our
// lock is re-checked against `sent_at IS NULL` and dropped.

const COLUMNS =
  'id, destination, message_id, body, content_type, headers, key, keys, tags, routing_key, ordering_key, lane';
/** The row's age by the database's own clock, so the lag metric needs no clock agreement. */
const AGE = 'extract(epoch FROM clock_timestamp() - o.created_at)::float8 AS age';

export function claimHeadsSql(table: string): string {
  return `SELECT ${COLUMNS}, ${AGE} FROM ${table} o
  WHERE o.sent_at IS NULL AND o.next_attempt_at <= now()
    AND (o.lane IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${table} p WHERE p.lane = o.lane AND p.sent_at IS NULL AND p.id < o.id))
  ORDER BY o.id LIMIT $1
  FOR UPDATE SKIP LOCKED`;
}

/**
 * The rows after each held head in its lane: no other relay can take them (they are not heads
 * while ours is pending), so they ride along, up to the batch size.
 */
export function claimFollowersSql(table: string): string {
  return `SELECT ${COLUMNS.replace(/(^|, )/g, '$1o.')}, ${AGE} FROM ${table} o
  JOIN unnest($1::text[], $2::bigint[]) AS h(lane, head) ON o.lane = h.lane AND o.id > h.head
  WHERE o.sent_at IS NULL
  ORDER BY o.id LIMIT $3
  FOR UPDATE OF o`;
}

export function markSentSql(table: string): string {
  return `UPDATE ${table} SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`;
}

export function markFailedSql(table: string): string {
  return `UPDATE ${table} SET attempts = attempts + 1, last_error = $2,
    next_attempt_at = now() + make_interval(secs => $3::double precision / 1000)
  WHERE id = ANY($1::bigint[])`;
}

export function pendingCountSql(table: string): string {
  return `SELECT count(*)::bigint AS pending FROM ${table} WHERE sent_at IS NULL`;
}

/** The backlog for the metrics: pending rows and the age of the oldest (0 when none). */
export function backlogSql(table: string): string {
  return `SELECT count(*)::bigint AS pending,
    coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0)::float8 AS oldest
  FROM ${table} WHERE sent_at IS NULL`;
}
