// RocketMQ: what Switchyard's own layers cost per send, with the client's send() stubbed (it
// resolves at once), at a given body size, for a CPU profile free of gRPC and the emulator.
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-rocketmq-layers.ts [bytes] [count]

import { connect } from '@switchyard/core';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, measure } from './measure.js';

const bytes = Number(process.argv[2] ?? 1024 * 1024);
const count = Number(process.argv[3] ?? 200);
const emulator = await startEmulatorProcess({ credentials: [{ secretId: 'token', secretKey: 'role' }] });
await emulator.rocketmqTopic('profile');
const broker = await connect({
  driver: 'rocketmq',
  endpoints: emulator.endpoints.rocketmq,
  token: 'token',
  role: 'role',
});
const producer = await broker.producer('profile');
producer.unwrap<{ send: () => Promise<unknown> }>().send = async () => ({ messageId: 'stub' });
const body = Buffer.alloc(bytes, 'x');
await concurrently(20, 20, () => producer.send({ body }));
const phase = await measure(count, () => concurrently(count, 1_000, () => producer.send({ body })));
console.log(`rocketmq layers, ${bytes} B: ${(phase.cpuUs / count).toFixed(1)} µs CPU/msg`);
await broker.close();
await emulator.stop();
