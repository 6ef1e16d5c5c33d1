// RabbitMQ consume alone, for `node --cpu-prof` or paired CPU-per-message rounds: each round fills
// a queue with raw amqplib (confirm window, not measured), then drains it with the expert raw
// consumer (ack with `multiple` every PREFETCH / 2) or with Switchyard's run(), and prints the
// drain's rate and the process CPU per message. `both` alternates the two in one process; `raw` or
// `sy` runs one side alone; `driver` alternates raw with the rabbitmq driver's receiveBatch/ack
// without core (what the driver costs apart from core). With PROFILE=<file>, a CPU profile of the drains alone (not the fills)
// is written there (open it in Chrome DevTools); PROFILE_INTERVAL_US sets its sampling interval.
// `all` runs raw, driver and Switchyard in turn each round. `reader` alternates raw with the same
// raw consumer reading frames through the driver's frame reader (frame-reader.ts): its effect alone. `layers` needs no broker (see layers()).
// ALLOC=bytes (needs --expose-gc and a young generation that holds a whole drain, e.g.
// --max-semi-space-size=256 --min-semi-space-size=256) prints each drain's JS heap bytes allocated
// per message (heap growth from a collected heap, valid only when no GC ran during the drain, which
// it checks); ALLOC=sample samples the drains' allocations (collected objects included) by
// allocating function, as `layers` does with ALLOC=1 (ALLOC_CALLERS=n adds each site's n nearest callers).
// Each drain also prints its old-space growth per message (promoted or pretenured bytes).
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-rabbitmq-consume.ts \
//   both|raw|sy|sy-long|driver|all|reader|layers [count] [rounds] [bytes]

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import {
  type Consumer,
  connect,
  type Delivery,
  type DriverConsumer,
  registerDriver,
  silentLogger,
} from '@switchyard/core';
import { driver as rabbitDriver } from '@switchyard/rabbitmq';
import { benchConsumerOptions, concurrently, heapBytesPerMessage } from './measure.js';
import { benchQueue, drainRawExpert, fillRaw, runUntil } from './rabbitmq-drains.js';
import { threadCpu } from './thread-cpu.js';

const side = process.argv[2] ?? 'both';
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 3);
const bytes = Number(process.argv[5] ?? 256);
const PREFETCH = 200;

if (side === 'layers') {
  await layers();
  process.exit(0);
}

/**
 * `layers`: core's Consumer over a stub driver with no I/O, against the same stub drained the way
 * the `driver` side drains RabbitMQ (receiveBatch of up to the prefetch, one ack per batch). The
 * stub has RabbitMQ's capabilities and delivers as the rabbitmq driver does: a batch per "socket
 * read" (one setImmediate turn, LAYERS_READ deliveries, default 27 as measured at prefetch 200),
 * never more than the prefetch unacked; its deliveries are plain objects shaped like the rabbitmq
 * driver's, made when taken. The difference between the two sides is core's per-delivery path.
 */
async function layers(): Promise<void> {
  const perRead = Number(process.env.LAYERS_READ ?? 27);
  const body = randomBytes(bytes);
  const native = { fields: {}, properties: {}, content: body };
  let serial = 0;
  const stubConsumer = (prefetch: number): DriverConsumer => {
    let ready = 0;
    let unacked = 0;
    let arrival: (() => void) | undefined;
    const read = () => {
      const n = Math.min(perRead, prefetch - unacked - ready);
      ready += n;
      const wake = arrival;
      arrival = undefined;
      wake?.();
    };
    return {
      native: undefined,
      async receiveBatch(max: number): Promise<Delivery[]> {
        if (ready === 0) {
          await new Promise<void>((resolve) => {
            arrival = resolve;
            setImmediate(read);
          });
        }
        const n = Math.min(max, ready);
        const out: Delivery[] = [];
        for (let i = 0; i < n; i++) {
          const id = `m-${serial++}`;
          out.push({
            id,
            body,
            contentType: 'application/octet-stream',
            headers: {},
            key: undefined,
            tags: [],
            routingKey: undefined,
            orderingKey: undefined,
            deliveryAttempt: 1,
            publishedAt: undefined,
            native,
            handle: { tag: serial, settled: false },
          });
        }
        ready -= n;
        unacked += n;
        return out;
      },
      async ack(deliveries: readonly Delivery[]): Promise<void> {
        for (const d of deliveries) (d.handle as { settled: boolean }).settled = true;
        unacked -= deliveries.length;
      },
      async nack(): Promise<void> {},
      async close(): Promise<void> {},
    };
  };
  registerDriver({
    name: 'layers',
    schemes: ['layers'],
    defaultCapabilities: rabbitDriver.defaultCapabilities,
    fromUrl: () => ({}),
    parseConfig: () => ({}),
    create: async () => ({
      name: 'layers',
      capabilities: rabbitDriver.defaultCapabilities,
      native: undefined,
      openProducer: () => Promise.reject(new Error('layers: consume only')),
      openConsumer: async (_source, options) => stubConsumer(options.prefetch),
      close: async () => {},
    }),
  });
  const stubBroker = await connect('layers://stub');
  const viaCore = async (n: number) => {
    const consumer = await stubBroker.consumer('stub', { group: 'bench', prefetch: PREFETCH });
    await runUntil(consumer, n);
    await consumer.close();
  };
  const alone = async (n: number) => {
    const consumer = stubConsumer(PREFETCH);
    for (let seen = 0; seen < n; ) {
      const batch = await consumer.receiveBatch(PREFETCH, 1_000);
      seen += batch.length;
      await consumer.ack(batch);
    }
  };
  const cpuOf = async (drain: (n: number) => Promise<void>) => {
    const before = process.cpuUsage();
    await drain(count);
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  await viaCore(count);
  await alone(count);
  if (process.env.ALLOC !== undefined) {
    // Bytes allocated per message, collected objects included (heap sampling), by allocating function.
    await sampleAllocations('stub alone', () => alone(count));
    await sampleAllocations("through core's Consumer", () => viaCore(count));
    return;
  }
  for (let round = 0; round < rounds; round++) {
    const a = await cpuOf(alone);
    const c = await cpuOf(viaCore);
    console.log(
      `layers: stub alone ${a.toFixed(3)} µs, through core's Consumer ${c.toFixed(3)} µs CPU/msg: core ${(c - a).toFixed(3)} µs per delivery`,
    );
  }
  await stubBroker.close();
}

/** Samples what `drain` allocates (collected objects included) and prints it per message, by function. */
async function sampleAllocations(label: string, drain: () => Promise<void>): Promise<void> {
  const heap = new Session();
  heap.connect();
  await heap.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await drain();
  const { profile } = await heap.post('HeapProfiler.stopSampling');
  heap.disconnect();
  const by = new Map<string, number>();
  let total = 0;
  // ALLOC_CALLERS=n: each site with its n nearest callers (which `push` or `Promise` it is).
  const callers = Number(process.env.ALLOC_CALLERS ?? 0);
  const frame = (f: typeof profile.head.callFrame) =>
    `${f.functionName || '(anon)'} ${f.url.split('/').slice(-3).join('/')}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
  const walk = (node: typeof profile.head, stack: string[]) => {
    const here = frame(node.callFrame);
    const size = node.selfSize;
    if (size > 0) {
      const where = callers > 0 ? [here, ...stack.slice(-callers).reverse()].join(' <- ') : here;
      by.set(where, (by.get(where) ?? 0) + size);
      total += size;
    }
    stack.push(here);
    for (const child of node.children) walk(child, stack);
    stack.pop();
  };
  walk(profile.head, []);
  console.log(`${label}: ${(total / count).toFixed(0)} B allocated per message`);
  for (const [where, size] of [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.ALLOC_TOP ?? 14)))
    console.log(`  ${(size / count).toFixed(1).padStart(7)} B  ${where}`);
}

const url = 'amqp://guest:guest@127.0.0.1:5672';
const name = `prof-consume-${randomBytes(3).toString('hex')}`;
const bench = await benchQueue(url, name);
const { queue } = bench;
const body = randomBytes(bytes);

/**
 * FILL=sy publishes with Switchyard's Producer (1,000 concurrent send() calls) as the bench's
 * Switchyard side does right before its consume phase, instead of raw amqplib: what that publish
 * leaves for the consume phase to pay (its garbage) shows in the drain's CPU.
 */
async function fill(n: number): Promise<void> {
  if (process.env.FILL === 'sy') {
    const producer = await broker.producer(name);
    await concurrently(n, 1_000, () => producer.send({ body }));
    await producer.close();
    return;
  }
  await fillRaw(bench.setup, name, body, n);
}

const raw = (n: number, wholeFrames = false) => drainRawExpert(url, queue, n, PREFETCH, wholeFrames);

/** CPU µs of the last drain's phases (open, run, close), for sides that split them. */
const phases: { open: number; run: number; close: number; receives: number } = {
  open: 0,
  run: 0,
  close: 0,
  receives: 0,
};
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

const broker = await connect(url);
async function sy(n: number): Promise<void> {
  const t0 = cpuNow();
  const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  const t1 = cpuNow();
  await runUntil(consumer, n);
  const t2 = cpuNow();
  await consumer.close();
  Object.assign(phases, { open: t1 - t0, run: t2 - t1, close: cpuNow() - t2, receives: 0 });
}

// The driver alone, without core's Consumer: receiveBatch as core's pump calls it (room = prefetch
// minus what is held), one ack() per batch like core's AckBatcher per loop turn. What the driver
// costs apart from core (Message, lease, attempt tracking, handler dispatch).
const driverInstance = await rabbitDriver.create(rabbitDriver.fromUrl(new URL(url)), {
  logger: silentLogger,
  status: () => {},
});
async function drv(n: number): Promise<void> {
  const t0 = cpuNow();
  const consumer = await driverInstance.openConsumer(name, benchConsumerOptions(PREFETCH));
  const t1 = cpuNow();
  // As drainWithDriver (bench/rabbitmq.ts) drains, with the phases timed.
  let receives = 0;
  for (let seen = 0; seen < n; receives++) {
    const batch = await consumer.receiveBatch(PREFETCH, 1_000);
    seen += batch.length;
    await consumer.ack(batch);
  }
  const t2 = cpuNow();
  await consumer.close();
  Object.assign(phases, { open: t1 - t0, run: t2 - t1, close: cpuNow() - t2, receives });
}

const profileTo = process.env.PROFILE;
const session = profileTo === undefined ? undefined : new Session();
session?.connect();
await session?.post('Profiler.enable');
// PROFILE_INTERVAL_US: finer sampling than the default 1 ms for short drains.
await session?.post('Profiler.setSamplingInterval', {
  interval: Number(process.env.PROFILE_INTERVAL_US ?? 1_000),
});

const alloc = process.env.ALLOC;

async function measured(label: string, drain: (n: number) => Promise<void>): Promise<void> {
  await fill(count);
  await new Promise((r) => setTimeout(r, 200));
  if (alloc === 'bytes') {
    console.log(`${label}: ${await heapBytesPerMessage(count, () => drain(count))}`);
    return;
  }
  if (alloc === 'sample') {
    await sampleAllocations(label, () => drain(count));
    return;
  }
  await session?.post('Profiler.start');
  const g = globalThis as { __writes?: number; __reads?: number };
  const writes = g.__writes ?? 0;
  const reads = g.__reads ?? 0;
  const threads = threadCpu();
  const faults = process.resourceUsage().minorPageFault;
  const old = oldSpaceUsed();
  // Mark-compacts during the drain (at 64 KiB and up started by the bodies' external memory).
  let majors = 0;
  const gcs = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if ((entry as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR)
        majors++;
  });
  gcs.observe({ entryTypes: ['gc'] });
  const cpu = process.cpuUsage();
  const started = performance.now();
  await drain(count);
  const threadsAfter = threadCpu();
  // Minor page faults: fresh memory touched (≈ 11 µs per 4 KB page on the session-11 host).
  const faulted = (process.resourceUsage().minorPageFault - faults) / count;
  // Old-space growth: what scavenges promoted (and what was pretenured) during the drain; only
  // meaningful when no mark-compact ran in it, which the count beside it says.
  const promoted = (oldSpaceUsed() - old) / count;
  // GC entries are delivered asynchronously: let them in before reading the count.
  await new Promise((r) => setImmediate(r));
  gcs.disconnect();
  // With --import of a preload that counts socket writes and reads in globalThis.__writes and
  // __reads (bench scratch: wraps net.Socket's _writeGeneric and push).
  if (g.__writes !== undefined)
    console.log(`  ${label}: ${g.__writes - writes} socket writes, ${(g.__reads ?? 0) - reads} socket reads`);
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(
      `${profileTo}.${label.replace(/\W+/g, '-')}.${Date.now()}.cpuprofile`,
      JSON.stringify(profile),
    );
  }
  const split =
    label === 'switchyard' || label === 'driver alone'
      ? ` (open ${(phases.open / 1_000).toFixed(1)} ms, run ${(phases.run / count).toFixed(2)} µs/msg, close ${(phases.close / 1_000).toFixed(1)} ms CPU${phases.receives > 0 ? `, ${(count / phases.receives).toFixed(1)} deliveries per receive` : ''})`
      : '';
  const perThread =
    threads === undefined || threadsAfter === undefined
      ? ''
      : ` [main thread ${((threadsAfter.main - threads.main) / 1_000 / count).toFixed(2)}, other threads ${((threadsAfter.others - threads.others) / 1_000 / count).toFixed(2)} µs/msg]`;
  console.log(
    `${label}: ${Math.round(count / seconds).toLocaleString('en')} msg/s, ${((used.user + used.system) / count).toFixed(2)} µs CPU/msg, ${faulted.toFixed(1)} page faults/msg, old space +${promoted.toFixed(0)} B/msg, ${majors} mark-compacts${split}${perThread}`,
  );
}

/** Bytes used in V8's old space (promoted or pretenured objects; large objects are apart). */
function oldSpaceUsed(): number {
  for (const space of getHeapSpaceStatistics())
    if (space.space_name === 'old_space') return space.space_used_size;
  return 0;
}

/**
 * `sy-long`: one Consumer and one run() for the whole process, paused while a round fills and
 * resumed for its drain: what a long-lived consumer pays per message, against `sy`, which opens a
 * consumer and starts run() per drain as the bench does (each new run() and consumer re-optimizes
 * part of the hot path: see the profile notes).
 */
const long = {
  handled: 0,
  want: 0,
  wake: undefined as (() => void) | undefined,
  stop: new AbortController(),
};
let longConsumer: Consumer | undefined;
let longRun: Promise<void> | undefined;
async function syLong(n: number): Promise<void> {
  longConsumer ??= await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  long.want = long.handled + n;
  const drained = new Promise<void>((resolve) => {
    long.wake = resolve;
  });
  longConsumer.resume();
  longRun ??= longConsumer.run(
    () => {
      if (++long.handled === long.want) long.wake?.();
    },
    { signal: long.stop.signal },
  );
  await drained;
  longConsumer.pause();
}

// Warm-up (JIT, connections); every drain takes exactly what was filled, so no round leaves
// messages behind to come back redelivered in the next.
if (side !== 'sy' && side !== 'sy-long') {
  await fill(1_000);
  await raw(1_000);
}
if (side === 'both' || side === 'sy') {
  await fill(1_000);
  await sy(1_000);
}
if (side === 'driver' || side === 'all') {
  await fill(1_000);
  await drv(1_000);
}
if (side === 'all') {
  await fill(1_000);
  await sy(1_000);
}
if (side === 'sy-long') {
  await fill(1_000);
  await syLong(1_000);
}
for (let round = 0; round < rounds; round++) {
  if (side === 'sy-long') {
    await measured('switchyard, one long-lived run()', syLong);
    continue;
  }
  if (side !== 'sy') await measured('raw expert', raw);
  if (side === 'reader') await measured("raw expert, driver's frame reader", (n) => raw(n, true));
  if (side === 'driver' || side === 'all') await measured('driver alone', drv);
  if (side === 'both' || side === 'sy' || side === 'all') await measured('switchyard', sy);
}
long.stop.abort();
await longRun;
await longConsumer?.close();
await broker.close();
await driverInstance.close();
await bench.drop();
