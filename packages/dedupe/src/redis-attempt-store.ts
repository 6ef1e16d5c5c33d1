// The consumer option attemptStore in Redis: a delivery count per key that every consumer process
// of a group shares, so a message that crashes its process is still dead-lettered after
// maxDeliveries on brokers that keep no such count (pulsar-http, RocketMQ Remoting).

import type { AttemptStore } from '@switchyard/core';
import type { Redis } from 'ioredis';
import { attemptTtl } from './attempt-ttl.js';
import { callRedis, type RedisClientOptions, redisClient } from './clients.js';
import { storeUnavailable } from './unavailable.js';

/** Where a RedisAttemptStore keeps its counts, and for how long. */
export interface RedisAttemptStoreOptions extends RedisClientOptions {
  /** Prefix of every key, so several services share one Redis (default `switchyard:attempts:`). */
  readonly prefix?: string;
  /** How long a count outlives its last increment (default 7 days; see DEFAULT_ATTEMPT_TTL_MS). */
  readonly ttlMs?: number;
}

/**
 * Delivery counts in Redis: one MULTI per receive (INCR and PEXPIRE for each key, so no key ever
 * lives without its TTL), DEL on forget. A count is as durable as the server's persistence: with
 * neither AOF nor RDB a Redis restart resets counts (a crash loop then takes up to maxDeliveries
 * more crashes).
 */
export class RedisAttemptStore implements AttemptStore {
  readonly client: Redis;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #where: string;

  constructor(options: RedisAttemptStoreOptions = {}) {
    this.#prefix = options.prefix ?? 'switchyard:attempts:';
    this.#ttlMs = attemptTtl(options.ttlMs);
    ({ client: this.client, owned: this.#owned, where: this.#where } = redisClient(options));
  }

  async increment(keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const multi = this.client.multi();
    for (const key of keys) multi.incr(this.#prefix + key).pexpire(this.#prefix + key, this.#ttlMs);
    const replies = await this.#call(() => multi.exec());
    if (replies === null) throw storeUnavailable('Redis', this.#where, new Error('MULTI aborted'), 'attempt');
    return keys.map((_, i) => {
      const [error, count] = replies[i * 2]!;
      if (error !== null) throw storeUnavailable('Redis', this.#where, error, 'attempt');
      return Number(count);
    });
  }

  async forget(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.#call(() => this.client.del(...keys.map((key) => this.#prefix + key)));
  }

  /** Closes the client the store made; one you passed stays open. */
  async close(): Promise<void> {
    if (this.#owned) this.client.disconnect();
  }

  #call<T>(call: () => Promise<T>): Promise<T> {
    return callRedis(this.#where, 'attempt', call);
  }
}
