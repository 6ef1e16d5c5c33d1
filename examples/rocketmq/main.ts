// The TDMQ for RocketMQ quick start in TypeScript: a producer sends messages with tags and keys
// to `clusterId|namespace%topic`, a consumer group subscribes with a tag expression (TagA||TagB)
// and acks what it gets. With no SWITCHYARD_URL it starts the emulator in-process and creates the
// topic and group through its admin API (a client cannot create them on the real service).
// Against TDMQ, create topic_demo and group_demo in the console, then e.g.
//   SWITCHYARD_URL='rocketmq://ROLE_TOKEN:ROLE_NAME@rmq-xxx.rocketmq.gz.qcloud.tencenttdmq.com:8080?cluster=rocketmq-xxx&namespace=ns_demo'
// Note the credential order TDMQ documents: access key = role TOKEN, secret key = role NAME.

import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';

const TOPIC = 'topic_demo';
const GROUP = 'group_demo';
const CLUSTER = 'rocketmq-demo01';
const NAMESPACE = 'ns_demo';
const TOKEN = 'demo-role-token';
const ROLE = 'demo-role';

const emulator = process.env.SWITCHYARD_URL ? undefined : await startLocal();
const url = emulator
  ? `rocketmq://${TOKEN}:${ROLE}@${emulator.endpoints.rocketmq}?cluster=${CLUSTER}&namespace=${NAMESPACE}&longPollMs=1000`
  : (process.env.SWITCHYARD_URL as string);

const broker = await connect(url);
const names = broker.unwrap<{ qualify(name: string): string }>();
console.log(`connected: ${broker.driver} (${emulator ? 'local emulator' : 'TDMQ'})`);
console.log(`topic ${names.qualify(TOPIC)}, group ${names.qualify(GROUP)}`);

// Subscribe before sending: a new consumer group starts at the end of the topic.
const consumer = await broker.consumer(TOPIC, { group: GROUP, filter: { tags: ['TagA', 'TagB'] } });
const producer = await broker.producer(TOPIC);

const orders = [
  { id: 'order-1', tag: 'TagA' },
  { id: 'order-2', tag: 'TagB' },
  { id: 'order-3', tag: 'TagC' },
  { id: 'order-4', tag: 'TagA' },
];
for (const order of orders) {
  const receipt = await producer.send({
    body: { order: order.id, amount: 42 },
    tags: [order.tag],
    key: order.id,
    headers: { source: 'quickstart' },
  });
  console.log(`sent ${order.id} tag ${order.tag}, messageId ${receipt.messageId}`);
}

const wanted = orders.filter((o) => o.tag !== 'TagC').length;
const received: string[] = [];
const deadline = Date.now() + 20_000;
while (received.length < wanted && Date.now() < deadline) {
  for (const message of await consumer.receive({ max: 16, waitMs: 2_000 })) {
    const { order } = message.json() as { order: string };
    received.push(`${order} tag ${message.tags[0]} key ${message.key} attempt ${message.deliveryAttempt}`);
    await message.ack();
  }
}
for (const line of received.sort()) console.log(`received and acked: ${line}`);

await broker.close();
if (emulator) {
  // The client notifies the server on shutdown: stop the server only after a short pause.
  await new Promise((resolve) => setTimeout(resolve, 200));
  await emulator.stop();
}
console.log(received.length === wanted ? 'closed cleanly' : `missing ${wanted - received.length} message(s)`);
process.exitCode = received.length === wanted ? 0 : 1;

async function startLocal(): Promise<RunningEmulator> {
  const local = await startEmulator({
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { autoCreate: false, allowAnonymous: false, longPolling: { minMs: 200, maxMs: 1_000 } },
  });
  // What the TDMQ console does: create the topic and the consumer group under the namespace.
  local.engines.rocketmq.createTopic(`${CLUSTER}|${NAMESPACE}%${TOPIC}`, { type: 'NORMAL' });
  local.engines.rocketmq.createGroup(`${CLUSTER}|${NAMESPACE}%${GROUP}`, { maxDeliveryAttempts: 16 });
  return local;
}
