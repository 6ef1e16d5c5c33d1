// RabbitMQ consume: where each side waits rather than what it spends (docs/bench-profiles.md §25.4).
// Fills one queue before every drain and drains it with each side in turn per round (the order
// rotated), and prints per drain, from its first message in hand to its last:
//   - the rate and the process CPU (and the main thread's) per message;
//   - the event loop's idle share (waiting for the broker);
//   - credit-blocked: the share of the span in which the client had received every delivery the
//     prefetch allowed past the last ack on the wire (tag ≥ wire + prefetch), so the broker could
//     send nothing until the next ack left — a lower bound of the broker's wait for credit;
//   - ack lag: the median time from the arrival of the last delivery an ack frame covers to that
//     frame's socket write; ack frames (socket writes that carried a new ack) and deliveries per read.
// Sides: `raw` (the expert amqplib consumer, `multiple` ack every PREFETCH / 2, one connection for
// the process as the bench keeps), `sy` (run() as the bench's Switchyard side), `syold` (run() with
// the driver's writeSoon made a no-op: the ack frame waits for amqplib's muxer immediate, as before).
// FILL_OWN=1: the Switchyard sides' drains follow a fill by Switchyard's Producer (1,000 concurrent
// send(), as the bench's Switchyard consume follows its own publish), the raw side's a raw fill;
// FILL_OWN=all: every side's drain follows a Switchyard fill. MARKERS=1 prints `@@begin`/`@@end`
// around each drain for `--trace-opt`/`--trace-gc` output.
//   node --import tsx --conditions=switchyard-source bench/profile-rabbitmq-wait.ts [count] [rounds] [sides]

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { connect, type Producer } from '@switchyard/core';
import amqp from 'amqplib';
import { concurrently } from './measure.js';
import { benchQueue, fillRaw } from './rabbitmq-drains.js';
import { threadCpu } from './thread-cpu.js';

const count = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 8);
const sides = (process.argv[4] ?? 'raw,sy,syold').split(',');
const bytes = Number(process.env.BYTES ?? 256);
const PREFETCH = 200;
const url = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const name = `prof-wait-${randomBytes(3).toString('hex')}`;
const bench = await benchQueue(url, name);
const { queue } = bench;
const body = randomBytes(bytes);
const broker = await connect(url);
let producer: Producer | undefined;

async function fill(n: number, side: string): Promise<void> {
  const own = process.env.FILL_OWN;
  if ((own === '1' && side.startsWith('sy')) || own === 'all') {
    producer ??= await broker.producer(name);
    const p = producer;
    await concurrently(n, 1_000, () => p.send({ body }));
    return;
  }
  await fillRaw(bench.setup, name, body, n);
}

/** amqplib internals the instrumentation reads (the same the driver's connection.ts patches). */
interface Mux {
  scheduledRead: boolean;
  _readIncoming(): void;
}
type Instrumented = amqp.Channel & {
  connection: {
    stream: { _writeGeneric: (...a: unknown[]) => unknown; push(c: unknown): boolean };
    muxer: Mux;
  };
  dispatchMessage(fields: { deliveryTag: number }, m: unknown): unknown;
};

/** The drain under way, from the client's side of the wire. */
const drain = {
  reads: 0,
  received: 0,
  /** The tag of the last ack asked of amqplib, and of the last one written to the socket. */
  pending: 0,
  wire: 0,
  blockedSince: -1,
  blocked: 0,
  acks: 0,
  lags: [] as number[],
  arrivedAt: new Float64Array(1 << 21),
  first: 0,
  firstCpu: process.cpuUsage(),
  firstMain: 0,
  firstElu: performance.eventLoopUtilization(),
  lastAt: 0,
};
let result = { ms: 0, cpu: 0, main: 0, idle: 0 };

function begin(): void {
  Object.assign(drain, { reads: 0, received: 0, pending: 0, wire: 0, blockedSince: -1, blocked: 0, acks: 0 });
  drain.lags.length = 0;
  drain.first = 0;
  drain.lastAt = 0;
}
const markFirst = () => {
  drain.first = performance.now();
  drain.firstMain = threadCpu()?.main ?? 0;
  drain.firstCpu = process.cpuUsage();
  drain.firstElu = performance.eventLoopUtilization();
};
const markLast = () => {
  drain.lastAt = performance.now();
  const cpu = process.cpuUsage(drain.firstCpu);
  result = {
    ms: drain.lastAt - drain.first,
    cpu: cpu.user + cpu.system,
    main: ((threadCpu()?.main ?? 0) - drain.firstMain) / 1_000,
    idle: performance.eventLoopUtilization(drain.firstElu).idle,
  };
};

function instrument(channel: Instrumented): void {
  const dispatch = channel.dispatchMessage.bind(channel);
  channel.dispatchMessage = (fields, m) => {
    const now = performance.now();
    const tag = fields.deliveryTag;
    drain.received = tag;
    drain.arrivedAt[tag] = now;
    if (tag - drain.wire >= PREFETCH && drain.blockedSince < 0) drain.blockedSince = now;
    return dispatch(fields, m);
  };
  const ack = channel.ack.bind(channel);
  channel.ack = (m, multiple) => {
    drain.pending = m.fields.deliveryTag;
    ack(m, multiple);
  };
  const stream = channel.connection.stream as typeof channel.connection.stream & { counted?: boolean };
  if (stream.counted) return;
  // Once per connection (the raw side's lasts the process).
  stream.counted = true;
  const push = stream.push.bind(stream);
  stream.push = (c) => {
    if (drain.lastAt === 0 && drain.received > 0) drain.reads++;
    return push(c);
  };
  const write = stream._writeGeneric.bind(stream);
  stream._writeGeneric = (...a: unknown[]) => {
    if (drain.pending > drain.wire) {
      const now = performance.now();
      if (drain.lastAt === 0) {
        drain.lags.push(now - drain.arrivedAt[drain.pending]!);
        drain.acks++;
      }
      drain.wire = drain.pending;
      if (drain.blockedSince >= 0) {
        if (drain.lastAt === 0) drain.blocked += now - drain.blockedSince;
        drain.blockedSince = -1;
      }
    }
    return write(...a);
  };
}

const rawConn = await amqp.connect(url, { noDelay: true });
async function raw(n: number): Promise<void> {
  const channel = await rawConn.createChannel();
  instrument(channel as Instrumented);
  await channel.prefetch(PREFETCH);
  let seen = 0;
  let unacked = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (m) => {
      if (m === null) return;
      if (++seen === 1) markFirst();
      if (++unacked >= PREFETCH / 2 || seen === n) {
        channel.ack(m, true);
        unacked = 0;
      }
      if (seen === n) {
        markLast();
        resolve();
      }
    });
  });
  await channel.close();
}

/** Set while a `syold` drain runs: the muxer ignores writeSoon's tick (its own immediate is pending). */
let old = false;
async function sy(n: number, before: boolean): Promise<void> {
  const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  const channel = consumer.unwrap<Instrumented>();
  instrument(channel);
  const mux = channel.connection.muxer as Mux & { wrapped?: boolean };
  if (!mux.wrapped) {
    mux.wrapped = true;
    const read = mux._readIncoming;
    mux._readIncoming = function (this: Mux) {
      if (old && this.scheduledRead) return;
      read.call(this);
    };
  }
  old = before;
  const stop = new AbortController();
  let seen = 0;
  await consumer.run(
    () => {
      if (++seen === 1) markFirst();
      if (seen === n) {
        markLast();
        stop.abort();
      }
    },
    { signal: stop.signal },
  );
  await consumer.close();
  old = false;
}

const drains: Record<string, (n: number) => Promise<void>> = {
  raw,
  sy: (n) => sy(n, false),
  syold: (n) => sy(n, true),
};

interface Row {
  rate: number;
  cpu: number;
  main: number;
  idle: number;
  blocked: number;
  lag: number;
  acks: number;
  perRead: number;
}
const rows = new Map<string, Row[]>(sides.map((s) => [s, []]));
for (const side of sides) {
  await fill(2_000, side);
  begin();
  await drains[side]!(2_000);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (let round = 0; round < rounds; round++) {
  const line: string[] = [];
  for (let i = 0; i < sides.length; i++) {
    const side = sides[(i + round) % sides.length]!;
    await fill(count, side);
    await new Promise((r) => setTimeout(r, 200));
    begin();
    if (process.env.MARKERS) process.stdout.write(`@@begin ${side}\n`);
    await drains[side]!(count);
    if (process.env.MARKERS) process.stdout.write(`@@end ${side}\n`);
    const r: Row = {
      rate: ((count - 1) / result.ms) * 1_000,
      cpu: result.cpu / count,
      main: result.main / count,
      idle: result.idle / result.ms,
      blocked: drain.blocked / result.ms,
      lag: drain.lags.length > 0 ? median(drain.lags) * 1_000 : 0,
      acks: drain.acks,
      perRead: count / Math.max(1, drain.reads),
    };
    rows.get(side)!.push(r);
    line.push(
      `${side} ${Math.round(r.rate)}/s ${r.cpu.toFixed(2)} µs (main ${r.main.toFixed(2)}) idle ${(r.idle * 100).toFixed(0)}% blocked ${(r.blocked * 100).toFixed(1)}% lag ${r.lag.toFixed(0)} µs ${r.acks} acks ${r.perRead.toFixed(1)}/read`,
    );
  }
  console.log(`round ${round}: ${line.join(' | ')}`);
}
const base = rows.get(sides[0]!)!;
for (const side of sides) {
  const rs = rows.get(side)!;
  const paired = (f: (r: Row) => number) => rs.map((r, i) => f(r) / f(base[i]!));
  const ratios = paired((r) => r.rate);
  console.log(
    `${side}: rate ${Math.round(median(rs.map((r) => r.rate)))}/s (×${median(ratios).toFixed(2)} of ${sides[0]} paired, rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), ` +
      `CPU ${median(rs.map((r) => r.cpu)).toFixed(2)} µs/msg (×${median(paired((r) => r.cpu)).toFixed(2)}), main thread ${median(rs.map((r) => r.main)).toFixed(2)} (×${median(paired((r) => r.main)).toFixed(2)}), ` +
      `idle ${(median(rs.map((r) => r.idle)) * 100).toFixed(0)}%, credit-blocked ${(median(rs.map((r) => r.blocked)) * 100).toFixed(1)}%, ack lag ${median(rs.map((r) => r.lag)).toFixed(0)} µs, ` +
      `${median(rs.map((r) => r.acks))} ack writes, ${median(rs.map((r) => r.perRead)).toFixed(1)} deliveries per read`,
  );
}
await producer?.close();
await broker.close();
await rawConn.close();
await bench.drop();
