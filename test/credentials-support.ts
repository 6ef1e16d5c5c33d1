// Shared by the credential-rotation tests: a producer and a consumer on one destination under load
// while credentials rotate, counting what was sent, received, duplicated and lost; and a rotating
// key source backed by the emulator (issue a key, hand it out, revoke the old one).

import type { Broker, StatusEvent } from '@switchyard/core';
import type { RunningEmulator } from '@switchyard/emulator';

export interface LoadOptions {
  readonly broker: Broker;
  readonly destination: string;
  readonly group?: string;
  /** Send at least this many messages. */
  readonly minimum: number;
  /** Keep sending (in batches) until this is true too, e.g. until three refreshes happened. */
  readonly until?: () => boolean;
  /** Called before the batch that starts at each of these message counts. */
  readonly rotateAt?: readonly number[];
  readonly rotate?: (round: number) => Promise<void> | void;
  readonly batch?: number;
  /** Guard against a hang: give up waiting for the rest after this long and report them lost. */
  readonly drainMs?: number;
}

export interface LoadResult {
  readonly sent: number;
  readonly received: number;
  readonly duplicates: number;
  readonly lost: number;
  readonly sendFailures: readonly unknown[];
  readonly handlerErrors: number;
}

export async function loadWithRotations(o: LoadOptions): Promise<LoadResult> {
  const seen = new Map<string, number>();
  const consumer = await o.broker.consumer(o.destination, {
    ...(o.group === undefined ? {} : { group: o.group }),
    prefetch: 200,
  });
  let expected = Number.POSITIVE_INFINITY;
  let notify: (() => void) | undefined;
  const complete = new Promise<void>((resolve) => {
    notify = resolve;
  });
  const stop = new AbortController();
  let handlerErrors = 0;
  const running = consumer
    .run(
      (m) => {
        const key = m.text();
        seen.set(key, (seen.get(key) ?? 0) + 1);
        if (seen.size >= expected) notify?.();
      },
      { signal: stop.signal, concurrency: 16 },
    )
    .catch(() => {
      handlerErrors += 1;
    });
  const producer = await o.broker.producer(o.destination);
  const batch = o.batch ?? 50;
  const rotations = [...(o.rotateAt ?? [])];
  const sendFailures: unknown[] = [];
  const confirmed = new Set<string>();
  let sent = 0;
  let round = 0;
  while (sent < o.minimum || (o.until !== undefined && !o.until())) {
    if (rotations.length > 0 && sent >= rotations[0]!) {
      rotations.shift();
      await o.rotate?.(++round);
    }
    const bodies = Array.from({ length: batch }, (_, i) => `m-${sent + i}`);
    try {
      await producer.send(bodies);
      for (const body of bodies) confirmed.add(body);
    } catch (error) {
      sendFailures.push(error);
    }
    sent += batch;
  }
  expected = confirmed.size;
  if (seen.size >= expected) notify?.();
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([
    complete,
    new Promise<void>((resolve) => {
      guard = setTimeout(resolve, o.drainMs ?? 120_000);
    }),
  ]);
  clearTimeout(guard);
  stop.abort();
  await running;
  await producer.close();
  await consumer.close();
  let duplicates = 0;
  for (const n of seen.values()) duplicates += n - 1;
  return {
    sent,
    received: seen.size,
    duplicates,
    lost: [...confirmed].filter((body) => !seen.has(body)).length,
    sendFailures,
    handlerErrors,
  };
}

/** Counts a broker's credential status events. */
export function credentialEvents(broker: Broker): { refreshed: number; failed: StatusEvent[] } {
  const counts = { refreshed: 0, failed: [] as StatusEvent[] };
  broker.onStatus((event) => {
    if (event.type !== 'credentials') return;
    if (event.state === 'refreshed') counts.refreshed += 1;
    else counts.failed.push(event);
  });
  return counts;
}

/**
 * Keys the emulator issues, handed out by an async-function credential source. `rotate()` issues
 * the next key, makes the source answer it, and revokes the previous one: every request still
 * signed with the old key is refused until the driver asks its provider again.
 */
export class RotatingKeys {
  #current: { secretId: string; secretKey: string; token?: string; expiresAt?: number };
  calls = 0;

  constructor(
    private readonly emulator: RunningEmulator,
    private readonly ttlMs?: number,
  ) {
    this.#current = this.#issue();
  }

  #issue() {
    return this.emulator.issueCredential(this.ttlMs === undefined ? {} : { ttlMs: this.ttlMs });
  }

  /** For `credentials: keys.source`. With a TTL, every call issues a new temporary key (like STS). */
  readonly source = async () => {
    this.calls += 1;
    if (this.ttlMs !== undefined && this.calls > 1) this.#current = this.#issue();
    const c = this.#current;
    return { id: c.secretId, secret: c.secretKey, token: c.token, expiresAt: c.expiresAt };
  };

  rotate(): void {
    const old = this.#current;
    this.#current = this.#issue();
    this.emulator.revokeCredential(old.secretId);
  }
}
