// core's per-send() cost alone: 1,000 concurrent `producer.send(body)` calls (a window refilled as
// sends end, as the RabbitMQ and CMQ rows send) through core's Producer over a stub driver whose
// sendBatch does no I/O. Reports µs CPU per send (process, all threads: GC included) and, in
// `alloc` mode, bytes allocated per send (a young generation large enough that no GC runs in a
// round, so the heap's growth is what the round allocated).
//
//   npx tsx bench/profile-send-layers.ts [cpu|alloc] [immediate|tick|confirm|none] [sends] [rounds] [src]
//   node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx \
//     bench/profile-send-layers.ts alloc ...
//
// Driver: `immediate` resolves every batch at once; `tick` after a setImmediate (a round trip);
// `confirm` reports each message through `confirmed(index, receipt)` after a setImmediate, then
// resolves (RabbitMQ's and MQTT's per-message confirms); `none` runs the harness alone (no
// producer: its own await per send, to subtract). `src`: the core source directory to load
// Producer from (default packages/core/src), so a copy of the old code runs paired with the new.
// LANES: concurrent senders (default 1,000; LANES=1 is one send at a time, each awaited: the
// "send one at a time" rows). FRESH=1: a new Producer for every window, warm-up included, as the
// bench opens one per round (what each new producer costs: --trace-opt/--trace-deopt show its
// recompiles). `src` may be a built tree (packages/core/dist). TEXT=1: a 256-character string body instead of 256 bytes (Pulsar over HTTP, CMQ).
// SHAPE=cmq: the CMQ driver's limits (batches of 16 within 1 MiB, so send() measures each message's
// size; maxInFlight 16) and a text body, as the `cmq send 256 B` row; SHAPE=mqtt: MQTT's (batches
// of 250, no byte limit, maxInFlight 4) with per-message confirms (`confirm`).
// CALLGRIND=1, under `valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.%p`: the counters
// are zeroed as each measured round starts and dumped as it ends, so each dump after the first
// (the start-up's) holds one round's instructions, all threads; divided by the sends, that is
// instructions per send() (with the `none` harness's own per-send count to subtract).

import { existsSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Capabilities } from '../packages/core/src/capabilities.js';
import type { DriverProducer } from '../packages/core/src/driver.js';
import type { Outgoing, Receipt } from '../packages/core/src/message-types.js';
import type { Producer as ProducerType } from '../packages/core/src/producer.js';
import { callgrind } from './callgrind.js';

const mode = process.argv[2] ?? 'cpu';
const driverKind = process.argv[3] ?? 'confirm';
const sends = Number(process.argv[4] ?? 100_000);
const rounds = Number(process.argv[5] ?? 6);
const src = process.argv[6] ?? new URL('../packages/core/src/', import.meta.url).pathname;
const base = pathToFileURL(src.endsWith('/') ? src : `${src}/`);
// A built tree (`packages/core/dist`) runs as the bench does: no tsx `__name` per closure.
const ext = existsSync(new URL('producer.js', base)) ? 'js' : 'ts';
const { Producer } = (await import(new URL(`producer.${ext}`, base).href)) as {
  Producer: typeof ProducerType;
};
const { defaultRetryPolicy } = await import(new URL(`backoff.${ext}`, base).href);

const shape = process.env.SHAPE;
const capabilities = {
  maxBatchSize: shape === 'cmq' ? 16 : shape === 'mqtt' ? 250 : 12_500,
  maxBatchBytes: shape === 'cmq' ? 1_048_576 : Number.POSITIVE_INFINITY,
  maxMessageBytes: 128 * 1024 * 1024,
  binaryBodies: true,
  maxKeysPerMessage: 1,
  maxTagsPerMessage: 0,
} as unknown as Capabilities;

const receipt: Receipt = { id: 'stub' } as unknown as Receipt;
const later = () => new Promise<void>((resolve) => setImmediate(resolve));
/** `held` mode: batches wait here until released, as a broker's confirms after a round trip. */
let gate: Promise<void> | undefined;
let openGate: () => void = () => {};
const driver: DriverProducer = {
  native: undefined,
  async close() {},
  async sendBatch(messages: readonly Outgoing[], _signal, confirmed) {
    if (gate !== undefined) await gate;
    else if (driverKind !== 'immediate') await later();
    const out = new Array<Receipt>(messages.length);
    for (let i = 0; i < messages.length; i++) {
      if (driverKind === 'confirm') confirmed?.(i, receipt);
      out[i] = receipt;
    }
    return out;
  },
};
const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet } as never;
const open = () =>
  new Producer(
    driver,
    'stub',
    capabilities,
    {
      destination: 'q',
      maxBatchSize: 12_500,
      maxInFlight: shape === 'cmq' ? 16 : 4,
      retry: defaultRetryPolicy,
    },
    quiet,
    () => {},
  );
const fresh = process.env.FRESH === '1';
const laneCount = Number(process.env.LANES ?? 1_000);
let producer = open();

const body = process.env.TEXT === '1' || shape === 'cmq' ? 'x'.repeat(256) : new Uint8Array(256).fill(120);
async function window(count: number): Promise<void> {
  if (fresh) {
    await producer.close();
    producer = open();
  }
  let next = 0;
  const lane = async () => {
    if (driverKind === 'none') while (next++ < count) await Promise.resolve(receipt);
    else while (next++ < count) await producer.send(body);
  };
  const lanes: Promise<void>[] = [];
  for (let i = 0; i < Math.min(laneCount, count); i++) lanes.push(lane());
  await Promise.all(lanes);
}

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
const gc = (globalThis as { gc?: () => void }).gc;

if (mode === 'held') {
  await held();
  process.exit(0);
}

// Warm: TurboFan compiles on helper threads for the first several thousand calls of a path.
// MARK=1 prints a line before each round, to split a --trace-opt/--trace-deopt log by round.
const mark = process.env.MARK === '1';
for (let i = 0; i < Number(process.env.WARM ?? 4); i++) {
  if (mark) console.log(`#warm ${i}`);
  await window(sends);
}
const cpus: number[] = [];
const allocs: number[] = [];
for (let round = 0; round < rounds; round++) {
  gc?.();
  await later();
  await later();
  gcs = 0;
  if (mark) console.log(`#round ${round}`);
  const heap = process.memoryUsage().heapUsed;
  const cpu = process.cpuUsage();
  callgrind('-z');
  await window(sends);
  callgrind('-d');
  const used = process.cpuUsage(cpu);
  const grown = process.memoryUsage().heapUsed - heap;
  cpus.push((used.user + used.system) / sends);
  await later();
  if (mode === 'alloc') allocs.push(gcs === 0 ? grown / sends : Number.NaN);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `${driverKind} ${mode}: ${median(cpus).toFixed(2)} µs CPU/send (rounds ${cpus.map((c) => c.toFixed(2)).join(' ')})` +
    (mode === 'alloc'
      ? `, ${Math.round(median(allocs))} B/send (rounds ${allocs.map(Math.round).join(' ')})`
      : ''),
);
await producer.close();

/**
 * `held`: what 1,000 (LANES) concurrent single-message send()s keep while they wait for their
 * confirms. The driver holds every batch until released (a gate), so after `gc()` the heap holds
 * the waiting sends, queued or in the driver's hands: the heap's growth over an idle producer,
 * divided by the sends, is the bytes each waiting send keeps (the array of their promises, 8 B a
 * send, included). With SNAPSHOT=1, two heap snapshots (idle and waiting) are diffed by node type
 * and constructor: the objects each waiting send keeps. SIGNAL=1: each send with `{ signal }`, one
 * signal shared by all. Needs --expose-gc.
 */
async function held(): Promise<void> {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('held mode needs node --expose-gc');
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await later();
      collect();
    }
  };
  const count = laneCount;
  // SIGNAL=1: every send with one shared signal, as a service passes its shutdown signal.
  const signalled = process.env.SIGNAL === '1';
  const sendOptions = { signal: new AbortController().signal };
  const burst = async (measure: (waiting: Promise<unknown>[]) => Promise<void>) => {
    gate = new Promise<void>((resolve) => (openGate = resolve));
    const waiting: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++)
      waiting.push(signalled ? producer.send(body, sendOptions) : producer.send(body));
    // Two turns: the gathered batches went out and wait at the gate.
    await later();
    await measure(waiting);
    openGate();
    gate = undefined;
    await Promise.all(waiting);
  };
  for (let i = 0; i < Number(process.env.WARM ?? 4); i++) await burst(async () => {});
  const perSend: number[] = [];
  for (let round = 0; round < rounds; round++) {
    await settle();
    const idle = process.memoryUsage().heapUsed;
    await burst(async () => {
      await settle();
      perSend.push((process.memoryUsage().heapUsed - idle) / count);
    });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `held: ${Math.round(median(perSend))} B reachable per waiting send (rounds ${perSend.map(Math.round).join(' ')})`,
  );
  if (process.env.SNAPSHOT !== '1') return;
  // Written to files and read after both are taken: a census held in the heap would be counted.
  const { writeHeapSnapshot } = await import('node:v8');
  const { readFileSync, rmSync } = await import('node:fs');
  await settle();
  const idleFile = writeHeapSnapshot(`/tmp/send-held-idle-${process.pid}.heapsnapshot`);
  let waitingFile = '';
  await burst(async () => {
    await settle();
    waitingFile = writeHeapSnapshot(`/tmp/send-held-waiting-${process.pid}.heapsnapshot`);
  });
  const census = (file: string) => {
    const snap = JSON.parse(readFileSync(file, 'utf8')) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    rmSync(file);
    const fields = snap.snapshot.meta.node_fields;
    const types = snap.snapshot.meta.node_types[0];
    const width = fields.length;
    const [t, n, s] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
    const out = new Map<string, { count: number; bytes: number }>();
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + t!]!]!;
      const name = type.endsWith('string') ? '' : snap.strings[snap.nodes[i + n!]!]!.slice(0, 60);
      const key = `${type} ${name}`;
      const e = out.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += snap.nodes[i + s!]!;
      out.set(key, e);
    }
    return out;
  };
  const before = census(idleFile);
  const after = census(waitingFile);
  const rows: Array<[string, number, number]> = [];
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    const dc = a.count - b.count;
    const db = a.bytes - b.bytes;
    if (Math.abs(dc) >= count / 2 || Math.abs(db) >= count * 4) rows.push([key, dc / count, db / count]);
  }
  rows.sort((x, y) => y[2] - x[2]);
  let total = 0;
  for (const [key, c, b] of rows) {
    total += b;
    console.log(`${c.toFixed(2).padStart(6)} objects ${b.toFixed(1).padStart(7)} B/send  ${key}`);
  }
  console.log(`listed: ${total.toFixed(1)} B/send`);
}
