// RabbitMQ publish alone, for all-thread profiles (`perf record`, `node --prof`), `strace -c -f`
// and paired CPU-per-message rounds. Each round publishes `count` messages with confirms to a queue
// bound to a topic exchange (purged after each round, not measured), with:
//   raw     the expert raw publisher of bench/rabbitmq.ts: a ConfirmChannel, at most 1,000
//           outstanding confirms, one shared callback; the same properties the driver writes
//   driver  the rabbitmq driver's sendBatch alone (no core Producer), 4 batches in flight, as
//           bench/rabbitmq.ts's driver-alone row does
//   sy      1,000 concurrent producer.send() calls through core
//   driver250  sendBatch alone in batches of 250, 4 in flight, refilled as each ends
//   sya     the same messages as 4 concurrent producer.send(array of 250) calls through core
//   before     RABBITMQ_DRIVER_BEFORE's driver alone, as `driver` (a change against its base)
// `both` alternates raw and driver in one process (paired rounds), as does a comma list such as
// `raw,sy`; one side alone makes one process's profile or syscall count that side's. Prints rate
// and process CPU (user, system; main thread and the others) per message of the publish phase
// alone. Run from dist (plain `node --import tsx`, no --conditions=switchyard-source) to measure
// what the bench measures. WARMUP (messages per side, default 2,000) and PHASES (prints each
// phase's CLOCK_MONOTONIC span, to cut a `perf record -k CLOCK_MONOTONIC` to the phases) are
// described where they are read. ALLOC=bytes (needs --expose-gc and a young generation that holds
// a round, e.g. --min-semi-space-size=128 --max-semi-space-size=128) prints each round's JS heap
// bytes allocated per message instead of its CPU (heap growth from a collected heap; a round during
// which a GC ran prints no figure); ALLOC=sample prints the bytes per message by allocating function
// (sampled, collected objects included; ALLOC_TOP=n sites, ALLOC_CALLERS=n nearest callers each).
// COPIES=1 prints each round's bytes per message through Buffer.alloc/allocUnsafe/concat/from and
// Buffer#copy (amqplib's frame encoding and any copy of a body: a body copied once more shows as
// its size again).
// CALLGRIND=1, under `valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.%p`: callgrind's
// counters are zeroed as each measured phase starts and dumped as it ends (callgrind_control), so
// each dump after the first (the start-up) holds one phase's instructions, all threads; each phase
// prints its label in dump order (instructions per message are repeatable where CPU time is not).
//   node --import tsx bench/profile-rabbitmq-publish.ts both|raw|driver|sy|raw,sy|... [count] [rounds] [bytes]

import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { connect, type Outgoing, registerDriver, silentLogger } from '@switchyard/core';
import type { DriverModule } from '@switchyard/core/driver';
import { driver as builtDriver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { callgrind } from './callgrind.js';
import { concurrently, heapBytesPerMessage } from './measure.js';
import { declare, driverMessages, publishWindowed, sendInFourBatches } from './rabbitmq.js';

const side = process.argv[2] ?? 'both';
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 3);
const bytes = Number(process.argv[5] ?? 256);
const url = 'amqp://guest:guest@127.0.0.1:5672';
const name = `prof-publish-${randomBytes(3).toString('hex')}`;
const topology = await declare(url, name);
const body = randomBytes(bytes);

const connection = await amqp.connect(url, { noDelay: true });
const channel = await connection.createConfirmChannel();
const raw = (n: number) => publishWindowed(channel, name, body, n);

// RABBITMQ_DRIVER=<path of another build's dist/index.js>: that build instead (before/after runs);
// registered, so core's connect() takes it too.
const rabbitDriver: DriverModule =
  process.env.RABBITMQ_DRIVER === undefined
    ? builtDriver
    : ((await import(pathToFileURL(process.env.RABBITMQ_DRIVER).href)) as { driver: DriverModule }).driver;
// BATCHES=1: count the sendBatch calls core's Producer makes (and their sizes), per round.
const batchStats = { calls: 0, messages: 0 };
registerDriver(process.env.BATCHES === undefined ? rabbitDriver : counting(rabbitDriver));
function counting(module: DriverModule): DriverModule {
  return {
    ...module,
    async create(...args) {
      const made = await module.create(...args);
      const open = made.openProducer.bind(made);
      made.openProducer = async (...opened) => {
        const driverProducer = await open(...opened);
        const sendBatch = driverProducer.sendBatch.bind(driverProducer);
        driverProducer.sendBatch = (messages, ...rest) => {
          if (batchStats.calls === 0 && process.env.BATCHES === 'show') console.log(messages[0]);
          batchStats.calls++;
          batchStats.messages += messages.length;
          return sendBatch(messages, ...rest);
        };
        return driverProducer;
      };
      return made;
    },
  };
}
const instance = await rabbitDriver.create(rabbitDriver.fromUrl(new URL(url)), {
  logger: silentLogger,
  status: () => {},
});
const producer = await instance.openProducer(name, { driverOptions: {} });
// RABBITMQ_DRIVER_BEFORE=<another build's dist/index.js>: side `before` is that build's driver alone
// (sendInFourBatches, as `driver`), so a change and its base are paired in one process's rounds.
const beforeDriver =
  process.env.RABBITMQ_DRIVER_BEFORE === undefined
    ? undefined
    : ((await import(pathToFileURL(process.env.RABBITMQ_DRIVER_BEFORE).href)) as { driver: DriverModule })
        .driver;
const beforeInstance = await beforeDriver?.create(beforeDriver.fromUrl(new URL(url)), {
  logger: silentLogger,
  status: () => {},
});
const beforeProducer = await beforeInstance?.openProducer(name, { driverOptions: {} });
function drvBefore(n: number): Promise<void> {
  const messages = built.get(n) ?? driverMessages(body, n);
  built.set(n, messages);
  return sendInFourBatches(beforeProducer!, messages);
}
// Building messages is core's work: made once per count, outside the measured rounds.
const built = new Map<number, Outgoing[]>();
function drv(n: number): Promise<void> {
  const messages = built.get(n) ?? driverMessages(body, n);
  built.set(n, messages);
  return sendInFourBatches(producer, messages);
}

// The driver alone in batches of 250, 4 in flight, each refilled as one ends (the batch sizes core's
// Producer hands it in the sy row, against sendInFourBatches' 4 × count/4 written in one go).
async function drvWindowed(n: number): Promise<void> {
  const messages = built.get(n) ?? driverMessages(body, n);
  built.set(n, messages);
  let next = 0;
  await concurrently(Math.ceil(n / 250), 4, async () => {
    const from = next;
    next += 250;
    await producer.sendBatch(messages.slice(from, from + 250));
  });
}

const broker = side.includes('sy') ? await connect(url) : undefined;
const syProducer = await broker?.producer(name);
async function sy(n: number): Promise<void> {
  await concurrently(n, 1_000, () => syProducer!.send({ body }));
}
// The same messages as arrays: 4 concurrent callers, each sending 250 at a time (one send() call,
// one promise, one SendGroup per 250 messages), to separate per-send() cost from per-message cost.
const arrays = new Map<number, Array<{ body: Buffer }>>();
async function syArrays(n: number): Promise<void> {
  const size = 250;
  const array = arrays.get(size) ?? Array.from({ length: size }, () => ({ body }));
  arrays.set(size, array);
  await concurrently(Math.ceil(n / size), 4, () => syProducer!.send(array));
}

/**
 * User + system CPU of each of this process's threads, in µs (Linux /proc, 10 ms ticks: sum it
 * over long phases). The main thread is the one whose id is the pid; the others are V8's platform
 * workers (concurrent marking, parallel scavenge, compilers), libuv's pool and loader threads.
 */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10_000);
    } catch {
      // The thread ended meanwhile.
    }
  }
  return out;
}

async function measured(label: string, publish: (n: number) => Promise<void>): Promise<void> {
  await topology.setup.purgeQueue(`${name}.bench`);
  await new Promise((r) => setTimeout(r, 200));
  if (process.env.ALLOC === 'bytes')
    return console.log(`${label}: ${await heapBytesPerMessage(count, () => publish(count))}`);
  if (process.env.ALLOC === 'sample') return console.log(`${label}: ${await sampled(publish)}`);
  batchStats.calls = batchStats.messages = 0;
  if (process.env.COPIES !== undefined) {
    const before = { ...copied };
    await publish(count);
    const per = (k: keyof typeof copied) => ((copied[k] - before[k]) / count).toFixed(0);
    return console.log(
      `${label}: per message ${per('allocated')} B allocated in Buffers (${per('allocations')} allocations), ${per('copied')} B copied by Buffer#copy, ${per('concatenated')} B by Buffer.concat or Buffer.from`,
    );
  }
  if (process.env.CALLGRIND !== undefined) {
    callgrind('-z');
    await publish(count);
    callgrind('-d');
    return console.log(`callgrind dump: ${label}`);
  }
  const threads = threadCpu();
  const faults = process.resourceUsage().minorPageFault;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const from = process.hrtime.bigint();
  await publish(count);
  // CLOCK_MONOTONIC ns: `perf record -k CLOCK_MONOTONIC` samples can be cut to the phases.
  if (process.env.PHASES !== undefined) console.log(`phase ${label} ${from} ${process.hrtime.bigint()}`);
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  // Minor page faults: fresh memory touched (≈ 11 µs per 4 KB page on the session-11 host).
  const faulted = (process.resourceUsage().minorPageFault - faults) / count;
  let main = 0;
  let others = 0;
  for (const [tid, us] of threadCpu()) {
    const delta = us - (threads.get(tid) ?? 0);
    if (tid === String(process.pid)) main += delta;
    else others += delta;
  }
  console.log(
    `${label}: ${Math.round(count / seconds).toLocaleString('en')} msg/s, ${((used.user + used.system) / count).toFixed(2)} µs CPU/msg (user ${(used.user / count).toFixed(2)}, system ${(used.system / count).toFixed(2)}; main thread ${(main / count).toFixed(2)}, other threads ${(others / count).toFixed(2)}), ${faulted.toFixed(1)} page faults/msg`,
  );
  if (process.env.BATCHES !== undefined) {
    console.log(
      `${label}: ${batchStats.calls} sendBatch calls, ${(batchStats.messages / Math.max(1, batchStats.calls)).toFixed(1)} messages each`,
    );
  }
}

/** COPIES=1: bytes through Buffer's allocators and copies since the start (see countCopies). */
const copied = { allocated: 0, allocations: 0, copied: 0, concatenated: 0 };
if (process.env.COPIES !== undefined) countCopies();
function countCopies(): void {
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
    const original = Buffer[name] as (size: number, ...rest: unknown[]) => Buffer;
    (Buffer as unknown as Record<string, unknown>)[name] = (size: number, ...rest: unknown[]) => {
      copied.allocated += size;
      copied.allocations++;
      return original.call(Buffer, size, ...rest);
    };
  }
  const concat = Buffer.concat;
  Buffer.concat = (list, total) => {
    const out = concat.call(Buffer, list, total);
    copied.concatenated += out.length;
    return out;
  };
  const from = Buffer.from as (...args: unknown[]) => Buffer;
  (Buffer as unknown as Record<string, unknown>).from = (...args: unknown[]) => {
    const out = from.apply(Buffer, args);
    // Buffer.from(arrayBuffer, offset, length) is a view; everything else copies.
    if (!(args[0] instanceof ArrayBuffer)) copied.concatenated += out.length;
    return out;
  };
  const copy = Buffer.prototype.copy;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = copy.apply(this, args);
    copied.copied += n;
    return n;
  };
}

/** ALLOC=sample: sampled allocations of one round (collected objects included), per message, by site. */
async function sampled(publish: (n: number) => Promise<void>): Promise<string> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  await publish(count);
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  const callers = Number(process.env.ALLOC_CALLERS ?? 0);
  const sites = new Map<string, number>();
  let total = 0;
  type Node = typeof profile.head;
  const where = ({ callFrame: f }: Node) =>
    `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const visit = (node: Node, path: string[]) => {
    const site = where(node);
    if (node.selfSize > 0) {
      const key = [site, ...path.slice(path.length - callers).reverse()].join(' <- ');
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    path.push(site);
    for (const child of node.children) visit(child, path);
    path.pop();
  };
  visit(profile.head, []);
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.ALLOC_TOP ?? 16));
  return [
    `${(total / count).toFixed(0)} B/msg sampled`,
    ...top.map(([site, size]) => `  ${(size / count).toFixed(1).padStart(7)} B  ${site}`),
  ].join('\n');
}

const chosen = new Set((side === 'both' ? 'raw,driver' : side).split(','));
const sides: Array<[string, (n: number) => Promise<void>]> = [];
if (chosen.has('raw')) sides.push(['raw expert', raw]);
if (chosen.has('driver')) sides.push(['driver alone', drv]);
if (chosen.has('before')) sides.push(['driver alone, RABBITMQ_DRIVER_BEFORE', drvBefore]);
if (chosen.has('driver250')) sides.push(['driver alone, 250 per batch', drvWindowed]);
if (chosen.has('sy')) sides.push(['switchyard', sy]);
if (chosen.has('sya')) sides.push(['switchyard arrays', syArrays]);
// Warm-up: JIT and connections, not counted. WARMUP (messages per side, default 2,000): the
// driver's path takes tens of thousands of messages before TurboFan is done with it.
const warmup = Number(process.env.WARMUP ?? 2_000);
for (const [, publish] of sides)
  for (let left = warmup; left > 0; left -= count) await publish(Math.min(count, left));
for (let round = 0; round < rounds; round++) {
  for (const [label, publish] of round % 2 === 0 ? sides : [...sides].reverse())
    await measured(label, publish);
}
await syProducer?.close();
await broker?.close();
await producer.close();
await instance.close();
await beforeProducer?.close();
await beforeInstance?.close();
await connection.close();
await topology.drop();
