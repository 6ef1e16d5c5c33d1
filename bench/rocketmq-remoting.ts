// RocketMQ 4.x over Remoting (emulator in a child process, so the CPU measured is the client's):
// Switchyard's Remoting transport vs raw clients on the same codec, in the same run, paired per
// round, at 256 B, 64 KiB and 1 MiB.
//   expert raw:        one connection, RAW_IN_FLIGHT SEND_MESSAGE_V2 in flight; PULL_MESSAGE of 32
//                      with the consumed offset riding on the next pull, one commit at the end
//   one-at-a-time raw: one SEND_MESSAGE_V2, await its reply, the next; PULL_MESSAGE of 1, then its
//                      offset commit, then the next
//   Switchyard:        1,000 concurrent send() calls; run() with prefetch 64 and concurrency 32
// Run alone: npx tsx --conditions=switchyard-source bench/rocketmq-remoting.ts

import { connect as tcp } from 'node:net';
import { pathToFileURL } from 'node:url';
import { connect } from '@switchyard/core';
import {
  decodeStoredMessages,
  encodeCommand,
  FrameDecoder,
  PullSysFlag,
  type RemotingCommand,
  RequestCode,
  ResponseCode,
  request,
  signRequest,
} from '@switchyard/rocketmq-remoting';
import { startEmulatorProcess } from './emulator-process.js';
import {
  alternate,
  compare,
  concurrently,
  drainWithRun,
  measure,
  printRows,
  Rounds,
  sizeLabel,
} from './measure.js';
import { scalingRows } from './scaling.js';
import type { BenchRow } from './types.js';

/** A client-side message id in the Apache clients' UNIQ_KEY format: 20 hex digits fixed, 12 counted. */
const UNIQ_PREFIX = `${process.pid.toString(16).padStart(8, '0')}7F000001AB12`.toUpperCase();
let uniqCounter = 0;
function uniqueKey(): string {
  return UNIQ_PREFIX + (uniqCounter++).toString(16).toUpperCase().padStart(12, '0');
}

const SIZES = [
  // 10,000, not 2,000: a 2,000-message phase is 20–40 ms, shorter than one of V8's background
  // marking or sweeping passes, and single rounds spanned 0.25–4.6× (docs/bench-profiles.md 18.3).
  { bytes: 256, count: 10_000 },
  { bytes: 64 * 1024, count: 300 },
  { bytes: 1024 * 1024, count: 20 },
] as const;
const RAW_IN_FLIGHT = 64;
const SENDERS = 1_000;
// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
const ROUNDS = 5;
const SCALE_COUNT = 2_000;
/** Queues of the scaling topic: a 4.x group shares a topic among its members by queue. */
const SCALE_QUEUES = 8;
const TOKEN = 'bench-token';
const ROLE = 'bench-role';

const SEND_PROFILE =
  'a batch body goes out in pieces (the bodies as given, one writev, signed piece by piece) and a message ' +
  'of 256 KiB or more as its own SEND_MESSAGE_V2, so Switchyard copies no body where the raw side copies each ' +
  "once (Buffer.concat); the emulator joins a frame's socket reads once (it re-copied the whole frame on every " +
  '64 KiB read: 8–10 ms of emulator CPU per 1 MiB message in 3 MiB batches, 2.5–3 ms now). What is left is ' +
  'the emulator (one process, ≈ 2.5 ms per MiB for both sides) and this machine: rounds spread 0.3–2.2× (docs/bench-profiles.md, RocketMQ Remoting)';
const RECEIVE_PROFILE =
  'the same wire on both sides: PULL_MESSAGE of 32 (a reply stops at 256 KiB of bodies, one message at least: ' +
  '4 messages per pull at 64 KiB, 1 at 1 MiB), one pull in flight, the consumed offset riding on the next pull ' +
  'and one commit at the end (Switchyard: at close()), so requests and socket writes per message are ' +
  'equal (WIRE=1 in bench/profile-remoting.ts); the codec is shared, the reads are not: the raw client ' +
  "takes node's fresh buffer per socket read and joins a frame's reads into another, Switchyard's connection " +
  'reads into one buffer per connection or straight into the frame being filled (no buffer per read; a 1 MiB ' +
  "frame hardly copied), which at 64 KiB and 1 MiB took it from more fresh pages per message than the expert's " +
  "to fewer. Switchyard adds the driver's " +
  "delivery (one object that is its own handle, its fields read when asked), lease and offsets, and core's " +
  'Message, run() dispatch and ack batch, taken from the driver in push mode (≈ 0.8k and ≈ 1.4k JIT ' +
  'instructions per 256 B message; in all ≈ 24.7–25.4k outside the compiler and GC against the raw ' +
  "loop's 21.4–23.3k under callgrind), and TurboFan compiles of its longer path inside the first measured " +
  'rounds. At 64 KiB Switchyard runs fewer instructions per message than the raw client (≈ 151–169k against ' +
  '210–226k outside the compiler and GC: fewer copies and reads), both sides mostly wait on the emulator ' +
  "(its CPU per message several times the client's, set by its own collections), and whether V8's " +
  "mark-compacts fall inside a 300-message phase (0 to 4 each) moves both sides' CPU per message about " +
  'threefold (docs/bench-profiles.md, RocketMQ Remoting)';

/** The least a raw client needs: one socket, replies matched by opaque, every request signed. */
export class RawClient {
  readonly #pending = new Map<number, (reply: RemotingCommand) => void>();
  readonly #socket;

  private constructor(socket: ReturnType<typeof tcp>) {
    this.#socket = socket;
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const reply of decoder.push(chunk)) {
        this.#pending.get(reply.opaque)?.(reply);
        this.#pending.delete(reply.opaque);
      }
    });
  }

  static open(address: string): Promise<RawClient> {
    const [host, port] = address.split(':') as [string, string];
    return new Promise((resolve, reject) => {
      const socket = tcp({ host, port: Number(port) }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  async call(code: number, fields: Record<string, string | number | boolean>, body?: Buffer) {
    const cmd = request(code, fields, body);
    cmd.extFields = signRequest(cmd.extFields, body, TOKEN, ROLE);
    const reply = await new Promise<RemotingCommand>((resolve) => {
      this.#pending.set(cmd.opaque, resolve);
      this.#socket.write(encodeCommand(cmd));
    });
    if (reply.code !== ResponseCode.SUCCESS && reply.code !== ResponseCode.PULL_NOT_FOUND)
      throw new Error(`code ${reply.code}: ${reply.remark}`);
    return reply;
  }

  send(topic: string, body: Buffer) {
    return this.call(
      RequestCode.SEND_MESSAGE_V2,
      {
        a: 'bench_pg',
        b: topic,
        c: 'TBW102',
        d: 4,
        e: 0,
        f: 0,
        g: Date.now(),
        h: 0,
        // UNIQ_KEY as every Apache client sets it (MessageClientIDSetter: 32 hex digits, a fixed
        // prefix and a counter): Switchyard's sender sets one too, so both sides' receives decode it.
        i: `UNIQ_KEY\u0001${uniqueKey()}\u0002WAIT\u0001true`,
        j: 0,
        k: false,
        m: false,
      },
      body,
    );
  }

  /**
   * Pulls up to `max` from queue 0 at `offset`, committing `commitOffset` on the way when it is
   * above 0 (the COMMIT_OFFSET flag, as Apache's push consumer does); returns how many came and the
   * next offset.
   */
  async pull(topic: string, group: string, offset: number, max: number, commitOffset = 0) {
    const reply = await this.call(RequestCode.PULL_MESSAGE, {
      consumerGroup: group,
      topic,
      queueId: 0,
      queueOffset: offset,
      maxMsgNums: max,
      sysFlag:
        PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION | (commitOffset > 0 ? PullSysFlag.COMMIT_OFFSET : 0),
      commitOffset,
      suspendTimeoutMillis: 1_000,
      subscription: '*',
      subVersion: 0,
      expressionType: 'TAG',
    });
    const got =
      reply.code === ResponseCode.SUCCESS ? decodeStoredMessages(reply.body ?? Buffer.alloc(0)).length : 0;
    return { got, next: Number(reply.extFields.nextBeginOffset ?? offset) };
  }

  commit(topic: string, group: string, offset: number) {
    return this.call(RequestCode.UPDATE_CONSUMER_OFFSET, {
      consumerGroup: group,
      topic,
      queueId: 0,
      commitOffset: offset,
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

/**
 * The expert drain: each pull carries the offset consumed so far (as Apache's push consumer and
 * Switchyard's driver do), and one UPDATE_CONSUMER_OFFSET at the end commits the last batch (as a
 * consumer's shutdown persists its offsets). `commitEach` is the one-at-a-time side instead: an
 * UPDATE_CONSUMER_OFFSET awaited after every pull that brought messages.
 */
export async function drainRaw(
  raw: RawClient,
  topic: string,
  count: number,
  max: number,
  commitEach = false,
): Promise<void> {
  const group = `${topic}-g`;
  let offset = 0;
  let got = 0;
  while (got < count) {
    const pulled = await raw.pull(topic, group, offset, max, commitEach ? 0 : offset);
    got += pulled.got;
    offset = pulled.next;
    if (commitEach && pulled.got > 0) await raw.commit(topic, group, offset);
  }
  if (!commitEach) await raw.commit(topic, group, offset);
}

/** The emulator in a child process, its Remoting name server, and Switchyard's target for it. */
export async function startRemotingEmulator() {
  const emulator = await startEmulatorProcess({ credentials: [{ secretId: TOKEN, secretKey: ROLE }] });
  const nameServer = (emulator.endpoints as typeof emulator.endpoints & { remoting: string }).remoting;
  const target = {
    driver: 'rocketmq',
    transport: 'remoting',
    endpoints: nameServer,
    token: TOKEN,
    role: ROLE,
    longPollMs: 1_000,
    requestTimeoutMs: 10_000,
  } as const;
  return { emulator, nameServer, target };
}

/** Switchyard's receive side: its consumer's options besides the group. */
export const SY_CONSUMER = { prefetch: 64, concurrency: 32, startFrom: 'earliest' } as const;

/** The section's clients: the emulator, Switchyard's broker, the raw client, and a fresh topic per call. */
export async function remotingBenchClients() {
  const { emulator, nameServer, target } = await startRemotingEmulator();
  const broker = await connect(target);
  const raw = await RawClient.open(nameServer);
  let topicSeq = 0;
  const topic = async () => {
    const name = `bench-remoting-${++topicSeq}`;
    await emulator.rocketmqTopic(name);
    return name;
  };
  return { emulator, target, broker, raw, topic };
}

export async function benchRocketmqRemoting(): Promise<BenchRow[]> {
  const { emulator, target, broker, raw, topic } = await remotingBenchClients();
  const rows: BenchRow[] = [];
  try {
    for (const { bytes, count } of SIZES) {
      const body = Buffer.alloc(bytes, 'x');
      const send = new Rounds();
      const receive = new Rounds();
      const sides = {
        expert: async () => {
          const t = await topic();
          send.add(
            'expert',
            await measure(count, () => concurrently(count, RAW_IN_FLIGHT, () => raw.send(t, body))),
          );
          receive.add('expert', await measure(count, () => drainRaw(raw, t, count, 32)));
        },
        naive: async () => {
          const t = await topic();
          send.add('naive', await measure(count, () => concurrently(count, 1, () => raw.send(t, body))));
          receive.add('naive', await measure(count, () => drainRaw(raw, t, count, 1, true)));
        },
        sy: async () => {
          const t = await topic();
          const producer = await broker.producer(t);
          send.add(
            'sy',
            await measure(count, () => concurrently(count, SENDERS, () => producer.send({ body }))),
          );
          await producer.close();
          // Opened after the send phase (from the first offset), so its pulls do not run during
          // it: the raw sides do not receive while they send either.
          const consumer = await broker.consumer(t, { group: `${t}-g`, ...SY_CONSUMER });
          receive.add('sy', await drainWithRun(consumer, count));
        },
      };
      await alternate(ROUNDS, sides, [send, receive]);
      const size = sizeLabel(bytes);
      const note = `${count} × ${size}, median of ${ROUNDS}`;
      rows.push(
        ...compare({
          label: `rocketmq remoting send ${size}`,
          rounds: send,
          expert: { key: 'expert', how: `SEND_MESSAGE_V2, ${RAW_IN_FLIGHT} in flight on one connection` },
          naive: { key: 'naive', how: 'SEND_MESSAGE_V2, one at a time' },
          switchyard: { key: 'sy', how: `${SENDERS} concurrent send()` },
          note,
          profile: SEND_PROFILE,
        }),
        ...compare({
          label: `rocketmq remoting receive+ack ${size}`,
          rounds: receive,
          expert: { key: 'expert', how: 'PULL_MESSAGE of 32, the offset riding on the next pull' },
          naive: { key: 'naive', how: 'PULL_MESSAGE of 1, then its offset commit' },
          switchyard: { key: 'sy', how: 'run(), prefetch 64, concurrency 32' },
          note,
          profile: RECEIVE_PROFILE,
        }),
      );
    }
    // Members of one group, each owning its share of the topic's queues.
    const scaleTopic = `bench-remoting-scale-${process.pid}`;
    await emulator.rocketmqTopic(scaleTopic, SCALE_QUEUES);
    const filler = await broker.producer(scaleTopic);
    const body = Buffer.alloc(256, 'x');
    rows.push(
      ...(await scalingRows({
        label: 'rocketmq remoting scaling 256 B',
        target,
        destination: scaleTopic,
        options: { group: `${scaleTopic}-g`, prefetch: 64, concurrency: 32, startFrom: 'earliest' },
        count: SCALE_COUNT,
        note: `Switchyard run() per process; ${SCALE_QUEUES} queues shared by the group's members; one emulator process serves them all`,
        fill: (n) => concurrently(n, SENDERS, () => filler.send({ body })),
      })),
    );
    await filler.close();
  } finally {
    raw.close();
    await broker.close();
    await emulator.stop();
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await benchRocketmqRemoting());
