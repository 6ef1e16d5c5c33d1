// The in-memory driver through the whole portable layer: send + receive + ack of 256-byte bodies.
// Targets (reported, not asserted): ≥ 1,000,000 msg/s batched, ≥ 300,000 msg/s with a per-message
// handler, p99 < 1 ms at 10,000 msg/s, heap after GC within 10% of the start over 1,000,000 messages.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { connect } from '@switchyard/core';
import { type BenchRow, percentile } from './types.js';

const BODY = new Uint8Array(256).fill(120);
const BATCH = 1_000;
const WINDOW = 16 * BATCH;

interface Measured {
  /** Messages per second. */
  readonly rate: number;
  /** Process CPU (user + system) per message, µs. */
  readonly cpuUs: number;
}

/**
 * Sends `n` messages in batches of 1,000, round-robin over `destinations` producers, while one
 * consumer per destination receives and acks them. The sender stays at most WINDOW messages ahead
 * of the receivers, as a broker's flow control would keep it: otherwise the broker's backlog (the
 * whole run, as the memory broker accepts a send at once) would be what the heap rows measure.
 * The replay log is off (retention=0) for the same reason. `onBatch` runs in the send loop after
 * every batch: the heap rows sample there, inside the burst.
 */
export async function throughput(
  n: number,
  mode: 'batch' | 'handler',
  options: { destinations?: number; batchSize?: number; onBatch?: (sent: number) => void } = {},
): Promise<Measured> {
  const destinations = options.destinations ?? 1;
  const broker = await connect(`memory://bench-${mode}-${Date.now()}?retention=0`);
  const names = Array.from({ length: destinations }, (_, i) => `bench-${i}`);
  const consumers = await Promise.all(names.map((name) => broker.consumer(name, { prefetch: 4_000 })));
  const producers = await Promise.all(names.map((name) => broker.producer(name, { maxInFlight: 8 })));
  const size = options.batchSize ?? BATCH;
  const batch = Array.from({ length: size }, () => ({ body: BODY }));
  const share = (i: number) => {
    const batches = Math.ceil(n / size);
    return (Math.floor(batches / destinations) + (i < batches % destinations ? 1 : 0)) * size;
  };
  let receivedAll = 0;
  let caughtUp: (() => void) | undefined;
  const progress = (count: number) => {
    receivedAll += count;
    caughtUp?.();
  };
  // The pairs just opened (≈ 23 KB each at 1,000 destinations) are the destinations' cost, not the
  // messages': two scavenges before the clock move them out of the young generation, or the first
  // scavenges inside it would copy and promote them (≈ 90 B a message, docs/bench-profiles.md §29.2).
  // Every side of every row runs the same.
  scavenge();
  scavenge();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const receiving = consumers.map(async (consumer, i) => {
    const want = share(i);
    let received = 0;
    if (want === 0) return;
    if (mode === 'handler') {
      const stop = new AbortController();
      await consumer.run(
        () => {
          progress(1);
          if (++received === want) stop.abort();
        },
        { signal: stop.signal, concurrency: 64 },
      );
      return;
    }
    while (received < want) {
      const messages = await consumer.receive({ max: BATCH, waitMs: 1_000 });
      for (const m of messages) void m.ack();
      received += messages.length;
      progress(messages.length);
    }
  });
  const sends: Promise<unknown>[] = [];
  for (let sent = 0, k = 0; sent < n; sent += size, k++) {
    while (sent - receivedAll >= WINDOW) {
      await new Promise<void>((resolve) => (caughtUp = resolve));
      caughtUp = undefined;
    }
    sends.push(producers[k % destinations]!.send(batch));
    if (sends.length >= 8) await sends.shift();
    options.onBatch?.(sent + size);
  }
  await Promise.all(sends);
  await Promise.all(receiving);
  const elapsed = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  await broker.close();
  return { rate: n / elapsed, cpuUs: (used.user + used.system) / n };
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

function scavenge(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as (options: { type: 'minor' }) => void)({ type: 'minor' });
}

async function heapGrowth(n: number): Promise<{ before: number; after: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  // retention=0: measure the library, not the broker's replay log (10,000 messages by default).
  await throughput(n, 'handler');
  await new Promise((r) => setTimeout(r, 50));
  gc();
  gc();
  return { before, after: process.memoryUsage().heapUsed };
}

/**
 * The live heap (after a full GC, which runs synchronously) sampled every 100,000 messages while
 * the batched burst runs: memory held for pending acks, leases and buffers shows here, whereas
 * after close() it has been released. Returns the start and the highest sample.
 */
export async function heapDuringBurst(
  n: number,
  destinations: number,
): Promise<{ before: number; peak: number }> {
  gc();
  const before = process.memoryUsage().heapUsed;
  let peak = before;
  await throughput(n, 'batch', {
    destinations,
    onBatch: (sent) => {
      if (sent % 100_000 !== 0) return;
      gc();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    },
  });
  return { before, peak };
}

export async function benchMemory(options: { messages?: number } = {}): Promise<BenchRow[]> {
  const n = options.messages ?? 1_000_000;
  // The 1 vs 1,000 destinations rows compare Switchyard with itself: each side runs in fresh
  // processes (isolated() says why), alternating, and the rows are the medians.
  const { one: batched, many: spread, ratios: spreadRatios } = await sides(n, BATCH, 1_000);
  // Small sends: each destination's consumer gets ~10 messages per receive cycle, so the per-cycle
  // costs (waits, wake-ups, one send and one ack batch per 10 messages) show per message.
  const { one: small, many: smallSpread, ratios: smallRatios } = await sides(n / 10, 10, 1_000);
  // The way services consume: run() with a handler per message, over 1 and 1,000 destinations, each
  // side as above. The receive() rows above await receive() per destination, whose promise waits
  // long over 1,000 idle destinations and, fulfilled with the batch, keeps it alive through
  // scavenges until the next full GC (docs/bench-profiles.md §18.8): both are reported, each
  // against its own one-destination side.
  const {
    one: runOne,
    many: runSpread,
    ratios: runRatios,
  } = await sides(n, BATCH, 1_000, SIDE_PROCESSES, 'handler');
  await throughput(50_000, 'batch'); // warm-up (JIT) for the rows measured in this process
  await throughput(50_000, 'batch', { destinations: 1_000 });
  const handler = await throughput(n, 'handler');
  const latency = await latencyAtRate(10_000, 3);
  const heap = await heapGrowth(n);
  const growth = ((heap.after - heap.before) / heap.before) * 100;
  const burst = await heapDuringBurst(n, 1);
  const burstSpread = await heapDuringBurst(n, 1_000);
  return [
    {
      name: 'memory: send + receive() + ack, batches of 1,000 (256 B), 1 destination',
      value: Math.round(batched.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(batched.cpuUs),
      note: `target ≥ 1,000,000; median of ${SIDE_PROCESSES} fresh processes`,
    },
    {
      name: 'memory: send + receive() + ack, batches of 1,000 (256 B), 1,000 destinations',
      value: Math.round(spread.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(spread.cpuUs),
      note: `batches round-robin over 1,000 producer/consumer pairs, each consumer awaiting receive(); CPU per message ${round(spread.cpuUs / batched.cpuUs)}× one destination's (target ≤ 1.5×; medians of ${SIDE_PROCESSES} fresh processes per side, per pair ${spreadRatios.map((r) => r.toFixed(2)).join(' ')}). Each destination gets one batch per round, so each caller's receive() promise is a round old when a batch fulfils it and that batch goes to the old generation with it (≈ 500 B per message; one destination, since 20.1's core change, ≈ 2 B): the API's promise, not the library's objects (docs/bench-profiles.md 20.1)`,
    },
    {
      name: 'memory: send + receive() + ack, batches of 10 (256 B), 1 destination',
      value: Math.round(small.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(small.cpuUs),
      note: `${(n / 10).toLocaleString('en')} messages; median of ${SIDE_PROCESSES} fresh processes`,
    },
    {
      name: 'memory: send + receive() + ack, batches of 10 (256 B), 1,000 destinations',
      value: Math.round(smallSpread.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(smallSpread.cpuUs),
      note: `CPU per message ${round(smallSpread.cpuUs / small.cpuUs)}× one destination's: a receive cycle per ~10 messages per destination (per pair of fresh processes ${smallRatios.map((r) => r.toFixed(2)).join(' ')}); every side's clock starts after two scavenges, so opening the pairs is not charged to the messages`,
    },
    {
      name: 'memory: send + run() handler + ack, batches of 1,000 (256 B), 1 destination',
      value: Math.round(runOne.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(runOne.cpuUs),
      note: `a handler per message, concurrency 64; median of ${SIDE_PROCESSES} fresh processes`,
    },
    {
      name: 'memory: send + run() handler + ack, batches of 1,000 (256 B), 1,000 destinations',
      value: Math.round(runSpread.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(runSpread.cpuUs),
      note: `one run() consumer per destination; CPU per message ${round(runSpread.cpuUs / runOne.cpuUs)}× one destination's run() (target ≤ 1.5×; medians of ${SIDE_PROCESSES} fresh processes per side, per pair ${runRatios.map((r) => r.toFixed(2)).join(' ')})`,
    },
    {
      name: 'memory: send batches + run() per-message handler (256 B)',
      value: Math.round(handler.rate),
      unit: 'msg/s',
      cpuUsPerMsg: round1(handler.cpuUs),
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
    burstRow(burst, n, '1 destination'),
    burstRow(burstSpread, n, '1,000 destinations'),
  ];
}

function burstRow(heap: { before: number; peak: number }, n: number, where: string): BenchRow {
  return {
    name: `memory: live heap during a ${n.toLocaleString('en')}-message batched burst, ${where}`,
    value: round((heap.peak - heap.before) / 1024 / 1024),
    unit: 'MiB above start',
    note: `${mb(heap.before)} → peak ${mb(heap.peak)}, sampled after a GC every 100,000 messages inside the burst`,
  };
}

const round = (x: number) => Math.round(x * 1_000) / 1_000;
const round1 = (x: number) => Math.round(x * 10) / 10;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

const SELF = fileURLToPath(import.meta.url);
/** Children load Switchyard as this process does: dist/, or the sources under switchyard-source. */
const CHILD_ARGV = ['--import', 'tsx', ...process.execArgv.filter((a) => a.startsWith('--conditions'))];
/** Fresh processes per side of a destinations comparison; their medians are the rows. */
const SIDE_PROCESSES = 3;

interface IsolatedJob {
  readonly mode: 'batch' | 'handler';
  readonly n: number;
  readonly destinations: number;
  readonly batchSize: number;
}

/**
 * One batched run in a fresh process, warmed up twice with its own shape only. In one process the
 * rows before decide V8's state for the later ones: allocation sites a 1,000-destination run
 * pretenured stay pretenured, and the young generation keeps the size earlier rows grew it to (a
 * fresh 1-destination process measured 0.33–0.39 µs per message, 0.51–0.65 with the semi-space
 * fixed at 16 MB) — so the 1-destination denominator moved by process history, not by code
 * (docs/bench-profiles.md). Both sides of each comparison are measured this same way.
 */
export function isolated(job: IsolatedJob): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--isolated', JSON.stringify(job)], { execArgv: CHILD_ARGV });
    child.once('message', (m) => resolve(m as Measured));
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`isolated memory run exited (${code}) before reporting`)));
  });
}

/**
 * Alternates fresh 1-destination and `destinations` processes; medians of each side. `mode`:
 * consumers awaiting receive() ('batch') or run() with a handler per message ('handler').
 */
export async function sides(
  n: number,
  batchSize: number,
  destinations: number,
  processes = SIDE_PROCESSES,
  mode: 'batch' | 'handler' = 'batch',
): Promise<{ one: Measured; many: Measured; ratios: number[] }> {
  const ones: Measured[] = [];
  const manys: Measured[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < processes; i++) {
    const one = await isolated({ mode, n, destinations: 1, batchSize });
    const many = await isolated({ mode, n, destinations, batchSize });
    ones.push(one);
    manys.push(many);
    ratios.push(many.cpuUs / one.cpuUs);
  }
  return { one: median(ones), many: median(manys), ratios };
}

/** Median rate and median CPU, each over the runs (rounds, not paired). */
function median(runs: Measured[]): Measured {
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { rate: mid(runs.map((r) => r.rate)), cpuUs: mid(runs.map((r) => r.cpuUs)) };
}

if (process.argv[1] === SELF && process.argv[2] === '--isolated') {
  const job = JSON.parse(process.argv[3]!) as IsolatedJob;
  const shape = { destinations: job.destinations, batchSize: job.batchSize };
  await throughput(50_000, job.mode, shape);
  await throughput(50_000, job.mode, shape);
  process.send!(await throughput(job.n, job.mode, shape));
  process.exit(0);
} else if (process.argv[1] === SELF) {
  for (const row of await benchMemory())
    console.log(
      `${row.name}: ${row.value} ${row.unit}${row.cpuUsPerMsg === undefined ? '' : `, ${row.cpuUsPerMsg} µs CPU/msg`}${row.note ? ` (${row.note})` : ''}`,
    );
}
