import type {
  Attributes,
  BatchObservableResult,
  Counter,
  Histogram,
  MeterProvider,
} from '@opentelemetry/api';
import { openTelemetryApi } from '@switchyard/core';
import type { OutboxRow } from './row.js';

type Api = typeof import('@opentelemetry/api');

/**
 * The relay's instruments, named as core names its own (switchyard.*, UCUM units, `{message}`
 * for counts), so one dashboard reads both: core's `messaging.client.sent.messages` counts every
 * send, these say what the outbox added to it.
 */
export const OutboxMetricNames = Object.freeze({
  /** Rows the broker confirmed (a row republished after a crash counts again). */
  published: 'switchyard.outbox.published',
  /** Rows whose send failed: each is tried again after retryDelayMs. */
  retries: 'switchyard.outbox.retries',
  /** From the transaction that added the row to the broker's confirm, in seconds. */
  lag: 'switchyard.outbox.lag',
  /** Rows not yet published (observed when the reader collects: one count query). */
  pending: 'switchyard.outbox.pending',
  /** Age of the oldest pending row, in seconds: how far behind the relays are. */
  oldestPending: 'switchyard.outbox.oldest_pending.age',
});

const SCOPE = '@switchyard/outbox';
const SCOPE_VERSION = '0.1.0';
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** What the relay records; a no-op when @opentelemetry/api is not installed. */
export interface RelayMetrics {
  published(row: OutboxRow): void;
  retried(row: OutboxRow): void;
  /** Stops observing the pending gauges (the relay stopped). */
  close(): void;
}

export interface Backlog {
  pending: number;
  oldestAgeSeconds: number;
}

const NOOP: RelayMetrics = { published() {}, retried() {}, close() {} };

/**
 * Instruments on `meterProvider` (else the global one). `backlog` is read only when a metric reader
 * collects, so a relay without an SDK never runs the count query.
 */
export function relayMetrics(
  table: string,
  backlog: () => Promise<Backlog>,
  meterProvider?: MeterProvider,
): RelayMetrics {
  const api = openTelemetryApi<Api>();
  if (api === undefined) return NOOP;
  const meter = (meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE, SCOPE_VERSION);
  const base: Attributes = { 'switchyard.outbox.table': table };
  const count = (name: string, description: string): Counter =>
    meter.createCounter(name, { description, unit: '{message}', valueType: api.ValueType.INT });
  const published = count(OutboxMetricNames.published, 'Outbox rows the broker confirmed');
  const retries = count(OutboxMetricNames.retries, 'Outbox rows whose send failed and will be retried');
  const lag: Histogram = meter.createHistogram(OutboxMetricNames.lag, {
    description: 'Time from the transaction that added an outbox row to the broker confirming it',
    unit: 's',
    advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
  });
  const pending = meter.createObservableGauge(OutboxMetricNames.pending, {
    description: 'Outbox rows not yet published',
    unit: '{message}',
    valueType: api.ValueType.INT,
  });
  const oldest = meter.createObservableGauge(OutboxMetricNames.oldestPending, {
    description: 'Age of the oldest outbox row not yet published (0 when none)',
    unit: 's',
  });
  const observe = async (result: BatchObservableResult) => {
    try {
      const b = await backlog();
      result.observe(pending, b.pending, base);
      result.observe(oldest, b.oldestAgeSeconds, base);
    } catch {
      // A store that cannot be read right now is simply not reported this round.
    }
  };
  meter.addBatchObservableCallback(observe, [pending, oldest]);
  const attributes = (row: OutboxRow): Attributes => ({
    ...base,
    'messaging.destination.name': row.destination,
  });
  return {
    published(row) {
      published.add(1, attributes(row));
      lag.record(row.ageSeconds + (performance.now() - row.claimedAt) / 1000, attributes(row));
    },
    retried(row) {
      retries.add(1, attributes(row));
    },
    close() {
      meter.removeBatchObservableCallback(observe, [pending, oldest]);
    },
  };
}
