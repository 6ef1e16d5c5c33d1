// The bridge row's two sides in one process, for paired CPU rounds, all-thread profiles
// (`perf record -g`, cut to the phases with PHASES) and syscall counts (`strace -c -f`): the
// expert amqplib copy loop (`raw`) and `switchyard bridge` (`bridge`) of bench/bridge.ts, each
// copying COUNT persistent 256 B messages from a filled queue to another exchange with an ack per
// confirm. Each phase prints rate, process CPU per message (user, system; main thread and the
// others), garbage collections, and (WRITES=1) what was written to sockets from JavaScript: write() calls
// that reached the socket handle (`writes`, one syscall each unless libuv queued it: `queued`),
// writev batches among them, frames per write and bytes per write, per socket. Filling and
// emptying the queues is outside the phases.
//   node --import tsx bench/profile-bridge.ts [raw,bridge,before] [rounds]
// `before` is the bridge of another CLI build: CLI_BEFORE=<its package directory> (a copy of
// packages/cli with dist/ and a node_modules link to the workspace's), for A/B rounds in one process.
// `patched` is the bridge over another build of the rabbitmq driver: RABBITMQ_DRIVER=<its dist/index.js>
// (`patched2` over a second one: RABBITMQ_DRIVER=<first>,<second>)
// (registered for that side's phases, the workspace's build for the others').
// Bytes allocated per phase: run with `node --expose-gc --trace-gc-nvp`; the phase is then fenced by
// full GCs and marked (`alloc-start`/`alloc-end <side>`), so the `allocated=` of the GCs between the
// marks sum to what the phase allocated.
// ALLOC_PROFILE=<prefix>: a sampling heap profile of each measured phase that counts what the GC
// already freed too (every allocation, by allocating function), written to <prefix>-<side>-<n>.heapprofile.
// Env: WARM (warm-up copies per side, default 2); PHASES (print each phase's CLOCK_MONOTONIC span
// in ns, to cut `perf record -k CLOCK_MONOTONIC` samples to it); CORK=1 (experiment: cork the
// socket while amqplib's muxer writes a turn's frames, so they leave as one writev).
// CALLGRIND=1, under `valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=<dir>/cg.%p`: the counters are
// zeroed as each measured phase starts and dumped as it ends (as in profile-send-layers.ts), so each
// dump after the first holds one phase's instructions, all threads, in the order the phases print.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { registerDriver } from '@switchyard/core';
import type { DriverModule } from '@switchyard/core/driver';
import { driver as workspaceDriver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { bridgeCopy, COUNT, cleanUp, type Names, names, prepare, rawCopy } from './bridge.js';
import { callgrind } from './callgrind.js';

const url = 'amqp://guest:guest@127.0.0.1:5672';
type Side = 'raw' | 'bridge' | 'before' | 'patched' | 'patched2';
const chosen = (process.argv[2] ?? 'raw,bridge').split(',') as Side[];
const rounds = Number(process.argv[3] ?? 3);
const warm = Number(process.env.WARM ?? 2);

/** Per socket: what JavaScript handed its handle (Socket#_writeGeneric is where both write paths meet). */
interface WriteStats {
  writes: number;
  writev: number;
  queued: number;
  frames: number;
  bytes: number;
}
const bySocket = new Map<Socket, WriteStats>();
let counting = false;
type WriteGeneric = (writev: boolean, data: unknown, encoding: string, cb: unknown) => unknown;
const proto = Socket.prototype as unknown as { _writeGeneric: WriteGeneric };
const writeGeneric = proto._writeGeneric;
/** Node's own symbol for the bytes of a write libuv could not finish at once (found on first use). */
let queuedBytes: symbol | undefined;
// WRITES=1 only: the wrapper costs per write, so it would weigh on the side with more writes.
if (process.env.WRITES === '1') {
  proto._writeGeneric = function (this: Socket, writev, data, encoding, cb) {
    const result = writeGeneric.call(this, writev, data, encoding, cb);
    if (!counting) return result;
    let s = bySocket.get(this);
    if (s === undefined) {
      s = { writes: 0, writev: 0, queued: 0, frames: 0, bytes: 0 };
      bySocket.set(this, s);
    }
    s.writes++;
    if (writev) {
      s.writev++;
      const chunks = data as Array<{ chunk: Buffer } | Buffer>;
      s.frames += chunks.length;
      for (const c of chunks) s.bytes += (Buffer.isBuffer(c) ? c : c.chunk).length;
    } else {
      s.frames++;
      s.bytes += (data as Buffer).length;
    }
    queuedBytes ??= Object.getOwnPropertySymbols(this).find((k) => k.description === 'lastWriteQueueSize');
    if (queuedBytes !== undefined && ((this as unknown as Record<symbol, number>)[queuedBytes] ?? 0) > 0)
      s.queued++;
    return result;
  };
}

// CORK: raw, bridge or both (1). Experiment: while that side runs, amqplib's muxer corks the socket
// for each flush, so the frames it takes in one turn leave in one writev (uncorked at the end of
// the same synchronous call: no frame waits longer). Without it the muxer writes each frame with
// its own socket.write, one syscall each on an idle socket.
const corkSides = new Set(
  process.env.CORK === undefined
    ? []
    : process.env.CORK === '1'
      ? ['raw', 'bridge']
      : process.env.CORK.split(','),
);
let corking = false;
if (corkSides.size > 0) {
  const require = createRequire(import.meta.resolve('amqplib'));
  const { Mux } = require('./lib/mux.js') as {
    Mux: { prototype: { _readIncoming(): void; out: Socket } };
  };
  const read = Mux.prototype._readIncoming;
  Mux.prototype._readIncoming = function (this: { out: Socket }) {
    if (!corking) return read.call(this);
    this.out.cork();
    try {
      read.call(this);
    } finally {
      this.out.uncork();
    }
  };
}

/** The main thread's involuntary context switches so far (preempted, e.g. by the broker it woke). */
function preemptions(): number {
  const status = readFileSync(`/proc/self/task/${process.pid}/status`, 'utf8');
  return Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1] ?? 0);
}

let gcs = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcs++;
    gcMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

/**
 * Time on CPU of the main thread and of all the others (V8's compiler and GC helpers, libuv's
 * pool), µs, from the scheduler's own ns count (schedstat's first field), not 10 ms ticks.
 */
function cpuByThread(): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ns = 0;
    try {
      ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // the thread ended meanwhile (its time is lost to both sums alike)
    }
    if (tid === String(process.pid)) main += ns / 1_000;
    else others += ns / 1_000;
  }
  return { main, others };
}

const allocProfile = process.env.ALLOC_PROFILE;
const inspector = allocProfile === undefined ? undefined : new Session();
inspector?.connect();
let profiled = 0;

const setup = await amqp.connect(url, { noDelay: true });
const before =
  process.env.CLI_BEFORE === undefined
    ? undefined
    : ((await import(pathToFileURL(`${process.env.CLI_BEFORE}/dist/index.js`).href)) as {
        runCli: Parameters<typeof bridgeCopy>[2];
      });
const patched: DriverModule[] = [];
for (const path of process.env.RABBITMQ_DRIVER?.split(',') ?? [])
  patched.push(((await import(pathToFileURL(path).href)) as { driver: DriverModule }).driver);
const copy = (side: Side, n: Names) => {
  registerDriver(side === 'patched' ? patched[0]! : side === 'patched2' ? patched[1]! : workspaceDriver);
  return side === 'raw'
    ? rawCopy(url, n)
    : bridgeCopy(url, n, side === 'before' ? before!.runCli : undefined);
};

async function phase(side: Side, measured: boolean): Promise<void> {
  const n = names(`prof-bridge-${side}`);
  await prepare(setup, n);
  await new Promise((r) => setTimeout(r, 200));
  bySocket.clear();
  counting = measured;
  gcs = gcMs = 0;
  corking = corkSides.has(side);
  const preempted = preemptions();
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect !== undefined) {
    collect();
    console.log(`alloc-start ${side}`);
  }
  if (measured)
    await inspector?.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  if (measured) callgrind('-z');
  const threads = cpuByThread();
  const cpu = process.cpuUsage();
  const from = process.hrtime.bigint();
  // A marker in the output, to cut --trace-opt/--trace-deopt or --trace-gc lines to the phase.
  if (process.env.PHASES !== undefined)
    console.log(`phase-start ${side} ${measured ? 'measured' : 'warm-up'}`);
  const started = performance.now();
  await copy(side, n);
  const seconds = (performance.now() - started) / 1_000;
  const to = process.hrtime.bigint();
  const used = process.cpuUsage(cpu);
  if (measured) callgrind('-d');
  if (collect !== undefined) {
    collect();
    console.log(`alloc-end ${side}`);
  }
  counting = false;
  corking = false;
  if (measured && inspector !== undefined) {
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    writeFileSync(`${allocProfile}-${side}-${++profiled}.heapprofile`, JSON.stringify(profile));
  }
  const switches = preemptions() - preempted;
  const copied = await cleanUp(setup, n);
  if (copied !== COUNT) throw new Error(`${side}: ${copied} of ${COUNT} reached the destination`);
  if (!measured) return;
  const after = cpuByThread();
  const main = after.main - threads.main;
  // A thread that ended in the phase takes its time with it: `others` can only come out short.
  const others = after.others - threads.others;
  const per = (x: number) => (x / COUNT).toFixed(2);
  if (process.env.PHASES !== undefined) console.log(`phase ${side} ${from} ${to}`);
  console.log(
    `${side}: ${Math.round(COUNT / seconds).toLocaleString('en')} msg/s, ${per(used.user + used.system)} µs CPU/msg (user ${per(used.user)}, system ${per(used.system)}; main ${per(main)}, others ${per(others)}); GC ${gcs}, ${((gcMs * 1_000) / COUNT).toFixed(2)} µs/msg of pauses; main thread preempted ${switches} times`,
  );
  for (const s of bySocket.values()) {
    if (s.writes < 10) continue;
    console.log(
      `  socket: ${s.writes} writes (${per(s.writes)}/msg, ${s.writev} writev, ${s.queued} queued), ${(s.frames / s.writes).toFixed(2)} frames and ${Math.round(s.bytes / s.writes)} B per write, ${Math.round(s.bytes / COUNT)} B/msg`,
    );
  }
}

try {
  for (let w = 0; w < warm; w++) for (const side of chosen) await phase(side, false);
  for (let round = 0; round < rounds; round++)
    for (const side of round % 2 === 0 ? chosen : [...chosen].reverse()) await phase(side, true);
} finally {
  await setup.close();
}
