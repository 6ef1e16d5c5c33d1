import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { callRedis, type RedisClientOptions, redisClient } from './clients.js';
import { BUSY, type Claim, type DedupeStore, DONE } from './store.js';

// One round trip per step, atomic on the server: a key holds a claim's token or DONE_VALUE,
// with the lease or the window as its TTL, so Redis expires both with no sweeping.
const DONE_VALUE = '=done';
const CLAIM = `local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[3] then return 2 end
return 3`;
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface RedisDedupeStoreOptions extends RedisClientOptions {
  /** Prefix of every key, so several services share one Redis (default `switchyard:dedupe:`). */
  readonly prefix?: string;
}

/**
 * A dedup store in Redis, shared by every process that uses the same server and prefix. Clients it
 * makes fail fast while Redis is down (one reconnect per command, a 5 s command timeout), so a
 * message is given back instead of waiting in a queue behind a dead connection.
 */
export class RedisDedupeStore implements DedupeStore {
  readonly client: Redis;
  readonly #owned: boolean;
  readonly #prefix: string;
  readonly #where: string;

  constructor(options: RedisDedupeStoreOptions = {}) {
    this.#prefix = options.prefix ?? 'switchyard:dedupe:';
    ({ client: this.client, owned: this.#owned, where: this.#where } = redisClient(options));
  }

  async claim(key: string, leaseMs: number): Promise<Claim> {
    const token = randomUUID();
    const result = await this.#call(() =>
      this.client.eval(CLAIM, 1, this.#prefix + key, token, leaseMs, DONE_VALUE),
    );
    if (result === 1) return { status: 'claimed', token };
    return result === 2 ? DONE : BUSY;
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    return (await this.#call(() => this.client.eval(RENEW, 1, this.#prefix + key, token, leaseMs))) === 1;
  }

  async commit(key: string, _token: string, windowMs: number): Promise<void> {
    await this.#call(() => this.client.set(this.#prefix + key, DONE_VALUE, 'PX', windowMs));
  }

  async release(key: string, token: string): Promise<void> {
    await this.#call(() => this.client.eval(RELEASE, 1, this.#prefix + key, token));
  }

  async close(): Promise<void> {
    if (this.#owned) this.client.disconnect();
  }

  #call<T>(call: () => Promise<T>): Promise<T> {
    return callRedis(this.#where, 'dedup', call);
  }
}
