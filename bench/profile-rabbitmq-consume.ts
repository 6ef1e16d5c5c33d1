// RabbitMQ consume alone, for `node --cpu-prof` or paired CPU-per-message rounds: each round fills
// a queue with raw amqplib (confirm window, not measured), then drains it with the expert raw
// consumer (ack with `multiple` every PREFETCH / 2) or with Switchyard's run(), and prints the
// drain's rate and the process CPU per message. `both` alternates the two in one process; `raw` or
// `sy` runs one side alone; `driver` alternates raw with the rabbitmq driver's receiveBatch/ack
// without core (what the driver costs apart from core). With PROFILE=<file>, a CPU profile of the drains alone (not the fills)
// is written there (open it in Chrome DevTools); PROFILE_INTERVAL_US sets its sampling interval.
// node [--cpu-prof] --import tsx --conditions=switchyard-source bench/profile-rabbitmq-consume.ts \
//   both|raw|sy|driver [count] [rounds] [bytes]

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connect, silentLogger } from '@switchyard/core';
import { driver as rabbitDriver } from '@switchyard/rabbitmq';
import amqp from 'amqplib';
import { drainWithDriver } from './rabbitmq.js';

const side = process.argv[2] ?? 'both';
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 3);
const bytes = Number(process.argv[5] ?? 256);
const PREFETCH = 200;
const url = 'amqp://guest:guest@127.0.0.1:5672';
const name = `prof-consume-${randomBytes(3).toString('hex')}`;
const queue = `${name}.bench`;

const admin = await amqp.connect(url, { noDelay: true });
const setup = await admin.createConfirmChannel();
await setup.assertExchange(name, 'topic', { durable: true });
await setup.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'classic' } });
await setup.bindQueue(queue, name, '#');
const body = randomBytes(bytes);

async function fill(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1_000) {
    for (let k = i; k < Math.min(n, i + 1_000); k++)
      setup.publish(name, '', body, {
        persistent: true,
        messageId: `r-${k}`,
        contentType: 'application/octet-stream',
      });
    await setup.waitForConfirms();
  }
}

async function raw(n: number): Promise<void> {
  const connection = await amqp.connect(url, { noDelay: true });
  const channel = await connection.createChannel();
  await channel.prefetch(PREFETCH);
  let seen = 0;
  let unacked = 0;
  await new Promise<void>((resolve) => {
    void channel.consume(queue, (m) => {
      if (m === null) return;
      seen++;
      if (++unacked >= PREFETCH / 2 || seen === n) {
        channel.ack(m, true);
        unacked = 0;
      }
      if (seen === n) resolve();
    });
  });
  await channel.close();
  await connection.close();
}

const broker = await connect(url);
async function sy(n: number): Promise<void> {
  const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  const stop = new AbortController();
  let seen = 0;
  await consumer.run(
    () => {
      if (++seen === n) stop.abort();
    },
    { signal: stop.signal },
  );
  await consumer.close();
}

// The driver alone, without core's Consumer: receiveBatch as core's pump calls it (room = prefetch
// minus what is held), one ack() per batch like core's AckBatcher per loop turn. What the driver
// costs apart from core (Message, lease, attempt tracking, handler dispatch).
const driverInstance = await rabbitDriver.create(rabbitDriver.fromUrl(new URL(url)), {
  logger: silentLogger,
  status: () => {},
});
async function drv(n: number): Promise<void> {
  await drainWithDriver(driverInstance, name, n, PREFETCH);
}

const profileTo = process.env.PROFILE;
const session = profileTo === undefined ? undefined : new Session();
session?.connect();
await session?.post('Profiler.enable');
// PROFILE_INTERVAL_US: finer sampling than the default 1 ms for short drains.
await session?.post('Profiler.setSamplingInterval', {
  interval: Number(process.env.PROFILE_INTERVAL_US ?? 1_000),
});

async function measured(label: string, drain: (n: number) => Promise<void>): Promise<void> {
  await fill(count);
  await new Promise((r) => setTimeout(r, 200));
  await session?.post('Profiler.start');
  const cpu = process.cpuUsage();
  const started = performance.now();
  await drain(count);
  const seconds = (performance.now() - started) / 1_000;
  const used = process.cpuUsage(cpu);
  if (session !== undefined) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(
      `${profileTo}.${label.replace(/\W+/g, '-')}.${Date.now()}.cpuprofile`,
      JSON.stringify(profile),
    );
  }
  console.log(
    `${label}: ${Math.round(count / seconds).toLocaleString('en')} msg/s, ${((used.user + used.system) / count).toFixed(2)} µs CPU/msg`,
  );
}

// Warm-up (JIT, connections); every drain takes exactly what was filled, so no round leaves
// messages behind to come back redelivered in the next.
if (side !== 'sy') {
  await fill(1_000);
  await raw(1_000);
}
if (side === 'both' || side === 'sy') {
  await fill(1_000);
  await sy(1_000);
}
if (side === 'driver') {
  await fill(1_000);
  await drv(1_000);
}
for (let round = 0; round < rounds; round++) {
  if (side !== 'sy') await measured('raw expert', raw);
  if (side === 'both' || side === 'sy') await measured('switchyard', sy);
  if (side === 'driver') await measured('driver alone', drv);
}
await broker.close();
await driverInstance.close();
await setup.deleteQueue(queue);
await setup.deleteExchange(name);
await admin.close();
