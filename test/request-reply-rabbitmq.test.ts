// Request-reply on a real RabbitMQ: Switchyard requests travel with AMQP reply_to (direct reply-to,
// amq.rabbitmq.reply-to) and correlation_id, the way NestJS, Rascal and plain clients do it, so a
// plain amqplib service answers a Switchyard request, and Switchyard answers a plain client's
// request to its own reply queue.

import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { type Broker, connect, type Message } from '@switchyard/core';
import '@switchyard/rabbitmq';
import amqp, { type ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestVhost, type TestVhost } from './rabbitmq-helpers.js';

// CommonJS like the API core loads, so the SDK shares its instance (see core's telemetry/otel.ts).
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = createRequire(import.meta.url)(
  '@opentelemetry/sdk-trace-base',
) as typeof import('@opentelemetry/sdk-trace-base');

let vhost: TestVhost;
let requester: Broker;
let responder: Broker;
beforeAll(async () => {
  vhost = await createTestVhost('request-reply');
  requester = await connect(vhost.url);
  responder = await connect(vhost.url);
});
afterAll(async () => {
  await requester?.close({ timeoutMs: 5_000 });
  await responder?.close({ timeoutMs: 5_000 });
  await vhost?.cleanup();
});

describe('request-reply on RabbitMQ', () => {
  it('answers a Switchyard request from a Switchyard consumer over direct reply-to', async () => {
    const consumer = await responder.consumer('rr.echo');
    let seen: ConsumeMessage | undefined;
    const replySent: boolean[] = [];
    const running = consumer.run(async (m: Message) => {
      seen = m.unwrap<ConsumeMessage>();
      // A reply that failed (RabbitMQ returns mandatory publishes to direct reply-to) would make
      // the handler throw and the request come again.
      replySent.push(
        await responder.reply(m, { body: { echoed: m.json() } }).then(
          () => true,
          () => false,
        ),
      );
    });
    const producer = await requester.producer('rr.echo');
    const replies = await Promise.all(
      [1, 2, 3].map((n) => producer.request({ body: { n } }, { timeoutMs: 20_000 })),
    );
    expect(replies.map((r) => r.json())).toEqual([1, 2, 3].map((n) => ({ echoed: { n } })));
    // Native AMQP fields, not headers: what any AMQP service reads.
    expect(seen!.properties.replyTo).toMatch(/^amq\.rabbitmq\.reply-to\./);
    expect(seen!.properties.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen!.properties.headers?.['reply-to']).toBeUndefined();
    expect(replies[0]!.unwrap<ConsumeMessage>().properties.correlationId).toBeTypeOf('string');
    await consumer.close();
    await running;
    expect(replySent).toEqual([true, true, true]);
    expect(requester.unmatchedReplies).toBe(0);
  });

  it('gets its reply from a plain amqplib service that answers reply_to with the correlation_id', async () => {
    const exchange = `rr.plain-svc.${randomUUID()}`;
    const producer = await requester.producer(exchange);
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      await channel.bindQueue(queue, exchange, '#');
      await channel.consume(queue, (msg) => {
        if (msg === null) return;
        channel.sendToQueue(msg.properties.replyTo, Buffer.from(`plain:${msg.content.toString()}`), {
          correlationId: msg.properties.correlationId,
        });
        channel.ack(msg);
      });
      const reply = await producer.request('ping', { timeoutMs: 20_000 });
      expect(reply.text()).toBe('plain:ping');
    } finally {
      await connection.close();
    }
  });

  it('answers a plain amqplib request sent with its own reply queue', async () => {
    const source = `rr.from-plain.${randomUUID()}`;
    const consumer = await responder.consumer(source);
    const running = consumer.run(async (m: Message) => {
      await responder.reply(m, `switchyard:${m.text()}`);
    });
    const connection = await amqp.connect(vhost.url);
    try {
      const channel = await connection.createChannel();
      const { queue: replyQueue } = await channel.assertQueue('', { exclusive: true });
      const correlationId = randomUUID();
      const replied = new Promise<ConsumeMessage>((resolve) => {
        void channel.consume(replyQueue, (msg) => msg !== null && resolve(msg), { noAck: true });
      });
      channel.publish(source, 'any.key', Buffer.from('hello'), { replyTo: replyQueue, correlationId });
      const reply = await replied;
      expect(reply.content.toString()).toBe('switchyard:hello');
      expect(reply.properties.correlationId).toBe(correlationId);
    } finally {
      await connection.close();
      await consumer.close();
      await running;
    }
  });

  it('times out with TIMEOUT and counts the reply that comes after', async () => {
    const consumer = await responder.consumer('rr.slow');
    const producer = await requester.producer('rr.slow');
    // Held at once: the timeout can fire before the request is received on a loaded machine.
    const failed = producer.request('slow', { timeoutMs: 300 }).catch((e: unknown) => e);
    let request: Message | undefined;
    while (request === undefined) [request] = await consumer.receive({ max: 1 });
    expect(await failed).toMatchObject({ code: 'TIMEOUT', retryable: true });
    await responder.reply(request, 'late');
    await request.ack();
    while (producer.lateReplies === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(producer.lateReplies).toBe(1);
    await consumer.close();
  });

  it('traces a request sent over direct reply-to like a send: its span, its context in the request', async () => {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const traced = await connect(vhost.url, { telemetry: { tracerProvider } });
    try {
      const consumer = await responder.consumer('rr.traced');
      let traceparent: string | undefined;
      const running = consumer.run(async (m: Message) => {
        traceparent = m.headers.traceparent;
        await responder.reply(m, 'traced');
      });
      const producer = await traced.producer('rr.traced');
      expect((await producer.request('x', { timeoutMs: 20_000 })).text()).toBe('traced');
      // The reply may come before the publish confirm that ends the send span: wait for the span.
      const sendSpan = () => exporter.getFinishedSpans().find((span) => span.name === 'send rr.traced');
      while (sendSpan() === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      const send = sendSpan();
      expect(traceparent).toContain(send!.spanContext().traceId);
      await consumer.close();
      await running;
    } finally {
      await traced.close();
    }
  });
});
