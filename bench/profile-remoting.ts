// RocketMQ 4.x Remoting alone, for paired CPU-per-message rounds or `--cpu-prof`: the emulator in a
// child process (its CPU is not counted), and in this process the bench's sides
// (bench/rocketmq-remoting.ts) round after round, each on a fresh topic filled with raw sends (not
// measured):
//   raw     the expert raw receive: PULL_MESSAGE of 32, one offset commit per pull
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
//   node --import tsx --conditions=switchyard-source bench/profile-remoting.ts \
//     raw,driver,sy [count] [rounds] [bytes]

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { type Consumer, connect, type DriverConsumer, silentLogger } from '@switchyard/core';
import { driver as rocketmq } from '@switchyard/rocketmq';
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
const body = Buffer.alloc(bytes, 'x');

let topicSeq = 0;
/**
 * A fresh topic holding `n` messages, sent as the bench's side that consumes them sends them: raw
 * SEND_MESSAGE_V2 for the raw side, Switchyard's producer for the others (its messages carry the
 * content-type property, so a receiver infers nothing). FILL=raw fills every side the raw way.
 */
async function filledTopic(n: number, by: 'raw' | 'sy'): Promise<string> {
  const name = `profile-remoting-${process.pid}-${++topicSeq}`;
  await emulator.rocketmqTopic(name);
  if (by === 'raw' || process.env.FILL === 'raw') await concurrently(n, 64, () => raw.send(name, body));
  else {
    const producer = await broker.producer(name);
    await concurrently(n, 1_000, () => producer.send({ body }));
    await producer.close();
  }
  return name;
}

async function freshTopic(): Promise<string> {
  const name = `profile-remoting-${process.pid}-${++topicSeq}`;
  await emulator.rocketmqTopic(name);
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
    drain: (n, t) => drainRaw(raw, t as string, n, 32),
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

async function phase(label: string, n: number, measured: boolean): Promise<void> {
  const side = receiveSides[label];
  if (side === undefined) throw new Error(`no side "${label}"`);
  const state = await side.prepare(n);
  await new Promise((r) => setTimeout(r, 100));
  if (measured) await session?.post('Profiler.start');
  if (measured && alloc !== undefined)
    await alloc.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  if (measured && process.env.MARK) console.log(`MARK start ${label} ${monotonicNs()}`);
  const threads = threadCpu();
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await side.drain(n, state);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const faulted = (process.resourceUsage().minorPageFault - faults) / n;
  const after = threadCpu();
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
  if (allocated) console.log(allocated);
}

try {
  // Warm-up: every side twice (JIT, connections), as bench/measure.ts alternate() does; WARM=n
  // rounds instead.
  const warm = Number(process.env.WARM ?? 2);
  for (let i = 0; i < warm; i++) for (const side of sides) await phase(side, count, false);
  for (let round = 0; round < rounds; round++) for (const side of sides) await phase(side, count, true);
} finally {
  raw.close();
  await driverInstance.close();
  await broker.close();
  await emulator.stop();
}
