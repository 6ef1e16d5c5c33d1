// Seed 002, TDMQ for RocketMQ 4.x's getting-started guide (Python/C++ SDK), in TypeScript on
// Switchyard's Remoting transport: the name server address, set_session_credentials(accessKey =
// role TOKEN, secretKey = role NAME), a producer group, topic and consumer group under their full
// `cluster|namespace%name` names, a message with tags and keys sent synchronously, and a push
// consumer whose callback returns RECONSUME_LATER once (the broker redelivers from %RETRY%) and
// then CONSUME_SUCCESS. With no SWITCHYARD_URL it starts the emulator in-process and creates the
// topic and group as the console would. Against TDMQ 4.x, e.g.
//   SWITCHYARD_URL='rocketmq+remoting://ROLE_TOKEN:ROLE_NAME@rocketmq-xxx.rocketmq.ap-sh.public.tencenttdmq.com:9876'
//   NAMESPACE='rocketmq-xxx|namespace_python'

import { connect } from '@switchyard/core';
import { type RunningEmulator, startEmulator } from '@switchyard/emulator';

const NAMESPACE = process.env.NAMESPACE ?? 'rocketmq-demo01|namespace_python';
const topicName = `${NAMESPACE}%topic1`;
const groupName = `${NAMESPACE}%group11`;
const producerGroup = `${NAMESPACE}%producer_group1`;
const TOKEN = 'demo-role-token'; // accessKey: the role token
const ROLE = 'demo-role'; // secretKey: the role name

const emulator = process.env.SWITCHYARD_URL ? undefined : await startLocal();
const nameserver = emulator?.endpoints.remoting;
const url = emulator
  ? `rocketmq+remoting://${TOKEN}:${ROLE}@${nameserver}?rebalanceIntervalMs=1000`
  : (process.env.SWITCHYARD_URL as string);

const broker = await connect(
  `${url}${url.includes('?') ? '&' : '?'}producerGroup=${encodeURIComponent(producerGroup)}`,
);
console.log(`connected: ${broker.driver} over Remoting (${emulator ? 'local emulator' : 'TDMQ'})`);

// producer.send_sync(msg) with msg.set_tags / msg.set_keys
const producer = await broker.producer(topicName);
const receipt = await producer.send({ body: 'This is a new message.', tags: ['TagA'], keys: ['order-1'] });
console.log(`sent to ${topicName}: msg_id ${receipt.messageId}`);

// consumer.subscribe(topicName, callback, 'TagA')
const consumer = await broker.consumer(topicName, { group: groupName, filter: { tags: ['TagA'] } });
const stop = new AbortController();
const timer = setTimeout(() => stop.abort(), 30_000);
let received = 0;
await consumer.run(
  (msg) => {
    received++;
    console.log(`received attempt ${msg.deliveryAttempt}: ${msg.text()} (tags ${msg.tags}, key ${msg.key})`);
    // RECONSUME_LATER the first time: the broker stores it in %RETRY%<group> with a delay level.
    if (msg.deliveryAttempt === 1) throw new Error('RECONSUME_LATER');
    stop.abort(); // CONSUME_SUCCESS
  },
  { signal: stop.signal },
);
clearTimeout(timer);

await broker.close();
await emulator?.stop();
console.log(received === 2 ? 'consumed after one retry; closed cleanly' : `received ${received} deliveries`);
process.exitCode = received === 2 ? 0 : 1;

async function startLocal(): Promise<RunningEmulator> {
  const local = await startEmulator({
    credentials: [{ secretId: TOKEN, secretKey: ROLE }],
    rocketmq: { autoCreate: false, allowAnonymous: false },
  });
  // What the TDMQ console does: the topic (four queues) and the consumer group.
  local.engines.rocketmq.createTopic(topicName, { type: 'NORMAL', queues: 4 });
  local.engines.rocketmq.createGroup(groupName, { fifo: false });
  return local;
}
