// Switchyard's pulsar-http driver vs direct, sequential tencentcloud-sdk-nodejs calls doing the
// same work, against the TDMQ emulator, in one run (so the ratios hold on any machine):
//   send:          producer.send per message, awaited one at a time  vs  SendMessages one at a time
//   send piped:    producer.send of every message at once (pipelined) vs  SendMessages one at a time
//   receive+ack:   consumer.receive + ack one at a time               vs  ReceiveMessage + AcknowledgeMessage
//   receive piped: consumer.run with concurrency                      vs  ReceiveMessage + AcknowledgeMessage
// and the same two pipelined runs with packing (envelope mode, PACK messages per Pulsar message).
// Without packing every message still costs one signed request to send and one to ack, so on a
// CPU-bound machine pipelining gains what the sequential client spends waiting, not more.
// Run alone: npx tsx --conditions=switchyard-source bench/pulsar-http.ts

import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { connect } from '@switchyard/core';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { startEmulatorThread } from './emulator-thread.js';
import type { BenchRow } from './types.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

const N = 1_500;
const CLUSTER = 'pulsar-emulator';
const ROUNDS = 5;
const PACK = 100;

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

export async function benchPulsarHttp(): Promise<BenchRow[]> {
  const started = await startEmulatorThread();
  const stop = () => started.stop();
  const { secretId, secretKey } = started.credentials[0]!;
  const host = new URL(started.endpoints.api).host;
  const agent = new http.Agent({ keepAlive: true });
  const sdk = new TdmqClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: { httpProfile: { endpoint: host, protocol: 'http://', agent, reqTimeout: 30 } },
  });
  const url = `pulsar-http+http://${secretId}:${secretKey}@${host}?${new URLSearchParams({ region: 'ap-guangzhou', cluster: CLUSTER, receiveWaitMs: '200' })}`;
  const broker = await connect(url);
  const packedBroker = await connect(`${url}&mode=envelope&pack=${PACK}`);
  const bodies = Array.from({ length: N }, (_, i) => `bench-message-${i}`);

  // Each measurement gets its own topic and subscription (created outside the timed part).
  let topicNo = 0;
  // Topic and subscription exist before the timed sends (as in the direct runs); the consumer opens
  // after them, so its polls do not compete with the sends being measured.
  const fresh = async () => {
    const name = `bench-${process.pid}-${topicNo++}`;
    await sdk.CreateTopic({ ClusterId: CLUSTER, EnvironmentId: 'default', TopicName: name, Partitions: 2 });
    await sdk.CreateSubscription({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      TopicName: name,
      SubscriptionName: 'bench',
      IsIdempotent: true,
    });
    return name;
  };
  const open = (on: typeof broker, name: string) =>
    on.consumer(name, { group: 'bench', prefetch: 256, concurrency: 64 });
  const pipelined = async (on: typeof broker) => {
    const name = await fresh();
    const producer = await on.producer(name, { maxInFlight: 16 });
    let t = performance.now();
    await Promise.all(bodies.map((body) => producer.send(body)));
    const sendMs = performance.now() - t;
    const consumer = await open(on, name);
    t = performance.now();
    let handled = 0;
    const done = new AbortController();
    const stall = setTimeout(() => done.abort(), 120_000);
    await consumer.run(
      () => {
        if (++handled === N) done.abort();
      },
      { signal: done.signal },
    );
    clearTimeout(stall);
    const receiveMs = performance.now() - t;
    if (handled < N) throw new Error(`Switchyard run() stalled at ${handled}/${N}`);
    await consumer.close();
    return { sendMs, receiveMs };
  };

  const rawSend = async (path: string) => {
    const t = performance.now();
    for (const body of bodies) await sdk.SendMessages({ Topic: path, Payload: body });
    return performance.now() - t;
  };
  const rawReceiveAck = async (path: string) => {
    const t = performance.now();
    const deadline = Date.now() + 120_000;
    for (let got = 0; got < N; ) {
      if (Date.now() > deadline) throw new Error(`direct receive stalled at ${got}/${N}`);
      const r = await sdk.ReceiveMessage({ Topic: path, SubscriptionName: 'bench' }).catch(() => undefined);
      if (!r?.MessageID) continue;
      await sdk.AcknowledgeMessage({ MessageId: r.MessageID, AckTopic: r.AckTopic!, SubName: r.SubName! });
      got++;
    }
    return performance.now() - t;
  };

  const best = {
    rawSend: Infinity,
    sySend: Infinity,
    syPiped: Infinity,
    rawRecv: Infinity,
    syRecv: Infinity,
    syRecvPiped: Infinity,
    packSend: Infinity,
    packRecv: Infinity,
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Direct SDK: send one at a time, then receive + ack one at a time (topology by hand).
    const a = await fresh();
    best.rawSend = Math.min(best.rawSend, await rawSend(`${CLUSTER}/default/${a}`));
    best.rawRecv = Math.min(best.rawRecv, await rawReceiveAck(`${CLUSTER}/default/${a}`));

    // Switchyard, one at a time: await each send; receive one, ack it, next.
    const b = await fresh();
    const producer = await broker.producer(b);
    let t = performance.now();
    for (const body of bodies) await producer.send(body);
    best.sySend = Math.min(best.sySend, performance.now() - t);
    const consumer = await open(broker, b);
    t = performance.now();
    const deadline = Date.now() + 120_000;
    for (let got = 0; got < N; ) {
      if (Date.now() > deadline) throw new Error(`Switchyard receive stalled at ${got}/${N}`);
      const [m] = await consumer.receive({ waitMs: 1_000 });
      if (m === undefined) continue;
      await m.ack();
      got++;
    }
    best.syRecv = Math.min(best.syRecv, performance.now() - t);
    await consumer.close();

    // Switchyard, pipelined: every send at once; run() with concurrent handlers and batched acks.
    const piped = await pipelined(broker);
    best.syPiped = Math.min(best.syPiped, piped.sendMs);
    best.syRecvPiped = Math.min(best.syRecvPiped, piped.receiveMs);
    const packed = await pipelined(packedBroker);
    best.packSend = Math.min(best.packSend, packed.sendMs);
    best.packRecv = Math.min(best.packRecv, packed.receiveMs);
  }
  await broker.close();
  await packedBroker.close();
  agent.destroy();
  await stop();

  const note = `${N} messages, best of ${ROUNDS}, emulator on its own thread`;
  return [
    {
      name: 'send, one at a time: direct SDK SendMessages',
      value: rate(N, best.rawSend),
      unit: 'msg/s',
      note,
    },
    { name: 'send, one at a time: Switchyard', value: rate(N, best.sySend), unit: 'msg/s' },
    {
      name: 'send, one at a time: ratio Switchyard / SDK',
      value: round2(best.rawSend / best.sySend),
      unit: '×',
      note: 'target ≥ 0.95',
    },
    { name: 'send, pipelined: Switchyard', value: rate(N, best.syPiped), unit: 'msg/s' },
    {
      name: 'send, pipelined: ratio Switchyard / sequential SDK',
      value: round2(best.rawSend / best.syPiped),
      unit: '×',
      note: 'target ≥ 5',
    },
    {
      name: 'receive+ack, one at a time: direct SDK ReceiveMessage + AcknowledgeMessage',
      value: rate(N, best.rawRecv),
      unit: 'msg/s',
    },
    { name: 'receive+ack, one at a time: Switchyard', value: rate(N, best.syRecv), unit: 'msg/s' },
    {
      name: 'receive+ack, one at a time: ratio Switchyard / SDK',
      value: round2(best.rawRecv / best.syRecv),
      unit: '×',
      note: 'target ≥ 0.95',
    },
    { name: 'receive+ack, pipelined: Switchyard run()', value: rate(N, best.syRecvPiped), unit: 'msg/s' },
    {
      name: 'receive+ack, pipelined: ratio Switchyard / sequential SDK',
      value: round2(best.rawRecv / best.syRecvPiped),
      unit: '×',
      note: 'target ≥ 5',
    },
    {
      name: `send, pipelined + packed (envelope, pack ${PACK}): Switchyard`,
      value: rate(N, best.packSend),
      unit: 'msg/s',
    },
    {
      name: 'send, pipelined + packed: ratio Switchyard / sequential SDK',
      value: round2(best.rawSend / best.packSend),
      unit: '×',
      note: 'target ≥ 5',
    },
    {
      name: `receive+ack, pipelined + packed (envelope, pack ${PACK}): Switchyard run()`,
      value: rate(N, best.packRecv),
      unit: 'msg/s',
    },
    {
      name: 'receive+ack, pipelined + packed: ratio Switchyard / sequential SDK',
      value: round2(best.rawRecv / best.packRecv),
      unit: '×',
      note: 'target ≥ 5',
    },
  ];
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchPulsarHttp();
  for (const r of rows) console.log(`${r.name}: ${r.value} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
}
