// RocketMQ: what Switchyard's own layers cost per send, with the client's send() stubbed (it
// resolves at once), at a given body size, for a CPU profile free of gRPC and the emulator.
// `switchyard` and `expert` send for real (1,000 concurrent send() calls; the raw client with 64
// in flight, as bench/rocketmq.ts does), one side per process, for a --cpu-prof of either alone.
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-rocketmq-layers.ts [bytes] [count] [layers|switchyard|expert]
// `receive` instead: the bench's two receive sides paired in one process, round after round, each
// on a fresh topic filled unmeasured: the expert's 2 receive(32) loops with an ack per message left
// in flight, and Switchyard's run() (prefetch 64, concurrency 32) + close(); each phase prints CPU
// per message on the main thread and the others, minor page faults per message and GCs.
// `send`: the bench's two send sides paired the same way (fresh topic and producer per phase), plus
// `expert-prop` (the raw Producer sending the content-type property Switchyard adds to this body)
// when SIDES names it; per phase CPU (main thread, others), minor page faults and GCs by kind.
// Knobs: ROUNDS, SIDES=expert,sy[,expert-prop]; BODY_TAIL=0 (the body ends in NUL, so Switchyard
// sends no property and both requests are one size); FORCE_GC=1 with --expose-gc; MARK=1 (phase
// edges in CLOCK_MONOTONIC for `perf record -k CLOCK_MONOTONIC`); MALLOC=1 asks an LD_PRELOAD malloc
// counter for its counts by allocating 204,807 bytes at the phase's edges (docs/bench-profiles.md).

import { PerformanceObserver } from 'node:perf_hooks';
import { connect } from '@switchyard/core';
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, measure, type Phase } from './measure.js';
import { expertReceive } from './rocketmq.js';
import { threadCpu } from './thread-cpu.js';

type ThreadCpu = ReturnType<typeof threadCpu>;

const bytes = Number(process.argv[2] ?? 1024 * 1024);
const count = Number(process.argv[3] ?? 200);
const side = process.argv[4] ?? 'layers';
const emulator = await startEmulatorProcess({ credentials: [{ secretId: 'token', secretKey: 'role' }] });
await emulator.rocketmqTopic('profile');
const endpoints = emulator.endpoints.rocketmq;
const broker = await connect({ driver: 'rocketmq', endpoints, token: 'token', role: 'role' });
/** The raw client's settings, as bench/rocketmq.ts gives them. */
const base = {
  endpoints,
  namespace: '',
  sessionCredentials: { accessKey: 'token', accessSecret: 'role' },
  logger: { info() {}, warn() {}, error() {}, debug() {} },
  requestTimeout: 10_000,
};
const body = Buffer.alloc(bytes, 'x');
// BODY_TAIL=0: the body ends in a NUL byte, so Switchyard implies binary from the body and sends no
// content-type property: both sides' requests are then the same size.
if (process.env.BODY_TAIL === '0') body[bytes - 1] = 0;
let send: () => Promise<unknown>;
let raw: Producer | undefined;
if (side === 'receive' || side === 'send') {
  await (side === 'receive' ? pairedReceive() : pairedSend());
  await broker.close();
  await emulator.stop();
  process.exit(0);
}
if (side === 'expert') {
  raw = new Producer({ ...base, topics: ['profile'], maxAttempts: 1 });
  await raw.startup();
  send = () => raw!.send({ topic: 'profile', body });
} else {
  const producer = await broker.producer('profile');
  if (side === 'layers')
    producer.unwrap<{ send: () => Promise<unknown> }>().send = async () => ({ messageId: 'stub' });
  send = () => producer.send({ body });
}
const width = side === 'expert' ? 64 : 1_000;
await concurrently(20, 20, send);
for (let round = 0; round < 3; round++) {
  const phase = await measure(count, () => concurrently(count, width, send));
  console.log(
    `rocketmq ${side}, ${bytes} B: ${(phase.cpuUs / count).toFixed(1)} µs CPU/msg, ${Math.round((count / phase.ms) * 1000)} msg/s`,
  );
}
await raw?.shutdown();
await broker.close();
await emulator.stop();

/**
 * The bench's send sides (bench/rocketmq.ts), paired per round in this process, each on a fresh
 * topic with a fresh producer as in the bench: the raw Producer with 64 sends in flight against
 * 1,000 concurrent Switchyard send() calls. Prints CPU (main thread and others), minor page faults
 * and GCs by kind per phase.
 */
async function pairedSend(): Promise<void> {
  const kinds = { scavenge: 0, major: 0 };
  new PerformanceObserver((list) => {
    // detail.kind: NODE_PERFORMANCE_GC_MINOR (1) a scavenge, _MAJOR (4) a mark-compact.
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === 1) kinds.scavenge++;
      else if (kind === 4) kinds.major++;
    }
  }).observe({ entryTypes: ['gc'] });
  let seq = 0;
  const sides: Record<string, () => Promise<void>> = {
    expert: async () => {
      const t = `send-${++seq}`;
      await emulator.rocketmqTopic(t);
      const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
      await producer.startup();
      await sendPhase('expert', () => concurrently(count, 64, () => producer.send({ topic: t, body })));
      await producer.shutdown();
    },
    // The raw Producer sending the property Switchyard adds to a binary body that would read as text.
    'expert-prop': async () => {
      const t = `send-${++seq}`;
      await emulator.rocketmqTopic(t);
      const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
      await producer.startup();
      const properties = new Map([['x-switchyard-content-type', 'application/octet-stream']]);
      await sendPhase('expert-prop', () =>
        concurrently(count, 64, () => producer.send({ topic: t, body, properties })),
      );
      await producer.shutdown();
    },
    sy: async () => {
      const t = `send-${++seq}`;
      await emulator.rocketmqTopic(t);
      const producer = await broker.producer(t);
      await sendPhase('sy', () => concurrently(count, 1_000, () => producer.send({ body })));
      await producer.close();
    },
  };
  const sendPhase = async (label: string, work: () => Promise<unknown>) => {
    // FORCE_GC=1 (node --expose-gc): a full collection before the phase, so no side inherits the
    // other's uncollected buffers.
    if (process.env.FORCE_GC === '1') (globalThis as { gc?: () => void }).gc?.();
    const { scavenge, major } = kinds;
    const threads = threadCpu();
    // MALLOC=1 under an LD_PRELOAD malloc counter that reports when asked for this odd size.
    if (process.env.MALLOC === '1') Buffer.allocUnsafeSlow(204_807);
    // MARK=1: CLOCK_MONOTONIC seconds at the phase's edges, for `perf record -k CLOCK_MONOTONIC`.
    const mark = () => (Number(process.hrtime.bigint()) / 1e9).toFixed(6);
    const begun = mark();
    const p = await measure(count, work);
    if (process.env.MARK === '1') console.log(`@@phase ${label} ${begun} ${mark()}`);
    if (process.env.MALLOC === '1') Buffer.allocUnsafeSlow(204_807);
    const after = threadCpu();
    await new Promise((r) => setTimeout(r, 10));
    const faults = (p.faults ?? 0) / count;
    console.log(
      `${phaseLine(label.padEnd(11), p, threads, after)}, ${faults.toFixed(1)} minor page faults/msg, ` +
        `GCs ${kinds.scavenge - scavenge}+${kinds.major - major}`,
    );
  };
  const rounds = Number(process.env.ROUNDS ?? 4);
  const order = (process.env.SIDES ?? 'expert,sy').split(',');
  for (let round = -2; round < rounds; round++) {
    if (round === 0) console.log('-- measured rounds');
    for (const key of round % 2 === 0 ? order : [...order].reverse()) await sides[key]!();
  }
}

/** The bench's receive sides (bench/rocketmq.ts), paired per round in this process. */
async function pairedReceive(): Promise<void> {
  const sy = await connect({
    driver: 'rocketmq',
    endpoints,
    token: 'token',
    role: 'role',
    longPollMs: 1_000,
    requestTimeoutMs: 10_000,
  });
  let gcs = 0;
  new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  }).observe({ entryTypes: ['gc'] });
  let seq = 0;
  /** A fresh topic with `count` messages for group `<topic>-g` (subscribed before the sends). */
  const filled = async () => {
    const t = `recv-${++seq}`;
    await emulator.rocketmqTopic(t);
    const holder = new SimpleConsumer({
      ...base,
      consumerGroup: `${t}-g`,
      subscriptions: new Map([[t, '*']]),
    });
    await holder.startup();
    await holder.shutdown();
    const producer = new Producer({ ...base, topics: [t], maxAttempts: 1 });
    await producer.startup();
    await concurrently(count, 16, () => producer.send({ topic: t, body }));
    await producer.shutdown();
    return t;
  };
  const phase = async (label: string, work: () => Promise<unknown>) => {
    await new Promise((r) => setTimeout(r, 50));
    const g = gcs;
    const faults = process.resourceUsage().minorPageFault;
    const threads = threadCpu();
    const p = await measure(count, work);
    const after = threadCpu();
    const faulted = (process.resourceUsage().minorPageFault - faults) / count;
    await new Promise((r) => setTimeout(r, 50));
    console.log(
      `${phaseLine(label.padEnd(6), p, threads, after)}, ${faulted.toFixed(1)} minor page faults/msg, ${gcs - g} GCs`,
    );
  };
  for (let round = 0; round < 4; round++) {
    const te = await filled();
    const consumer = new SimpleConsumer({
      ...base,
      consumerGroup: `${te}-g`,
      subscriptions: new Map([[te, '*']]),
      awaitDuration: 1_000,
    });
    await consumer.startup();
    await phase('expert', () => expertReceive(consumer, count));
    await consumer.shutdown();
    const ts = await filled();
    const c = await sy.consumer(ts, { group: `${ts}-g`, prefetch: 64, concurrency: 32 });
    // drainWithRun's run() and close(), timed apart: close waits (bounded) for a receive still on
    // the wire, which long-polls once the topic is drained, to hand its messages back.
    let closeMs = 0;
    await phase('sy', async () => {
      let handled = 0;
      const done = new AbortController();
      await c.run(
        () => {
          if (++handled === count) done.abort();
        },
        { signal: done.signal },
      );
      const closing = performance.now();
      await c.close();
      closeMs = performance.now() - closing;
    });
    console.log(`       close() took ${closeMs.toFixed(0)} ms of the phase`);
  }
  await sy.close();
}

/** A phase's rate and CPU per message, split by thread when /proc tells it. */
function phaseLine(label: string, p: Phase, threads: ThreadCpu, after: ThreadCpu): string {
  const per = (ns: number) => (ns / 1_000 / count).toFixed(0);
  return (
    `${label} ${bytes} B: ${Math.round((count / p.ms) * 1000)} msg/s, ${(p.cpuUs / count).toFixed(0)} µs CPU/msg` +
    (threads && after
      ? ` [main ${per(after.main - threads.main)}, others ${per(after.others - threads.others)}]`
      : '')
  );
}
