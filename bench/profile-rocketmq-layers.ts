// RocketMQ: what Switchyard's own layers cost per send, with the client's send() stubbed (it
// resolves at once), at a given body size, for a CPU profile free of gRPC and the emulator.
// `switchyard` and `expert` send for real (1,000 concurrent send() calls; the raw client with 64
// in flight, as bench/rocketmq.ts does), one side per process, for a --cpu-prof of either alone.
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-rocketmq-layers.ts [bytes] [count] [layers|switchyard|expert]

import { connect } from '@switchyard/core';
import { Producer } from 'rocketmq-client-nodejs';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, measure } from './measure.js';

const bytes = Number(process.argv[2] ?? 1024 * 1024);
const count = Number(process.argv[3] ?? 200);
const side = process.argv[4] ?? 'layers';
const emulator = await startEmulatorProcess({ credentials: [{ secretId: 'token', secretKey: 'role' }] });
await emulator.rocketmqTopic('profile');
const endpoints = emulator.endpoints.rocketmq;
const broker = await connect({ driver: 'rocketmq', endpoints, token: 'token', role: 'role' });
const body = Buffer.alloc(bytes, 'x');
let send: () => Promise<unknown>;
let raw: Producer | undefined;
if (side === 'expert') {
  const quiet = { info() {}, warn() {}, error() {}, debug() {} };
  raw = new Producer({
    endpoints,
    namespace: '',
    sessionCredentials: { accessKey: 'token', accessSecret: 'role' },
    logger: quiet,
    requestTimeout: 10_000,
    topics: ['profile'],
    maxAttempts: 1,
  });
  await raw.startup();
  send = () => raw!.send({ topic: 'profile', body });
} else {
  const producer = await broker.producer('profile');
  if (side === 'layers')
    producer.unwrap<{ send: () => Promise<unknown> }>().send = async () => ({ messageId: 'stub' });
  send = () => producer.send({ body });
}
const width = side === 'expert' ? 64 : 1_000;
await concurrently(20, 20, send);
for (let round = 0; round < 3; round++) {
  const phase = await measure(count, () => concurrently(count, width, send));
  console.log(
    `rocketmq ${side}, ${bytes} B: ${(phase.cpuUs / count).toFixed(1)} µs CPU/msg, ${Math.round((count / phase.ms) * 1000)} msg/s`,
  );
}
await raw?.shutdown();
await broker.close();
await emulator.stop();
