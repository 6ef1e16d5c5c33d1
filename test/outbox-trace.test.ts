// Trace context follows the message from the transaction that added it, through the relay, to
// the consumer: the relay's send span is a child of the span that ran the transaction (not of the
// relay's background loop), and the consumer's process span continues the same trace.

import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { connect, openTelemetryApi } from '@switchyard/core';
import { ensureOutboxSchema, Outbox, startRelay } from '@switchyard/outbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, newPool, uniqueTable } from './fixtures/outbox-db.js';

const require = createRequire(import.meta.url);
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
  require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');
const { W3CTraceContextPropagator } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
const { AsyncLocalStorageContextManager } =
  require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');

const pool = newPool();
const table = uniqueTable('outbox_trace');

beforeAll(() => ensureOutboxSchema(pool, { table }));
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

describe('outbox: traces', () => {
  it("the send span is the transaction span's child and the consumer continues the trace", async () => {
    const api = openTelemetryApi<typeof Api>()!;
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const tracer = provider.getTracer('order-service');

    const outbox = new Outbox({ table });
    const placed = await tracer.startActiveSpan('place order', async (span) => {
      await inTransaction(pool, (tx) => outbox.add(tx, { destination: 'orders', body: 'o-1', key: 'o-1' }));
      span.end();
      return span.spanContext();
    });

    const broker = await connect({ driver: 'memory', telemetry: { tracerProvider: provider } } as never);
    const consumer = await broker.consumer('orders');
    const relay = startRelay({ pool, broker, table, pollMs: 10 });
    const [message] = await consumer.receive({ max: 1, waitMs: 10_000 });
    await message!.ack();
    await relay.stop();
    await broker.close();

    const send = exporter.getFinishedSpans().find((s) => s.name === 'send orders');
    expect(send?.spanContext().traceId).toBe(placed.traceId);
    expect(send?.parentSpanContext?.spanId).toBe(placed.spanId);
    // The header the consumer got names the send span: one trace from transaction to handler.
    expect(message!.headers.traceparent).toContain(placed.traceId);
    expect(message!.headers.traceparent).toContain(send!.spanContext().spanId);
  });
});
