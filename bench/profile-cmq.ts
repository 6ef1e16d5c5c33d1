// CMQ, one side alone at one body size, for a CPU profile of the client (the bench pairs the
// sides; this isolates one for --cpu-prof). The emulator runs in a child process, so the profile
// holds the client only. `layers` stubs the HTTP request under Switchyard (it answers at once), so
// what remains is what Switchyard's own layers cost per message.
// `client` sends the expert's batches through the driver's own HTTP client (signing, pool, replies);
// with `receive`, it runs the expert's 4 receive loops (replies dropped at once) through that client.
// `driver` receives through the driver's QueueConsumer without core (receiveBatch rounds, each
// round's deletes left in flight, no handler): ROUND=<n> messages per round (default 64),
// HANDLES=1 gives the delete copies holding only the handle (no body waits for its delete);
// SCOPED=1 runs each round in a function of its own (no loop variable holds a round's deliveries
// during the next), SNAPSHOT=<file> then writes a heap snapshot between two rounds mid-phase.
// `client … receive`: LOOPS=<n> receive loops instead of the expert's 4.
// node --cpu-prof --import tsx --conditions=switchyard-source bench/profile-cmq.ts expert|handled|switchyard|layers|client|driver [bytes] [count] [rounds] [receive|send]
// Several sides comma-separated (`handled,switchyard`) run in turn each round, paired in one
// process (for GC and page-fault counts; not for --cpu-prof). Each phase also prints its minor page
// faults per message (process.resourceUsage(): fresh memory is ≈ 11 µs a page on the 2026-12-06 host).
// PHASE_PROFILE=<dir>: instead of --cpu-prof, one .cpuprofile per measured phase after the first
// round (no start-up, no warm-up, no unmeasured fill), sampled every 100 µs, written to <dir>
// (a profile's first sample and the inspector's own `dispatch` frames are the profiler's, not the
// phase's).
// WIRE=1: both clients reach the emulator through a counting TCP proxy, and each phase prints what
// went on the wire: connections opened, requests, request and reply bytes, the header names sent,
// and messages (msgBody / receiptHandle values) per request by action.
// GC_MARKS=1 (with node --trace-gc-nvp): each measured phase prints `phase <start> <end>` in ms on
// the clock of the trace's lines, so GC bytes and pauses can be summed over the measured phases.
// TRACE_MARKS=1 (with node --trace-opt --trace-deopt, whose lines carry no time): each measured
// phase is framed by `@@begin <side> round <n>` and `@@end …` lines on stdout, so the TurboFan
// compiles (`completed compiling … took a, b, c ms`) and deopts of each phase can be counted; that
// is how the bench's CMQ send 256 B row was found to pay the driver's JIT warm-up inside its
// measured rounds (docs/bench-profiles.md 21.2).
// CALLGRIND=1, under `valgrind --tool=callgrind --callgrind-out-file=<dir>/cg.%p` (the emulator,
// a child process, runs natively): the counters are zeroed as each measured phase starts and
// dumped as it ends, so each dump after the first holds one phase's instructions (all threads of
// the client), in the order the phases print their lines; divided by `count`, instructions per
// message (docs/bench-profiles.md §26.3).
// `handled`: the at-least-once expert (cmq-raw.ts receiveHandleDelete: each body to a handler, the
// batch deleted after it, the next receive in flight meanwhile); its send is the expert's.
// Every phase prints its CPU per message on the main thread and on the others (V8's compiler and
// GC helpers, libuv), and the JS heap's growth per message when no GC ran in it (run with
// --expose-gc is not needed; --max-semi-space-size=128 --min-semi-space-size=128 keeps a 256 B phase
// free of scavenges; but until both sides have touched the 128 MB once, ≈ 5 rounds at 256 B, each
// phase faults in fresh pages, 0.7-0.9 a message at ≈ 12 µs each on the 2026-12-06 host, ≈ 10 µs
// a message added to both sides that the bench does not pay: compare CPU without it, 21.2).
// HEAP_PROFILE=<dir>: instead, one sampled .heapprofile per measured phase (allocations by
// function, the ones already collected included).
// HOLD=1: the expert keeps each BatchReceiveMessage reply (its bodies) reachable until that
// batch's delete is answered, as an ack after the handler does. PREFETCH: Switchyard's prefetch.

import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { connect } from '@switchyard/core';
import { callgrind } from './callgrind.js';
import { expertCmq } from './cmq-raw.js';
import { startEmulatorProcess } from './emulator-process.js';
import { concurrently, cpuOf, drainWithRun, rateOf, textBody, measure as timed } from './measure.js';
import { threadCpu } from './thread-cpu.js';

const sides = ['expert', 'handled', 'layers', 'client', 'driver', 'switchyard'] as const;
/** One side, or several comma-separated (`handled,switchyard`): then each round runs them in turn, paired in one process. */
const sideList = (process.argv[2] ?? 'switchyard')
  .split(',')
  .map((name) => sides.find((s) => s === name) ?? 'switchyard');
let side: (typeof sides)[number] = sideList[0]!;
const bytes = Number(process.argv[3] ?? 256);
const count = Number(process.argv[4] ?? 4_000);
const rounds = Number(process.argv[5] ?? 3);
/** `receive`: the queue is filled by the raw client, unmeasured, and only the receive is timed. */
const receiveOnly = process.argv[6] === 'receive';
/** `send`: only the send is run (the queue is left full), for a profile of sending alone. */
const sendOnly = process.argv[6] === 'send';
const emulator = await startEmulatorProcess({ cmq: { recreateGuardSeconds: 0 } });
const { secretId, secretKey } = emulator.credentials[0]!;
const wire = process.env.WIRE === undefined ? undefined : await wireProxy(emulator.endpoints.cmq);
const endpoint = wire?.endpoint ?? emulator.endpoints.cmq;
const host = new URL(endpoint).host;
const broker = await connect(
  `cmq+http://${secretId}:${encodeURIComponent(secretKey)}@${host}?region=ap-guangzhou&maxConnections=16&maxMessageBytes=1048576`,
);
const expert = expertCmq(endpoint, secretId, secretKey, 16);
const body = textBody(bytes);
const bodies = Array.from({ length: count }, () => body);
const phaseDir = process.env.PHASE_PROFILE;
const heapDir = process.env.HEAP_PROFILE;
const session = phaseDir === undefined && heapDir === undefined ? undefined : new Session();
session?.connect();
if (session !== undefined && phaseDir !== undefined) {
  mkdirSync(phaseDir, { recursive: true });
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
}
if (session !== undefined && heapDir !== undefined) {
  mkdirSync(heapDir, { recursive: true });
  await session.post('HeapProfiler.enable');
}
/** What the proxy saw since the last take(): one line. */
interface Wire {
  readonly endpoint: string;
  take(): string;
  readonly server: Server;
}

/** A TCP proxy in front of the emulator that parses the HTTP/1.1 requests going through it. */
async function wireProxy(target: string): Promise<Wire> {
  const to = new URL(target);
  let connections = 0;
  let requestBytes = 0;
  let replyBytes = 0;
  const actions = new Map<string, { requests: number; messages: number; bodyBytes: number }>();
  const headerSets = new Map<string, number>();
  // Requests on the wire by action: from the end of a request to the first byte of its reply (one
  // request per connection at a time, as both sides' pools send), sampled every millisecond.
  const out = new Map<string, number>();
  const sampled = new Map<string, { sum: number; peak: number }>();
  let samples = 0;
  const sampler = setInterval(() => {
    samples++;
    for (const [action, n] of out) {
      const s = sampled.get(action) ?? { sum: 0, peak: 0 };
      s.sum += n;
      s.peak = Math.max(s.peak, n);
      sampled.set(action, s);
    }
  }, 1);
  sampler.unref();
  const server = createServer((client) => {
    connections++;
    const upstream = createConnection(Number(to.port), to.hostname);
    let pending = Buffer.alloc(0);
    let waiting: string | undefined;
    client.on('data', (chunk: Buffer) => {
      requestBytes += chunk.length;
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (pending.length < end + 4 + length) return;
        const body = pending.subarray(end + 4, end + 4 + length).toString('latin1');
        pending = pending.subarray(end + 4 + length);
        const names = head
          .split('\r\n')
          .slice(1)
          .map((line) => line.slice(0, line.indexOf(':')).toLowerCase())
          .sort()
          .join(',');
        headerSets.set(names, (headerSets.get(names) ?? 0) + 1);
        const action = /(?:^|&)Action=([^&]*)/.exec(body)?.[1] ?? '?';
        const a = actions.get(action) ?? { requests: 0, messages: 0, bodyBytes: 0 };
        a.requests++;
        a.bodyBytes += length;
        a.messages += body.match(/(?:^|&)(?:msgBody|receiptHandle)(?:\.\d+)?=/g)?.length ?? 0;
        actions.set(action, a);
        waiting = action;
        out.set(action, (out.get(action) ?? 0) + 1);
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (waiting !== undefined) out.set(waiting, out.get(waiting)! - 1);
      waiting = undefined;
      replyBytes += chunk.length;
      client.write(chunk);
    });
    // No Nagle delay on either leg: the proxy must not hold a request or a reply back.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // A request ended by its client (an aborted long poll) is no longer on the wire.
    client.on('close', () => {
      if (waiting !== undefined) out.set(waiting, out.get(waiting)! - 1);
      waiting = undefined;
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    server,
    take() {
      const per = [...actions]
        .map(
          ([name, a]) =>
            `${name} ×${a.requests} (${(a.messages / a.requests).toFixed(1)} msg/req, ${Math.round(a.bodyBytes / a.requests)} B/req)`,
        )
        .join(', ');
      const inFlight = [...sampled]
        .map(([name, s]) => `${name} ${(s.sum / Math.max(1, samples)).toFixed(1)} (peak ${s.peak})`)
        .join(', ');
      const line = `${connections} new connections, request ${requestBytes} B, reply ${replyBytes} B; ${per}; in flight on average ${inFlight}; headers ${[...headerSets].map(([h, n]) => `[${h}] ×${n}`).join(' ')}`;
      sampled.clear();
      samples = 0;
      connections = 0;
      requestBytes = 0;
      replyBytes = 0;
      actions.clear();
      headerSets.clear();
      return line;
    },
  };
}

let round = 0;
let phases = 0;
/** What the `handled` expert's handler read. */
let bodyChars = 0;
/** `work` profiled on its own when PHASE_PROFILE is set and the warm-up round is over. */
const profiled = async <T>(work: () => Promise<T>): Promise<T> => {
  if (session === undefined || round === 0) return work();
  if (heapDir !== undefined) {
    // Every allocation sampled (about one per 256 B), the ones scavenges collected included.
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 256,
      includeObjectsCollectedByMinorGC: true,
      includeObjectsCollectedByMajorGC: true,
    });
    const result = await work();
    const { profile } = await session.post('HeapProfiler.stopSampling');
    writeFileSync(`${heapDir}/${side}-${++phases}.heapprofile`, JSON.stringify(profile));
    return result;
  }
  await session.post('Profiler.start');
  const result = await work();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(`${phaseDir}/${side}-${++phases}.cpuprofile`, JSON.stringify(profile));
  return result;
};
/** GC_MARKS=1: each measured phase prints its span on V8's clock, to match --trace-gc-nvp lines. */
const marks = process.env.GC_MARKS === '1';
/** TRACE_MARKS=1: `@@begin <side> round <n>` / `@@end …` around each measured phase (see the header). */
const traceMarks = process.env.TRACE_MARKS === '1';
let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });
/** The last phase's CPU per message by thread kind and heap bytes per message, for report(). */
let split = '';
const spanned = async <T>(work: () => Promise<T>): Promise<T> => {
  // GC entries of what came before are delivered late: let them in before counting.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const startGcs = gcs;
  if (traceMarks) console.log(`@@begin ${side} round ${round}`);
  const heap = process.memoryUsage().heapUsed;
  const faults = process.resourceUsage().minorPageFault;
  const threads = threadCpu();
  const start = performance.now();
  callgrind('-z');
  const result = await work();
  callgrind('-d');
  const end = performance.now();
  if (traceMarks) console.log(`@@end ${side} round ${round}`);
  const threadsAfter = threadCpu();
  const faulted = (process.resourceUsage().minorPageFault - faults) / count;
  const allocated = (process.memoryUsage().heapUsed - heap) / count;
  await new Promise((resolve) => setTimeout(resolve, 20));
  const perMessage = (ns: number) => (ns / 1_000 / count).toFixed(1);
  split =
    (threads && threadsAfter
      ? `main thread ${perMessage(threadsAfter.main - threads.main)}, other threads ${perMessage(threadsAfter.others - threads.others)} µs/msg; `
      : '') +
    `${faulted.toFixed(1)} minor page faults/msg; ` +
    (gcs === startGcs ? `${allocated.toFixed(0)} B/msg allocated (no GC)` : `${gcs - startGcs} GCs`);
  if (marks) console.log(`phase ${start.toFixed(0)} ${end.toFixed(0)}`);
  return result;
};
const measure: typeof timed = (n, work) => spanned(() => profiled(() => timed(n, work)));
let queues = 0;
const queue = () => expert.createQueue(`profile-${++queues}`);
// Requests per phase: Switchyard's client counts its own; the expert's calls are counted here.
const requests = () =>
  side === 'expert' || side === 'handled'
    ? expert.requests
    : broker.unwrap<{ http: { requests: number } }>().http.requests;
let before = 0;
const report = (what: string, p: Awaited<ReturnType<typeof measure>>) => {
  const sent = requests() - before;
  before = requests();
  console.log(
    `${side} ${what} ${bytes} B: ${Math.round(rateOf(p))} msg/s, ${cpuOf(p).toFixed(1)} µs CPU/msg (${split}), ${(count / sent).toFixed(1)} msg/request`,
  );
  if (wire !== undefined) console.log(`  wire: ${wire.take()}`);
};
for (; round < rounds; round++) {
  for (side of sideList) {
    const q = await queue();
    before = requests();
    if (receiveOnly) {
      await expert.send(q, bodies);
      before = requests();
    }
    wire?.take();
    if (side === 'expert' || side === 'handled') {
      if (!receiveOnly) report('send', await measure(count, () => expert.send(q, bodies)));
      if (!sendOnly)
        report(
          'receive+delete',
          await measure(count, () =>
            side === 'handled'
              ? expert.receiveHandleDelete(q, count, 4, (text) => {
                  bodyChars += text.length;
                })
              : expert.receiveDelete(q, count, 4, process.env.HOLD === '1'),
          ),
        );
      if (side === 'handled' && bodyChars < count * bytes)
        throw new Error(`the handler read ${bodyChars} characters`);
      bodyChars = 0;
      continue;
    }
    if (side === 'driver') {
      // The driver's consumer without core's: receiveBatch rounds, each round's deletes left in
      // flight (as the expert's), nothing kept per message. Splits a receive cost between the two.
      // From source (tsx): the typecheck runs before any build, and dist/ is absent on a fresh clone.
      const { QueueConsumer } = await import('../packages/cmq/src/queue-model.js');
      const http = broker.unwrap<{ http: ConstructorParameters<typeof QueueConsumer>[0] }>().http;
      const consumer = new QueueConsumer(http, q, {
        bodyMode: 'raw',
        nackMode: 'visibility',
        maxMessageBytes: 1 << 20,
      });
      report(
        'receive+delete',
        await measure(count, async () => {
          const deletes: Array<Promise<void>> = [];
          /** One round: its deliveries are this call's alone, so no loop variable holds them afterwards. */
          const round = async (max: number) => {
            const deliveries = await consumer.receiveBatch(max, 1_000);
            // HANDLES=1: the delete gets copies holding only the handle, so no body waits for it.
            const acked =
              process.env.HANDLES === '1'
                ? deliveries.map((d) => ({ handle: d.handle }) as (typeof deliveries)[number])
                : deliveries;
            deletes.push(consumer.ack(acked));
            return deliveries.length;
          };
          const size = Number(process.env.ROUND ?? 64);
          if (process.env.SCOPED === '1')
            for (let got = 0; got < count; ) {
              got += await round(Math.min(size, count - got));
              // SNAPSHOT=<file>: a heap snapshot between two rounds, when no round's deliveries
              // should be reachable any more (the deletes still out hold what HANDLES leaves them).
              if (process.env.SNAPSHOT !== undefined && got >= count / 2 && got - size < count / 2)
                writeHeapSnapshot(process.env.SNAPSHOT);
            }
          else
            for (let got = 0; got < count; ) {
              const deliveries = await consumer.receiveBatch(Math.min(size, count - got), 1_000);
              got += deliveries.length;
              const acked =
                process.env.HANDLES === '1'
                  ? deliveries.map((d) => ({ handle: d.handle }) as (typeof deliveries)[number])
                  : deliveries;
              deletes.push(consumer.ack(acked));
            }
          await Promise.all(deletes);
        }),
      );
      continue;
    }
    if (side === 'client') {
      // The driver's HTTP client alone, batches of 16 with 16 in flight, as the expert sends them.
      const http = broker.unwrap<{ http: { call: (a: string, p: object, o?: object) => Promise<unknown> } }>()
        .http;
      const batch = bodies.slice(0, 16);
      if (receiveOnly) {
        // The expert's receive loops (4, each reply's handles deleted at once, the reply dropped)
        // through the driver's HTTP client: what its request and reply path costs on receive.
        let got = 0;
        const deletes: Array<Promise<unknown>> = [];
        const loop = async () => {
          while (got < count) {
            const reply = (await http.call(
              'BatchReceiveMessage',
              {
                queueName: q,
                numOfMsg: 16,
                pollingWaitSeconds: 0,
              },
              { accept: [7000] },
            )) as { msgInfoList?: Array<{ receiptHandle: string }> };
            const handles = (reply.msgInfoList ?? []).map((m) => m.receiptHandle);
            got += handles.length;
            if (handles.length > 0)
              deletes.push(http.call('BatchDeleteMessage', { queueName: q, receiptHandle: handles }));
          }
        };
        report(
          'receive+delete',
          await measure(count, async () => {
            // LOOPS=<n>: that many loops instead of the expert's 4.
            await Promise.all(Array.from({ length: Number(process.env.LOOPS ?? 4) }, loop));
            await Promise.all(deletes);
          }),
        );
        continue;
      }
      report(
        'send',
        await measure(count, () =>
          concurrently(count / 16, 16, () =>
            http.call('BatchSendMessage', { queueName: q, msgBody: batch, delaySeconds: 0 }),
          ),
        ),
      );
      continue;
    }
    const producer = await broker.producer(q, { maxInFlight: 16 });
    wire?.take();
    if (side === 'layers') {
      const client = producer.unwrap<{ call: (action: string) => Promise<unknown> }>();
      client.call = async () => ({ code: 0, msgList: [] });
    }
    if (!receiveOnly)
      report('send', await measure(count, () => concurrently(count, 1_000, () => producer.send(body))));
    await producer.close();
    if (side === 'switchyard' && !sendOnly)
      report(
        'receive+delete',
        await spanned(() =>
          profiled(async () =>
            drainWithRun(
              await broker.consumer(q, { prefetch: Number(process.env.PREFETCH ?? 512), concurrency: 64 }),
              count,
            ),
          ),
        ),
      );
  }
}
session?.disconnect();
await broker.close();
await expert.close();
wire?.server.close();
await emulator.stop();
