import { InvalidArgumentError, type SwitchyardError } from '@switchyard/core/driver';
import { backlogSql } from './claim-sql.js';
import { relayMetrics } from './metrics.js';
import { type BatchResult, ProducerCache, type RelayTarget, relayBatch } from './relay-batch.js';
import { tableName } from './schema.js';
import type { PoolLike } from './sql-client.js';
import { storeError } from './store-errors.js';

export interface RelayOptions {
  /** A pg Pool on the database that holds the outbox table. */
  pool: PoolLike;
  /**
   * Where rows are published: a `Broker`, or the `Bindings` from `fromConfig()` (rows name a
   * binding, and a dual-write binding publishes to both brokers). One producer per destination is
   * opened on first use.
   */
  broker: RelayTarget;
  table?: string;
  /** Rows per claim (one transaction); default 100. */
  batchSize?: number;
  /** Wait when nothing was claimable; default 100 ms. */
  pollMs?: number;
  /** How long a row whose send failed waits before its next try; default 1,000 ms. */
  retryDelayMs?: number;
  /**
   * An OpenTelemetry MeterProvider for the relay's metrics (OutboxMetricNames); default: the
   * global one, so an SDK registered with `metrics.setGlobalMeterProvider` gets them. Typed
   * loosely so this package's types never require the optional @opentelemetry/api.
   */
  meterProvider?: unknown;
  /** Every store or send failure, typed; the relay goes on (with backoff) either way. */
  onError?: (error: SwitchyardError | Error) => void;
}

export interface RelayStats {
  claimed: number;
  published: number;
  failed: number;
  cycles: number;
}

export interface Relay {
  readonly stats: Readonly<RelayStats>;
  /** Resolves after the next cycle that found nothing to claim. */
  drained(): Promise<void>;
  /** Finishes the batch in hand (published rows are marked), then closes its producers. */
  stop(): Promise<void>;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * Publishes pending outbox rows until stopped. Run as many as you like, in one process or many:
 * each claim locks lane heads with SKIP LOCKED, so relays share the work and keep per-key order.
 */
export function startRelay(options: RelayOptions): Relay {
  const settings = {
    table: tableName(options.table),
    batchSize: positive(options.batchSize ?? 100, 'batchSize'),
    retryDelayMs: positive(options.retryDelayMs ?? 1_000, 'retryDelayMs'),
  };
  const pollMs = positive(options.pollMs ?? 100, 'pollMs');
  const metrics = relayMetrics(
    settings.table,
    async () => {
      const { rows } = await options.pool.query(backlogSql(settings.table));
      return { pending: Number(rows[0]?.pending ?? 0), oldestAgeSeconds: Number(rows[0]?.oldest ?? 0) };
    },
    options.meterProvider as Parameters<typeof relayMetrics>[2],
  );
  const batchSettings = { ...settings, metrics };
  const producers = new ProducerCache(options.broker);
  const stats: RelayStats = { claimed: 0, published: 0, failed: 0, cycles: 0 };
  const stop = new AbortController();
  let drainWaiters: Array<() => void> = [];
  let failures = 0;

  const report = (error: unknown) => {
    try {
      options.onError?.(error instanceof Error ? error : storeError(error, 'relaying', settings.table));
    } catch {
      // A throwing listener must not stop the relay.
    }
  };

  const loop = (async () => {
    while (!stop.signal.aborted) {
      let result: BatchResult | undefined;
      try {
        result = await relayBatch(options.pool, producers, batchSettings);
        failures = 0;
      } catch (error) {
        failures++;
        report(error);
      }
      stats.cycles++;
      if (result !== undefined) {
        stats.claimed += result.claimed;
        stats.published += result.published;
        stats.failed += result.failed;
        if (result.error !== undefined) report(result.error);
        if (result.claimed > 0) continue;
        const waiters = drainWaiters;
        drainWaiters = [];
        for (const resolve of waiters) resolve();
      }
      const wait = failures === 0 ? pollMs : Math.min(MAX_BACKOFF_MS, pollMs * 2 ** Math.min(failures, 10));
      await pause(wait, stop.signal);
    }
    metrics.close();
    await producers.close();
  })();

  return {
    stats,
    drained: () => new Promise<void>((resolve) => drainWaiters.push(resolve)),
    stop: async () => {
      stop.abort();
      await loop;
      for (const resolve of drainWaiters) resolve();
      drainWaiters = [];
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`relay option ${name} must be a positive number, got ${value}`);
  }
  return value;
}
