// The in-memory driver through the whole portable layer: send + receive + ack of 256-byte bodies.
// Targets (reported, not asserted): ≥ 1,000,000 msg/s batched, ≥ 300,000 msg/s with a per-message
// handler, p99 < 1 ms at 10,000 msg/s, heap after GC within 10% of the start over 1,000,000 messages.

import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from '@switchyard/core';
import { type BenchRow, percentile } from './types.js';

const BODY = new Uint8Array(256).fill(120);
const BATCH = 1_000;

async function throughput(n: number, mode: 'batch' | 'handler', query = ''): Promise<number> {
  const broker = await connect(`memory://bench-${mode}-${Date.now()}${query}`);
  const consumer = await broker.consumer('bench', { prefetch: 4_000 });
  const producer = await broker.producer('bench', { maxInFlight: 8 });
  const batch = Array.from({ length: BATCH }, () => ({ body: BODY }));
  const started = performance.now();
  let received = 0;
  const receiving =
    mode === 'handler'
      ? (async () => {
          const stop = new AbortController();
          await consumer.run(
            () => {
              if (++received === n) stop.abort();
            },
            { signal: stop.signal, concurrency: 64 },
          );
        })()
      : (async () => {
          while (received < n) {
            const messages = await consumer.receive({ max: BATCH, waitMs: 1_000 });
            for (const m of messages) void m.ack();
            received += messages.length;
          }
        })();
  const sends: Promise<unknown>[] = [];
  for (let sent = 0; sent < n; sent += BATCH) {
    sends.push(producer.send(batch));
    if (sends.length >= 8) await sends.shift();
  }
  await Promise.all(sends);
  await receiving;
  const elapsed = (performance.now() - started) / 1_000;
  await broker.close();
  return n / elapsed;
}

async function latencyAtRate(
  rate: number,
  seconds: number,
): Promise<{ p50: number; p99: number; count: number }> {
  const broker = await connect(`memory://bench-latency-${Date.now()}`);
  const consumer = await broker.consumer('lat', { prefetch: 256 });
  const producer = await broker.producer('lat');
  const latencies: number[] = [];
  const stop = new AbortController();
  const total = rate * seconds;
  const running = consumer.run(
    (m) => {
      latencies.push(performance.now() - Number(m.headers.t));
      if (latencies.length === total) stop.abort();
    },
    { signal: stop.signal, concurrency: 16 },
  );
  // Send in 1 ms ticks so the rate is smooth (setInterval granularity is ~1 ms).
  const perTick = rate / 1_000;
  const started = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - started) * perTick) + 1);
    while (sent < due) {
      void producer.send({ body: BODY, headers: { t: String(performance.now()) } });
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await running;
  await broker.close();
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

async function heapGrowth(n: number): Promise<{ before: number; after: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  // retention=0: measure the library, not the broker's replay log (10,000 messages by default).
  await throughput(n, 'handler', '?retention=0');
  await new Promise((r) => setTimeout(r, 50));
  gc();
  gc();
  return { before, after: process.memoryUsage().heapUsed };
}

export async function benchMemory(options: { messages?: number } = {}): Promise<BenchRow[]> {
  const n = options.messages ?? 1_000_000;
  await throughput(50_000, 'batch'); // warm-up (JIT)
  const batched = await throughput(n, 'batch');
  const handler = await throughput(n, 'handler');
  const latency = await latencyAtRate(10_000, 3);
  const heap = await heapGrowth(n);
  const growth = ((heap.after - heap.before) / heap.before) * 100;
  return [
    {
      name: 'memory: send + receive + ack, batches of 1,000 (256 B)',
      value: Math.round(batched),
      unit: 'msg/s',
      note: 'target ≥ 1,000,000',
    },
    {
      name: 'memory: send batches + run() per-message handler (256 B)',
      value: Math.round(handler),
      unit: 'msg/s',
      note: 'target ≥ 300,000',
    },
    { name: 'memory: end-to-end latency p50 at 10,000 msg/s', value: round(latency.p50), unit: 'ms' },
    {
      name: 'memory: end-to-end latency p99 at 10,000 msg/s',
      value: round(latency.p99),
      unit: 'ms',
      note: 'target < 1 ms',
    },
    {
      name: `memory: heap after GC, ${n.toLocaleString('en')} messages`,
      value: round(growth),
      unit: '% vs start',
      note: `${mb(heap.before)} → ${mb(heap.after)} (replay log off); target within 10%`,
    },
  ];
}

const round = (x: number) => Math.round(x * 1_000) / 1_000;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await benchMemory())
    console.log(`${row.name}: ${row.value} ${row.unit}${row.note ? ` (${row.note})` : ''}`);
}
