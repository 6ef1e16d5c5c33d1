import { createRequire } from 'node:module';
import type { Attributes } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { connect } from '../connect.js';
import type { DriverModule } from '../driver.js';
import { memoryDriver } from '../memory/driver.js';
import { registerDriver } from '../registry.js';
import { messageContext } from './message-context.js';
import { MetricNames } from './metrics.js';
import { loadOpenTelemetry } from './otel.js';

const api = loadOpenTelemetry()!;
// CommonJS like the API (see otel.ts): the SDK then shares the API instance core loaded.
const require = createRequire(import.meta.url);
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
  require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');

function tracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, provider };
}

/** A MeterProvider that records what the instruments receive. */
function recordingMeter() {
  const points: Array<{ name: string; value: number; attributes: Attributes }> = [];
  const gauges: Array<(result: { observe(value: number, attributes?: Attributes): void }) => unknown> = [];
  const instrument = (name: string) => ({
    add: (value: number, attributes: Attributes = {}) => points.push({ name, value, attributes }),
    record: (value: number, attributes: Attributes = {}) => points.push({ name, value, attributes }),
  });
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
    createObservableGauge: (_name: string) => ({
      addCallback: (callback: (typeof gauges)[number]) =>
        gauges.push((result) => callback({ observe: (v, a) => result.observe(v, a) }) as never),
    }),
  };
  const provider = { getMeter: () => meter };
  const total = (name: string) => points.filter((p) => p.name === name).reduce((sum, p) => sum + p.value, 0);
  const observe = async () => {
    const seen: Array<{ value: number; attributes?: Attributes }> = [];
    for (const gauge of gauges)
      await gauge({ observe: (value, attributes) => seen.push({ value, attributes }) });
    return seen;
  };
  return { provider, points, total, observe };
}

async function settle(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

describe('telemetry', () => {
  it('is off without a registered provider: nothing is injected, no context is kept', async () => {
    const broker = await connect('memory://telemetry-off');
    const consumer = await broker.consumer('q');
    await (await broker.producer('q')).send('x');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    expect(m!.headers).toEqual({});
    expect(messageContext(m!)).toBeUndefined();
    await m!.ack();
    await broker.close();
  });

  it('traces with a given provider: send → process, same trace, handler runs in the process span', async () => {
    const { exporter, provider } = tracing();
    const broker = await connect({
      driver: 'memory',
      name: 'telemetry-on',
      telemetry: { tracerProvider: provider },
    });
    const consumer = await broker.consumer('orders', { group: 'billing' });
    const producer = await broker.producer('orders');
    const receipt = await producer.send({ body: 'hello', headers: { 'x-user': '1' } });
    const stop = new AbortController();
    let inHandler: string | undefined;
    await consumer.run(
      (m) => {
        expect(m.headers['x-user']).toBe('1');
        expect(m.headers.traceparent).toMatch(/^00-/);
        inHandler = api.trace.getSpan(messageContext(m)!)?.spanContext().spanId;
        stop.abort();
      },
      { signal: stop.signal },
    );
    await settle(() => exporter.getFinishedSpans().length >= 2);
    const send = exporter.getFinishedSpans().find((s) => s.name === 'send orders')!;
    const processed = exporter.getFinishedSpans().find((s) => s.name === 'process orders')!;
    expect(send.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': 'orders',
      'messaging.operation.type': 'send',
      'messaging.message.id': receipt.messageId,
      'messaging.message.body.size': 5,
    });
    expect(processed.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(processed.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(processed.attributes).toMatchObject({
      'messaging.consumer.group.name': 'billing',
      'messaging.operation.type': 'process',
      'switchyard.message.delivery_attempt': 1,
      'switchyard.settlement': 'acked',
    });
    expect(inHandler).toBe(processed.spanContext().spanId);
    await broker.close();
  });

  it('tracing: false wins over a provider', async () => {
    const { exporter, provider } = tracing();
    const broker = await connect({
      driver: 'memory',
      name: 'telemetry-false',
      telemetry: { tracing: false, tracerProvider: provider },
    });
    const consumer = await broker.consumer('q');
    await (await broker.producer('q')).send('x');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    expect(m!.headers.traceparent).toBeUndefined();
    await m!.ack();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    await broker.close();
  });

  it('a flavour without headers sends untouched and says why on the span', async () => {
    const headerless: DriverModule = {
      ...memoryDriver,
      name: 'headerless',
      schemes: ['headerless'],
      async create(config, context) {
        const inner = await memoryDriver.create(memoryDriver.parseConfig(config), context);
        const capabilities = Object.freeze({ ...inner.capabilities, headers: 'none' as const });
        return Object.assign(Object.create(inner) as typeof inner, {
          name: 'headerless',
          capabilities,
          openProducer: inner.openProducer.bind(inner),
          openConsumer: inner.openConsumer.bind(inner),
          close: inner.close.bind(inner),
        });
      },
    };
    registerDriver(headerless);
    const { exporter, provider } = tracing();
    const broker = await connect({
      driver: 'headerless',
      name: 'telemetry-headerless',
      telemetry: { tracerProvider: provider },
    });
    const consumer = await broker.consumer('q');
    await (await broker.producer('q')).send('x');
    const [m] = await consumer.receive({ waitMs: 1_000 });
    expect(m!.headers).toEqual({});
    await m!.ack();
    const send = exporter.getFinishedSpans().find((s) => s.name === 'send q')!;
    expect(send.attributes['switchyard.propagation']).toBe('skipped-no-headers');
    await broker.close();
  });

  it('a failed send ends its span with the error code', async () => {
    const { exporter, provider } = tracing();
    const broker = await connect({
      driver: 'memory',
      name: 'telemetry-fail',
      autoCreate: false,
      telemetry: { tracerProvider: provider },
    });
    await expect((await broker.producer('missing')).send('x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const [send] = exporter.getFinishedSpans();
    expect(send?.status.code).toBe(api.SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('NOT_FOUND');
    await broker.close();
  });

  it('records metrics: sent, consumed, acked, nacked, dead-lettered, errors, latencies and lag', async () => {
    const metrics = recordingMeter();
    const broker = await connect({
      driver: 'memory',
      name: 'telemetry-metrics',
      autoCreate: false,
      telemetry: { meterProvider: metrics.provider },
    });
    const store = broker.unwrap<{ createTopic(name: string): void }>();
    store.createTopic('m');
    store.createTopic('m-dlq');
    const consumer = await broker.consumer('m', { group: 'g', maxDeliveries: 2, deadLetter: 'm-dlq' });
    const producer = await broker.producer('m');
    await producer.send(['a', 'b', 'c']);
    await settle(() => metrics.total(MetricNames.consumed) >= 3);
    const lag = await metrics.observe();
    expect(lag.some((p) => p.attributes?.['messaging.consumer.group.name'] === 'g')).toBe(true);
    const [a, b, c] = await consumer.receive({ max: 3, waitMs: 1_000 });
    await a!.ack();
    await b!.nack();
    await c!.deadLetter('bad');
    await expect((await broker.producer('missing')).send('x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // 3 sent + 1 failed (the memory driver dead-letters natively: no copy is sent).
    expect(metrics.total(MetricNames.sent)).toBe(4);
    expect(metrics.total(MetricNames.acked)).toBe(1);
    expect(metrics.total(MetricNames.nacked)).toBe(1);
    expect(metrics.total(MetricNames.deadLettered)).toBe(1);
    const errors = metrics.points.filter((p) => p.name === MetricNames.errors);
    expect(errors.map((p) => p.attributes['error.type'])).toContain('NOT_FOUND');
    const failed = metrics.points.find(
      (p) => p.name === MetricNames.sent && p.attributes['error.type'] !== undefined,
    );
    expect(failed?.attributes).toMatchObject({
      'messaging.destination.name': 'missing',
      'error.type': 'NOT_FOUND',
    });
    expect(metrics.points.filter((p) => p.name === MetricNames.sendDuration).length).toBeGreaterThanOrEqual(
      3,
    );
    expect(metrics.points.filter((p) => p.name === MetricNames.endToEnd).length).toBeGreaterThanOrEqual(3);
    await consumer.close();
    await broker.close();
  });

  it('tracing: true without a provider is a no-op until one is registered, then traces', async () => {
    const broker = await connect({ driver: 'memory', name: 'telemetry-late', telemetry: { tracing: true } });
    const consumer = await broker.consumer('q', { prefetch: 1_000 });
    const producer = await broker.producer('q');
    await producer.send('before');
    const { exporter, provider } = tracing();
    api.trace.setGlobalTracerProvider(provider);
    try {
      for (let i = 0; i < 300; i++) await producer.send(`after-${i}`);
      const messages = await consumer.receive({ max: 301, waitMs: 1_000 });
      expect(messages).toHaveLength(301);
      expect(messages[0]!.headers.traceparent).toBeUndefined();
      expect(messages.at(-1)!.headers.traceparent).toMatch(/^00-/);
      for (const m of messages) await m.ack();
      expect(exporter.getFinishedSpans().some((s) => s.name === 'send q')).toBe(true);
    } finally {
      api.trace.disable();
      await broker.close();
    }
  });

  it('rejects a bad telemetry option, naming the field', async () => {
    // @ts-expect-error wrong types on purpose: the run-time check names the field
    await expect(connect({ driver: 'memory', telemetry: { tracing: 'yes' } })).rejects.toThrow(
      /config\.telemetry\.tracing/,
    );
    // @ts-expect-error wrong types on purpose: the run-time check names the field
    await expect(connect({ driver: 'memory', telemetry: { tracerProvider: {} } })).rejects.toThrow(
      /config\.telemetry\.tracerProvider/,
    );
  });
});
