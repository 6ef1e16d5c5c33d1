// @switchyard/dedupe: the idempotent consumer. Wrap a consumer.run() handler with idempotent()
// (any store) or transactional() (effects in PostgreSQL, exactly once). Also the durable delivery
// counts a consumer's attemptStore option takes (Redis, PostgreSQL).

export { DEFAULT_ATTEMPT_TTL_MS } from './attempt-ttl.js';
export {
  DEFAULT_BUSY_DELAY_MS,
  DEFAULT_LEASE_MS,
  DEFAULT_WINDOW_MS,
  type IdempotentOptions,
  idempotent,
} from './idempotent.js';
export { MemoryDedupeStore } from './memory-store.js';
export {
  attemptsMigration,
  PostgresAttemptStore,
  type PostgresAttemptStoreOptions,
} from './postgres-attempt-store.js';
export {
  dedupeMigration,
  PostgresDedupeStore,
  type PostgresDedupeStoreOptions,
} from './postgres-store.js';
export { RedisAttemptStore, type RedisAttemptStoreOptions } from './redis-attempt-store.js';
export { RedisDedupeStore, type RedisDedupeStoreOptions } from './redis-store.js';
export type { Claim, DedupeStore } from './store.js';
export { type TransactionalHandler, type TransactionalOptions, transactional } from './transactional.js';
