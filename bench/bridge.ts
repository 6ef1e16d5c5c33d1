// `switchyard bridge` against a hand-written amqplib copy loop doing the same work in the same run,
// on the same broker: 20,000 messages of 256 bytes waiting in a queue are copied to another
// exchange, each acked at the source only after the destination confirmed it (the guarantee the
// bridge gives). Both sides alternate, five rounds each; ratios are paired per round, with the
// process's CPU per message beside each rate (RabbitMQ runs in its own process).
// Run alone: npx tsx --conditions=switchyard-source bench/bridge.ts

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { runCli } from '@switchyard/cli';
import amqp from 'amqplib';
import { alternate, compare, cpuOf, measure, printRows, Rounds, rateOf, sizeLabel } from './measure.js';
import type { BenchRow } from './types.js';

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672';
// BRIDGE_COUNT: another count, for profiles (a long copy shows the steady state without the JIT's
// per-run recompiles); the bench row uses 20,000.
export const COUNT = Number(process.env.BRIDGE_COUNT ?? 20_000);
const BODY_BYTES = 256;
const BATCH = 256;
// Five, not three: on 2 cores one round in three often lands on a GC or a scheduling stall of one
// side, and the median of three then moved by up to 0.2× between whole runs of the same code.
const ROUNDS = 5;
const ACK_EVERY = 64;
const PROFILE = 'docs/bench-profiles.md, the bridge section';

const body = randomBytes(BODY_BYTES);

export interface Names {
  source: string;
  queue: string;
  destination: string;
  sink: string;
}

export function names(prefix: string): Names {
  const run = `${prefix}-${process.pid}-${Date.now().toString(36)}`;
  // The bridge reads a URL source as group switchyard-bridge: queue `{source}.switchyard-bridge`.
  return {
    source: run,
    queue: `${run}.switchyard-bridge`,
    destination: `${run}-dst`,
    sink: `${run}-dst.sink`,
  };
}

/** Source exchange + queue holding COUNT messages, destination exchange bound to a sink queue. */
export async function prepare(connection: amqp.ChannelModel, n: Names): Promise<void> {
  const channel = await connection.createConfirmChannel();
  await channel.assertExchange(n.source, 'topic', { durable: true });
  await channel.assertQueue(n.queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await channel.bindQueue(n.queue, n.source, '#');
  await channel.assertExchange(n.destination, 'topic', { durable: true });
  await channel.assertQueue(n.sink, { durable: true, arguments: { 'x-queue-type': 'classic' } });
  await channel.bindQueue(n.sink, n.destination, '#');
  for (let i = 0; i < COUNT; i++) {
    const options = {
      persistent: true,
      messageId: `m-${i}`,
      contentType: 'application/octet-stream',
      headers: { 'x-switchyard-key': `k-${i}` },
    };
    if (!channel.publish(n.source, '', body, options)) await new Promise((r) => channel.once('drain', r));
  }
  await channel.waitForConfirms();
  await channel.close();
}

export async function cleanUp(connection: amqp.ChannelModel, n: Names): Promise<number> {
  const channel = await connection.createChannel();
  const { messageCount } = await channel.checkQueue(n.sink);
  for (const queue of [n.queue, n.sink]) await channel.deleteQueue(queue);
  for (const exchange of [n.source, n.destination]) await channel.deleteExchange(exchange);
  await channel.close();
  return messageCount;
}

/**
 * The expert raw loop: its own connection (the bridge opens its own too), consume with prefetch,
 * republish each message with its properties on a confirm channel, and ack the source with
 * `multiple` once every 64 confirms (confirms come back in delivery order on one channel, so one
 * ack covers every earlier message) — what a careful team writes by hand.
 */
export async function rawCopy(url: string, n: Names): Promise<void> {
  const connection = await amqp.connect(url, { noDelay: true });
  const consumer = await connection.createChannel();
  await consumer.prefetch(BATCH * 2);
  const publisher = await connection.createConfirmChannel();
  let confirmed = 0;
  await new Promise<void>((resolve, reject) => {
    void consumer.consume(n.queue, (m) => {
      if (m === null) return;
      publisher.publish(
        n.destination,
        m.fields.routingKey,
        m.content,
        {
          persistent: true,
          mandatory: true,
          messageId: m.properties.messageId,
          contentType: m.properties.contentType,
          headers: m.properties.headers,
        },
        (error) => {
          if (error) return reject(error);
          if (++confirmed % ACK_EVERY === 0 || confirmed === COUNT) consumer.ack(m, true);
          if (confirmed === COUNT) resolve();
        },
      );
    });
  });
  await connection.close();
}

export async function bridgeCopy(url: string, n: Names, run: typeof runCli = runCli): Promise<void> {
  const sink = new PassThrough();
  let out = '';
  sink.on('data', (d: Buffer) => (out += d.toString()));
  const io = { stdout: sink, stderr: new PassThrough(), stdin: new PassThrough() };
  const code = await run(
    ['bridge', '--from', url, '-s', n.source, '--to', url, '-d', n.destination].concat([
      '--max',
      String(COUNT),
      '--batch',
      String(BATCH),
      '--no-progress',
      '--json',
    ]),
    io,
  );
  const summary = JSON.parse(out) as { bridged: number };
  if (code !== 0 || summary.bridged !== COUNT) throw new Error(`bridge exit ${code}: ${out}`);
}

export async function benchBridge(url = URL_DEFAULT): Promise<BenchRow[]> {
  // TCP_NODELAY like the driver: without it Nagle holds the small ack frames back (~40 ms).
  const connection = await amqp.connect(url, { noDelay: true });
  const rounds = new Rounds();
  const side = (key: 'raw' | 'bridge') => async () => {
    const n = names(`bench-bridge-${key}`);
    await prepare(connection, n);
    rounds.add(
      key,
      await measure(COUNT, () => (key === 'raw' ? rawCopy(url, n) : bridgeCopy(url, n)), `bridge ${key}`),
    );
    const copied = await cleanUp(connection, n);
    if (copied !== COUNT) throw new Error(`${key}: ${copied} of ${COUNT} messages reached the destination`);
  };
  try {
    // Both sides warmed up first (the bridge's first run compiles the CLI, endpoint and topology
    // code on background threads, which process CPU counts), then rounds in rotated order.
    await alternate(ROUNDS, { raw: side('raw'), bridge: side('bridge') }, [rounds]);
  } finally {
    await connection.close();
  }
  return compare({
    label: `bridge ${sizeLabel(BODY_BYTES)}`,
    rounds,
    expert: {
      key: 'raw',
      how: `amqplib copy loop: consume with prefetch ${BATCH * 2}, republish on a confirm channel, ack with multiple every ${ACK_EVERY} confirms`,
    },
    switchyard: {
      key: 'bridge',
      how: `switchyard bridge --batch ${BATCH} (two batches in flight), each message acked after its confirm`,
    },
    note: `${COUNT} × ${BODY_BYTES} B, persistent, median of ${ROUNDS}; both sides connect, copy and close inside the timed phase`,
    profile: PROFILE,
  });
}

/**
 * One side alone: `npx tsx bench/bridge.ts bridge` (or `raw`). With BRIDGE_WARM=1, two warm-up
 * copies first; with BRIDGE_PROFILE=<file> those, then a CPU profile of the timed phase alone (not the queue's filling, not
 * module loading) is written there.
 */
async function profileSide(side: 'raw' | 'bridge', url = URL_DEFAULT): Promise<void> {
  const connection = await amqp.connect(url, { noDelay: true });
  const profileTo = process.env.BRIDGE_PROFILE;
  const session = profileTo === undefined ? undefined : new Session();
  try {
    const copy = (n: Names) => (side === 'raw' ? rawCopy(url, n) : bridgeCopy(url, n));
    for (let w = 0; w < (session !== undefined || process.env.BRIDGE_WARM !== undefined ? 2 : 0); w++) {
      const warm = names(`bench-bridge-${side}`);
      await prepare(connection, warm);
      await copy(warm);
      await cleanUp(connection, warm);
    }
    if (session !== undefined) {
      session.connect();
      await session.post('Profiler.enable');
    }
    const n = names(`bench-bridge-${side}`);
    await prepare(connection, n);
    await session?.post('Profiler.start');
    const phase = await measure(COUNT, () => copy(n));
    if (session !== undefined && profileTo !== undefined) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(profileTo, JSON.stringify(profile));
    }
    await cleanUp(connection, n);
    console.log(`${side}: ${Math.round(rateOf(phase))} msg/s, ${cpuOf(phase).toFixed(1)} µs CPU/msg`);
  } finally {
    session?.disconnect();
    await connection.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const side = process.argv[2];
  if (side === 'raw' || side === 'bridge') await profileSide(side);
  else printRows(await benchBridge());
}
