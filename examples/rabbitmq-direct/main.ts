// The TDMQ for RabbitMQ quick start, on Switchyard: a direct exchange, a producer that sends with
// four routing keys, and a consumer whose queue is bound to two of them, reading with manual acks
// and prefetch 1. Works on any RabbitMQ; for TDMQ set SWITCHYARD_URL to
// amqp://<role>:<token>@<endpoint>:5672/<clusterId>%7C<vhost>.

import { randomBytes } from 'node:crypto';
import { connect } from '@switchyard/core';
import type { ChannelModel } from 'amqplib';

const url = new URL(process.env.SWITCHYARD_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
// Direct exchanges route on exact keys (the quick start's exchange type); topic is the default.
if (!url.searchParams.has('exchangeType')) url.searchParams.set('exchangeType', 'direct');
// Two of the four keys are bound on purpose: let the broker drop the others (the default rejects
// a send no queue is bound for, so that a missing queue never loses a message silently).
if (!url.searchParams.has('unroutable')) url.searchParams.set('unroutable', 'warn');

const exchange = `quickstart-direct-${randomBytes(3).toString('hex')}`;
const keys = ['aaa.bbb.ccc', 'aaa.bbb.ddd', 'aaa.ccc.zzz', 'xxx.yyy.zzz'];
const bound = ['aaa.bbb.ccc', 'aaa.ccc.zzz'];

const broker = await connect(url);
console.log(`connected: ${broker.driver}, exchange ${exchange} (direct)`);

// The consumer first: its queue (exchange.group) and bindings must exist before messages come,
// or the broker drops them (nothing is bound for their key).
const consumer = await broker.consumer(exchange, {
  group: 'quickstart',
  prefetch: 1,
  filter: { routingKeys: bound },
});
const producer = await broker.producer(exchange);
for (const routingKey of keys) {
  await producer.send({ body: `hello ${routingKey}`, routingKey });
  console.log(`sent [${routingKey}]`);
}

const received: string[] = [];
while (received.length < bound.length) {
  const [message] = await consumer.receive({ waitMs: 5_000 });
  if (message === undefined) break;
  received.push(`[${message.routingKey}] ${message.text()}`);
  await message.ack();
}
// Anything else would be a routing bug: look once more, briefly.
for (const extra of await consumer.receive({ max: 10, waitMs: 300 })) {
  received.push(`[${extra.routingKey}] ${extra.text()} (unexpected)`);
  await extra.ack();
}
for (const line of received) console.log(`received ${line}`);
console.log(`received ${received.length} of ${keys.length} (bound to ${bound.join(', ')})`);

// Escape hatch: the native amqplib connection, to remove what the demo declared.
await consumer.close();
await producer.close();
const native = broker.unwrap<ChannelModel>();
const channel = await native.createChannel();
await channel.deleteQueue(`${exchange}.quickstart`);
await channel.deleteExchange(exchange);
await channel.close();
await broker.close();
console.log('closed cleanly');
process.exitCode = received.length === bound.length ? 0 : 1;
