import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { BUSY, type Claim, type DedupeStore, DONE } from './store.js';
import { storeUnavailable } from './unavailable.js';

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

export interface RedisDedupeStoreOptions {
  /** A client you configured, or options/URL for one the store makes (and closes). */
  readonly client?: Redis;
  readonly url?: string;
  readonly redis?: RedisOptions;
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
    const defaults: RedisOptions = {
      commandTimeout: 5_000,
      maxRetriesPerRequest: 1,
    };
    this.#owned = options.client === undefined;
    this.client =
      options.client ??
      (options.url === undefined
        ? new Redis({ ...defaults, ...options.redis })
        : new Redis(options.url, { ...defaults, ...options.redis }));
    // The store reports failures per call; without a listener ioredis would print each reconnect.
    if (this.#owned) this.client.on('error', () => {});
    const { host, port } = this.client.options;
    this.#where = `${host ?? '127.0.0.1'}:${port ?? 6379}`;
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

  async #call<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw storeUnavailable('Redis', this.#where, error);
    }
  }
}
