// The TDMQ CMQ queue quick start in TypeScript: send messages to a queue, receive them, delete
// them (ack). With no SWITCHYARD_URL it starts the local CMQ emulator in-process; point it at TDMQ
// with e.g. SWITCHYARD_URL='cmq+https://cmq-gz.public.tencenttdmq.com?region=ap-guangzhou&manageTopology=true'
// and TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY in the environment.

import { connect } from '@switchyard/core';
import { DEFAULT_CREDENTIALS, startEmulator } from '@switchyard/emulator';

const emulator = process.env.SWITCHYARD_URL ? undefined : await startEmulator();
const url = emulator ? emulatorUrl(emulator.endpoints) : (process.env.SWITCHYARD_URL as string);

const broker = await connect(url);
console.log(`connected: ${broker.driver} (queue model, ${emulator ? 'local emulator' : 'TDMQ'})`);

// With manageTopology the consumer creates the queue (CreateCmqQueue) if it is missing.
const consumer = await broker.consumer('quickstart-queue', { prefetch: 16 });
const producer = await broker.producer('quickstart-queue');

// SendMessage for one message; concurrent sends are batched into BatchSendMessage.
const first = await producer.send('hello, CMQ');
console.log(`sent 1 message, msgId ${first.messageId}`);
const batch = await producer.send(['order-1', 'order-2', 'order-3']);
console.log(`sent ${batch.length} messages in one BatchSendMessage`);

// BatchReceiveMessage (long poll), then DeleteMessage/BatchDeleteMessage for each ack.
const received: string[] = [];
while (received.length < 4) {
  for (const message of await consumer.receive({ max: 16, waitMs: 5_000 })) {
    received.push(`${message.text()} (dequeue count ${message.deliveryAttempt})`);
    await message.ack();
  }
}
for (const line of received.sort()) console.log(`received and deleted: ${line}`);

await broker.close();
await emulator?.stop();
console.log('closed cleanly');

function emulatorUrl(endpoints: { cmq: string; api: string }): string {
  const { secretId, secretKey } = DEFAULT_CREDENTIALS[0]!;
  const cmq = new URL(endpoints.cmq);
  const query = new URLSearchParams({
    region: 'ap-guangzhou',
    manageTopology: 'true',
    managementEndpoint: endpoints.api,
  });
  return `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${cmq.host}?${query}`;
}
