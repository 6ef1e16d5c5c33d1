// Trace context follows the message from the transaction that added it, through the relay, to
// the handler: the relay's send span is a child of the span that ran the transaction (not of the
// relay's background loop), core's process span is the send span's child, and a span the
// handler opens behind the idempotent consumer is the process span's child.

import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { connect, type Message, openTelemetryApi } from '@switchyard/core';
import { idempotent } from '@switchyard/dedupe';
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
    // The service's handler behind the idempotent consumer, opening a span of its own.
    const handled = new Promise<Message>((resolve) => {
      void consumer.run(
        idempotent(async (message) => {
          tracer.startActiveSpan('ship order', (span) => span.end());
          resolve(message);
        }),
      );
    });
    const message = await handled;
    await relay.stop();
    await consumer.close();
    await broker.close();

    const spans = exporter.getFinishedSpans();
    const send = spans.find((s) => s.name === 'send orders');
    expect(send?.spanContext().traceId).toBe(placed.traceId);
    expect(send?.parentSpanContext?.spanId).toBe(placed.spanId);
    // The header the consumer got names the send span: one trace from transaction to handler.
    expect(message.headers.traceparent).toContain(placed.traceId);
    expect(message.headers.traceparent).toContain(send!.spanContext().spanId);
    // Core's process span is the send span's child, and the handler's own span (inside the
    // idempotent wrapper) is the process span's child: the same trace all the way.
    const processSpan = spans.find((s) => s.name === 'process orders');
    expect(processSpan?.spanContext().traceId).toBe(placed.traceId);
    expect(processSpan?.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
    const ship = spans.find((s) => s.name === 'ship order');
    expect(ship?.spanContext().traceId).toBe(placed.traceId);
    expect(ship?.parentSpanContext?.spanId).toBe(processSpan!.spanContext().spanId);
  });
});
