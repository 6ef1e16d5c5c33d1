// RabbitMQ consume without a broker: the expert raw amqplib consumer, the rabbitmq driver alone and
// Switchyard's run() drain the same deliveries from an in-process stand-in (bench/fake-amqp.ts)
// that pushes exactly PER_READ deliveries per socket read (default 10, what a read carried in the
// bench's drains on a loaded 2-core machine; 27 on a quiet one). No broker, no socket, one thread:
// what is left is each client's own work per message, per-batch work included, and under valgrind
// (whose slowdown makes real reads carry the whole prefetch) the batches stay the same size.
//   node --import tsx --conditions=switchyard-source bench/profile-rabbitmq-inproc.ts all [count] [rounds] [bytes]
//   valgrind --tool=cachegrind --cache-sim=no node ... bench/profile-rabbitmq-inproc.ts raw|driver|sy 20000 2
// (instructions per message: the difference between runs of 2 and 4 rounds, over 2 × count; with
// WARM=4, so that V8's compiles are done before the rounds that count).
// Each side's drain opens its consumer (channel or Switchyard consumer) and closes it, as the
// bench's phases do; the fake's own work (frames pushed, acks parsed) is in every side's count.
// PROFILE=<file>: a CPU profile of the measured rounds alone (one side: raw, driver or sy), at
// PROFILE_INTERVAL_US (default 100 µs).
// CALLGRIND=1, under `valgrind --tool=callgrind --dump-instr=no --callgrind-out-file=<dir>/cg.%p
// node --perf-basic-prof ...` (one side per process): callgrind's counters are zeroed as the
// measured rounds start and dumped as they end, so the dump is their instructions alone (divide by
// rounds × count); JIT frames are named from /tmp/perf-<pid>.map.

import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { connect, silentLogger } from '@switchyard/core';
import { driver as rabbitDriver } from '@switchyard/rabbitmq';
import { callgrind } from './callgrind.js';
import { FAKE_AMQP_URL, FakeAmqp } from './fake-amqp.js';
import { benchConsumerOptions } from './measure.js';
import { drainRawExpert, runUntil } from './rabbitmq-drains.js';

const side = process.argv[2] ?? 'all';
const count = Number(process.argv[3] ?? 20_000);
const rounds = Number(process.argv[4] ?? 5);
const bytes = Number(process.argv[5] ?? 256);
const PREFETCH = 200;
const perRead = Number(process.env.PER_READ ?? 10);
const name = 'inproc';
const queue = `${name}.bench`;

const fake = new FakeAmqp({ perRead, body: randomBytes(bytes) });

const raw = (n: number) => drainRawExpert(FAKE_AMQP_URL, queue, n, PREFETCH);

const driverInstance = await rabbitDriver.create(rabbitDriver.fromUrl(new URL(FAKE_AMQP_URL)), {
  logger: silentLogger,
  status: () => {},
});
async function drv(n: number): Promise<void> {
  const consumer = await driverInstance.openConsumer(name, benchConsumerOptions(PREFETCH));
  for (let seen = 0; seen < n; ) {
    const batch = await consumer.receiveBatch(PREFETCH, 1_000);
    seen += batch.length;
    await consumer.ack(batch);
  }
  await consumer.close();
}

const broker = await connect(FAKE_AMQP_URL, { logger: silentLogger });
async function sy(n: number): Promise<void> {
  const consumer = await broker.consumer(name, { group: 'bench', prefetch: PREFETCH });
  await runUntil(consumer, n);
  await consumer.close();
}

const sides: Array<[string, (n: number) => Promise<void>]> = [];
if (side === 'raw' || side === 'all' || side === 'both') sides.push(['raw expert', raw]);
if (side === 'driver' || side === 'all') sides.push(['driver alone', drv]);
if (side === 'sy' || side === 'all' || side === 'both') sides.push(['switchyard', sy]);
if (sides.length === 0) throw new Error(`unknown side "${side}": raw, driver, sy, both or all`);

async function drain(label: string, run: (n: number) => Promise<void>, n: number, quiet: boolean) {
  fake.fill(queue, n);
  fake.counters();
  const cpu = process.cpuUsage();
  await run(n);
  const used = process.cpuUsage(cpu);
  const { chunks, delivered, ackFrames } = fake.counters();
  if (quiet) return;
  console.log(
    `${label}: ${((used.user + used.system) / n).toFixed(3)} µs CPU/msg, ${(delivered / chunks).toFixed(1)} deliveries per read, ${ackFrames} ack frames`,
  );
}

for (const [label, run] of sides) await drain(label, run, 1_000, true);
// WARM=n: n unmeasured rounds of `count` first (under valgrind, so that rounds differenced for
// instructions per message are past V8's tier-up, whose compiles otherwise land in them).
for (let round = 0; round < Number(process.env.WARM ?? 0); round++)
  for (const [label, run] of sides) await drain(label, run, count, true);
const profileTo = process.env.PROFILE;
const session = profileTo === undefined ? undefined : new Session();
if (session !== undefined) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', {
    interval: Number(process.env.PROFILE_INTERVAL_US ?? 100),
  });
  await session.post('Profiler.start');
}
callgrind('-z');
for (let round = 0; round < rounds; round++)
  for (const [label, run] of sides) await drain(label, run, count, false);
callgrind('-d');
if (session !== undefined) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profileTo!, JSON.stringify(profile));
}
await broker.close();
await driverInstance.close();
