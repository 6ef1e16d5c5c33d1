// CMQ 256 B as the bench runs it (bench/cmq.ts: the same four sides in the same balanced order,
// 12,000 messages a phase), with every phase split on the emulator's side, so a round's ratio can
// be placed: the emulator child's main-thread CPU, its other threads' (V8's GC helpers), its
// main thread's run-queue wait (runnable, no core free) and its idle time (the rest of the phase:
// waiting for the client), each per message, from /proc/<pid>/task/*/schedstat; its preemptions
// and read/write syscalls (/proc/<pid>/io: one read and one write per request when a request
// arrives in one segment); its open sockets; and the client's CPU and run-queue wait.
// The emulator is one event loop, busy ≈ 90 % of a quiet phase, so a phase lasts its main-thread
// time plus its wait plus its idle time (docs/bench-profiles.md 27, helper "cmq").
//   npx tsx --conditions=switchyard-source bench/profile-cmq-emulator.ts
// COUNT, ROUNDS, WARM (whole warm rounds, default 3 as the bench's 1 + 2), SIDES (comma-separated
// of expert,beforeHandling,sy,naive).
// WIRE=1: undici's diagnostics channels count, per phase, requests, body bytes per request,
// connections opened and the distinct request header blocks (both clients use undici).
// EMULATOR_ARGS="--trace-gc": node flags for the emulator child; each phase is then framed by
// `@@begin R<n> <phase>` / `@@end` lines on the same stdout, so its GC lines fall inside.
// CALLGRIND=<dir>: the emulator child runs under `valgrind --tool=callgrind` (its JIT named by
// --perf-basic-prof), its counters zeroed as each phase starts and dumped as it ends, warm-up
// phases included: dump k is the k-th phase this prints (or would print, while warming).
// DELETE_QUEUES=1: each side deletes its queue after its last phase (unmeasured).

import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { chmodSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '@switchyard/core';
import { expertCmq, plainCmq } from './cmq-raw.js';
import { TS_CHILD_ARGV } from './emulator-process.js';
import { concurrently, drainWithRun, measure, textBody } from './measure.js';
import { roundOrder } from './round-order.js';

const env = process.env;
const COUNT = Number(env.COUNT ?? 12_000);
const NAIVE = 300;
const ROUNDS = Number(env.ROUNDS ?? 8);
const WARM = Number(env.WARM ?? 3);
const SIDES = (env.SIDES ?? 'expert,beforeHandling,sy,naive').split(',');
const VG = env.CALLGRIND;
const MARKS = env.EMULATOR_ARGS !== undefined;

/** The emulator child as emulator-process.ts starts it, with extra node flags or under callgrind. */
async function startEmulator(): Promise<{ child: ChildProcess; endpoint: string; id: string; key: string }> {
  let execPath = process.execPath;
  if (VG !== undefined) {
    mkdirSync(VG, { recursive: true });
    execPath = `${VG}/node-callgrind.sh`;
    const out = `--callgrind-out-file=${VG}/cg.%p`;
    writeFileSync(
      execPath,
      `#!/bin/sh\nexec valgrind --tool=callgrind --dump-instr=no ${out} ${process.execPath} --perf-basic-prof "$@"\n`,
    );
    chmodSync(execPath, 0o755);
  }
  const child = fork(
    fileURLToPath(new URL('./emulator.child.ts', import.meta.url)),
    [JSON.stringify({ cmq: { recreateGuardSeconds: 0 } })],
    {
      execPath,
      execArgv: [...(env.EMULATOR_ARGS ?? '').split(' ').filter(Boolean), ...TS_CHILD_ARGV],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const started = await new Promise<{
    endpoints: { cmq: string };
    credentials: Array<{ secretId: string; secretKey: string }>;
  }>((resolve) => child.once('message', resolve as (m: unknown) => void));
  const { secretId, secretKey } = started.credentials[0]!;
  return { child, endpoint: started.endpoints.cmq, id: secretId, key: secretKey };
}

interface Sched {
  /** ns on CPU: the main thread, every other thread; ns runnable but waiting (main thread). */
  main: number;
  others: number;
  wait: number;
  preempted: number;
  syscr: number;
  syscw: number;
  sockets: number;
}

function sched(pid: number): Sched {
  const s: Sched = { main: 0, others: 0, wait: 0, preempted: 0, syscr: 0, syscw: 0, sockets: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
    if (Number(tid) === pid) {
      s.main += run!;
      s.wait += wait!;
    } else s.others += run!;
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    s.preempted += Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  }
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  s.syscr = Number(/syscr: (\d+)/.exec(io)?.[1]);
  s.syscw = Number(/syscw: (\d+)/.exec(io)?.[1]);
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) s.sockets++;
    } catch {
      // closed between the listing and the read
    }
  }
  return s;
}

const wire = { requests: 0, bodyBytes: 0, connects: 0, headers: new Map<string, number>() };
if (env.WIRE === '1') {
  subscribe('undici:request:create', (m) => {
    const body = (m as { request: { body: unknown } }).request.body;
    wire.requests++;
    wire.bodyBytes +=
      typeof body === 'string' ? Buffer.byteLength(body) : ((body as Uint8Array | null)?.byteLength ?? 0);
  });
  subscribe('undici:client:connected', () => {
    wire.connects++;
  });
  subscribe('undici:client:sendHeaders', (m) => {
    const block = (m as { headers: string }).headers;
    wire.headers.set(block, (wire.headers.get(block) ?? 0) + 1);
  });
}

const emulator = await startEmulator();
const pid = emulator.child.pid!;
const callgrind = (op: '-z' | '-d') => {
  if (VG !== undefined) execFileSync('callgrind_control', [op, String(pid)], { stdio: 'ignore' });
};
const host = new URL(emulator.endpoint).host;
const broker = await connect(
  `cmq+http://${emulator.id}:${encodeURIComponent(emulator.key)}@${host}?region=ap-guangzhou&maxConnections=16&maxMessageBytes=1048576`,
);
const expert = expertCmq(emulator.endpoint, emulator.id, emulator.key, 16);
const plain = plainCmq(emulator.endpoint, emulator.id, emulator.key);
const body = textBody(256);
const bodies = Array.from({ length: COUNT }, () => body);
let round = -1;

async function phase(label: string, count: number, work: () => Promise<unknown>): Promise<void> {
  const e0 = sched(pid);
  const c0 = sched(process.pid);
  const w0 = { ...wire };
  wire.headers.clear();
  if (MARKS) console.log(`@@begin R${round} ${label}`);
  callgrind('-z');
  const p = await measure(count, work);
  callgrind('-d');
  if (MARKS) console.log(`@@end R${round} ${label}`);
  const e1 = sched(pid);
  const c1 = sched(process.pid);
  if (round < 0) return;
  const per = (ns: number) => (ns / 1000 / count).toFixed(2);
  const idle = p.ms * 1e6 - (e1.main - e0.main) - (e1.wait - e0.wait);
  const requests = wire.requests - w0.requests;
  console.log(
    `R${round} ${label.padEnd(8)} ms ${p.ms.toFixed(0).padStart(5)}` +
      ` | emulator µs/msg main ${per(e1.main - e0.main)} others ${per(e1.others - e0.others)}` +
      ` wait ${per(e1.wait - e0.wait)} idle ${per(idle)} preempted ${e1.preempted - e0.preempted}` +
      ` syscr ${e1.syscr - e0.syscr} syscw ${e1.syscw - e0.syscw} sockets ${e1.sockets}` +
      ` | client µs/msg cpu ${(p.cpuUs / count).toFixed(2)} wait ${per(c1.wait - c0.wait)}` +
      ` syscr ${c1.syscr - c0.syscr} syscw ${c1.syscw - c0.syscw}` +
      (env.WIRE === '1'
        ? ` | requests ${requests} body B/request ${((wire.bodyBytes - w0.bodyBytes) / requests).toFixed(1)}` +
          ` connects ${wire.connects - w0.connects} header blocks ${wire.headers.size}`
        : ''),
  );
}

let queues = 0;
const queue = () => expert.createQueue(`emu-${++queues}`);
const done = async (name: string) => {
  if (env.DELETE_QUEUES === '1') await expert.deleteQueue(name);
};
const noop = () => {};
const sides: Record<string, () => Promise<void>> = {
  expert: async () => {
    const q = await queue();
    await phase('expert.s', COUNT, () => expert.send(q, bodies));
    await phase('expert.r', COUNT, () => expert.receiveHandleDelete(q, COUNT, 4, noop));
    await done(q);
  },
  beforeHandling: async () => {
    const q = await queue();
    await expert.send(q, bodies);
    await phase('bh.r', COUNT, () => expert.receiveDelete(q, COUNT, 4));
    await done(q);
  },
  sy: async () => {
    const q = await queue();
    const producer = await broker.producer(q, { maxInFlight: 16 });
    await phase('sy.s', COUNT, () => concurrently(COUNT, 1_000, () => producer.send(body)));
    await producer.close();
    const consumer = await broker.consumer(q, { prefetch: 512, concurrency: 64 });
    await phase('sy.r', COUNT, () => drainWithRun(consumer, COUNT));
    await done(q);
  },
  naive: async () => {
    const q = await queue();
    await phase('naive.s', NAIVE, () => plain.send(q, bodies.slice(0, NAIVE)));
    await phase('naive.r', NAIVE, () => plain.receiveDelete(q, NAIVE));
    await done(q);
  },
};

console.log(`emulator pid ${pid}`);
for (let w = 0; w < WARM; w++) for (const side of SIDES) await sides[side]!();
for (round = 0; round < ROUNDS; round++) for (const side of roundOrder(SIDES, round)) await sides[side]!();
await broker.close();
await expert.close();
plain.close();
const exited = new Promise((resolve) => emulator.child.once('exit', resolve));
emulator.child.send({ op: 'stop' });
await exited;
