// Replay detection for the signatures that carry a nonce (CMQ `Nonce`, the Tencent Cloud API's v1
// `Nonce`). The legacy cloud-API error table says a Nonce must not be used twice while its Timestamp
// is inside the allowed window (code 4500, "重放攻击"). We remember every authenticated request by
// SecretId + Signature: the signature covers the Nonce, the Timestamp and every other parameter, so
// an exact replay (however it is re-encoded on the wire) is caught, while two different requests
// that happen to draw the same small nonce in the same second (the Node SDK's v1 nonce is 0–65535,
// PHP's 1–65535) are not mistaken for one.
//
// Memory is bounded twice: an entry is dropped once its Timestamp has left the window (a replay is
// then refused as expired anyway), and at most `maxEntries` are kept (the soonest to expire go
// first, so under a flood the guard degrades to the timestamp check alone, never to refusing
// legitimate traffic).

export interface ReplayGuardOptions {
  /** How long after its Timestamp a request stays replayable, seconds (the timestamp window). */
  readonly windowSeconds: number;
  /** Most remembered requests. Default 100 000. */
  readonly maxEntries?: number;
}

/** Used when the timestamp check is off (window 0): how long a signature is remembered. */
export const DEFAULT_REPLAY_MEMORY_SECONDS = 300;
export const DEFAULT_REPLAY_CACHE_SIZE = 100_000;

export class ReplayGuard {
  readonly windowSeconds: number;
  readonly maxEntries: number;
  /** key → expiry second. */
  private readonly seen = new Map<string, number>();
  /** expiry second → keys expiring then. */
  private readonly buckets = new Map<number, string[]>();
  private lastSweepSec = Number.NEGATIVE_INFINITY;

  constructor(options: ReplayGuardOptions) {
    this.windowSeconds = options.windowSeconds > 0 ? options.windowSeconds : DEFAULT_REPLAY_MEMORY_SECONDS;
    this.maxEntries = Math.max(1, options.maxEntries ?? DEFAULT_REPLAY_CACHE_SIZE);
  }

  get size(): number {
    return this.seen.size;
  }

  /**
   * Records a request; false when the same key was already recorded and has not expired (a replay).
   * Call it only after the signature verified, so forged requests cannot fill or poison it.
   */
  remember(key: string, timestampSec: number, nowMs: number): boolean {
    const nowSec = Math.floor(nowMs / 1000);
    this.sweep(nowSec);
    const known = this.seen.get(key);
    if (known !== undefined && known >= nowSec) return false;
    // Kept while a copy could still pass the timestamp check: until Timestamp + window, at least
    // to the end of this second, and never past now + 2 windows (reachable only with the window
    // check off, where a far-future Timestamp would otherwise pin an entry forever).
    const expiry = Math.min(
      Math.max(
        Number.isFinite(timestampSec) ? Math.floor(timestampSec) + this.windowSeconds : nowSec,
        nowSec,
      ),
      nowSec + 2 * this.windowSeconds,
    );
    if (known !== undefined) this.drop(key, known);
    while (this.seen.size >= this.maxEntries) this.evictSoonest();
    this.seen.set(key, expiry);
    const bucket = this.buckets.get(expiry);
    if (bucket === undefined) this.buckets.set(expiry, [key]);
    else bucket.push(key);
    return true;
  }

  /** Forgets everything (tests, and a restarted emulator has no memory either). */
  clear(): void {
    this.seen.clear();
    this.buckets.clear();
  }

  private sweep(nowSec: number): void {
    // At most once per second: the buckets are whole seconds.
    if (nowSec === this.lastSweepSec) return;
    this.lastSweepSec = nowSec;
    for (const [expiry, keys] of this.buckets) {
      if (expiry >= nowSec) continue;
      for (const key of keys) if (this.seen.get(key) === expiry) this.seen.delete(key);
      this.buckets.delete(expiry);
    }
  }

  private evictSoonest(): void {
    let soonest: number | undefined;
    for (const expiry of this.buckets.keys()) if (soonest === undefined || expiry < soonest) soonest = expiry;
    if (soonest === undefined) {
      this.seen.clear();
      return;
    }
    const keys = this.buckets.get(soonest) ?? [];
    this.buckets.delete(soonest);
    for (const key of keys) if (this.seen.get(key) === soonest) this.seen.delete(key);
  }

  private drop(key: string, expiry: number): void {
    this.seen.delete(key);
    const bucket = this.buckets.get(expiry);
    if (bucket === undefined) return;
    const i = bucket.indexOf(key);
    if (i >= 0) bucket.splice(i, 1);
    if (bucket.length === 0) this.buckets.delete(expiry);
  }
}
