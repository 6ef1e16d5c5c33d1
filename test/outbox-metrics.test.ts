// The relay's metrics through the OpenTelemetry API, read with the SDK's own metric reader: the
// backlog gauges (pending rows, age of the oldest) before and after, rows published per
// destination, the lag from the adding transaction to the broker's confirm, and retries when a
// send fails (the row goes out on a later try).

import {
  type DataPoint,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { type Broker, connect, type OutgoingMessage, UnavailableError } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, OutboxMetricNames, pendingCount, startRelay } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, newPool, uniqueTable } from './fixtures/outbox-db.js';

/** Collects on demand: what a Prometheus scrape or a periodic exporter would read. */
class TestReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const pool = newPool();
const tables: string[] = [];
let broker: Broker;

beforeAll(async () => {
  broker = await connect('memory://');
});
afterAll(async () => {
  await broker.close();
  for (const table of tables) await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

async function table(): Promise<string> {
  const name = uniqueTable('outbox_metrics');
  tables.push(name);
  await ensureOutboxSchema(pool, { table: name });
  return name;
}

function points(metrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  return metrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
    .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[]);
}

const sum = (list: DataPoint<unknown>[]) => list.reduce((n, p) => n + (p.value as number), 0);

async function drain(relay: ReturnType<typeof startRelay>, name: string): Promise<void> {
  while ((await pendingCount(pool, { table: name })) > 0) await relay.drained();
}

describe('outbox: relay metrics', () => {
  it('pending and oldest-pending gauges, published per destination, lag from the transaction to the confirm', async () => {
    const name = await table();
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    const outbox = new Outbox({ table: name });
    await inTransaction(pool, async (tx) => {
      for (let i = 0; i < 30; i++)
        await outbox.add(tx, {
          destination: i % 3 === 0 ? 'audit' : 'orders',
          key: `k${i % 10}`,
          body: `m${i}`,
        });
    });
    const consumer = await broker.consumer('orders');
    const relay = startRelay({ pool, broker, table: name, pollMs: 10, meterProvider: provider });

    // The gauges are read when the reader collects; the relay may have started: at most 30.
    const before = (await reader.collect()).resourceMetrics;
    const pendingBefore = points(before, OutboxMetricNames.pending);
    expect(pendingBefore).toHaveLength(1);
    expect(pendingBefore[0]!.attributes).toEqual({ 'switchyard.outbox.table': name });

    await drain(relay, name);
    const after = (await reader.collect()).resourceMetrics;
    await relay.stop();
    await consumer.close();

    const published = points(after, OutboxMetricNames.published);
    expect(sum(published)).toBe(30);
    const byDestination = Object.fromEntries(
      published.map((p) => [p.attributes['messaging.destination.name'], p.value]),
    );
    expect(byDestination).toEqual({ orders: 20, audit: 10 });
    const lag = points(after, OutboxMetricNames.lag);
    const lagCount = lag.reduce((n, p) => n + (p.value as { count: number }).count, 0);
    expect(lagCount).toBe(30);
    for (const p of lag) expect((p.value as { min: number }).min).toBeGreaterThanOrEqual(0);
    expect(points(after, OutboxMetricNames.pending)[0]!.value).toBe(0);
    expect(points(after, OutboxMetricNames.oldestPending)[0]!.value).toBe(0);
    expect(sum(points(after, OutboxMetricNames.retries))).toBe(0);
    await provider.shutdown();
  });

  it('the backlog gauges count rows a relay cannot publish, and the oldest row has an age', async () => {
    const name = await table();
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    await inTransaction(pool, async (tx) => {
      for (let i = 0; i < 7; i++)
        await new Outbox({ table: name }).add(tx, { destination: 'orders', body: `m${i}` });
    });
    // A relay whose broker refuses every send, each row waiting a minute before its next try:
    // all seven stay pending while the reader collects.
    const relay = startRelay({
      pool,
      broker: {
        producer: async () => {
          throw new UnavailableError('broker down');
        },
      },
      table: name,
      pollMs: 10,
      retryDelayMs: 60_000,
      meterProvider: provider,
    });
    await relay.drained();
    const metrics = (await reader.collect()).resourceMetrics;
    expect(points(metrics, OutboxMetricNames.pending)[0]!.value).toBe(7);
    expect(points(metrics, OutboxMetricNames.oldestPending)[0]!.value as number).toBeGreaterThan(0);
    expect(sum(points(metrics, OutboxMetricNames.published))).toBe(0);
    await relay.stop();
    await provider.shutdown();
  });

  it('a failed send counts a retry, and the row is published on a later try', async () => {
    const name = await table();
    const reader = new TestReader();
    const provider = new MeterProvider({ readers: [reader] });
    await inTransaction(pool, (tx) =>
      new Outbox({ table: name }).add(tx, { destination: 'orders', body: 'once' }),
    );
    let failures = 2;
    // The memory broker, with its first two sends refused as a broker outage would refuse them.
    const target = {
      producer: async (destination: string) => {
        const producer = await broker.producer(destination);
        return {
          send: async (message: OutgoingMessage) => {
            if (failures-- > 0) throw new UnavailableError('broker restarting');
            return producer.send(message);
          },
          close: () => producer.close(),
        };
      },
    };
    const relay = startRelay({
      pool,
      broker: target,
      table: name,
      pollMs: 10,
      retryDelayMs: 10,
      meterProvider: provider,
    });
    await drain(relay, name);
    await relay.stop();
    const metrics = (await reader.collect()).resourceMetrics;
    expect(sum(points(metrics, OutboxMetricNames.retries))).toBe(2);
    expect(sum(points(metrics, OutboxMetricNames.published))).toBe(1);
    await provider.shutdown();
  });
});
