// Pulsar over HTTP (emulator in a child process, so the process CPU measured is the client's):
// Switchyard's pulsar-http driver vs direct tencentcloud-sdk-nodejs calls in the same run, paired
// per round, at 256 B, 64 KiB and 1 MiB.
//   one at a time (256 B): SendMessages awaited one by one vs producer.send() awaited one by one;
//                          the direct call is the target here (≥ 0.95×)
//   expert raw (pipelined): the SDK with SendMessages, MAX_CONCURRENCY requests in flight over a
//                          keep-alive agent; batch ReceiveMessage (MaxNumMessages 64) with each
//                          message's AcknowledgeMessage pipelined under the same bound
//   Switchyard:            1,000 concurrent send() calls (the driver pipelines MAX_CONCURRENCY);
//                          run() with concurrency 64
// Run alone: npx tsx --conditions=switchyard-source bench/pulsar-http.ts (PULSAR_HTTP_DRIVER: see below)

import http from 'node:http';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { connect, registerDriver } from '@switchyard/core';
import type { DriverModule } from '@switchyard/core/driver';
import type { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js';
import { startEmulatorProcess } from './emulator-process.js';
import {
  alternate,
  compare,
  concurrently,
  drainWithRun,
  measure,
  type Phase,
  printRows,
  Rounds,
  sizeLabel,
  textBody,
} from './measure.js';
import { scalingRows } from './scaling.js';
import { threadCpu } from './thread-cpu.js';
import { type BenchRow, median } from './types.js';

const require = createRequire(import.meta.url);
const { Client: TdmqClient } =
  require('tencentcloud-sdk-nodejs/tencentcloud/services/tdmq/v20200217/tdmq_client.js') as {
    Client: typeof Client;
  };

// PULSAR_HTTP_DRIVER=<another tree's packages/pulsar-http/src/index.ts>: that driver instead, for
// before/after runs of the rows (the same core and SDK modules serve both).
if (process.env.PULSAR_HTTP_DRIVER)
  registerDriver(
    ((await import(pathToFileURL(process.env.PULSAR_HTTP_DRIVER).href)) as { driver: DriverModule }).driver,
  );

const CLUSTER = 'pulsar-emulator';
// Nine rounds at 1 MiB, not five: a phase there is 12 messages (≈ 45 ms of receive CPU), and the
// mark-compacts that come every few phases, on either side alike, land in pairs that double the phase
// they fall in (receive+ack per round 0.55–2.2× at the same per-message work; docs/bench-profiles.md,
// Pulsar over HTTP at 1 MiB), so five rounds left the median to where two or three of them fell.
const SIZES = [
  { bytes: 256, count: 1_000, rounds: 5 },
  { bytes: 64 * 1024, count: 200, rounds: 5 },
  { bytes: 1024 * 1024 - 1024, count: 12, rounds: 9 },
] as const;
const ONE_AT_A_TIME = 400;
/** Sends per turn: the sides take turns within each round (see the rounds below). */
const ONE_AT_A_TIME_CHUNK = 40;
/**
 * Ten rounds: with five, whole runs of the same code on the 2026-12-06 host (load 6–12) read
 * 0.66–2.41× (sides in turn per round) and 0.78–1.06× (in turns of 40 sends) (docs/bench-profiles.md §20.2).
 */
const ONE_AT_A_TIME_ROUNDS = 10;
/** One-at-a-time calls per side before the rounds (see the warm-up below). */
const WARM_UP = 3_000;
// Five, not three (SIZES' rounds): on 2 cores one round in three often lands on a GC or a scheduling
// stall of one side, and the median of three then moved by up to 0.2× between whole runs of the same code.
const MAX_CONCURRENCY = 32;
const SENDERS = 1_000;
const RECEIVE_BATCH = 64;
const SCALE_COUNT = 3_000;

interface ReceiveReply {
  MessageID?: string | null;
  MessagePayload?: string | null;
  MessageIDList?: string | null;
  MessagesPayload?: string | null;
  AckTopic?: string | null;
  SubName?: string | null;
}

/** The expert's handler: it takes each body, as run()'s handler is given each message. */
export let expertHandled: string | undefined;

/**
 * Runs tasks with at most `max` at once, first come first served. The expert's pipelined send
 * queues every call through one of these at once (a suspended call per message, its request built
 * when it starts), as Switchyard's side has every send() waiting at once.
 */
export function bounded(max: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= max) await new Promise<void>((r) => waiting.push(r));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

/** One phase from a round's chunks: their messages, wall time, CPU and faults added up. */
function summed(parts: readonly Phase[]): Phase {
  let count = 0;
  let ms = 0;
  let cpuUs = 0;
  let faults = 0;
  for (const p of parts) {
    count += p.count;
    ms += p.ms;
    cpuUs += p.cpuUs;
    faults += p.faults ?? 0;
  }
  return { count, ms, cpuUs, faults };
}

const PROFILE_SEND =
  'both sides send one message per request, at most 32 in flight (pipelined) or 1, over the same kind of ' +
  "keep-alive agent, and pay the same SDK request (TC3 signing, JSON, node-fetch; the driver's " +
  "tencentcloud-sdk-nodejs-common is the product SDK's common/ code, byte for byte but sdk_version.js), " +
  "about half of either side's CPU per request (the same signed request over node:http alone costs " +
  "0.46–0.51×). The request's bytes on the wire are the same on both sides (one 941 B write). What the " +
  'driver adds to it: the deadline signal in node-fetch (an abort listener added and removed and a ' +
  "once('end') listener, ≈ 1 µs per request measured hot; with others in flight a light signal of the " +
  "request's own under core's shared one, since on one shared signal Node's EventTarget kept removed " +
  "listeners' links and promoted listeners dragged later 64 KiB requests into the old generation: 70–84 " +
  "MB promoted per 2,500 sends against the expert's 27–31, docs/bench-profiles.md §22.4) and the SDK's credential lookup, one cached " +
  'key object answered without a promise (656 B per request against 392 for a plain key object). One ' +
  "at a time, the SDK, node-fetch and node:http take ≈ 3 % more CPU on Switchyard's side: so they do " +
  "when Switchyard's code (stubbed) only runs between the SDK's own requests, because code run once " +
  "per request runs from cold caches and evicts the request path's (docs/bench-profiles.md §21.3). " +
  'Switchyard allocates ≈ 3.1 KB more per ' +
  "one-at-a-time send (≈ 70 KB per request on both sides): core's send path and the driver, 2.7 KB " +
  "per send with the SDK's request stubbed; at 64 KiB " +
  "V8's GC threads take 37–246 µs per message in either side's rounds, and about a third of processes on " +
  'either side fall into a state where every scavenge promotes the requests in flight (150–170 MB per ' +
  "2,500 sends, until a major GC); core measures each 64 KiB text's UTF-8 length (≈ 7.7 µs, the size " +
  'check). The one-at-a-time rows warm both ' +
  'sides up with 3,000 calls: before that, V8 compiling on background threads (125–225 µs per call over ' +
  'the first 2,000 calls, on both sides) and interpreted code were most of the CPU, and more of it for ' +
  'the side with more code (docs/bench-profiles.md)';
const PROFILE_RECEIVE =
  'per delivery core builds a Message, a lease and a handler promise; acks are one AcknowledgeMessage per ' +
  "message on both sides (the API has no batch ack). The driver's reader builds a delivery in ≈ 1.4 µs at " +
  '256 B and leaves a long text unencoded until a handler reads the body (≈ 0.1 ms per 1 MiB delivery, ' +
  '0.72–0.76 ms when it spread the fields), so the extra is core per-message work. At 1 MiB, counted in ' +
  'instructions per message once warm, both sides parse the same JSON (3.93 M) and copy the same bytes; ' +
  "Switchyard's cut of each body from the batch (one scan, as the expert's split) and its two more " +
  'ReceiveMessage calls per phase (the first message alone, then the batch; the poll in flight when run() ' +
  "stops) leave its work within ≈ 4 % of the expert's outside GC and compiles, and a row's spread is where " +
  'the mark-compacts fell (docs/bench-profiles.md)';

/**
 * The one-at-a-time send rounds' CPU per message split by thread (/proc/self/task/<tid>/schedstat):
 * the main thread runs the sends, V8's other threads compile and mark, and the two move apart
 * (docs/bench-profiles.md 17.1, 18.6: a new producer per round recompiles core's send path).
 */
class ThreadSplit {
  readonly #per = {
    expert: [] as Array<{ main: number; others: number }>,
    sy: [] as Array<{ main: number; others: number }>,
  };

  /** This round's totals so far (µs and messages), per side: a round is measured in chunks. */
  readonly #round = {
    expert: { main: 0, others: 0, count: 0 },
    sy: { main: 0, others: 0, count: 0 },
  };

  async measure(side: 'expert' | 'sy', count: number, work: () => Promise<unknown>) {
    const before = threadCpu();
    const phase = await measure(count, work);
    const after = threadCpu();
    if (before !== undefined && after !== undefined) {
      const sum = this.#round[side];
      sum.main += (after.main - before.main) / 1000;
      sum.others += (after.others - before.others) / 1000;
      sum.count += count;
    }
    return phase;
  }

  /** Closes a round: each side's CPU per message over its chunks. */
  endRound(): void {
    for (const side of ['expert', 'sy'] as const) {
      const sum = this.#round[side];
      if (sum.count > 0) this.#per[side].push({ main: sum.main / sum.count, others: sum.others / sum.count });
      this.#round[side] = { main: 0, others: 0, count: 0 };
    }
  }

  /** '' without /proc; else the paired main-thread ratio and each side's other-thread µs per message. */
  note(): string {
    const { expert, sy } = this.#per;
    if (expert.length === 0 || expert.length !== sy.length) return '';
    const ratios = sy.map((s, i) => s.main / (expert[i] as { main: number }).main);
    const r = (x: number) => x.toFixed(2);
    const us = (xs: Array<{ others: number }>) => median(xs.map((x) => x.others)).toFixed(0);
    return `; main thread CPU/msg ${r(median(ratios))}× (${r(Math.min(...ratios))}–${r(Math.max(...ratios))}), other threads ${us(sy)} vs ${us(expert)} µs/msg (V8 compiler and GC)`;
  }
}

/**
 * The pipelined rows' main-thread CPU per message, paired by round: a major GC started in one phase
 * marks on V8's other threads through whichever phase comes next, so at 1 MiB (12 messages, ≈ 45 ms
 * of receive CPU) one side's phase can carry another phase's marking; the expert's receive idles
 * 200 ms in its batch Timeout, when that marking runs (docs/bench-profiles.md, Pulsar over HTTP at 1 MiB).
 */
class MainThreadPhases {
  readonly #per = { expert: [] as number[], sy: [] as number[] };

  /** Runs one measured phase, recording the main thread's CPU µs per message next to it. */
  async phase(side: 'expert' | 'sy', count: number, run: () => Promise<Phase>): Promise<Phase> {
    const before = threadCpu();
    const phase = await run();
    const after = threadCpu();
    if (before !== undefined && after !== undefined)
      this.#per[side].push((after.main - before.main) / 1000 / count);
    return phase;
  }

  /** '' without /proc; else the last `rounds` phases' paired main-thread ratio (warm-up phases come first). */
  note(rounds: number): string {
    const expert = this.#per.expert.slice(-rounds);
    const sy = this.#per.sy.slice(-rounds);
    if (expert.length !== rounds || sy.length !== rounds) return '';
    const ratios = sy.map((x, i) => x / (expert[i] as number));
    const r = (x: number) => x.toFixed(2);
    return `; main thread CPU/msg ${r(median(ratios))}× (${r(Math.min(...ratios))}–${r(Math.max(...ratios))})`;
  }
}

export async function benchPulsarHttp(): Promise<BenchRow[]> {
  const emulator = await startEmulatorProcess();
  const { secretId, secretKey } = emulator.credentials[0]!;
  const host = new URL(emulator.endpoints.api).host;
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_CONCURRENCY + 8 });
  const sdk = new TdmqClient({
    credential: { secretId, secretKey },
    region: 'ap-guangzhou',
    profile: {
      httpProfile: { endpoint: host, protocol: 'http://', reqMethod: 'POST', agent, reqTimeout: 30 },
    },
  });
  const url = `pulsar-http+http://${secretId}:${secretKey}@${host}?${new URLSearchParams({
    region: 'ap-guangzhou',
    cluster: CLUSTER,
    receiveWaitMs: '200',
    maxConcurrency: String(MAX_CONCURRENCY),
  })}`;
  const broker = await connect(url);
  let topicNo = 0;
  // Topic and subscription exist before anything is timed.
  const fresh = async () => {
    const name = `bench-${process.pid}-${topicNo++}`;
    await sdk.CreateTopic({ ClusterId: CLUSTER, EnvironmentId: 'default', TopicName: name, Partitions: 2 });
    await sdk.CreateSubscription({
      ClusterId: CLUSTER,
      EnvironmentId: 'default',
      TopicName: name,
      SubscriptionName: 'bench',
      IsIdempotent: true,
    });
    return { name, path: `${CLUSTER}/default/${name}` };
  };

  const expertSend = async (path: string, body: string, count: number) => {
    const limit = bounded(MAX_CONCURRENCY);
    await Promise.all(
      Array.from({ length: count }, () => limit(() => sdk.SendMessages({ Topic: path, Payload: body }))),
    );
  };
  const expertReceive = async (path: string, count: number) => {
    const limit = bounded(MAX_CONCURRENCY);
    const acks: Array<Promise<unknown>> = [];
    for (let got = 0; got < count; ) {
      const r = (await sdk
        .ReceiveMessage({
          Topic: path,
          SubscriptionName: 'bench',
          MaxNumMessages: RECEIVE_BATCH,
          ReceiverQueueSize: RECEIVE_BATCH,
          Timeout: 200,
        })
        .catch(() => ({}))) as ReceiveReply;
      const ids = r.MessageIDList ? r.MessageIDList.split('###') : [];
      // Each message's body, as Switchyard's driver cuts it from the batch for its handler (the
      // driver also checks that the cut is certain; docs/bench-profiles.md, Pulsar over HTTP receive).
      const bodies = r.MessagesPayload ? r.MessagesPayload.split('###') : [];
      got += ids.length;
      for (let i = 0; i < ids.length; i++) {
        expertHandled = bodies[i];
        const MessageId = ids[i] as string;
        acks.push(
          limit(() => sdk.AcknowledgeMessage({ MessageId, AckTopic: r.AckTopic!, SubName: r.SubName! })),
        );
      }
    }
    await Promise.all(acks);
  };
  const openConsumer = (name: string) =>
    broker.consumer(name, { group: 'bench', prefetch: 256, concurrency: 64 });

  const rows: BenchRow[] = [];
  try {
    // One at a time, 256 B: the direct SDK call against producer.send(), then receive + ack.
    {
      const body = textBody(256);
      const send = new Rounds();
      const receive = new Rounds();
      const threads = new ThreadSplit();
      const warm = await fresh();
      const producer = await broker.producer(warm.name);
      // Warm-up, alike for both sides and in alternating chunks, until both run compiled code.
      // Each side runs its own copy of the SDK's common/ code (the driver's
      // tencentcloud-sdk-nodejs-common, this file's tencentcloud-sdk-nodejs), JIT-compiled on its
      // own, and CPU per call falls ≈ 3× over the first ≈ 2,500 calls on both sides. Measured per
      // thread (/proc/self/task/*/schedstat, 500-call chunks): V8's compiler threads take
      // 125–225 µs per call over the first 2,000 calls and 16–40 after, while the main thread
      // falls from ≈ 555–630 to ≈ 225–290 µs. With 100 calls per side the five rounds of 400
      // measured that warm-up — compile work no main-thread profile shows, more of it for the
      // side with more code — not a send (docs/bench-profiles.md, Pulsar over HTTP one at a time).
      for (let chunk = 0; chunk < WARM_UP; chunk += 250) {
        for (let i = 0; i < 250; i++) await producer.send(body);
        for (let i = 0; i < 250; i++) await sdk.SendMessages({ Topic: warm.path, Payload: body });
      }
      for (let round = 0; round < ONE_AT_A_TIME_ROUNDS; round++) {
        const raw = await fresh();
        const sy = await fresh();
        // Sends: a new producer per round, as an application opening one; its opening is not timed.
        const p = await broker.producer(sy.name);
        const sends = {
          expert: async (n: number) => {
            for (let i = 0; i < n; i++) await sdk.SendMessages({ Topic: raw.path, Payload: body });
          },
          sy: async (n: number) => {
            for (let i = 0; i < n; i++) await p.send(body);
          },
        };
        // The two sides take turns in chunks of ONE_AT_A_TIME_CHUNK sends, the first turn
        // alternating by round and chunk, so a neighbour's load (a 2-core host shared with other
        // work) lands on both alike; each side's round is the sum of its chunks.
        const parts = { expert: [] as Phase[], sy: [] as Phase[] };
        for (let done = 0, turn = round; done < ONE_AT_A_TIME; done += ONE_AT_A_TIME_CHUNK, turn++) {
          const n = Math.min(ONE_AT_A_TIME_CHUNK, ONE_AT_A_TIME - done);
          for (const side of turn % 2 === 0 ? (['expert', 'sy'] as const) : (['sy', 'expert'] as const))
            parts[side].push(await threads.measure(side, n, () => sends[side](n)));
        }
        send.add('expert', summed(parts.expert));
        send.add('sy', summed(parts.sy));
        threads.endRound();
        await p.close();
        const rawReceive = async () => {
          receive.add(
            'expert',
            await measure(ONE_AT_A_TIME, async () => {
              for (let got = 0; got < ONE_AT_A_TIME; ) {
                const r = (await sdk
                  .ReceiveMessage({ Topic: raw.path, SubscriptionName: 'bench' })
                  .catch(() => ({}))) as ReceiveReply;
                if (!r.MessageID) continue;
                await sdk.AcknowledgeMessage({
                  MessageId: r.MessageID,
                  AckTopic: r.AckTopic!,
                  SubName: r.SubName!,
                });
                got++;
              }
            }),
          );
        };
        const syReceive = async () => {
          const consumer = await broker.consumer(sy.name, { group: 'bench', prefetch: 256, concurrency: 64 });
          receive.add(
            'sy',
            await measure(ONE_AT_A_TIME, async () => {
              for (let got = 0; got < ONE_AT_A_TIME; ) {
                const [m] = await consumer.receive({ waitMs: 1_000 });
                if (m === undefined) continue;
                await m.ack();
                got++;
              }
            }),
          );
          await consumer.close();
        };
        if (round % 2 === 0) {
          await rawReceive();
          await syReceive();
        } else {
          await syReceive();
          await rawReceive();
        }
      }
      await producer.close();
      const note = `${ONE_AT_A_TIME} × 256 B, median of ${ONE_AT_A_TIME_ROUNDS}; target ≥ 0.95×`;
      rows.push(
        ...compare({
          label: 'pulsar-http send one at a time 256 B',
          rounds: send,
          expert: { key: 'expert', how: 'direct SDK SendMessages, each awaited' },
          switchyard: { key: 'sy', how: 'producer.send(), each awaited' },
          note: `${note}, the sides taking turns every ${ONE_AT_A_TIME_CHUNK} sends${threads.note()}`,
          profile: PROFILE_SEND,
        }),
        ...compare({
          label: 'pulsar-http receive+ack one at a time 256 B',
          rounds: receive,
          expert: { key: 'expert', how: 'direct SDK ReceiveMessage + AcknowledgeMessage, each awaited' },
          switchyard: { key: 'sy', how: 'consumer.receive() + ack(), each awaited' },
          note,
          profile: PROFILE_RECEIVE,
        }),
      );
    }

    // PULSAR_ROWS=one-at-a-time: the one-at-a-time rows alone (for repeated runs of the target row).
    const pipelinedSizes = process.env.PULSAR_ROWS === 'one-at-a-time' ? [] : SIZES;
    for (const { bytes, count, rounds } of pipelinedSizes) {
      const body = textBody(bytes);
      const send = new Rounds();
      const receive = new Rounds();
      const sendMain = new MainThreadPhases();
      const receiveMain = new MainThreadPhases();
      const sides = {
        expert: async () => {
          const t = await fresh();
          send.add(
            'expert',
            await sendMain.phase('expert', count, () =>
              measure(count, () => expertSend(t.path, body, count)),
            ),
          );
          receive.add(
            'expert',
            await receiveMain.phase('expert', count, () =>
              measure(count, () => expertReceive(t.path, count)),
            ),
          );
        },
        sy: async () => {
          const t = await fresh();
          const producer = await broker.producer(t.name, { maxInFlight: 16 });
          send.add(
            'sy',
            await sendMain.phase('sy', count, () =>
              measure(count, () => concurrently(count, SENDERS, () => producer.send(body))),
            ),
          );
          await producer.close();
          const consumer = await openConsumer(t.name);
          receive.add('sy', await receiveMain.phase('sy', count, () => drainWithRun(consumer, count)));
        },
      };
      await alternate(rounds, sides, [send, receive]);
      // The 1 MiB row sends 1 KiB less: the API's limit is 1 MiB of payload and the JSON request around it.
      const size = sizeLabel(bytes > 1000 * 1024 ? 1024 * 1024 : bytes);
      const note = `${count} × ${bytes.toLocaleString('en')} B, median of ${rounds}`;
      rows.push(
        ...compare({
          label: `pulsar-http send pipelined ${size}`,
          rounds: send,
          expert: { key: 'expert', how: `SDK SendMessages, ${MAX_CONCURRENCY} in flight` },
          switchyard: { key: 'sy', how: `${SENDERS} concurrent send(), maxConcurrency ${MAX_CONCURRENCY}` },
          note: `${note}${sendMain.note(rounds)}`,
          profile: PROFILE_SEND,
        }),
        ...compare({
          label: `pulsar-http receive+ack pipelined ${size}`,
          rounds: receive,
          expert: {
            key: 'expert',
            how: `batch ReceiveMessage of ${RECEIVE_BATCH}, AcknowledgeMessage per message, ${MAX_CONCURRENCY} in flight`,
          },
          switchyard: { key: 'sy', how: 'run(), prefetch 256, concurrency 64' },
          note: `${note}${receiveMain.note(rounds)}`,
          profile: PROFILE_RECEIVE,
        }),
      );
    }
    // Members of one subscription (Shared): what adding consumer processes buys.
    if (process.env.PULSAR_ROWS === 'one-at-a-time') return rows;
    const scale = await fresh();
    rows.push(
      ...(await scalingRows({
        label: 'pulsar-http scaling 256 B',
        target: url,
        destination: scale.name,
        options: { group: 'bench', prefetch: 256, concurrency: 64 },
        count: SCALE_COUNT,
        note: 'Switchyard run() per process, one subscription; one emulator process serves them all',
        fill: (n) => expertSend(scale.path, textBody(256), n),
      })),
    );
  } finally {
    await broker.close();
    agent.destroy();
    await emulator.stop();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchPulsarHttp());
