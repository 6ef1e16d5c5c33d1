// RocketMQ 4.x Remoting alone, for paired CPU-per-message rounds or `--cpu-prof`: the emulator in a
// child process (its CPU is not counted), and in this process the bench's sides
// (bench/rocketmq-remoting.ts) round after round, each on a fresh topic filled with raw sends (not
// measured):
//   raw     the expert raw receive: PULL_MESSAGE of 32, the offset riding on the next pull
//   raw-each  the raw receive as it was before 2026-12-07: an UPDATE_CONSUMER_OFFSET awaited after
//           every pull (RAW_COMMIT=each makes the raw side do the same)
//   driver  the Remoting driver's consumer without core: receiveBatch(prefetch) and one ack per
//           batch, as core's intake and ack batcher call it (what the driver costs apart from core)
//   sy      Switchyard: broker.consumer() (prefetch 64, concurrency 32) and run() + close(), as the
//           bench measures it (open not measured, close measured)
//   send-raw / send-sy  the bench's send sides (64 in flight / 1,000 concurrent send())
// Every phase prints the process CPU per message and the main thread's and other threads' CPU
// (/proc/self/task/*/schedstat: V8's compiler and GC helpers run on the others). PROFILE=<prefix>
// writes an inspector CPU profile of each measured phase; each phase also prints its minor page
// faults per message (process.resourceUsage()); MARK=1 prints phase edges as
// CLOCK_MONOTONIC ns for slicing a `perf record` (perf script timestamps are the same clock).
// Load-independent counts of one measured phase:
//   CALLGRIND=1, under `valgrind --tool=callgrind [--instr-atstart=no] --callgrind-out-file=<dir>/cg.%p`: callgrind's
//     counters are zeroed as each measured phase starts (after its topic is filled) and dumped as it
//     ends, so each dump after the first holds one phase's instructions (all threads), in the order
//     the phases print their labels.
//   WIRE=1: requests written per message by request code (from each frame's JSON header), socket
//     writes (one syscall each; a corked batch is one writev) and socket reads ('data' chunks).
//   PULLS=1: PULL_MESSAGE per phase on each side, messages per pull, the time a pull is out and the
//     client's turn-around from a reply to the next pull (the %RETRY% long poll apart), and every
//     other request's time (close()'s offset commit and unregister).
//   Always: user and system CPU, read and write syscalls per message (/proc/self/io, which counts
//     net's onread too), and the emulator's CPU per message, main thread and others (its schedstat).
//   STRACE=1: `strace -c -f -p <this process>` attached for the phase alone (the emulator, another
//     process, is not traced): its syscall summary per phase goes to <STRACE>.<label>.<n>.txt when
//     STRACE is a path prefix, else to /tmp/profile-remoting-strace.
//   node --import tsx --conditions=switchyard-source bench/profile-remoting.ts \
//     raw,driver,sy [count] [rounds] [bytes]

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { Socket } from 'node:net';
import { type Consumer, connect, type DriverConsumer, silentLogger } from '@switchyard/core';
import { driver as rocketmq } from '@switchyard/rocketmq';
import { RequestCode } from '@switchyard/rocketmq-remoting';
import { ConnectionPool } from '../packages/rocketmq/src/remoting/pool.js';
import { callgrind } from './callgrind.js';
import { benchConsumerOptions, concurrently } from './measure.js';
import { drainRaw, RawClient, startRemotingEmulator } from './rocketmq-remoting.js';
import { threadCpu } from './thread-cpu.js';

const sides = (process.argv[2] ?? 'raw,driver,sy').split(',');
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 4);
const bytes = Number(process.argv[5] ?? 256);
const PREFETCH = 64;

const { emulator, nameServer, target } = await startRemotingEmulator();
const broker = await connect(target);
const { driver: _, ...config } = target;
const driverInstance = await rocketmq.create(rocketmq.parseConfig(config), {
  logger: silentLogger,
  status: () => {},
});
const raw = await RawClient.open(nameServer);
let body: Buffer = Buffer.alloc(bytes, 'x');
const SMALL = Buffer.alloc(256, 'x');

let topicSeq = 0;
/**
 * A fresh topic holding `n` messages, sent as the bench's side that consumes them sends them: raw
 * SEND_MESSAGE_V2 for the raw side, Switchyard's producer for the others (its messages carry the
 * content-type property, so a receiver infers nothing). FILL=raw fills every side the raw way, FILL=sy
 * every side with Switchyard's producer (the raw side then decodes the same messages).
 */
async function filledTopic(n: number, by: 'raw' | 'sy'): Promise<string> {
  const name = `profile-remoting-${process.pid}-${++topicSeq}`;
  await emulator.rocketmqTopic(name);
  if ((by === 'raw' && process.env.FILL !== 'sy') || process.env.FILL === 'raw')
    await concurrently(n, 64, () => raw.send(name, body));
  else {
    const producer = await broker.producer(name);
    await concurrently(n, 1_000, () => producer.send({ body }));
    await producer.close();
  }
  // Settled before the side opens: a consumer opened and then left idle would prefetch (up to 64
  // messages, a whole 1 MiB round) before its measured phase began.
  await new Promise((r) => setTimeout(r, 100));
  return name;
}

async function freshTopic(): Promise<string> {
  const name = `profile-remoting-${process.pid}-${++topicSeq}`;
  await emulator.rocketmqTopic(name);
  await new Promise((r) => setTimeout(r, 100));
  return name;
}

const split = { open: 0, run: 0, close: 0, closeWall: 0 };
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function runUntil(consumer: Consumer, n: number): Promise<void> {
  let handled = 0;
  const done = new AbortController();
  await consumer.run(
    () => {
      if (++handled === n) done.abort();
    },
    { signal: done.signal },
  );
}

type Drain = { prepare(n: number): Promise<unknown>; drain(n: number, state: unknown): Promise<void> };

const receiveSides: Record<string, Drain> = {
  raw: {
    prepare: (n) => filledTopic(n, 'raw'),
    drain: (n, t) => drainRaw(raw, t as string, n, 32, process.env.RAW_COMMIT === 'each'),
  },
  // The baseline before the pass of 2026-12-07: an UPDATE_CONSUMER_OFFSET awaited after every pull.
  'raw-each': {
    prepare: (n) => filledTopic(n, 'raw'),
    drain: (n, t) => drainRaw(raw, t as string, n, 32, true),
  },
  driver: {
    // The driver opens (and starts pulling) outside the measured phase, as the sy side does.
    prepare: async (n) => {
      const t = await filledTopic(n, 'sy');
      return driverInstance.openConsumer(t, {
        ...benchConsumerOptions(PREFETCH),
        group: `${t}-g`,
        startFrom: 'earliest',
      });
    },
    drain: async (n, c) => {
      const consumer = c as DriverConsumer;
      const t1 = cpuNow();
      for (let seen = 0; seen < n; ) {
        const batch = await consumer.receiveBatch(PREFETCH, 1_000);
        seen += batch.length;
        await consumer.ack(batch);
      }
      const t2 = cpuNow();
      await consumer.close();
      Object.assign(split, { open: 0, run: t2 - t1, close: cpuNow() - t2 });
    },
  },
  sy: {
    prepare: async (n) => {
      const t = await filledTopic(n, 'sy');
      const t0 = cpuNow();
      const consumer = await broker.consumer(t, {
        group: `${t}-g`,
        prefetch: PREFETCH,
        concurrency: 32,
        startFrom: 'earliest',
      });
      split.open = cpuNow() - t0;
      return consumer;
    },
    drain: async (n, c) => {
      const consumer = c as Consumer;
      const t1 = cpuNow();
      await runUntil(consumer, n);
      const t2 = cpuNow();
      const closing = performance.now();
      await consumer.close();
      Object.assign(split, { run: t2 - t1, close: cpuNow() - t2, closeWall: performance.now() - closing });
    },
  },
  'send-raw': {
    prepare: () => freshTopic(),
    drain: (n, t) => concurrently(n, 64, () => raw.send(t as string, body)),
  },
  'send-sy': {
    prepare: async () => broker.producer(await freshTopic()),
    drain: async (n, p) => {
      const producer = p as Awaited<ReturnType<typeof broker.producer>>;
      await concurrently(n, 1_000, () => producer.send({ body }));
      await producer.close();
    },
  },
};

const profileTo = process.env.PROFILE;
const session = profileTo === undefined ? undefined : new Session();
session?.connect();
await session?.post('Profiler.enable');
await session?.post('Profiler.setSamplingInterval', {
  interval: Number(process.env.PROFILE_INTERVAL_US ?? 200),
});

/** ALLOC=1: bytes allocated per message in the phase (collected objects included), by function. */
const alloc = process.env.ALLOC ? new Session() : undefined;
alloc?.connect();
await alloc?.post('HeapProfiler.enable');

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

async function allocationsPerMessage(n: number): Promise<string> {
  const { profile } = (await alloc!.post('HeapProfiler.stopSampling')) as unknown as {
    profile: { head: SamplingNode };
  };
  const by = new Map<string, number>();
  let total = 0;
  const name = (f: SamplingNode['callFrame']) =>
    `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  // A builtin (Object.entries, an iterator's next, …) is charged with its caller named.
  const walk = (node: SamplingNode, caller: string) => {
    const f = node.callFrame;
    const key = f.url === '' ? `${name(f)} < ${caller}` : name(f);
    by.set(key, (by.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const child of node.children) walk(child, f.url === '' ? caller : name(f));
  };
  walk(profile.head, '');
  const top = [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.ALLOC_TOP ?? 15))
    .map(([k, b]) => `    ${(b / n).toFixed(0).padStart(6)} B  ${k}`);
  return `  allocated ${(total / n).toFixed(0)} B/msg:\n${top.join('\n')}`;
}

const monotonicNs = () => process.hrtime.bigint();

/** WIRE=1: what this process writes and reads on its sockets (see the header). */
const wire = { requests: new Map<number, number>(), writes: 0, reads: 0 };
if (process.env.WIRE) {
  const proto = Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const write = proto.write!;
  const writeGeneric = proto._writeGeneric!;
  const push = proto.push!;
  const CODE = Buffer.from('{"code":');
  proto.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    // A frame's head: length, header length, then fastjson's alphabetical JSON header.
    if (Buffer.isBuffer(chunk) && chunk.length > 16 && chunk.subarray(8, 16).equals(CODE)) {
      const header = chunk.toString('latin1', 8, Math.min(chunk.length, 8 + chunk.readInt32BE(4)));
      const code = Number(/^\{"code":(\d+)/.exec(header)?.[1]);
      if (/"flag":(\d+)/.exec(header)?.[1] === '0' || /"flag":2[,}]/.test(header))
        wire.requests.set(code, (wire.requests.get(code) ?? 0) + 1);
    }
    return write.call(this, chunk, ...rest);
  };
  proto._writeGeneric = function (this: Socket, ...args: unknown[]) {
    wire.writes++;
    return writeGeneric.apply(this, args);
  };
  proto.push = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
    if (chunk !== null) wire.reads++;
    return push.call(this, chunk, ...rest);
  };
}
const CODE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(RequestCode).map(([name, code]) => [code, name]),
);
function wireLine(n: number): string {
  const codes = [...wire.requests]
    .sort((a, b) => a[0] - b[0])
    .map(([code, k]) => `${CODE_NAMES[code] ?? code} ${(k / n).toFixed(4)}`)
    .join(', ');
  return `  wire per msg: requests {${codes}}, socket writes ${(wire.writes / n).toFixed(4)}, reads ${(wire.reads / n).toFixed(4)}`;
}

/**
 * PULLS=1: every PULL_MESSAGE of the phase, both sides (the raw client's call and the driver's
 * pool call): how many, messages per pull, the mean time a pull is out, and the mean time from a
 * reply to the next pull's send (the client's own turn-around, where a pull is not on the wire).
 */
const noPulls = () => ({ others: [] as string[], n: 0, msgs: 0, outMs: 0, gapMs: 0, gaps: 0, lastReply: 0 });
const pulls = { ...noPulls(), inFlight: 0, maxInFlight: 0 };
function pullTimed<A extends unknown[], R>(
  call: (this: unknown, ...args: A) => Promise<R>,
  codeAt: number,
  fieldsAt: number,
): (this: unknown, ...args: A) => Promise<R> {
  return async function (this: unknown, ...args: A): Promise<R> {
    // The %RETRY% queue's long poll (Switchyard's consumer holds one open the whole phase) is
    // timed as another request: it brings nothing here.
    const retry = String((args[fieldsAt] as { topic?: string }).topic).startsWith('%RETRY%');
    if (args[codeAt] !== RequestCode.PULL_MESSAGE || retry) {
      const sent = performance.now();
      try {
        return await call.apply(this, args);
      } finally {
        pulls.others.push(
          `${retry ? '%RETRY% pull' : (CODE_NAMES[args[codeAt] as number] ?? String(args[codeAt]))} ${(performance.now() - sent).toFixed(1)} ms`,
        );
      }
    }
    const sent = performance.now();
    if (pulls.lastReply > 0 && pulls.inFlight === 0) {
      pulls.gapMs += sent - pulls.lastReply;
      pulls.gaps++;
    }
    pulls.inFlight++;
    pulls.maxInFlight = Math.max(pulls.maxInFlight, pulls.inFlight);
    try {
      const reply = (await call.apply(this, args)) as { extFields: Record<string, string> };
      const fields = args[fieldsAt] as { queueOffset: number };
      const next = Number(reply.extFields.nextBeginOffset ?? fields.queueOffset);
      pulls.n++;
      pulls.msgs += next - Number(fields.queueOffset);
      return reply as R;
    } finally {
      pulls.inFlight--;
      pulls.lastReply = performance.now();
      pulls.outMs += pulls.lastReply - sent;
    }
  };
}
if (process.env.PULLS) {
  const raw = RawClient.prototype as unknown as { call: (...args: unknown[]) => Promise<unknown> };
  raw.call = pullTimed(raw.call, 0, 1);
  const pool = ConnectionPool.prototype as unknown as { call: (...args: unknown[]) => Promise<unknown> };
  pool.call = pullTimed(pool.call, 1, 2);
}
function pullLine(ms: number): string {
  const avg = (x: number, k: number) => (k === 0 ? '-' : (x / k).toFixed(3));
  return `  pulls ${pulls.n} (${avg(pulls.msgs, pulls.n)} msgs each, max ${pulls.maxInFlight} in flight), out ${avg(pulls.outMs, pulls.n)} ms each (${pulls.outMs.toFixed(0)} of ${ms.toFixed(0)} ms), reply→next send ${avg(pulls.gapMs, pulls.gaps)} ms; other requests: ${pulls.others.join(', ')}`;
}

/** STRACE=1|<prefix>: strace attached to this process (all its threads) for one phase. */
let straceSeq = 0;
async function straceStart(label: string): Promise<(() => Promise<string>) | undefined> {
  if (!process.env.STRACE) return undefined;
  const prefix = process.env.STRACE === '1' ? '/tmp/profile-remoting-strace' : process.env.STRACE;
  const file = `${prefix}.${label}.${++straceSeq}.txt`;
  const child = spawn('strace', ['-c', '-f', '-p', String(process.pid), '-o', file], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // strace says "Process <pid> attached" for every thread; the main thread's line comes first.
  await new Promise<void>((resolve) => {
    let seen = '';
    child.stderr.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('attached')) setTimeout(resolve, 200);
    });
  });
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await exited;
    return file;
  };
}

async function phase(label: string, n: number, measured: boolean, using?: Buffer): Promise<void> {
  const side = receiveSides[label];
  if (side === undefined) throw new Error(`no side "${label}"`);
  if (using !== undefined) {
    const measuredBody = body;
    body = using;
    try {
      return await phase(label, n, measured);
    } finally {
      body = measuredBody;
    }
  }
  const state = await side.prepare(n);
  if (measured) await session?.post('Profiler.start');
  if (measured && alloc !== undefined)
    await alloc.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  if (measured && process.env.MARK) console.log(`MARK start ${label} ${monotonicNs()}`);
  const straced = measured ? await straceStart(label) : undefined;
  if (measured) {
    wire.requests.clear();
    wire.writes = 0;
    wire.reads = 0;
    Object.assign(pulls, noPulls(), { maxInFlight: 0 });
    callgrind('-z');
  }
  const threads = threadCpu();
  const io = ioCounts();
  const emulatorCpu = childCpuUs();
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await side.drain(n, state);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const faulted = (process.resourceUsage().minorPageFault - faults) / n;
  const ioAfter = ioCounts();
  const emulatorAfter = childCpuUs();
  const emulatorMain = emulatorAfter.main - emulatorCpu.main;
  const emulatorOthers = emulatorAfter.others - emulatorCpu.others;
  const after = threadCpu();
  if (measured) callgrind('-d');
  const straceFile = straced === undefined ? undefined : await straced();
  if (measured && process.env.MARK) console.log(`MARK end ${label} ${monotonicNs()}`);
  if (!measured) return;
  const allocated = alloc === undefined ? '' : await allocationsPerMessage(n);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${profileTo}.${label}.${Date.now()}.cpuprofile`, JSON.stringify(profile));
  }
  const perMsg = (ns: number) => (ns / 1_000 / n).toFixed(2);
  const parts =
    label === 'sy' || label === 'driver'
      ? ` (open ${(split.open / 1_000).toFixed(1)} ms, run ${(split.run / n).toFixed(2)} µs/msg, close ${(split.close / 1_000).toFixed(1)} ms CPU${label === 'sy' ? `, ${split.closeWall.toFixed(1)} ms wall` : ''})`
      : '';
  const threadSplit =
    threads === undefined || after === undefined
      ? ''
      : ` [main ${perMsg(after.main - threads.main)}, others ${perMsg(after.others - threads.others)}]`;
  console.log(
    `${label.padEnd(8)} ${Math.round((n / ms) * 1_000)
      .toLocaleString('en')
      .padStart(
        8,
      )} msg/s  ${((used.user + used.system) / n).toFixed(2)} µs CPU/msg${threadSplit}, ${faulted.toFixed(1)} minor page faults/msg${parts}`,
  );
  console.log(
    `  user ${(used.user / n).toFixed(2)} µs, system ${(used.system / n).toFixed(2)} µs per msg; read syscalls ${((ioAfter.syscr - io.syscr) / n).toFixed(3)}, write syscalls ${((ioAfter.syscw - io.syscw) / n).toFixed(3)} per msg (/proc/self/io, all threads); emulator ${((emulatorMain + emulatorOthers) / n).toFixed(1)} µs CPU per msg [main ${(emulatorMain / n).toFixed(1)}, others ${(emulatorOthers / n).toFixed(1)}]`,
  );
  if (allocated) console.log(allocated);
  if (process.env.WIRE) console.log(wireLine(n));
  if (process.env.PULLS) console.log(pullLine(ms));
  if (straceFile !== undefined)
    console.log(`  strace: ${straceFile}\n${summary(readFileSync(straceFile, 'utf8'), n)}`);
  if (process.env.CALLGRIND) console.log(`  callgrind dump: ${label}`);
}

/**
 * The process's read and write syscalls so far (/proc/self/io: every thread, every fd): counts
 * socket reads whatever reads them, net's onread included, which WIRE=1 cannot see.
 */
/**
 * CPU of this process's children so far (the emulator, whose CPU the phases do not count), in µs
 * from each thread's schedstat (ns, unlike /proc/<pid>/stat's 10 ms ticks): its main thread, and
 * its other threads (V8's GC helpers and compiler).
 */
function childCpuUs(): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  for (const task of readdirSync('/proc/self/task')) {
    for (const pid of readFileSync(`/proc/self/task/${task}/children`, 'utf8').trim().split(/\s+/)) {
      if (pid === '') continue;
      try {
        for (const tid of readdirSync(`/proc/${pid}/task`)) {
          const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
          if (tid === pid) out.main += ns / 1_000;
          else out.others += ns / 1_000;
        }
      } catch {}
    }
  }
  return out;
}

function ioCounts(): { syscr: number; syscw: number } {
  const text = readFileSync('/proc/self/io', 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { syscr: field('syscr'), syscw: field('syscw') };
}

/** strace -c's table as calls per message, the busiest first. */
function summary(table: string, n: number): string {
  const rows = table
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && /^\d/.test(f[0] ?? '') && !/^-/.test(f[0] ?? ''))
    .map((f) => ({ calls: Number(f[3]), name: f[f.length - 1] ?? '' }))
    .filter((r) => r.name !== 'total' && Number.isFinite(r.calls))
    .sort((a, b) => b.calls - a.calls);
  return `  syscalls per msg: ${rows.map((r) => `${r.name} ${(r.calls / n).toFixed(3)}`).join(', ')}`;
}

try {
  // Warm-up: every side twice (JIT, connections), as bench/measure.ts alternate() does; WARM=n
  // rounds instead.
  const warm = Number(process.env.WARM ?? 2);
  // WARM_256=n: first n rounds of 10,000 × 256 B per side, as the bench's 256 B rows run before
  // its 64 KiB and 1 MiB rows in the same process (the code is warm from them there).
  for (let i = 0; i < Number(process.env.WARM_256 ?? 0); i++)
    for (const side of sides) await phase(side, 10_000, false, SMALL);
  for (let i = 0; i < warm; i++) for (const side of sides) await phase(side, count, false);
  for (let round = 0; round < rounds; round++) for (const side of sides) await phase(side, count, true);
} finally {
  raw.close();
  await driverInstance.close();
  await broker.close();
  await emulator.stop();
}
