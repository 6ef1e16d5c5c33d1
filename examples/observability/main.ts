// Observability: one trace across the broker. A producer and a consumer on the embedded memory
// broker, with the OpenTelemetry SDK printing every span to the console. The publish span and the
// consumer's process span share one trace id: the trace context travelled in the message headers.
// Set SWITCHYARD_URL to run the same code on a flavour with headers (amqp://, cmq+http:// with
// envelope bodies, pulsar-http+http:// with the packed mode, rocketmq://).

import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { connect } from '@switchyard/core';

// 1. The application registers an SDK once at start-up, as any OpenTelemetry service does.
//    The in-memory exporter only lets this program print a summary at the end.
const collected = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter()), new SimpleSpanProcessor(collected)],
});
trace.setGlobalTracerProvider(provider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

// 2. Switchyard traces by default once a global tracer provider is registered (the `telemetry`
//    broker option can switch it off or pass a provider explicitly).
const broker = await connect(process.env.SWITCHYARD_URL ?? 'memory://observability');
console.log(`connected: ${broker.driver} (headers: ${broker.capabilities.headers})`);
const consumer = await broker.consumer('orders', { group: 'billing' });
const producer = await broker.producer('orders');

// 3. Send inside a span of our own, with baggage: both travel with the message.
const tracer = trace.getTracer('observability-example');
const checkout = tracer.startSpan('checkout');
const withBaggage = propagation.setBaggage(
  trace.setSpan(context.active(), checkout),
  propagation.createBaggage({ tenant: { value: 'acme' } }),
);
await context.with(withBaggage, () => producer.send({ body: { order: 42 } }));
checkout.end();

// 4. The handler runs inside the process span, a child of the publish span.
const done = new AbortController();
await consumer.run(
  (message) => {
    const active = trace.getActiveSpan()?.spanContext();
    const tenant = propagation.getBaggage(context.active())?.getEntry('tenant')?.value;
    console.log(
      `handled order ${message.json<{ order: number }>().order} (tenant ${tenant}) in trace ${active?.traceId}`,
    );
    done.abort();
  },
  { signal: done.signal },
);
await broker.close();
await provider.forceFlush();

// 5. The proof: one trace id for the publish and the process span.
const spans = collected.getFinishedSpans();
const publish = spans.find((s) => s.name === 'send orders');
const processed = spans.find((s) => s.name === 'process orders');
console.log(`publish span: ${publish?.name} trace ${publish?.spanContext().traceId}`);
console.log(`process span: ${processed?.name} trace ${processed?.spanContext().traceId}`);
const same = publish !== undefined && publish.spanContext().traceId === processed?.spanContext().traceId;
console.log(same ? 'one trace across the broker' : 'the trace did NOT continue across the broker');
await provider.shutdown();
process.exitCode = same ? 0 : 1;
