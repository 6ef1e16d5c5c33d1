// Pulsar over HTTP, one send at a time, for a CPU profile of either side alone (the bench's
// one-at-a-time row pairs them; this isolates one for --cpu-prof). The emulator runs in a child
// process, so the profile holds the client only.
// `layers` stubs the SDK's request() under Switchyard (it resolves at once), so what remains is
// what Switchyard's own layers cost per send, with no I/O for the machine's load to blur.
// `pipelined` as the pipelined bench row sends: the SDK with 32 calls in flight, Switchyard with
// 1,000 concurrent send() calls (maxInFlight 16; the driver's maxConcurrency 32).
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-pulsar-send.ts sdk|switchyard|layers [count] [bytes] [pipelined]

import http from 'node:http';
import { createRequire } from 'node:module';
import { connect } from '@switchyard/core';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, measure, textBody } from './measure.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

const side = process.argv[2] === 'sdk' || process.argv[2] === 'layers' ? process.argv[2] : 'switchyard';
const count = Number(process.argv[3] ?? 2_000);
const emulator = await startEmulatorProcess();
const { secretId, secretKey } = emulator.credentials[0]!;
const host = new URL(emulator.endpoints.api).host;
const agent = new http.Agent({ keepAlive: true, maxSockets: 40 });
const sdk = new TdmqClient({
  credential: { secretId, secretKey },
  region: 'ap-guangzhou',
  profile: { httpProfile: { endpoint: host, protocol: 'http://', reqMethod: 'POST', agent, reqTimeout: 30 } },
});
const name = `profile-${process.pid}`;
await sdk.CreateTopic({
  ClusterId: 'pulsar-emulator',
  EnvironmentId: 'default',
  TopicName: name,
  Partitions: 2,
});
const path = `pulsar-emulator/default/${name}`;
const body = textBody(Number(process.argv[4] ?? 256));
const broker = await connect(
  `pulsar-http+http://${secretId}:${secretKey}@${host}?region=ap-guangzhou&cluster=pulsar-emulator`,
);
const pipelined = process.argv[5] === 'pipelined';
const producer = await broker.producer(name, { maxInFlight: 16 });
if (side === 'layers')
  producer.unwrap<{ request: () => Promise<unknown> }>().request = async () => ({ MessageId: 'stub' });
const send =
  side === 'sdk' ? () => sdk.SendMessages({ Topic: path, Payload: body }) : () => producer.send(body);
const run = (n: number) => concurrently(n, pipelined ? (side === 'sdk' ? 32 : 1_000) : 1, send);
await run(200); // warm-up
const phase = await measure(count, () => run(count));
console.log(
  `${side}: ${Math.round((count / phase.ms) * 1000)} msg/s, ${(phase.cpuUs / count).toFixed(1)} µs CPU/msg`,
);
await broker.close();
agent.destroy();
await emulator.stop();
