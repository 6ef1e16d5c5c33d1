// The Redis client and PostgreSQL pool a store uses: one you configured, or one the store makes
// (and closes), set to fail fast so a caller is answered instead of waiting behind a dead server.

import { Redis, type RedisOptions } from 'ioredis';
import pg from 'pg';
import { storeUnavailable } from './unavailable.js';

export interface RedisClientOptions {
  /** A client you configured, or options/URL for one the store makes (and closes). */
  readonly client?: Redis;
  readonly url?: string;
  readonly redis?: RedisOptions;
}

export interface PostgresPoolOptions {
  /** A pool you configured, or a connection string for one the store makes (and closes). */
  readonly pool?: pg.Pool;
  readonly connectionString?: string;
}

/** One reconnect per command and a 5 s command timeout on a client the store makes. */
export function redisClient(options: RedisClientOptions): { client: Redis; owned: boolean; where: string } {
  const defaults: RedisOptions = { commandTimeout: 5_000, maxRetriesPerRequest: 1 };
  const owned = options.client === undefined;
  const client =
    options.client ??
    (options.url === undefined
      ? new Redis({ ...defaults, ...options.redis })
      : new Redis(options.url, { ...defaults, ...options.redis }));
  // The store reports failures per call; without a listener ioredis would print each reconnect.
  if (owned) client.on('error', () => {});
  const { host, port } = client.options;
  return { client, owned, where: `${host ?? '127.0.0.1'}:${port ?? 6379}` };
}

/** Runs one Redis call, its failure reported as the store's UNAVAILABLE. */
export async function callRedis<T>(
  where: string,
  role: 'dedup' | 'attempt',
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeUnavailable('Redis', where, error, role);
  }
}

/** 5 s connection and query timeouts on a pool the store makes. */
export function postgresPool(options: PostgresPoolOptions): { pool: pg.Pool; owned: boolean; where: string } {
  const owned = options.pool === undefined;
  const pool =
    options.pool ??
    new pg.Pool({
      ...(options.connectionString === undefined ? {} : { connectionString: options.connectionString }),
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
  // An idle client's connection dropping must not crash the process: the next query reports it.
  if (owned) pool.on('error', () => {});
  return { pool, owned, where: describe(pool.options) };
}

/** host:port/database for error messages; never the password. */
function describe(options: pg.PoolConfig): string {
  let { host, port, database } = options;
  if (options.connectionString !== undefined) {
    try {
      const url = new URL(options.connectionString);
      host = url.hostname || host;
      port = url.port === '' ? port : Number(url.port);
      database = url.pathname.slice(1) || database;
    } catch {
      // not a URL (a libpq key=value string): fall back to the fields
    }
  }
  return `${host ?? process.env.PGHOST ?? 'localhost'}:${port ?? process.env.PGPORT ?? 5432}/${database ?? process.env.PGDATABASE ?? ''}`;
}
