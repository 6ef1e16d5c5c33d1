/**
 * What a dedup store promises. A key is in one of three states: free, claimed (by one holder,
 * until its lease runs out) or done (until its window runs out). Every method may fail with an
 * `UnavailableError` (retryable) when the store cannot be reached; nothing else is thrown for a
 * store that is up.
 */
export interface DedupeStore {
  /**
   * Claims `key` for `leaseMs` when it is free or its claim or window ran out. `done`: handled
   * within the window; `busy`: another holder's lease is live.
   */
  claim(key: string, leaseMs: number): Promise<Claim>;
  /** Extends a live claim; false when the claim was lost (its lease ran out and someone else took it). */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Marks `key` done for `windowMs`, whatever became of the claim: the effect happened. */
  commit(key: string, token: string, windowMs: number): Promise<void>;
  /** Frees a claim this holder still has, so a redelivery is handled at once. */
  release(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}

export type Claim =
  | { readonly status: 'claimed'; readonly token: string }
  | { readonly status: 'done' }
  | { readonly status: 'busy' };

export const DONE: Claim = Object.freeze({ status: 'done' });
export const BUSY: Claim = Object.freeze({ status: 'busy' });
