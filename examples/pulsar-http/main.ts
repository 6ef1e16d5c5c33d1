// TDMQ Pulsar over HTTP quick start, the Switchyard way: send messages to a topic, receive them
// from a subscription, acknowledge them. The same steps as Tencent's SendMessages →
// ReceiveMessage → AcknowledgeMessage walkthrough, without writing any of those calls.
//
// With no SWITCHYARD_URL it starts the TDMQ emulator in this process and runs against it. For the
// real service:
//   SWITCHYARD_URL='pulsar-http+https://tdmq.tencentcloudapi.com?region=ap-guangzhou&cluster=pulsar-xxxxxxxx&namespace=my-ns' \
//   TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=... npx tsx examples/pulsar-http/main.ts

import { connect } from '@switchyard/core';

let url = process.env.SWITCHYARD_URL;
let stopEmulator: (() => Promise<void>) | undefined;
if (url === undefined) {
  const { DEFAULT_CREDENTIALS, startEmulator } = await import('@switchyard/emulator');
  const emulator = await startEmulator();
  stopEmulator = () => emulator.stop();
  const { secretId, secretKey } = DEFAULT_CREDENTIALS[0]!;
  const query = new URLSearchParams({
    region: 'ap-guangzhou',
    cluster: 'pulsar-emulator',
    namespace: 'default',
  });
  url = `pulsar-http+http://${secretId}:${secretKey}@${new URL(emulator.endpoints.api).host}?${query}`;
  console.log(`started the TDMQ emulator at ${emulator.endpoints.api}`);
}

const broker = await connect(url);
console.log(`connected: ${broker.driver}`);

// Step 1: the subscription. Opening the consumer creates the partitioned topic and the
// subscription if they are missing (topology management, on by default). Open it before sending:
// Pulsar keeps messages for the subscriptions that exist when they are published.
const consumer = await broker.consumer('quickstart-topic', { group: 'quickstart-sub', prefetch: 10 });

// Step 2: send. Concurrent sends are pipelined over keep-alive connections.
const producer = await broker.producer('quickstart-topic');
const receipts = await producer.send(['hello TDMQ', 'second message', 'third message']);
console.log(`sent ${receipts.length} messages (message ids ${receipts.map((r) => r.messageId).join(', ')})`);

// Step 3: receive (batch ReceiveMessage under the hood) and acknowledge each message.
const got: string[] = [];
const deadline = Date.now() + 15_000;
while (got.length < 3 && Date.now() < deadline) {
  for (const message of await consumer.receive({ max: 10, waitMs: 1_000 })) {
    got.push(message.text());
    await message.ack();
    console.log(`received and acknowledged: ${message.text()} (attempt ${message.deliveryAttempt})`);
  }
}

// Acknowledged messages do not come back.
const again = await consumer.receive({ max: 10, waitMs: 1_000 });
console.log(`after acknowledging: ${again.length} messages pending`);

await broker.close();
await stopEmulator?.();
if (got.length !== 3) {
  console.error(`expected 3 messages, got ${got.length}`);
  process.exit(1);
}
console.log('closed cleanly');
