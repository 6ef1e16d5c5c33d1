// CMQ: Switchyard vs a plain one-request-at-a-time client, in the same run against an in-process
// emulator. The plain client works the way the official CMQ SDKs do: one signed request per
// message (SendMessage; ReceiveMessage then DeleteMessage), waiting for each reply before the next,
// over one keep-alive connection. Switchyard batches (16 per request), long-polls and keeps several
// requests in flight over its undici pool. The emulator runs on a worker thread so neither client
// shares its event loop with the server.
// Run alone: npx tsx --conditions=switchyard-source bench/cmq.ts

import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { type CmqNative, signature } from '@switchyard/cmq';
import { connect } from '@switchyard/core';
import { type EmulatorThread, startEmulatorThread } from './emulator-thread.js';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const PLAIN_MESSAGES = 1_000;
const SWITCHYARD_MESSAGES = 20_000;

/** The plain client: sign, POST, wait, parse; one request at a time. */
function plainClient(endpoint: string, secretId: string, secretKey: string) {
  const url = new URL('/', endpoint);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let nonce = 0;
  const call = (action: string, params: Array<[string, string]>): Promise<Record<string, unknown>> => {
    const all: Array<[string, string]> = [
      ['Action', action],
      ['Nonce', String(++nonce)],
      ['SecretId', secretId],
      ['SignatureMethod', 'HmacSHA256'],
      ['Timestamp', String(Math.floor(Date.now() / 1000))],
      ...params,
    ];
    all.push([
      'Signature',
      signature({ method: 'POST', host: url.host, path: '/', params: all }, secretKey, 'HmacSHA256'),
    ]);
    const body = new URLSearchParams(all).toString();
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
  return { call, close: () => agent.destroy() };
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

async function plainSend(endpoint: EmulatorThread, queue: string): Promise<number> {
  const client = plainClient(
    endpoint.endpoints.cmq,
    endpoint.credentials[0]!.secretId,
    endpoint.credentials[0]!.secretKey,
  );
  const started = performance.now();
  for (let i = 0; i < PLAIN_MESSAGES; i++) {
    const reply = await client.call('SendMessage', [
      ['queueName', queue],
      ['msgBody', `plain-${i}`],
      ['delaySeconds', '0'],
    ]);
    if (reply.code !== 0) throw new Error(`plain SendMessage: ${JSON.stringify(reply)}`);
  }
  const ms = performance.now() - started;
  client.close();
  return rate(PLAIN_MESSAGES, ms);
}

async function plainReceiveDelete(endpoint: EmulatorThread, queue: string): Promise<number> {
  const client = plainClient(
    endpoint.endpoints.cmq,
    endpoint.credentials[0]!.secretId,
    endpoint.credentials[0]!.secretKey,
  );
  const started = performance.now();
  for (let i = 0; i < PLAIN_MESSAGES; i++) {
    const m = await client.call('ReceiveMessage', [
      ['queueName', queue],
      ['pollingWaitSeconds', '1'],
    ]);
    if (m.code !== 0) throw new Error(`plain ReceiveMessage: ${JSON.stringify(m)}`);
    const d = await client.call('DeleteMessage', [
      ['queueName', queue],
      ['receiptHandle', String(m.receiptHandle)],
    ]);
    if (d.code !== 0) throw new Error(`plain DeleteMessage: ${JSON.stringify(d)}`);
  }
  const ms = performance.now() - started;
  client.close();
  return rate(PLAIN_MESSAGES, ms);
}

export async function benchCmq(): Promise<BenchResult[]> {
  const emulator = await startEmulatorThread();
  const stop = () => emulator.stop();
  const { secretId, secretKey } = emulator.credentials[0]!;
  const cmq = new URL(emulator.endpoints.cmq);
  const broker = await connect(
    `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${cmq.host}?region=ap-guangzhou&maxConnections=16`,
  );
  // Setup over the wire (the emulator lives on another thread): legacy CreateQueue and batch sends.
  const http = broker.unwrap<CmqNative>().http;
  const createQueue = (queueName: string) =>
    http.call('CreateQueue', { queueName, maxMsgHeapNum: 100_000_000 });
  const fill = async (queueName: string, count: number) => {
    const batches = Array.from({ length: Math.ceil(count / 16) }, (_, b) =>
      Array.from({ length: Math.min(16, count - b * 16) }, (_, j) => `f-${b * 16 + j}`),
    );
    for (let i = 0; i < batches.length; i += 32)
      await Promise.all(
        batches.slice(i, i + 32).map((msgBody) => http.call('BatchSendMessage', { queueName, msgBody })),
      );
  };
  for (const q of ['warm-plain', 'warm-sy', 'plain-send', 'plain-recv', 'sy-send', 'sy-recv'])
    await createQueue(q);
  try {
    // Warm both paths (JIT, connections).
    await plainSend(emulator, 'warm-plain');
    const warm = await broker.producer('warm-sy', { maxInFlight: 16 });
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => warm.send(`w-${i}`)));

    const plainSendRate = await plainSend(emulator, 'plain-send');

    const producer = await broker.producer('sy-send', { maxInFlight: 16 });
    let started = performance.now();
    await Promise.all(Array.from({ length: SWITCHYARD_MESSAGES }, (_, i) => producer.send(`sy-${i}`)));
    const sySendRate = rate(SWITCHYARD_MESSAGES, performance.now() - started);

    await fill('plain-recv', PLAIN_MESSAGES);
    const plainRecvRate = await plainReceiveDelete(emulator, 'plain-recv');

    await fill('sy-recv', SWITCHYARD_MESSAGES);
    const consumer = await broker.consumer('sy-recv', { prefetch: 512 });
    let received = 0;
    const done = new AbortController();
    started = performance.now();
    await consumer.run(
      () => {
        if (++received === SWITCHYARD_MESSAGES) done.abort();
      },
      { signal: done.signal, concurrency: 64 },
    );
    await consumer.close();
    const syRecvRate = rate(SWITCHYARD_MESSAGES, performance.now() - started);
    const left = await http.call('GetQueueAttributes', { queueName: 'sy-recv' });
    const note = 'emulator on a worker thread, same run; plain = one signed request per message, awaited';
    return [
      { name: 'cmq send: plain client', value: plainSendRate, unit: 'msg/s', note },
      {
        name: 'cmq send: Switchyard',
        value: sySendRate,
        unit: 'msg/s',
        note: 'concurrent sends coalesced into BatchSendMessage of 16',
      },
      {
        name: 'cmq send: Switchyard / plain',
        value: Math.round((sySendRate / plainSendRate) * 10) / 10,
        unit: '×',
      },
      { name: 'cmq receive+delete: plain client', value: plainRecvRate, unit: 'msg/s', note },
      {
        name: 'cmq receive+delete: Switchyard',
        value: syRecvRate,
        unit: 'msg/s',
        note: `BatchReceiveMessage of 16 + BatchDeleteMessage, acks flushed; ${Number(left.activeMsgNum) + Number(left.inactiveMsgNum)} left un-deleted`,
      },
      {
        name: 'cmq receive+delete: Switchyard / plain',
        value: Math.round((syRecvRate / plainRecvRate) * 10) / 10,
        unit: '×',
      },
    ];
  } finally {
    await broker.close();
    await stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchCmq())
    console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
}
