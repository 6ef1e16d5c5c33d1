// `switchyard bridge` against a hand-written amqplib copy loop doing the same work in the same run,
// on the same broker: 20,000 messages of 256 bytes waiting in a queue are copied to another
// exchange, each acked at the source only after the destination confirmed it (the guarantee the
// bridge gives). Both sides alternate, twice each, best kept; the ratio is bridge / raw.
// Run alone: npx tsx --conditions=switchyard-source bench/bridge.ts

import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { runCli } from '@switchyard/cli';
import amqp from 'amqplib';
import type { BenchRow } from './types.js';

const URL_DEFAULT = 'amqp://guest:guest@127.0.0.1:5672';
const COUNT = 20_000;
const BODY_BYTES = 256;
const BATCH = 256;
const ROUNDS = 2;

const body = randomBytes(BODY_BYTES);

interface Names {
  source: string;
  queue: string;
  destination: string;
  sink: string;
}

function names(prefix: string): Names {
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
async function prepare(connection: amqp.ChannelModel, n: Names): Promise<void> {
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

async function cleanUp(connection: amqp.ChannelModel, n: Names): Promise<number> {
  const channel = await connection.createChannel();
  const { messageCount } = await channel.checkQueue(n.sink);
  for (const queue of [n.queue, n.sink]) await channel.deleteQueue(queue);
  for (const exchange of [n.source, n.destination]) await channel.deleteExchange(exchange);
  await channel.close();
  return messageCount;
}

/**
 * The raw loop: consume with prefetch, republish each message with its properties on a confirm
 * channel, ack the source when the confirm arrives — what a careful team writes by hand.
 */
async function rawCopy(connection: amqp.ChannelModel, n: Names): Promise<number> {
  const consumer = await connection.createChannel();
  await consumer.prefetch(BATCH * 2);
  const publisher = await connection.createConfirmChannel();
  const started = performance.now();
  let acked = 0;
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
          consumer.ack(m);
          if (++acked === COUNT) resolve();
        },
      );
    });
  });
  const ms = performance.now() - started;
  await consumer.close();
  await publisher.close();
  return ms;
}

async function bridgeCopy(url: string, n: Names): Promise<number> {
  const sink = new PassThrough();
  let out = '';
  sink.on('data', (d: Buffer) => (out += d.toString()));
  const io = { stdout: sink, stderr: new PassThrough(), stdin: new PassThrough() };
  const started = performance.now();
  const code = await runCli(
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
  const ms = performance.now() - started;
  const summary = JSON.parse(out) as { bridged: number };
  if (code !== 0 || summary.bridged !== COUNT) throw new Error(`bridge exit ${code}: ${out}`);
  return ms;
}

export async function benchBridge(url = URL_DEFAULT): Promise<BenchRow[]> {
  // TCP_NODELAY like the driver: without it Nagle holds the small ack frames back (~40 ms).
  const connection = await amqp.connect(url, { noDelay: true });
  let raw = Number.POSITIVE_INFINITY;
  let bridge = Number.POSITIVE_INFINITY;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of ['raw', 'bridge'] as const) {
        const n = names(`bench-bridge-${side}`);
        await prepare(connection, n);
        const ms = side === 'raw' ? await rawCopy(connection, n) : await bridgeCopy(url, n);
        const copied = await cleanUp(connection, n);
        if (copied !== COUNT)
          throw new Error(`${side}: ${copied} of ${COUNT} messages reached the destination`);
        if (side === 'raw') raw = Math.min(raw, ms);
        else bridge = Math.min(bridge, ms);
      }
    }
  } finally {
    await connection.close();
  }
  const rate = (ms: number) => Math.round((COUNT / ms) * 1000);
  return [
    { name: 'raw amqplib copy loop (ack after confirm)', value: rate(raw), unit: 'msg/s' },
    {
      name: 'switchyard bridge (connect + copy + close)',
      value: rate(bridge),
      unit: 'msg/s',
      note: `${COUNT} × ${BODY_BYTES} B, batch ${BATCH}; includes the bridge's connects and teardown`,
    },
    { name: 'bridge / raw', value: Math.round((raw / bridge) * 100) / 100, unit: '×' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const row of await benchBridge()) console.log(`${row.name}: ${row.value} ${row.unit}`);
}
