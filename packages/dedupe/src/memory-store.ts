import { randomUUID } from 'node:crypto';
import { BUSY, type Claim, type DedupeStore, DONE } from './store.js';

interface Entry {
  /** undefined once done. */
  token: string | undefined;
  until: number;
}

/**
 * A dedup store in this process's memory: for tests and single-process services. Lost on restart
 * and not shared between processes, so it cannot stop a copy another process handles.
 */
export class MemoryDedupeStore implements DedupeStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  /** `now`: the clock, replaceable so tests can move time instead of waiting. */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async claim(key: string, leaseMs: number): Promise<Claim> {
    const now = this.#now();
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.until > now) return entry.token === undefined ? DONE : BUSY;
    const token = randomUUID();
    this.#entries.set(key, { token, until: now + leaseMs });
    this.#prune(now);
    return { status: 'claimed', token };
  }

  async renew(key: string, token: string, leaseMs: number): Promise<boolean> {
    const entry = this.#entries.get(key);
    if (entry?.token !== token || entry.until <= this.#now()) return false;
    entry.until = this.#now() + leaseMs;
    return true;
  }

  async commit(key: string, _token: string, windowMs: number): Promise<void> {
    this.#entries.set(key, { token: undefined, until: this.#now() + windowMs });
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  /** Entries kept (claimed or done); expired ones go as new keys arrive. */
  get size(): number {
    return this.#entries.size;
  }

  #pruneAt = 0;

  // Amortised: one sweep per 1,024 claims keeps memory bounded by the window's traffic.
  #prune(now: number): void {
    if (++this.#pruneAt < 1024) return;
    this.#pruneAt = 0;
    for (const [key, entry] of this.#entries) if (entry.until <= now) this.#entries.delete(key);
  }
}
