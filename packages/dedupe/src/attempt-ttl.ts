import { InvalidArgumentError } from '@switchyard/core';

/**
 * How long an attempt count outlives its last increment (7 days): far longer than any gap between
 * two deliveries of one message (an ack timeout, a redelivery backoff), so a crash loop never
 * outruns it, while keys no ack forgot (a process killed before forgetting) still go.
 */
export const DEFAULT_ATTEMPT_TTL_MS = 7 * 86_400_000;

export function attemptTtl(ttlMs: number | undefined): number {
  const ttl = ttlMs ?? DEFAULT_ATTEMPT_TTL_MS;
  if (!Number.isInteger(ttl) || ttl < 1_000)
    throw new InvalidArgumentError(
      `attempt store ttlMs must be a whole number of ms ≥ 1000, got ${ttl}; it must outlast the longest gap between two deliveries of a message`,
    );
  return ttl;
}
