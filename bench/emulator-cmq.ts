// CMQ emulator throughput: signed SendMessage, then ReceiveMessage+DeleteMessage pairs, from a
// keep-alive client with many requests in flight against an in-process emulator. The load
// generator runs in a worker thread so it does not share the emulator's event loop (on a 2-core
// machine a same-thread client would halve what we measure).
// Run alone: npx tsx --conditions=switchyard-source bench/emulator-cmq.ts

import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_CREDENTIALS, startEmulator } from '@switchyard/emulator';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

const CONCURRENCY = 32;
const PHASE_MS = 3000;
const QUEUE = 'bench';

interface PhaseRequest {
  endpoint: string;
  secretId: string;
  secretKey: string;
  concurrency: number;
  phaseMs: number;
  queue: string;
  mode: 'send' | 'receiveDelete';
}

interface PhaseResult {
  requests: number;
  ms: number;
  empty: number;
  error?: string;
}

// Plain JavaScript so the worker needs no TypeScript loader. Signing follows protocols/cmq.md §3.
const WORKER_SOURCE = `
const http = require('node:http');
const { createHmac } = require('node:crypto');
const { parentPort, workerData } = require('node:worker_threads');
const o = workerData;
const url = new URL('/v2/index.php', o.endpoint);
const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
let nonce = 0;
function call(action, params) {
  const all = [['Action', action], ['Nonce', String(++nonce)], ['SecretId', o.secretId],
    ['SignatureMethod', 'HmacSHA256'], ['Timestamp', String(Math.floor(Date.now() / 1000))], ...params];
  const sorted = [...all].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = 'POST' + url.host + url.pathname + '?' + sorted.map(([k, v]) => k + '=' + v).join('&');
  all.push(['Signature', createHmac('sha256', o.secretKey).update(text).digest('base64')]);
  const body = new URLSearchParams(all).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: {
      'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const body = 'x'.repeat(256);
let empty = 0;
async function once() {
  if (o.mode === 'send') {
    const r = await call('SendMessage', [['queueName', o.queue], ['msgBody', body], ['delaySeconds', '0']]);
    if (r.code !== 0) throw new Error('SendMessage: ' + JSON.stringify(r));
    return 1;
  }
  const r = await call('ReceiveMessage', [['queueName', o.queue], ['pollingWaitSeconds', '0']]);
  if (r.code === 7000) { empty++; return 1; }
  if (r.code !== 0) throw new Error('ReceiveMessage: ' + JSON.stringify(r));
  const d = await call('DeleteMessage', [['queueName', o.queue], ['receiptHandle', r.receiptHandle]]);
  if (d.code !== 0) throw new Error('DeleteMessage: ' + JSON.stringify(d));
  return 2;
}
(async () => {
  const started = performance.now();
  const deadline = started + o.phaseMs;
  let requests = 0;
  try {
    await Promise.all(Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < deadline) {
        const done = await once();
        requests += done;
      }
    }));
    parentPort.postMessage({ requests, ms: performance.now() - started, empty });
  } catch (error) {
    parentPort.postMessage({ requests, ms: 0, empty, error: String(error) });
  }
  agent.destroy();
})();
`;

function runPhase(request: PhaseRequest): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: request });
    worker.once('message', (result: PhaseResult) => {
      void worker.terminate();
      if (result.error) reject(new Error(result.error));
      else resolve(result);
    });
    worker.once('error', reject);
  });
}

export async function benchEmulatorCmq(): Promise<BenchResult[]> {
  const emulator = await startEmulator();
  try {
    emulator.engines.cmq.createQueue(QUEUE, { visibilityTimeout: 300 });
    const credential = DEFAULT_CREDENTIALS[0]!;
    const base = {
      endpoint: emulator.endpoints.cmq,
      secretId: credential.secretId,
      secretKey: credential.secretKey,
      concurrency: CONCURRENCY,
      phaseMs: PHASE_MS,
      queue: QUEUE,
    };
    const note = `${CONCURRENCY} concurrent keep-alive requests, HmacSHA256-signed, load generator in a worker thread`;
    const send = await runPhase({ ...base, mode: 'send' });
    const receive = await runPhase({ ...base, mode: 'receiveDelete' });
    const rate = (p: PhaseResult) => Math.round((p.requests / p.ms) * 1000);
    return [
      { name: 'emulator cmq SendMessage', value: rate(send), unit: 'req/s', note },
      {
        name: 'emulator cmq ReceiveMessage+DeleteMessage',
        value: rate(receive),
        unit: 'req/s',
        note: `${note}; each receive followed by its delete, both counted${receive.empty > 0 ? `; ${receive.empty} receives found the queue empty` : ''}`,
      },
    ];
  } finally {
    await emulator.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await benchEmulatorCmq()) {
    console.log(`${r.name}: ${r.value} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }
}
