// Quickstart: one producer, one consumer, three kinds of body. Runs on the embedded memory
// broker by default; set SWITCHYARD_URL (e.g. amqp://guest:guest@127.0.0.1:5672) to run the same
// code on another backend.

import { connect } from '@switchyard/core';

const broker = await connect(process.env.SWITCHYARD_URL ?? 'memory://');
console.log(`connected: ${broker.driver}`);

// Open the consumer first: a new group starts at the newest message on most brokers.
const consumer = await broker.consumer('orders', { group: 'billing', prefetch: 16, concurrency: 4 });
const producer = await broker.producer('orders');

await producer.send([
  { body: 'plain text order', key: 'order-1' },
  { body: { order: 2, items: ['tea', 'cake'] }, key: 'order-2', headers: { source: 'quickstart' } },
  { body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), key: 'order-3' },
]);

const received: string[] = [];
const done = new AbortController();
await consumer.run(
  (message) => {
    const body = message.contentType === 'application/json' ? JSON.stringify(message.json()) : message.text();
    const shown =
      message.contentType === 'application/octet-stream' ? Buffer.from(message.body).toString('hex') : body;
    received.push(
      `${message.key}: ${shown} (${message.contentType ?? 'no content type'}, attempt ${message.deliveryAttempt})`,
    );
    if (received.length === 3) done.abort();
  },
  { signal: done.signal },
);

for (const line of received.sort()) console.log(`received ${line}`);
await broker.close();
console.log('closed cleanly');
