// Native Pulsar (TDMQ Pulsar or any Pulsar cluster) over the binary protocol, on pulsar-client:
// a producer sends orders with a key, properties and one delayed reminder; a Key_Shared
// subscription consumes them in order per customer (the ordering key), however many consumers
// share the group. Run it against a Pulsar standalone:
//   docker run -d -p 6650:6650 -p 8080:8080 apachepulsar/pulsar bin/pulsar standalone
//   npm install --no-save pulsar-client
//   SWITCHYARD_PULSAR_URL=pulsar://localhost:6650 npx tsx --conditions=switchyard-source examples/pulsar-native/main.ts
// TDMQ: SWITCHYARD_PULSAR_URL='pulsar://token:ROLE_TOKEN@pulsar-xxx.tdmq.ap-gz.public.tencenttdmq.com:6650?cluster=pulsar-xxx&namespace=ns'
// Without the variable, or without pulsar-client, it says how to run it and exits 0.

import { randomUUID } from 'node:crypto';
import { connect, isSwitchyardError } from '@switchyard/core';

const HOW_TO = [
  'to run this example:',
  '  1. start a Pulsar: docker run -d -p 6650:6650 -p 8080:8080 apachepulsar/pulsar bin/pulsar standalone',
  '  2. install the native client: npm install --no-save pulsar-client (see packages/pulsar/README.md)',
  '  3. SWITCHYARD_PULSAR_URL=pulsar://localhost:6650 npx tsx --conditions=switchyard-source examples/pulsar-native/main.ts',
].join('\n');

const raw = process.env.SWITCHYARD_PULSAR_URL;
if (raw === undefined || raw === '') {
  console.log('SWITCHYARD_PULSAR_URL is not set: nothing to connect to.');
  console.log(HOW_TO);
  process.exit(0);
}

// Key_Shared unless the URL picks another subscription type.
const url = new URL(raw);
if (!url.searchParams.has('subscriptionType')) url.searchParams.set('subscriptionType', 'KeyShared');

let broker: Awaited<ReturnType<typeof connect>>;
try {
  broker = await connect(url);
} catch (error) {
  if (isSwitchyardError(error) && error.details.package === 'pulsar-client') {
    console.log('pulsar-client is not installed, so the native Pulsar driver cannot connect:');
    console.log(`  ${error.message}`);
    console.log(HOW_TO);
    process.exit(0);
  }
  throw error;
}
const { qualify } = broker.unwrap<{ qualify(name: string): string }>();
console.log(`connected: ${broker.driver}, topic ${qualify('switchyard-example-orders')}`);

// This run's messages only (the subscription may hold older ones from an earlier, failed run).
const run = randomUUID().slice(0, 8);
const consumer = await broker.consumer('switchyard-example-orders', {
  group: 'example-billing',
  ordered: true,
});
const producer = await broker.producer('switchyard-example-orders');

const orders = [
  { customer: 'alice', step: 'created' },
  { customer: 'bob', step: 'created' },
  { customer: 'alice', step: 'paid' },
  { customer: 'bob', step: 'paid' },
  { customer: 'alice', step: 'shipped' },
];
await producer.send(
  orders.map((o, i) => ({
    body: o,
    key: `order-${i}`,
    orderingKey: o.customer,
    headers: { run, source: 'pulsar-native-example' },
  })),
);
await producer.send({
  body: { customer: 'alice', step: 'reminder' },
  orderingKey: 'reminders',
  delayMs: 2_000,
  headers: { run },
});
console.log(`sent ${orders.length} orders and 1 reminder delayed by 2 s`);

const received: string[] = [];
const deadline = Date.now() + 20_000;
while (received.length < orders.length + 1 && Date.now() < deadline) {
  for (const message of await consumer.receive({ max: 16, waitMs: 1_000 })) {
    if (message.headers.run === run) {
      const { customer, step } = message.json() as { customer: string; step: string };
      received.push(`${customer} ${step}`);
      console.log(
        `received: ${customer} ${step} (key ${message.key ?? '-'}, attempt ${message.deliveryAttempt})`,
      );
    }
    await message.ack();
  }
}
await broker.close();
const ok = received.length === orders.length + 1;
console.log(ok ? 'closed cleanly' : `missing ${orders.length + 1 - received.length} message(s)`);
process.exitCode = ok ? 0 : 1;
