// @switchyard/outbox: the transactional outbox. Outbox.add() writes a message in the caller's
// PostgreSQL transaction; startRelay() publishes committed rows with the broker's confirms, in
// order per key, at least once (a crash republishes with the same message id).

export { OutboxMetricNames } from './metrics.js';
export { Outbox, type OutboxMessage, type OutboxOptions } from './outbox.js';
export { pendingCount } from './pending.js';
export { type Relay, type RelayOptions, type RelayStats, startRelay } from './relay.js';
export type { RelayProducer, RelayTarget } from './relay-batch.js';
export { DEFAULT_TABLE, ensureOutboxSchema } from './schema.js';
export type { PooledClient, PoolLike, Queryable, SqlResult } from './sql-client.js';
