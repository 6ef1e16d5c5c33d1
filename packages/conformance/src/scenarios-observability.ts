// Trace context round trip on every driver: a producer's span context travels in the message's
// headers (natively or in the driver's envelope) and the consumer's process span continues the
// producer's trace. Uses the OpenTelemetry SDK's in-memory exporter as a global tracer provider,
// registered for these scenarios only (brokers decide at connect time whether to trace).

import { createRequire } from 'node:module';
import type { Span as ApiSpan, Context } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type Broker, openTelemetryApi } from '@switchyard/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collect, type SuiteContext, sleep } from './context.js';

// The API instance core uses (its loader copes with vitest's `module` export condition, which
// picks the API's ESM build that Node cannot load); the SDK packages are CommonJS and, required
// after it, share it. The API keeps its globals on globalThis either way.
const api = openTelemetryApi<typeof import('@opentelemetry/api')>();
if (api === undefined) throw new Error('@opentelemetry/api is a dev dependency of @switchyard/conformance');
const { context, createTraceState, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } = api;
const require = createRequire(import.meta.url);
const { AsyncLocalStorageContextManager } =
  require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } =
  require('@opentelemetry/sdk-trace-base') as typeof import('@opentelemetry/sdk-trace-base');

const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;

export function observabilityScenarios(ctx: SuiteContext): void {
  const { caps } = ctx;
  const carries = caps.headers !== 'none';
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  let broker: Broker;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(contextManager.enable());
    broker = await ctx.connectAnother();
  });

  afterAll(async () => {
    await broker?.close({ timeoutMs: 5_000 });
    trace.disable();
    context.disable();
    await provider.shutdown();
  });

  const tracer = () => trace.getTracer('switchyard-conformance');

  /** Waits until the finished spans satisfy `ready`, then returns them. */
  async function spansWhen(ready: (spans: ReadableSpan[]) => boolean, timeoutMs = ctx.ms(10_000)) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const spans = exporter.getFinishedSpans();
      if (ready(spans) || Date.now() > deadline) return spans;
      await sleep(20);
    }
  }

  const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

  /** Sends one message inside a root span of the test's own, under `parent` (default: a new trace). */
  async function sendTraced(dest: string, body: string, parent: Context = ROOT_CONTEXT) {
    const producer = await broker.producer(dest);
    let root!: ApiSpan;
    await context.with(parent, async () => {
      root = tracer().startSpan('test-root', {}, context.active());
      await context.with(trace.setSpan(context.active(), root), () => producer.send({ body }));
      root.end();
    });
    return root.spanContext();
  }

  it.skipIf(!carries)(
    'run(): the process span is a child of the send span, in the same trace, and is active in the handler',
    async () => {
      const dest = await ctx.destination('otel');
      const consumer = await broker.consumer(dest, { group: ctx.group() });
      const root = await sendTraced(dest, 'traced');
      const seen: { traceparent?: string; active?: string; trace?: string } = {};
      const stop = new AbortController();
      const running = consumer.run(
        (m) => {
          seen.traceparent = m.headers.traceparent;
          const active = trace.getActiveSpan()?.spanContext();
          seen.active = active?.spanId;
          seen.trace = active?.traceId;
          stop.abort();
        },
        { signal: stop.signal },
      );
      await running;
      const spans = await spansWhen((s) => named(s, `process ${dest}`).length > 0);
      const [send] = named(spans, `send ${dest}`);
      const [processed] = named(spans, `process ${dest}`);
      expect(send, 'send span').toBeDefined();
      expect(processed, 'process span').toBeDefined();
      expect(send!.kind).toBe(SpanKind.PRODUCER);
      expect(send!.spanContext().traceId).toBe(root.traceId);
      expect(send!.parentSpanContext?.spanId).toBe(root.spanId);
      expect(send!.attributes).toMatchObject({
        'messaging.system': broker.driver,
        'messaging.destination.name': dest,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.message.body.size': 6,
      });
      expect(typeof send!.attributes['messaging.message.id']).toBe('string');
      expect(seen.traceparent).toMatch(TRACEPARENT);
      expect(seen.traceparent).toContain(send!.spanContext().spanId);
      expect(processed!.kind).toBe(SpanKind.CONSUMER);
      expect(processed!.spanContext().traceId).toBe(root.traceId);
      expect(processed!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
      expect(processed!.attributes).toMatchObject({
        'messaging.system': broker.driver,
        'messaging.destination.name': dest,
        'messaging.operation.type': 'process',
        'messaging.message.body.size': 6,
        'switchyard.message.delivery_attempt': 1,
        'switchyard.settlement': 'acked',
      });
      expect(typeof processed!.attributes['messaging.consumer.group.name']).toBe('string');
      expect(seen.active).toBe(processed!.spanContext().spanId);
      expect(seen.trace).toBe(root.traceId);
      await consumer.close();
    },
  );

  it.skipIf(!carries)(
    'receive(): a receive span links to the producer, and ack ends the process span',
    async () => {
      const dest = await ctx.destination('otel');
      const consumer = await broker.consumer(dest, { group: ctx.group() });
      const root = await sendTraced(dest, 'pulled');
      const [m] = await collect(consumer, 1, ctx.ms(10_000));
      expect(m).toBeDefined();
      const spans = await spansWhen((s) => named(s, `process ${dest}`).length > 0);
      const [send] = named(spans, `send ${dest}`);
      const [received] = named(spans, `receive ${dest}`);
      const [processed] = named(spans, `process ${dest}`);
      expect(received, 'receive span').toBeDefined();
      expect(received!.attributes['messaging.operation.type']).toBe('receive');
      expect(received!.links.map((l) => l.context.spanId)).toContain(send!.spanContext().spanId);
      expect(processed!.spanContext().traceId).toBe(root.traceId);
      expect(processed!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
      expect(processed!.attributes['switchyard.settlement']).toBe('acked');
      await consumer.close();
    },
  );

  it.skipIf(!carries)('tracestate and baggage travel with the message', async () => {
    const dest = await ctx.destination('otel');
    const consumer = await broker.consumer(dest, { group: ctx.group() });
    const remote = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
      isRemote: true,
      traceState: createTraceState('vendor=abc,other=1'),
    });
    const withBaggage = propagation.setBaggage(
      remote,
      propagation.createBaggage({ tenant: { value: 'acme corp' }, 'order-id': { value: '42' } }),
    );
    await sendTraced(dest, 'bags', withBaggage);
    let baggage: Record<string, string> = {};
    let state: string | undefined;
    const stop = new AbortController();
    await consumer.run(
      (m) => {
        const entries = propagation.getBaggage(context.active())?.getAllEntries() ?? [];
        baggage = Object.fromEntries(entries.map(([k, v]) => [k, v.value]));
        state = trace.getActiveSpan()?.spanContext().traceState?.get('vendor');
        expect(m.headers.tracestate).toContain('vendor=abc');
        stop.abort();
      },
      { signal: stop.signal },
    );
    expect(baggage).toEqual({ tenant: 'acme corp', 'order-id': '42' });
    expect(state).toBe('abc');
    const spans = await spansWhen((s) => named(s, `process ${dest}`).length > 0);
    expect(named(spans, `process ${dest}`)[0]!.spanContext().traceId).toBe(
      '0af7651916cd43dd8448eb211c80319c',
    );
    await consumer.close();
  });

  it.skipIf(!carries)('a failing handler marks the process span as an error', async () => {
    const dest = await ctx.destination('otel');
    const consumer = await broker.consumer(dest, {
      group: ctx.group(),
      retry: { initialDelayMs: 0, maxDelayMs: 0 },
    });
    await sendTraced(dest, 'boom');
    const stop = new AbortController();
    let calls = 0;
    await consumer.run(
      (m) => {
        calls++;
        if (m.deliveryAttempt === 1) throw new Error('handler failed on purpose');
        stop.abort();
      },
      { signal: stop.signal },
    );
    const spans = await spansWhen((s) => named(s, `process ${dest}`).length >= 2);
    const processed = named(spans, `process ${dest}`);
    expect(calls).toBeGreaterThanOrEqual(2);
    const failed = processed.find((s) => s.attributes['switchyard.message.delivery_attempt'] === 1);
    expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed?.attributes['switchyard.settlement']).toBe('nacked');
    const [send] = named(spans, `send ${dest}`);
    // Every delivery continues the producer's trace.
    for (const span of processed) expect(span.spanContext().traceId).toBe(send!.spanContext().traceId);
    await consumer.close();
  });

  it.skipIf(carries)(
    'without headers the send still succeeds and the span says context stayed behind',
    async () => {
      const dest = await ctx.destination('otel');
      const consumer = await broker.consumer(dest, { group: ctx.group() });
      await sendTraced(dest, 'plain');
      const [m] = await collect(consumer, 1, ctx.ms(10_000));
      expect(m!.text()).toBe('plain');
      const spans = await spansWhen((s) => named(s, `process ${dest}`).length > 0);
      const [send] = named(spans, `send ${dest}`);
      expect(send!.attributes['switchyard.propagation']).toBe('skipped-no-headers');
      // The consumer cannot continue the trace: its process span starts a trace of its own.
      const [processed] = named(spans, `process ${dest}`);
      expect(processed!.spanContext().traceId).not.toBe(send!.spanContext().traceId);
      await consumer.close();
    },
  );
}
